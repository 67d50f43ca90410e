//! `deadline`: a date field that must come within so many working (or calendar) days
//! of another, optionally no later than a third date (a cap, such as the plan task's
//! end).
//!
//! ## What it checks
//! For each record (or document): `end` must not be more than `working_days` working
//! days (official calendar: days off skipped, 调休 days worked) or `days` calendar days
//! after `start`, the `start` day not counted, and not after `by`. The due date is the
//! earlier of the two. A deadline is decided from the days the calendar knows whenever
//! they settle it; a record they do not settle gets a positioned `calendar/missing-year`
//! diagnostic and is left out of the figure.
//!
//! ## Options
//! - `start`: field path of the first date; a record without it is skipped, or
//!   reported (`if_start_missing: report`, message `missing_start`, at `at`).
//! - `end`: field path of the date that must come in time, or `$as_of` (the evaluation
//!   date). A record without it is skipped, or (`if_end_missing: as_of`) reported once
//!   the evaluation date is past the due date (message `missing_end`, at `start`).
//! - `working_days` or `days`: the limit (0–3660); `by`: a path to a cap date. At least one.
//! - `before_start: report` reports an `end` before `start` (message `before_start`).
//! - `figure`: id of a compliance figure, counting records on time among those with
//!   an `end` (`figure_min`, default 1.0, is its threshold).
//!
//! ## Values for messages
//! The dates under their field names (`{finished_on}`, `{entered_on}`, the cap's),
//! `{due}`, `{days}` (days between `start` and `end`; late findings), `{as_of}`.
//!
//! ## Example
//! ```yaml
//! check:
//!   deadline: {start: finished_on, end: entered_on, working_days: $working_days,
//!              if_end_missing: as_of, before_start: report, figure: results-on-time}
//! ```

use chrono::NaiveDate;
use rhai::{Dynamic, ImmutableString};

use super::opts::Opts;
use super::path::Path;
use crate::parse::tree::ValueRef;
use crate::policy::Each;
use crate::read::record::{Rec, Shape};
use crate::rules::message::FindingValues;
use crate::rules::{CompiledRule, Cx, Out, Provided};
use crate::schema::{self, Ty};

#[derive(Debug, Clone)]
enum Limit {
    WorkingDays(u32),
    Days(u32),
}

#[derive(Debug, Clone)]
enum End {
    Field(Path),
    AsOf,
}

#[derive(Debug, Clone)]
pub struct Deadline {
    start: Option<Path>,
    end: End,
    limit: Option<Limit>,
    by: Option<Path>,
    report_missing_start: bool,
    report_missing_end: bool,
    report_before_start: bool,
    figure: Option<(String, f64)>,
    /// Where a finding goes when its field is absent.
    at: String,
}

pub const MAX_DAYS: i64 = 3660;

impl Deadline {
    pub fn parse(o: &mut Opts) -> Option<Deadline> {
        let start = o.path("start");
        let end = if o.written("end").as_deref() == Some("$as_of") {
            End::AsOf
        } else {
            let arg = o.required("end")?;
            End::Field(o.path_of(&arg, "end", o.each)?)
        };
        let working_days = o.int("working_days", 0..=MAX_DAYS);
        let days = o.int("days", 0..=MAX_DAYS);
        let by = o.path("by");
        let limit = match (working_days, days) {
            (Some(n), None) => Some(Limit::WorkingDays(n as u32)),
            (None, Some(n)) => Some(Limit::Days(n as u32)),
            (None, None) => None,
            (Some(_), Some(_)) => {
                let at = o.here();
                o.error_at(
                    &at,
                    "`working_days` 与 `days` 只能选一".into(),
                    "give `working_days` or `days`, not both".into(),
                );
                return None;
            }
        };
        if limit.is_some() && start.is_none() && o.ok() {
            let at = o.here();
            o.error_at(
                &at,
                "期限（`working_days` 或 `days`）需要 `start`".into(),
                "a limit (`working_days` or `days`) needs `start`".into(),
            );
        }
        if limit.is_none() && by.is_none() && o.ok() {
            let at = o.here();
            o.error_at(
                &at,
                "缺少期限：`working_days`、`days` 或 `by`".into(),
                "no deadline: give `working_days`, `days` or `by`".into(),
            );
        }
        let report_missing_start =
            o.choice("if_start_missing", &["skip", "report"]) == Some("report");
        let report_missing_end = o.choice("if_end_missing", &["skip", "as_of"]) == Some("as_of");
        let report_before_start = o.choice("before_start", &["skip", "report"]) == Some("report");
        let figure = o.text("figure");
        let figure_min = o.number("figure_min", 0.0..=1.0).unwrap_or(1.0);
        let at = o.text("at").unwrap_or_default();
        // Dates, all of them.
        let mut dates: Vec<&Path> = start.iter().chain(by.iter()).collect();
        if let End::Field(p) = &end {
            dates.push(p);
        }
        for path in dates {
            if !matches!(o.ty_of(path), Some(Ty::Date)) && o.ok() {
                let at = o.here();
                o.error_at(
                    &at,
                    format!("`{}` 不是日期字段", path.text),
                    format!("`{}` is not a date field", path.text),
                );
            }
        }
        if !at.is_empty() {
            if let Err(e) = Path::parse(&at).and_then(|p| {
                o.kinds
                    .iter()
                    .try_for_each(|k| p.check(k, o.each).map(|_| ()))
            }) {
                let node = o.here();
                o.error_at(&node, e.clone(), e);
            }
        }
        Some(Deadline {
            start,
            end,
            limit,
            by,
            report_missing_start,
            report_missing_end,
            report_before_start,
            figure: figure.map(|id| (id, figure_min)),
            at,
        })
    }

