//! Periods as published plans write them, dated within the plan's year: `1月—12月`,
//! `2024年4月至9月`, `2-11月`, `第二、三季度`, `2023年7月20日前`, `2021.04.01`,
//! `2026年1月1日 -2026年12月31日`, `全年`. A text that states no period, or one that
//! cannot be dated without guessing (`局统一安排`, `3月11`, `20229`), is refused with
//! the reason, so that the reader leaves the period open and says why.

use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;

/// Which part of a period a column holds: both ends, or only its start or end
/// (`任务开始时间`, `抽取时间至`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Whole,
    Start,
    End,
}

/// The dates a period cell gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

/// Why a period cell is left open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undated {
    /// The text is no period of a form read here.
    NotAPeriod,
    /// It names months or quarters, but neither it nor the plan gives the year.
    NoYear,
    /// It names a day that does not exist (`13月`, `2月30日`).
    Impossible,
    /// It ends before it starts.
    Reversed,
}

impl Undated {
    pub fn en(&self) -> &'static str {
        match self {
            Undated::NotAPeriod => "no period of a form that can be dated",
            Undated::NoYear => "no year to date it in (the table gives none)",
            Undated::Impossible => "it names a day that does not exist",
            Undated::Reversed => "it ends before it starts",
        }
    }

    pub fn zh(&self) -> &'static str {
        match self {
            Undated::NotAPeriod => "不是可确定日期的时间写法",
            Undated::NoYear => "无法确定年份（表格未给出年度）",
            Undated::Impossible => "其中的日期不存在",
            Undated::Reversed => "结束早于开始",
        }
    }
}

/// What a text states, before a part is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stated {
    Day(NaiveDate),
    /// One month, quarter or year: in a start or end column, only that end.
    Unit(NaiveDate, NaiveDate),
    Span(NaiveDate, NaiveDate),
    /// `…前`: an end without a start.
    Deadline(NaiveDate),
}

/// Reads a period cell; `year` is the plan's, for texts that name no year.
pub fn parse_period(text: &str, year: Option<i32>, part: Part) -> Result<Period, Undated> {
    let stated = stated(&clean(text), year)?;
    let period = match (stated, part) {
        (Stated::Day(d), Part::End) | (Stated::Deadline(d), _) => Period {
            start: None,
            end: Some(d),
        },
        (Stated::Day(d), _) => Period {
            start: Some(d),
            end: None,
        },
        (Stated::Unit(s, _), Part::Start) => Period {
            start: Some(s),
            end: None,
        },
        (Stated::Unit(_, e), Part::End) => Period {
            start: None,
            end: Some(e),
        },
        // A range states both ends, also in a column headed for one of them
        // (`计划完成时间: 2023年6月-10月`).
        (Stated::Unit(s, e), Part::Whole) | (Stated::Span(s, e), _) => Period {
            start: Some(s),
            end: Some(e),
        },
    };
    Ok(period)
}

/// ASCII digits and dashes, no spaces, `至`/`到` as `-`, `5月份` as `5月`, fillers
/// (`完成`, `开展`, `期间`) and closing punctuation dropped.
fn clean(text: &str) -> String {
    let mut s: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '—' | '–' | '―' | '－' | '~' | '～' | '〜' => '-',
            '／' => '/',
            '．' => '.',
            '，' => ',',
            _ => c,
        })
        .collect();
    for (from, to) in [
        ("截至", "截"),
        ("截止", "截"),
        ("月份", "月"),
        ("至", "-"),
        ("到", "-"),
        ("完成", ""),
        ("开展", ""),
        ("实施", ""),
        ("期间", ""),
        ("之间", ""),
        ("--", "-"),
    ] {
        s = s.replace(from, to);
    }
    // `4月一12月`: an OCR'd dash between two months.
    static DASH: OnceLock<Regex> = OnceLock::new();
    let dash = DASH.get_or_init(|| Regex::new(r"月一(\d)").expect("valid regex"));
    let s = dash.replace_all(&s, "月-$1").into_owned();
    s.trim_end_matches(['。', '.', ',', ';', '；', '/', '、'])
        .to_owned()
}

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate, Undated> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or(Undated::Impossible)
}

