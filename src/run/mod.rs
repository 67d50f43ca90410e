//! Running a policy's rules over the submissions; large tables are streamed.

pub mod stream;
