//! Reading a submission: walking the given paths, decoding, parsing and validating
//! documents, and reading tables (CSV, XLSX) as documents.

pub mod input;
pub mod own_reports;
pub mod record;
pub mod table;