fn month_end(y: i32, m: u32) -> Result<NaiveDate, Undated> {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    date(ny, nm, 1)?.pred_opt().ok_or(Undated::Impossible)
}

fn month_span(y: i32, from: u32, to: u32) -> Result<Stated, Undated> {
    if !(1..=12).contains(&from) || !(1..=12).contains(&to) {
        return Err(Undated::Impossible);
    }
    spanned(date(y, from, 1)?, month_end(y, to)?)
}

/// A month, quarter or year named as one.
fn unit(span: Result<Stated, Undated>) -> Result<Stated, Undated> {
    match span? {
        Stated::Span(a, b) => Ok(Stated::Unit(a, b)),
        other => Ok(other),
    }
}

fn spanned(start: NaiveDate, end: NaiveDate) -> Result<Stated, Undated> {
    if start > end {
        Err(Undated::Reversed)
    } else {
        Ok(Stated::Span(start, end))
    }
}

/// `2024-04-30`, `2024/4/30`, `2024.4.30`, `2024年4月30日`.
fn full_date(s: &str) -> Option<Result<NaiveDate, Undated>> {
    static DATE: OnceLock<Regex> = OnceLock::new();
    let re = DATE.get_or_init(|| {
        Regex::new(r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})[日号]?)$")
            .expect("valid regex")
    });
    let c = re.captures(s)?;
    let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let y = c.get(1)?.as_str().parse::<i32>().ok()?;
    let (m, d) = match (n(2), n(3)) {
        (Some(m), Some(d)) => (m, d),
        _ => (n(4)?, n(5)?),
    };
    Some(date(y, m, d))
}

fn regex(slot: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    slot.get_or_init(|| Regex::new(pattern).expect("valid regex"))
}

