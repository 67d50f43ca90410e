//! The rules' logic.

pub mod engine;
pub mod native;
