//! The jobs of the command line: one module per command.

pub mod check;
pub mod explain;
pub mod test;
