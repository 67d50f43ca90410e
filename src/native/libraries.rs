//! Native rules: libraries.

use super::NativeRule;

pub static RULES: &[&dyn NativeRule] = &[];
