//! The Rhai engine: built once per policy, hardened, with the script API and the
//! domain helpers registered.

use std::sync::Arc;

use rhai::Engine;

use crate::domain::calendar::Calendar;

/// Resource limits for policy scripts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Operations per script call (one record, one document or one submission).
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    /// Findings kept per rule; those past it are counted, not kept.
    pub max_findings_per_rule: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 5_000_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_string_size: 1 << 20,
            max_array_size: 2_000_000,
            max_map_size: 10_000,
            max_findings_per_rule: 10_000,
        }
    }
}

/// What a script that used up its operations is stopped with.
#[derive(Debug, Clone)]
pub struct OutOfOperations;

/// Every safety limit in one place, so that no engine is built without them.
pub fn harden(engine: &mut Engine, limits: &Limits) {
    // Counted per record (scripts are called a batch of records at a time), in the
    // engine's progress callback; see `scoped`.
    let max_operations = limits.max_operations;
    engine.on_progress(move |ops| {
        super::scoped::over_budget(ops, max_operations)
            .then(|| rhai::Dynamic::from(OutOfOperations))
    });
    engine.set_max_call_levels(limits.max_call_levels);
    engine.set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    // The engine would intern every text a script stores in a variable; records' texts
    // are mostly distinct (dates, codes), so its cache would be evicted, under a lock,
    // on almost every assignment.
    engine.set_max_strings_interned(0);
    engine.disable_symbol("eval");
    engine.on_print(|s| eprintln!("script: {s}"));
    engine.on_debug(|s, _, pos| eprintln!("script debug at {pos}: {s}"));
}

/// The engine of a policy's scripts; `params` are the names of the rules' parameters
/// (`ctx.params.working_days` then finds its getter at once).
pub fn build_engine(limits: &Limits, calendar: &Arc<Calendar>, params: &[String]) -> Engine {
    let mut engine = Engine::new();
    harden(&mut engine, limits);
    super::api::register(&mut engine, params);
    super::helpers::register(&mut engine, Arc::clone(calendar));
    engine
}