fn stated(s: &str, plan_year: Option<i32>) -> Result<Stated, Undated> {
    if s.is_empty() {
        return Err(Undated::NotAPeriod);
    }
    let year_of = |m: Option<regex::Match>| -> Result<i32, Undated> {
        match m.and_then(|m| m.as_str().parse::<i32>().ok()) {
            Some(y) => Ok(y),
            None => plan_year.ok_or(Undated::NoYear),
        }
    };
    let num = |m: Option<regex::Match>| m.and_then(|m| m.as_str().parse::<u32>().ok());

    // A day, or two days joined by a dash.
    if let Some(d) = full_date(s) {
        return d.map(Stated::Day);
    }
    for (i, _) in s.match_indices('-') {
        if let (Some(a), Some(b)) = (full_date(&s[..i]), full_date(&s[i + 1..])) {
            return spanned(a?, b?);
        }
    }
    // The whole year.
    static YEAR: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &YEAR,
        r"^(?:(\d{4})年)?(?:全年|全年度|年内|全年内|年度内|度|度内)?$",
    );
    if let Some(c) = re.captures(s) {
        if c.get(1).is_some() || s != "度" {
            let y = year_of(c.get(1))?;
            return unit(month_span(y, 1, 12));
        }
    }
    // Months: `2023年6-12月`, `1月-12月`, `2026年1月-2026年11月`, `7月20日-8月30日`.
    static RANGE: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &RANGE,
        r"^(?:(\d{4})年)?(\d{1,2})月?(?:(\d{1,2})[日号])?-(?:(\d{4})年)?(\d{1,2})月(?:(\d{1,2})[日号])?$",
    );
    if let Some(c) = re.captures(s) {
        let y1 = year_of(c.get(1))?;
        let y2 = match c.get(4) {
            Some(_) => year_of(c.get(4))?,
            None => y1,
        };
        let (Some(m1), Some(m2)) = (num(c.get(2)), num(c.get(5))) else {
            return Err(Undated::NotAPeriod);
        };
        if !(1..=12).contains(&m1) || !(1..=12).contains(&m2) {
            return Err(Undated::Impossible);
        }
        let start = match num(c.get(3)) {
            Some(d) => date(y1, m1, d)?,
            None => date(y1, m1, 1)?,
        };
        let end = match num(c.get(6)) {
            Some(d) => date(y2, m2, d)?,
            None => month_end(y2, m2)?,
        };
        return spanned(start, end);
    }
    // `3月10月`: two months whose dash was lost.
    static LOST: OnceLock<Regex> = OnceLock::new();
    let re = regex(&LOST, r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})月$");
    if let Some(c) = re.captures(s) {
        let y = year_of(c.get(1))?;
        let (Some(a), Some(b)) = (num(c.get(2)), num(c.get(3))) else {
            return Err(Undated::NotAPeriod);
        };
        return month_span(y, a, b);
    }
    // `7-11` with no unit: months, when both can be.
    static BARE: OnceLock<Regex> = OnceLock::new();
    let re = regex(&BARE, r"^(\d{1,2})-(\d{1,2})$");
    if let Some(c) = re.captures(s) {
        let (Some(a), Some(b)) = (num(c.get(1)), num(c.get(2))) else {
            return Err(Undated::NotAPeriod);
        };
        if (1..=12).contains(&a) && (1..=12).contains(&b) {
            return month_span(plan_year.ok_or(Undated::NoYear)?, a, b);
        }
        return Err(Undated::NotAPeriod);
    }
    // One month: `2021年9月`, `5月`, `2021.9`.
    static MONTH: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &MONTH,
        r"^(?:(?:(\d{4})年)?(\d{1,2})月|(\d{4})[./-](\d{1,2}))$",
    );
    if let Some(c) = re.captures(s) {
        let (y, m) = match c.get(2) {
            Some(m) => (year_of(c.get(1))?, num(Some(m))),
            None => (year_of(c.get(3))?, num(c.get(4))),
        };
        let m = m.ok_or(Undated::NotAPeriod)?;
        return unit(month_span(y, m, m));
    }
    // Deadlines: `2023年7月20日前`, `12月底前`, `12月前`, `年底前`, `截至6月30日`.
    let (body, deadline) = match s.strip_prefix('截') {
        Some(rest) => (rest, true),
        None => {
            let trimmed = s
                .strip_suffix("之前")
                .or_else(|| s.strip_suffix("以前"))
                .or_else(|| s.strip_suffix('前'));
            match trimmed {
                Some(rest) => (rest, true),
                None => (s, false),
            }
        }
    };
    if deadline {
        if let Some(d) = full_date(body) {
            return d.map(Stated::Deadline);
        }
        static DAY: OnceLock<Regex> = OnceLock::new();
        let re = regex(&DAY, r"^(?:(\d{4})年)?(\d{1,2})月(\d{1,2})[日号]$");
        if let Some(c) = re.captures(body) {
            let y = year_of(c.get(1))?;
            let (Some(m), Some(d)) = (num(c.get(2)), num(c.get(3))) else {
                return Err(Undated::NotAPeriod);
            };
            return date(y, m, d).map(Stated::Deadline);
        }
        static END: OnceLock<Regex> = OnceLock::new();
        let re = regex(
            &END,
            r"^(?:(\d{4})年)?(?:(\d{1,2})月(底|末)?|(年底|年末|底))$",
        );
        if let Some(c) = re.captures(body) {
            let y = year_of(c.get(1))?;
            if c.get(4).is_some() {
                return month_end(y, 12).map(Stated::Deadline);
            }
            let m = num(c.get(2)).ok_or(Undated::NotAPeriod)?;
            if !(1..=12).contains(&m) {
                return Err(Undated::Impossible);
            }
            // `12月底前` is by the end of December; `12月前`, before December begins.
            let by_end = c.get(3).is_some() || s.starts_with('截');
            return match (by_end, m) {
                (true, _) => month_end(y, m).map(Stated::Deadline),
                (false, 1) => date(y - 1, 12, 31).map(Stated::Deadline),
                (false, _) => month_end(y, m - 1).map(Stated::Deadline),
            };
        }
        return Err(Undated::NotAPeriod);
    }
    // Quarters: `第二、三季度`, `二季度`, `第1-3季度`; half years.
    static QUARTERS: OnceLock<Regex> = OnceLock::new();
    let re = regex(
        &QUARTERS,
        r"^(?:(\d{4})年)?((?:第?[一二三四1-4](?:季度)?[、,和及-]?)+)季度$",
    );
    if let Some(c) = re.captures(s) {
        let y = year_of(c.get(1))?;
        let quarters: Vec<u32> = c
            .get(2)
            .map_or("", |m| m.as_str())
            .chars()
            .filter_map(|ch| match ch {
                '一' | '1' => Some(1),
                '二' | '2' => Some(2),
                '三' | '3' => Some(3),
                '四' | '4' => Some(4),
                _ => None,
            })
            .collect();
        let (Some(first), Some(last)) = (quarters.iter().min(), quarters.iter().max()) else {
            return Err(Undated::NotAPeriod);
        };
        return unit(month_span(y, first * 3 - 2, last * 3));
    }
    static HALF: OnceLock<Regex> = OnceLock::new();
    let re = regex(&HALF, r"^(?:(\d{4})年)?(上|下)半年$");
    if let Some(c) = re.captures(s) {
        let y = year_of(c.get(1))?;
        return unit(match c.get(2).map(|m| m.as_str()) {
            Some("上") => month_span(y, 1, 6),
            _ => month_span(y, 7, 12),
        });
    }
    Err(Undated::NotAPeriod)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn whole(text: &str) -> Result<(Option<NaiveDate>, Option<NaiveDate>), Undated> {
        parse_period(text, Some(2024), Part::Whole).map(|p| (p.start, p.end))
    }

    fn span(a: NaiveDate, b: NaiveDate) -> Result<(Option<NaiveDate>, Option<NaiveDate>), Undated> {
        Ok((Some(a), Some(b)))
    }

    #[test]
    fn month_ranges_within_the_plan_year() {
        for text in [
            "1月—12月",
            "1月-12月",
            "1-12月",
            "全年",
            "2024年全年",
            "1月至12月",
        ] {
            assert_eq!(whole(text), span(d(2024, 1, 1), d(2024, 12, 31)), "{text}");
        }
        assert_eq!(whole("2024年4月至9月"), span(d(2024, 4, 1), d(2024, 9, 30)));
        assert_eq!(whole("2-11月"), span(d(2024, 2, 1), d(2024, 11, 30)));
        assert_eq!(whole("5—7月"), span(d(2024, 5, 1), d(2024, 7, 31)));
        assert_eq!(
            whole("2021年4月-10月"),
            span(d(2021, 4, 1), d(2021, 10, 31))
        );
        assert_eq!(whole("2023年6-12月"), span(d(2023, 6, 1), d(2023, 12, 31)));
        assert_eq!(
            whole("2026年1月- 2026年11月"),
            span(d(2026, 1, 1), d(2026, 11, 30))
        );
        assert_eq!(whole("9月-11月"), span(d(2024, 9, 1), d(2024, 11, 30)));
        assert_eq!(whole("２月－１１月"), span(d(2024, 2, 1), d(2024, 11, 30)));
        // Months of a leap year.
        assert_eq!(whole("2月"), span(d(2024, 2, 1), d(2024, 2, 29)));
        assert_eq!(whole("2021年9月"), span(d(2021, 9, 1), d(2021, 9, 30)));
        assert_eq!(whole("5月份"), span(d(2024, 5, 1), d(2024, 5, 31)));
        assert_eq!(whole("7-11"), span(d(2024, 7, 1), d(2024, 11, 30)));
        assert_eq!(whole("4月一12月"), span(d(2024, 4, 1), d(2024, 12, 31)));
        assert_eq!(whole("3月10月"), span(d(2024, 3, 1), d(2024, 10, 31)));
    }

    #[test]
    fn quarters_and_halves() {
        assert_eq!(whole("第二、三季度"), span(d(2024, 4, 1), d(2024, 9, 30)));
        assert_eq!(whole("第三季度"), span(d(2024, 7, 1), d(2024, 9, 30)));
        assert_eq!(whole("二季度"), span(d(2024, 4, 1), d(2024, 6, 30)));
        assert_eq!(
            whole("第二至第四季度"),
            span(d(2024, 4, 1), d(2024, 12, 31))
        );
        assert_eq!(whole("下半年"), span(d(2024, 7, 1), d(2024, 12, 31)));
    }

    #[test]
    fn days_and_day_ranges() {
        assert_eq!(
            whole("2026年1月1日 -2026年12月31日"),
            span(d(2026, 1, 1), d(2026, 12, 31))
        );
        assert_eq!(
            whole("2024.3.1-2024.12.31"),
            span(d(2024, 3, 1), d(2024, 12, 31))
        );
        assert_eq!(whole("2016.2.1"), Ok((Some(d(2016, 2, 1)), None)));
        let end = parse_period("2021/12/20/", Some(2021), Part::End).unwrap();
        assert_eq!((end.start, end.end), (None, Some(d(2021, 12, 20))));
        let start = parse_period("2021年9月", Some(2021), Part::Start).unwrap();
        assert_eq!((start.start, start.end), (Some(d(2021, 9, 1)), None));
        let end = parse_period("2021年9月", Some(2021), Part::End).unwrap();
        assert_eq!((end.start, end.end), (None, Some(d(2021, 9, 30))));
        // A range in a column headed for one end states both.
        let both = parse_period("2023年6月-10月", Some(2023), Part::End).unwrap();
        assert_eq!(
            (both.start, both.end),
            (Some(d(2023, 6, 1)), Some(d(2023, 10, 31)))
        );
    }

    #[test]
    fn deadlines_leave_the_start_open() {
        assert_eq!(whole("2023年7月20日前"), Ok((None, Some(d(2023, 7, 20)))));
        assert_eq!(whole("12月底前"), Ok((None, Some(d(2024, 12, 31)))));
        assert_eq!(whole("12月前"), Ok((None, Some(d(2024, 11, 30)))));
        assert_eq!(whole("年底前"), Ok((None, Some(d(2024, 12, 31)))));
        assert_eq!(whole("截至6月30日"), Ok((None, Some(d(2024, 6, 30)))));
    }

    #[test]
    fn what_cannot_be_dated_is_refused_with_a_reason() {
        for text in [
            "局统一安排",
            "每季度各抽查1次",
            "3月11",
            "57",
            "20229",
            "202210",
            "8月TO月",
            "第一批2023720日前完成,第二批20231015日前完成",
            "",
            "根据工作需要",
        ] {
            assert_eq!(whole(text), Err(Undated::NotAPeriod), "{text}");
        }
        assert_eq!(whole("8月72月"), Err(Undated::Impossible));
        assert_eq!(whole("13月"), Err(Undated::Impossible));
        assert_eq!(whole("2024年2月30日前"), Err(Undated::Impossible));
        assert_eq!(whole("11月-3月"), Err(Undated::Reversed));
        assert_eq!(
            parse_period("3月-5月", None, Part::Whole),
            Err(Undated::NoYear)
        );
        // A year in the text needs no plan year.
        assert!(parse_period("2024年3月-5月", None, Part::Whole).is_ok());
    }

    #[test]
    fn garbage_never_panics() {
        for text in [
            "9999年12月",
            "0000年1月",
            "99999999999-1",
            "月-月",
            "第季度",
            "前",
            "截",
            "年",
            "-",
            "🙂",
            "2024年99月99日-2024年1月1日",
        ] {
            let _ = parse_period(text, Some(2024), Part::Whole);
            let _ = parse_period(text, None, Part::End);
        }
    }
}
