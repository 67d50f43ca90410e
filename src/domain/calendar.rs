//! The official working-day calendar: statutory days off and 调休 working weekend days
//! from the State Council General Office's yearly holiday notices.
//!
//! It is policy data, published a year at a time, so it refuses to answer for a year it
//! has no notice for rather than guess from weekdays.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};

/// Working days per the covered years' notices.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    /// The notice behind each year, for reports (`国办发明电〔2023〕7号`).
    sources: BTreeMap<i32, String>,
    years: BTreeSet<i32>,
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
    /// Running counts over the covered span, so that counting working days is a look-up.
    counts: DayCounts,
}

/// From 1 January of the first covered year to 31 December of the last: for each day,
/// the working days and the uncovered days up to and including it.
#[derive(Debug, Clone, Default)]
struct DayCounts {
    first: Option<NaiveDate>,
    working: Vec<u32>,
    uncovered: Vec<u32>,
    /// The place of each covered year's 1 January: a day's place is its year's plus
    /// its ordinal, without counting days from the era (a deadline asks for two
    /// places per record).
    year_starts: Vec<u32>,
}

impl DayCounts {
    fn index(&self, d: NaiveDate) -> Option<usize> {
        let first = self.first?.year();
        let year = usize::try_from(d.year().checked_sub(first)?).ok()?;
        let start = *self.year_starts.get(year)? as usize;
        Some(start + d.ordinal0() as usize).filter(|&i| i < self.working.len())
    }

    /// Whether every day in (from, to] is covered.
    fn covered(&self, from: usize, to: usize) -> bool {
        self.uncovered[to] == self.uncovered[from]
    }
}

/// A question the calendar cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the working-day calendar has no data for {year} (it covers {covered})")]
    MissingYear { year: i32, covered: String },
}

impl CalendarError {
    /// The same message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            CalendarError::MissingYear { year, covered } => {
                // `covered` is years or the English "none"; the latter reads 无 here.
                let covered = if covered == NO_YEARS { "无" } else { covered };
                format!("工作日历缺少 {year} 年的数据（现有：{covered}）")
            }
        }
    }
}

/// What `covered` says when the calendar has no year at all.
const NO_YEARS: &str = "none";

