//! Domain helpers shared by the readers, checks and scripts: the official working-day
//! calendar, unified social credit codes, and sampling ratios as published.

pub mod calendar;
pub mod period;
pub mod ratio;
pub mod uscc;