    pub fn provided(&self, message: &str, each: Each) -> Vec<Provided> {
        let mut late = vec!["due".to_owned(), "days".to_owned(), "as_of".to_owned()];
        let start = self.start.as_ref().map(|p| p.name().to_owned());
        let end = match &self.end {
            End::Field(p) => Some(p.name().to_owned()),
            End::AsOf => None,
        };
        late.extend(start.clone());
        late.extend(end.clone());
        late.extend(self.by.as_ref().map(|p| p.name().to_owned()));
        let mut out = vec![Provided {
            key: message.to_owned(),
            values: Some(late),
            each,
        }];
        if self.report_missing_end {
            out.push(Provided {
                key: "missing_end".into(),
                values: Some(
                    start
                        .iter()
                        .cloned()
                        .chain(["due".into(), "as_of".into()])
                        .collect(),
                ),
                each,
            });
        }
        if self.report_before_start {
            out.push(Provided {
                key: "before_start".into(),
                values: Some(
                    start
                        .iter()
                        .chain(end.iter())
                        .cloned()
                        .chain(["as_of".into()])
                        .collect(),
                ),
                each,
            });
        }
        if self.report_missing_start {
            out.push(Provided {
                key: "missing_start".into(),
                values: Some(Vec::new()),
                each,
            });
        }
        out
    }