impl Calendar {
    /// A calendar of `years`, with their days off and 调休 working weekend days.
    pub fn new(
        years: impl IntoIterator<Item = i32>,
        holidays: impl IntoIterator<Item = NaiveDate>,
        workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Calendar {
        let mut calendar = Calendar {
            sources: BTreeMap::new(),
            years: years.into_iter().collect(),
            holidays: holidays.into_iter().collect(),
            workdays: workdays.into_iter().collect(),
            counts: DayCounts::default(),
        };
        calendar.counts = calendar.day_counts();
        calendar
    }

    fn day_counts(&self) -> DayCounts {
        let (Some(&first), Some(&last)) = (self.years.first(), self.years.last()) else {
            return DayCounts::default();
        };
        let (Some(start), Some(end)) = (
            NaiveDate::from_ymd_opt(first, 1, 1),
            NaiveDate::from_ymd_opt(last, 12, 31),
        ) else {
            return DayCounts::default();
        };
        let mut counts = DayCounts {
            first: Some(start),
            ..DayCounts::default()
        };
        let (mut working, mut uncovered) = (0, 0);
        for day in start.iter_days().take_while(|d| *d <= end) {
            if day.ordinal0() == 0 {
                counts.year_starts.push(counts.working.len() as u32);
            }
            match self.is_workday(day) {
                Ok(true) => working += 1,
                Ok(false) => {}
                Err(_) => uncovered += 1,
            }
            counts.working.push(working);
            counts.uncovered.push(uncovered);
        }
        counts
    }

    /// The same calendar, naming the notice behind each year.
    pub fn with_sources(mut self, sources: impl IntoIterator<Item = (i32, String)>) -> Calendar {
        self.sources.extend(sources);
        self
    }

    /// The notice behind `year`, when one was given.
    pub fn source(&self, year: i32) -> Option<&str> {
        self.sources.get(&year).map(String::as_str)
    }

    /// The years this calendar can answer for.
    pub fn years(&self) -> &BTreeSet<i32> {
        &self.years
    }

    /// The covered years for messages: `2024–2026` when contiguous, else `2024, 2026`.
    fn covered(&self) -> String {
        let (Some(&first), Some(&last)) = (self.years.first(), self.years.last()) else {
            return NO_YEARS.to_owned();
        };
        let contiguous = i64::from(last) - i64::from(first) + 1 == self.years.len() as i64;
        if first == last {
            first.to_string()
        } else if contiguous {
            format!("{first}–{last}")
        } else {
            let years: Vec<String> = self.years.iter().map(i32::to_string).collect();
            years.join(", ")
        }
    }

    fn missing(&self, year: i32) -> CalendarError {
        CalendarError::MissingYear {
            year,
            covered: self.covered(),
        }
    }

    /// Whether `d` is a working day: a listed 调休 day is, a listed day off is not, and
    /// otherwise Monday to Friday are. An error when `d`'s year is not covered.
    pub fn is_workday(&self, d: NaiveDate) -> Result<bool, CalendarError> {
        if !self.years.contains(&d.year()) {
            return Err(self.missing(d.year()));
        }
        Ok(if self.workdays.contains(&d) {
            true
        } else if self.holidays.contains(&d) {
            false
        } else {
            !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
        })
    }

    /// The day after `d`, or MissingYear past chrono's last date (never covered).
    fn next(&self, d: NaiveDate) -> Result<NaiveDate, CalendarError> {
        d.succ_opt()
            .ok_or_else(|| self.missing(d.year().saturating_add(1)))
    }

    /// The `n`-th working day after `start`; `start` itself is not counted, so `n = 0`
    /// gives `start`. Only the days stepped over must be covered: stepping into an
    /// uncovered year is an error, and so the walk ends after the covered years.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        // Within the covered span, the running counts answer at once; beyond it (or over
        // an uncovered year) the walk below gives the error.
        let c = &self.counts;
        // A count past the covered days (4294967295, say) cannot end in them: the walk
        // below reaches the first uncovered year and says so.
        let within = |i: usize| c.working[i].checked_add(n).map(|target| (i, target));
        if let Some((i, target)) = c.index(start).filter(|_| n > 0).and_then(within) {
            let j = i + 1 + c.working[i + 1..].partition_point(|&w| w < target);
            if j < c.working.len() && c.covered(i, j) {
                if let Some(first) = c.first {
                    return Ok(first + chrono::Duration::days(j as i64));
                }
            }
        }
        let mut day = start;
        let mut left = n;
        while left > 0 {
            day = self.next(day)?;
            if self.is_workday(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// Whether `end` is at most `n` working days after `start` (the days in (start,
    /// end] counted), decided from the covered days whenever they settle it: the known
    /// working days alone past `n` make it late, and the known working days with every
    /// uncovered day counted as one still within `n` make it on time. Otherwise the
    /// first uncovered year in the span is the error. An `end` not after `start` is
    /// within any `n`.
    pub fn within_working_days(
        &self,
        start: NaiveDate,
        n: u32,
        end: NaiveDate,
    ) -> Result<bool, CalendarError> {
        if end <= start {
            return Ok(true);
        }
        let (known, uncovered) = self.count_span(start, end);
        let n = i64::from(n);
        if known > n {
            Ok(false)
        } else if known + uncovered <= n {
            Ok(true)
        } else {
            Err(self.first_gap(start, end))
        }
    }

    /// The known working days and the uncovered days in (start, end], `start < end`,
    /// by the running counts: constant time, whatever the span.
    fn count_span(&self, start: NaiveDate, end: NaiveDate) -> (i64, i64) {
        let c = &self.counts;
        // Both covered: every day between is too.
        if let (Some(i), Some(j)) = (c.index(start), c.index(end)) {
            return (
                i64::from(c.working[j]) - i64::from(c.working[i]),
                i64::from(c.uncovered[j]) - i64::from(c.uncovered[i]),
            );
        }
        let day = |d: NaiveDate| i64::from(d.num_days_from_ce());
        let total = day(end) - day(start);
        let (Some(first), Some(len)) =
            (c.first, (!c.working.is_empty()).then_some(c.working.len()))
        else {
            return (0, total);
        };
        let first = day(first);
        // The counts up to and including day `d`, clamped to the covered span.
        let upto = |d: NaiveDate| -> (i64, i64, i64) {
            let i = day(d) - first;
            if i < 0 {
                (0, 0, 0)
            } else {
                let i = (i as usize).min(len - 1);
                (
                    i64::from(c.working[i]),
                    i64::from(c.uncovered[i]),
                    i as i64 + 1,
                )
            }
        };
        let (w0, u0, d0) = upto(start);
        let (w1, u1, d1) = upto(end);
        let inside = d1 - d0;
        (w1 - w0, (u1 - u0) + (total - inside))
    }

    /// The error for the first uncovered year in (start, end].
    fn first_gap(&self, start: NaiveDate, end: NaiveDate) -> CalendarError {
        let from = start.succ_opt().unwrap_or(start).year();
        let year = (from..=end.year())
            .find(|y| !self.years.contains(y))
            .unwrap_or(from);
        self.missing(year)
    }

    /// The working days in (start, end]: `start` excluded, `end` included; negative
    /// (mirrored) when `end` is before `start`. Every day counted must be covered, so
    /// the walk is bounded by the covered years.
    pub fn working_days_between(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<i64, CalendarError> {
        if end < start {
            return self.working_days_between(end, start).map(|n| -n);
        }
        let c = &self.counts;
        if let (Some(i), Some(j)) = (c.index(start), c.index(end)) {
            if c.covered(i, j) {
                return Ok(i64::from(c.working[j] - c.working[i]));
            }
        }
        let mut count = 0;
        let mut day = start;
        while day < end {
            day = self.next(day)?;
            if self.is_workday(day)? {
                count += 1;
            }
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Every day from `from` to `to`, both included.
    fn span(from: &str, to: &str) -> Vec<NaiveDate> {
        d(from).iter_days().take_while(|x| *x <= d(to)).collect()
    }

    fn holidays_2024() -> Vec<NaiveDate> {
        [
            ("2024-01-01", "2024-01-01"), // 元旦
            ("2024-02-10", "2024-02-17"), // 春节
            ("2024-04-04", "2024-04-06"), // 清明节
            ("2024-05-01", "2024-05-05"), // 劳动节
            ("2024-06-08", "2024-06-10"), // 端午节
            ("2024-09-15", "2024-09-17"), // 中秋节
            ("2024-10-01", "2024-10-07"), // 国庆节
        ]
        .iter()
        .flat_map(|(from, to)| span(from, to))
        .collect()
    }

    fn workdays_2024() -> Vec<NaiveDate> {
        [
            "2024-02-04",
            "2024-02-18",
            "2024-04-07",
            "2024-04-28",
            "2024-05-11",
            "2024-09-14",
            "2024-09-29",
            "2024-10-12",
        ]
        .map(d)
        .to_vec()
    }

    /// 2024 from 国办发明电〔2023〕7号 (2023-10-25).
    fn cal_2024() -> Calendar {
        Calendar::new([2024], holidays_2024(), workdays_2024())
    }

    #[test]
    fn running_counts_agree_with_walking_the_days() {
        // 2024 and 2026 covered, 2025 not: answers across the gap must be errors.
        let fast = Calendar::new([2024, 2026], holidays_2024(), workdays_2024());
        let mut slow = fast.clone();
        slow.counts = DayCounts::default();
        let start = d("2023-12-01");
        for offset in (0..1200).step_by(3) {
            let from = start + chrono::Duration::days(offset);
            for n in [0, 1, 5, 20, 45] {
                assert_eq!(
                    fast.add_working_days(from, n),
                    slow.add_working_days(from, n),
                    "{from} + {n}"
                );
            }
            let to = from + chrono::Duration::days(offset % 61);
            assert_eq!(
                fast.working_days_between(from, to),
                slow.working_days_between(from, to),
                "{from}..{to}"
            );
            // The known working days and the uncovered days of (from, to], day by day.
            let mut walked = (0, 0);
            for day in from.iter_days().skip(1).take_while(|day| *day <= to) {
                match slow.is_workday(day) {
                    Ok(true) => walked.0 += 1,
                    Ok(false) => {}
                    Err(_) => walked.1 += 1,
                }
            }
            if from < to {
                assert_eq!(fast.count_span(from, to), walked, "{from}..{to}");
            }
        }
    }

    #[test]
    fn twenty_working_days_after_may_day() {
        let cal = cal_2024();
        assert_eq!(
            cal.add_working_days(d("2024-04-30"), 20),
            Ok(d("2024-05-30"))
        );
        // Entered on 05-30: on time; on 05-31: one day late.
        assert_eq!(
            cal.working_days_between(d("2024-04-30"), d("2024-05-30")),
            Ok(20)
        );
        assert_eq!(
            cal.working_days_between(d("2024-04-30"), d("2024-05-31")),
            Ok(21)
        );
    }

    #[test]
    fn twenty_working_days_across_national_day() {
        let cal = cal_2024();
        assert_eq!(
            cal.add_working_days(d("2024-09-27"), 20),
            Ok(d("2024-10-30"))
        );
        assert_eq!(
            cal.working_days_between(d("2024-09-27"), d("2024-10-30")),
            Ok(20)
        );
    }

    #[test]
    fn workdays_and_days_off() {
        let cal = cal_2024();
        assert_eq!(d("2024-05-11").weekday(), Weekday::Sat);
        assert_eq!(cal.is_workday(d("2024-05-11")), Ok(true));
        assert_eq!(cal.is_workday(d("2024-10-01")), Ok(false));
        assert_eq!(cal.is_workday(d("2024-10-08")), Ok(true));
        assert_eq!(cal.is_workday(d("2024-06-01")), Ok(false)); // plain Saturday
        assert_eq!(cal.is_workday(d("2024-06-03")), Ok(true)); // plain Monday
    }

    #[test]
    fn zero_and_mirrored_spans() {
        let cal = cal_2024();
        assert_eq!(
            cal.add_working_days(d("2024-06-03"), 0),
            Ok(d("2024-06-03"))
        );
        // Starting on a day off: the start is not counted either way.
        assert_eq!(
            cal.add_working_days(d("2024-10-01"), 1),
            Ok(d("2024-10-08"))
        );
        assert_eq!(
            cal.working_days_between(d("2024-05-30"), d("2024-04-30")),
            Ok(-20)
        );
        assert_eq!(
            cal.working_days_between(d("2024-05-30"), d("2024-05-30")),
            Ok(0)
        );
    }

    #[test]
    fn whole_year_count() {
        // 2024: 262 weekdays, 19 of them off, 8 调休 weekend days: 251 working days.
        // 01-01 is excluded by (start, end] but is a day off anyway.
        let cal = cal_2024();
        assert_eq!(
            cal.working_days_between(d("2024-01-01"), d("2024-12-31")),
            Ok(251)
        );
    }

    #[test]
    fn uncovered_year_is_an_error() {
        let cal = cal_2024();
        let err = cal.is_workday(d("2027-03-01")).unwrap_err();
        assert_eq!(
            err,
            CalendarError::MissingYear {
                year: 2027,
                covered: "2024".into()
            }
        );
        assert!(err.to_string().contains("2027"));
        assert_eq!(err.zh(), "工作日历缺少 2027 年的数据（现有：2024）");
        assert!(matches!(
            cal.working_days_between(d("2024-12-01"), d("2027-01-05")),
            Err(CalendarError::MissingYear { year: 2025, .. })
        ));
    }

    #[test]
    fn stepping_past_the_last_covered_year_errors() {
        let cal = cal_2024();
        // 2024-12-31 is a Tuesday: a few days fit, 20 do not.
        assert_eq!(
            cal.add_working_days(d("2024-12-20"), 6),
            Ok(d("2024-12-30"))
        );
        assert!(matches!(
            cal.add_working_days(d("2024-12-20"), 20),
            Err(CalendarError::MissingYear { year: 2025, .. })
        ));
        // A huge count ends at the edge, not in an endless walk.
        assert!(cal.add_working_days(d("2024-01-01"), u32::MAX).is_err());
        // Even a calendar with every day off ends.
        let all_off = Calendar::new([2024], span("2024-01-01", "2024-12-31"), []);
        assert!(all_off.add_working_days(d("2024-01-01"), 1).is_err());
        // And the last date chrono knows.
        let edge = Calendar::new([NaiveDate::MAX.year()], [], []);
        assert!(edge.add_working_days(NaiveDate::MAX, 1).is_err());
    }

    #[test]
    fn deadlines_are_decided_from_the_days_the_calendar_knows() {
        let cal = Calendar::new(2024..=2026, shipped_dates().0, shipped_dates().1);
        // Finished 2026-12-11, entered 2026-12-17: four working days, all in 2026.
        assert_eq!(
            cal.within_working_days(d("2026-12-11"), 20, d("2026-12-17")),
            Ok(true)
        );
        // Twenty working days after 2026-12-11 fall in 2027: entered on 2027-01-20 is
        // undecided, as 2027's holidays are unknown.
        assert!(matches!(
            cal.within_working_days(d("2026-12-11"), 20, d("2027-01-20")),
            Err(CalendarError::MissingYear { year: 2027, .. })
        ));
        // Known working days alone past the limit: late, whatever 2027 holds.
        assert_eq!(
            cal.within_working_days(d("2026-10-09"), 20, d("2027-02-01")),
            Ok(false)
        );
        // Every unknown day counted as a working day and still within: on time.
        assert_eq!(
            cal.within_working_days(d("2026-12-30"), 20, d("2027-01-04")),
            Ok(true)
        );
        // Before the first covered year: undecided, or late on 2024's days alone.
        assert!(cal
            .within_working_days(d("2023-12-28"), 3, d("2024-01-03"))
            .is_err());
        assert_eq!(
            cal.within_working_days(d("2023-12-20"), 5, d("2024-01-10")),
            Ok(false)
        );
        assert_eq!(
            cal.within_working_days(d("2023-12-30"), 10, d("2024-01-03")),
            Ok(true)
        );
        // Against the walk, wherever both answer.
        let start = d("2024-01-01");
        for offset in (0..1100).step_by(7) {
            let from = start + chrono::Duration::days(offset);
            for span in [1, 10, 29, 45] {
                let to = from + chrono::Duration::days(span);
                if let Ok(days) = cal.working_days_between(from, to) {
                    assert_eq!(
                        cal.within_working_days(from, 20, to),
                        Ok(days <= 20),
                        "{from}..{to}"
                    );
                }
            }
        }
        // Nor is a span of millennia slow.
        assert_eq!(
            cal.within_working_days(d("2024-01-01"), 20, d("9999-12-31")),
            Ok(false)
        );
    }

    #[test]
    fn covered_years_in_messages() {
        let missing = |cal: &Calendar| match cal.is_workday(d("2030-01-01")) {
            Err(CalendarError::MissingYear { covered, .. }) => covered,
            other => panic!("{other:?}"),
        };
        assert_eq!(missing(&Calendar::new(2024..=2026, [], [])), "2024–2026");
        assert_eq!(missing(&Calendar::new([2024, 2026], [], [])), "2024, 2026");
        let empty = Calendar::new([], [], []);
        assert_eq!(missing(&empty), "none");
        assert_eq!(
            empty.is_workday(d("2030-01-01")).unwrap_err().zh(),
            "工作日历缺少 2030 年的数据（现有：无）"
        );
        assert_eq!(
            Calendar::new(2024..=2026, [], []).years(),
            &BTreeSet::from([2024, 2025, 2026])
        );
    }

    #[test]
    fn sources_are_kept() {
        let cal = cal_2024().with_sources([(2024, "国办发明电〔2023〕7号".to_owned())]);
        assert_eq!(cal.source(2024), Some("国办发明电〔2023〕7号"));
        assert_eq!(cal.source(2025), None);
    }

    /// The dates of `holidays:` and `workdays:` in cn.yaml, read loosely line by line.
    fn shipped_dates() -> (Vec<NaiveDate>, Vec<NaiveDate>, String) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/calendar/cn.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut holidays, mut workdays) = (Vec::new(), Vec::new());
        let mut section = String::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap().trim_end();
            if !line.starts_with(' ') && !line.starts_with('-') {
                if let Some((key, _)) = line.split_once(':') {
                    section = key.trim().to_owned();
                }
                continue;
            }
            let Some(item) = line.trim().strip_prefix('-') else {
                continue;
            };
            let item = item.trim().trim_matches(['"', '\'']);
            match section.as_str() {
                "holidays" => holidays.push(d(item)),
                "workdays" => workdays.push(d(item)),
                _ => {}
            }
        }
        (holidays, workdays, text)
    }

    #[test]
    fn shipped_calendar_is_sound() {
        let (holidays, workdays, text) = shipped_dates();
        assert!(text.contains("years: [2024, 2025, 2026]"));
        for year in 2024..=2026 {
            assert!(text.contains(&format!("- year: {year}")), "{year} source");
            let in_year = |x: &&NaiveDate| x.year() == year;
            assert!(holidays.iter().filter(in_year).count() >= 28, "{year}");
            for day in workdays.iter().filter(in_year) {
                assert!(
                    matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
                    "workday {day} is not a weekend day"
                );
                assert!(!holidays.contains(day), "{day} is both");
            }
        }
        for day in holidays.iter().chain(&workdays) {
            assert!((2024..=2026).contains(&day.year()), "{day}");
        }
        let unique: HashSet<_> = holidays.iter().collect();
        assert_eq!(unique.len(), holidays.len(), "a holiday is listed twice");
    }

    #[test]
    fn shipped_calendar_matches_the_2024_notice() {
        let (holidays, workdays, _) = shipped_dates();
        let of_2024 = |v: Vec<NaiveDate>| -> BTreeSet<NaiveDate> {
            v.into_iter().filter(|x| x.year() == 2024).collect()
        };
        assert_eq!(
            of_2024(holidays.clone()),
            holidays_2024().into_iter().collect()
        );
        assert_eq!(
            of_2024(workdays.clone()),
            workdays_2024().into_iter().collect()
        );
        let cal = Calendar::new(2024..=2026, holidays, workdays);
        assert_eq!(
            cal.add_working_days(d("2024-04-30"), 20),
            Ok(d("2024-05-30"))
        );
        // Across the turn of the year, now that 2025 is covered: 2024-12-31 is a
        // Tuesday; 2025-01-01 is off; 2025-01-26 (Sunday) is a 调休 working day.
        assert_eq!(
            cal.add_working_days(d("2024-12-30"), 2),
            Ok(d("2025-01-02"))
        );
        assert_eq!(cal.is_workday(d("2025-01-26")), Ok(true));
        assert_eq!(cal.is_workday(d("2026-02-23")), Ok(false));
        assert!(cal.is_workday(d("2027-01-04")).is_err());
    }
}
