//! Native rules: results.

use super::NativeRule;

pub static RULES: &[&dyn NativeRule] = &[];