    pub fn check(&self, rule: &CompiledRule, message: &str, rec: Rec, cx: &Cx, out: &mut Out) {
        let date_of = |path: &Path| match path.value(rec, cx) {
            Some(ValueRef::Str(s)) => schema::parse_date(s).ok().map(|d| (s, d)),
            _ => None,
        };
        // A date given but invalid was reported as an input error; the record's
        // deadline is then unknown, not missed.
        let invalid = |path: &Path| path.shape(rec, cx) == Some(Shape::Invalid);
        let start = match &self.start {
            Some(path) => match date_of(path) {
                Some(s) => Some(s),
                None => {
                    if self.report_missing_start && path.shape(rec, cx).is_none() {
                        rule.report(
                            out,
                            cx,
                            &rec,
                            &self.at,
                            "missing_start",
                            FindingValues::new(),
                        );
                    }
                    return;
                }
            },
            None => None,
        };
        let cap = self.by.as_ref().and_then(&date_of);
        // Asked only when no date was read: a cap that is a date is valid.
        if cap.is_none() && self.by.as_ref().is_some_and(invalid) {
            return;
        }
        if self.limit.is_none() && cap.is_none() {
            return;
        }
        let start_field = self
            .start
            .as_ref()
            .and_then(Path::field)
            .unwrap_or_default();
        let end_field = match &self.end {
            End::Field(p) => p.field().unwrap_or_default(),
            End::AsOf => start_field,
        };
        let as_of = cx.as_of_date;
        let (end, end_given) = match &self.end {
            End::AsOf => (as_of.map(|d| (cx.as_of, d)), true),
            End::Field(p) => match date_of(p) {
                Some(e) => (Some(e), true),
                None if invalid(p) => return,
                None => (as_of.map(|d| (cx.as_of, d)), false),
            },
        };
        let Some((end_text, end_day)) = end else {
            return;
        };
        if !end_given && !self.report_missing_end {
            return;
        }
        // On time: within the limit and by the cap.
        let within = match (&self.limit, start) {
            (Some(Limit::WorkingDays(n)), Some((_, s))) => {
                cx.calendar.within_working_days(s, *n, end_day)
            }
            (Some(Limit::Days(n)), Some((_, s))) => Ok((end_day - s).num_days() <= i64::from(*n)),
            _ => Ok(true),
        };
        let within = match within {
            Ok(w) => w,
            Err(gap) => {
                let field = if end_given { &end_field } else { &start_field };
                out.calendar_gap(&rule.rule, &gap, &rec, field);
                return;
            }
        };
        let in_time = within && cap.is_none_or(|(_, c)| end_day <= c);
        let due = || self.due(start.map(|s| s.1), cap.map(|c| c.1), cx);
        let put = |values: &mut FindingValues, path: Option<&Path>, text: &str| {
            if let Some(path) = path {
                values.insert(path.name().into(), text_value(text));
            }
        };
        if !end_given {
            if !in_time && rule.keeps(out, &rec) {
                let mut values = FindingValues::new();
                put(&mut values, self.start.as_ref(), start.map_or("", |s| s.0));
                values.insert("due".into(), due());
                values.insert("as_of".into(), text_value(cx.as_of));
                rule.report_kept(out, cx, &rec, start_field, "missing_end", values);
            }
            return;
        }
        let before = start.is_some_and(|(_, s)| end_day < s);
        if let Some((id, min)) = &self.figure {
            out.tally(id, !before && in_time, *min);
        }
        if before && self.report_before_start {
            if !rule.keeps(out, &rec) {
                return;
            }
            let mut values = FindingValues::new();
            put(&mut values, self.start.as_ref(), start.map_or("", |s| s.0));
            if let End::Field(p) = &self.end {
                put(&mut values, Some(p), end_text);
            }
            values.insert("as_of".into(), text_value(cx.as_of));
            rule.report_kept(out, cx, &rec, end_field, "before_start", values);
        } else if !in_time && !before {
            if !rule.keeps(out, &rec) {
                return;
            }
            let mut values = FindingValues::new();
            put(&mut values, self.start.as_ref(), start.map_or("", |s| s.0));
            if let End::Field(p) = &self.end {
                put(&mut values, Some(p), end_text);
            }
            put(&mut values, self.by.as_ref(), cap.map_or("", |c| c.0));
            values.insert("due".into(), due());
            values.insert("as_of".into(), text_value(cx.as_of));
            let days = match (&self.limit, start) {
                (Some(Limit::WorkingDays(_)), Some((_, s))) => cx
                    .calendar
                    .working_days_between(s, end_day)
                    .map_or(Dynamic::UNIT, Dynamic::from_int),
                (_, Some((_, s))) => Dynamic::from_int((end_day - s).num_days()),
                _ => Dynamic::UNIT,
            };
            values.insert("days".into(), days);
            rule.report_kept(out, cx, &rec, end_field, message, values);
        }
    }

    /// The due date: the limit's last day, or the cap if earlier; `()` where the
    /// calendar cannot tell it.
    fn due(&self, start: Option<NaiveDate>, cap: Option<NaiveDate>, cx: &Cx) -> Dynamic {
        let by_limit = match (&self.limit, start) {
            (Some(Limit::WorkingDays(n)), Some(s)) => {
                Some(cx.calendar.add_working_days(s, *n).ok())
            }
            (Some(Limit::Days(n)), Some(s)) => {
                Some(s.checked_add_signed(chrono::Duration::days(i64::from(*n))))
            }
            _ => None,
        };
        let due = match (by_limit, cap) {
            // Unknown: the limit's day is not known, so neither is the earlier one.
            (Some(None), _) => None,
            (Some(Some(d)), Some(c)) => Some(d.min(c)),
            (Some(Some(d)), None) => Some(d),
            (None, cap) => cap,
        };
        due.map_or(Dynamic::UNIT, |d| text_value(super::iso(d).as_str()))
    }
}

fn text_value(s: &str) -> Dynamic {
    Dynamic::from(ImmutableString::from(s))
}
