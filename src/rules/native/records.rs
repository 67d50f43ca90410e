//! Per-record checks of Results records: deadlines and inspectors.

use rhai::ImmutableString;

use super::{date, Cx, IsoDate, NativeRule, Out, Rec, Step, V};
use crate::values;

pub static RULES: &[&dyn NativeRule] = &[&EntryDeadline, &InspectorsCount];

/// `rules/result-entry-deadline.rhai`.
struct EntryDeadline;

impl NativeRule for EntryDeadline {
    fn script(&self) -> &'static str {
        "result-entry-deadline.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        let Some(finished) = r.str("finished_on") else {
            return Ok(());
        };
        let Some(finished_day) = date(finished) else {
            return Ok(());
        };
        let limit = u32::try_from(cx.int("working_days")).unwrap_or_default();
        let due = IsoDate::new(cx.calendar.add_working_days(finished_day, limit)?);
        let Some(entered) = r.str("entered_on") else {
            if cx.as_of.as_bytes() > due.as_bytes() {
                out.report(
                    &r,
                    "finished_on",
                    "not_entered",
                    values! { finished_on: finished.to_owned(), due: ImmutableString::from(due.as_str()), as_of: cx.as_of.to_owned() },
                );
            }
            return Ok(());
        };
        out.tally(
            "results-on-time",
            entered >= finished && entered.as_bytes() <= due.as_bytes(),
            1.0,
        );
        if entered < finished {
            out.report(
                &r,
                "entered_on",
                "before_finish",
                values! { finished_on: finished.to_owned(), entered_on: entered.to_owned() },
            );
        } else if entered.as_bytes() > due.as_bytes() {
            let days = match date(entered) {
                Some(entered_day) => cx
                    .calendar
                    .working_days_between(finished_day, entered_day)?,
                None => 0,
            };
            out.report(
                &r,
                "entered_on",
                "default",
                values! { finished_on: finished.to_owned(), entered_on: entered.to_owned(), days: days, due: ImmutableString::from(due.as_str()) },
            );
        }
        Ok(())
    }
}

/// `rules/result-inspectors-count.rhai`.
struct InspectorsCount;

impl NativeRule for InspectorsCount {
    fn script(&self) -> &'static str {
        "result-inspectors-count.rhai"
    }

    fn record(&self, r: Rec, cx: &Cx, out: &mut Out) -> Step {
        // An item counts unless an earlier one is the same: a record lists a few
        // inspectors, and nothing is allocated per record.
        let items = r.items("inspectors");
        let count = items
            .clone()
            .enumerate()
            .filter(|(i, person)| !items.clone().take(*i).any(|p| same(&p, person)))
            .count() as i64;
        if count < cx.int("min") {
            let field = if r.is_present("inspectors") {
                "inspectors"
            } else {
                ""
            };
            out.report(&r, field, "default", values! { count: count });
        }
        Ok(())
    }
}

/// Equality as `in` sees it for the scalars a list of ids holds.
fn same(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Str(x), V::Str(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Bool(x), V::Bool(y)) => x == y,
        _ => false,
    }
}
