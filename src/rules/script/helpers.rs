//! Domain helpers for scripts: dates and the official working-day calendar, unified
//! social credit codes, ratios. None panics, whatever its arguments: a bad argument is
//! a script error at the script's position.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position};

use crate::domain::calendar::{Calendar, CalendarError};

/// A runtime error carrying a calendar gap, told apart from script bugs: the record
/// gets a `calendar/missing-year` diagnostic, and the rule goes on.
#[derive(Debug, Clone)]
pub struct CalendarGap(pub CalendarError);

pub fn runtime(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

fn date(s: &str) -> Result<NaiveDate, Box<EvalAltResult>> {
    crate::schema::parse_date(s).map_err(|_| {
        // A megabyte of text is not quoted back whole.
        let shown: String = s.chars().take(40).collect();
        let more = if shown.len() < s.len() { "…" } else { "" };
        runtime(format!("`{shown}{more}` is not a date YYYY-MM-DD"))
    })
}

fn iso(d: NaiveDate) -> ImmutableString {
    crate::schema::format_date(d).into()
}

/// Runs a helper's body; a panic in it (a bug, whatever the arguments) becomes a script
/// error at the call, not the end of the run.
fn shielded<R>(
    name: &str,
    body: impl FnOnce() -> Result<R, Box<EvalAltResult>>,
) -> Result<R, Box<EvalAltResult>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))
        .unwrap_or_else(|_| Err(runtime(format!("{name}: cannot work with these arguments"))))
}

fn gap(e: CalendarError) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(CalendarGap(e)),
        Position::NONE,
    ))
}

pub fn register(engine: &mut Engine, calendar: Arc<Calendar>) {
    let cal = Arc::clone(&calendar);
    engine.register_fn(
        "is_workday",
        move |d: ImmutableString| -> Result<bool, Box<EvalAltResult>> {
            shielded("is_workday", || cal.is_workday(date(&d)?).map_err(gap))
        },
    );
    let cal = Arc::clone(&calendar);
    engine.register_fn(
        "add_working_days",
        move |d: ImmutableString, n: i64| -> Result<ImmutableString, Box<EvalAltResult>> {
            shielded("add_working_days", || {
                let n = u32::try_from(n).map_err(|_| {
                    runtime("add_working_days: the count must be from 0 to 4294967295")
                })?;
                cal.add_working_days(date(&d)?, n).map(iso).map_err(gap)
            })
        },
    );
    let cal = Arc::clone(&calendar);
    engine.register_fn(
        "within_working_days",
        move |start: ImmutableString,
              n: i64,
              end: ImmutableString|
              -> Result<bool, Box<EvalAltResult>> {
            shielded("within_working_days", || {
                let n = u32::try_from(n).map_err(|_| {
                    runtime("within_working_days: the count must be from 0 to 4294967295")
                })?;
                cal.within_working_days(date(&start)?, n, date(&end)?)
                    .map_err(gap)
            })
        },
    );
    let cal = calendar;
    engine.register_fn(
        "working_days_between",
        move |a: ImmutableString, b: ImmutableString| -> Result<i64, Box<EvalAltResult>> {
            shielded("working_days_between", || {
                cal.working_days_between(date(&a)?, date(&b)?).map_err(gap)
            })
        },
    );
    engine.register_fn("is_date", |s: ImmutableString| {
        crate::schema::parse_date(&s).is_ok()
    });
    engine.register_fn(
        "add_days",
        |d: ImmutableString, n: i64| -> Result<ImmutableString, Box<EvalAltResult>> {
            shielded("add_days", || {
                let d = date(&d)?;
                Duration::try_days(n)
                    .and_then(|days| d.checked_add_signed(days))
                    .map(iso)
                    .ok_or_else(|| runtime(format!("add_days: {d} + {n} days is no date")))
            })
        },
    );
    engine.register_fn(
        "days_between",
        |a: ImmutableString, b: ImmutableString| -> Result<i64, Box<EvalAltResult>> {
            shielded("days_between", || Ok((date(&b)? - date(&a)?).num_days()))
        },
    );
    engine.register_fn(
        "year_of",
        |d: ImmutableString| -> Result<i64, Box<EvalAltResult>> {
            shielded("year_of", || {
                Ok(i64::from(chrono::Datelike::year(&date(&d)?)))
            })
        },
    );
    engine.register_fn(
        "uscc_valid",
        |s: ImmutableString| -> Result<bool, Box<EvalAltResult>> {
            shielded("uscc_valid", || Ok(crate::domain::uscc::is_valid(&s)))
        },
    );
    engine.register_fn(
        "uscc_problem",
        |s: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
            shielded("uscc_problem", || {
                Ok(match crate::domain::uscc::check(&s) {
                    Ok(()) => Dynamic::UNIT,
                    Err(e) => {
                        let mut m = Map::new();
                        m.insert("zh".into(), Dynamic::from(e.zh()));
                        m.insert("en".into(), Dynamic::from(e.to_string()));
                        Dynamic::from_map(m)
                    }
                })
            })
        },
    );
    engine.register_fn("ratio", |x: f64| x);
    engine.register_fn("ratio", |x: i64| x as f64);
    engine.register_fn(
        "ratio",
        |s: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
            shielded("ratio", || {
                Ok(crate::domain::ratio::parse_fraction(&s)
                    .map_or(Dynamic::UNIT, Dynamic::from_float))
            })
        },
    );
    engine.register_fn("ratio", |_: ()| Dynamic::UNIT);
    // Float formatting and saturating casts: no argument panics these.
    engine.register_fn("pct", |x: f64| format!("{:.1}%", x * 100.0));
    engine.register_fn("pct", |x: i64| format!("{:.1}%", x as f64 * 100.0));
    engine.register_fn("ceil_mul", |ratio: f64, population: i64| -> i64 {
        (ratio * population as f64 - 1e-9).ceil().max(0.0) as i64
    });
}
