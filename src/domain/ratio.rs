//! Sampling ratios as departments write them: `0.05`, `"5%"`, and the free-text cells of
//! published plan tables (`10-20%`, `不低于5%`, `60-70家`, `3%;2次/年`).

/// What a ratio cell commits to.
#[derive(Debug, Clone, PartialEq)]
pub enum Ratio {
    /// A single ratio, 0..=1.
    Fraction(f64),
    /// A range of ratios, `min <= max`.
    Range { min: f64, max: f64 },
    /// A floor: `不低于5%`.
    AtLeast(f64),
    /// A number of entities (`60-70家`) rather than a share of them.
    Count { min: u64, max: u64, unit: String },
}

impl Ratio {
    /// The ratio a rule may rely on: the value, or the lower end of a range or floor.
    /// None for counts, which are not ratios.
    pub fn lower_bound(&self) -> Option<f64> {
        match self {
            Ratio::Fraction(v) | Ratio::AtLeast(v) => Some(*v),
            Ratio::Range { min, .. } => Some(*min),
            Ratio::Count { .. } => None,
        }
    }
}

/// A read ratio cell: the ratio (if any), the checks per year (if any) and the cell text.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRatio {
    pub ratio: Option<Ratio>,
    pub per_year: Option<u32>,
    pub text: String,
}

/// Full-width digits and signs (typed with Chinese IMEs) as ASCII; whitespace dropped.
fn normalize(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10).unwrap_or(c),
            '％' => '%',
            '．' => '.',
            '－' | '—' | '–' | '―' | '～' | '〜' | '~' => '-',
            '；' => ';',
            '，' | '、' => ',',
            '。' => ';',
            '／' => '/',
            '＞' => '>',
            '＜' => '<',
            '＝' => '=',
            '≧' => '≥',
            _ => c,
        })
        .collect()
}

/// A decimal number in the text, by char index.
struct Num {
    text: String,
    start: usize,
    end: usize,
}

impl Num {
    fn value(&self) -> Option<f64> {
        self.text.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// The value divided by 10^shift, parsed from text so `0.3%` equals the literal 0.003.
    fn shifted(&self, shift: u32) -> Option<f64> {
        format!("{}e-{shift}", self.text)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    }

    fn integer(&self) -> Option<u64> {
        self.text.parse().ok()
    }
}

/// The unsigned decimal numbers in `chars`, in order.
fn numbers(chars: &[char]) -> Vec<Num> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        // One decimal point, only when digits follow it.
        if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
        out.push(Num {
            text: chars[start..i].iter().collect(),
            start,
            end: i,
        });
    }
    out
}

/// Whether `chars[at..]` starts with `word`.
fn starts_with(chars: &[char], at: usize, word: &str) -> bool {
    word.chars()
        .enumerate()
        .all(|(j, w)| chars.get(at + j) == Some(&w))
}

/// Whether `chars[..at]` ends with `word`.
fn ends_with(chars: &[char], at: usize, word: &str) -> bool {
    let n = word.chars().count();
    at >= n && starts_with(chars, at - n, word)
}

fn is_range_sep(c: Option<&char>) -> bool {
    matches!(c, Some('-' | '至' | '到'))
}

/// `%` → 2, `‰` → 3: the power of ten the number is divided by.
fn scale_at(chars: &[char], at: usize) -> Option<u32> {
    match chars.get(at) {
        Some('%') => Some(2),
        Some('‰') => Some(3),
        _ => None,
    }
}

/// Whether the clause holding the number at `num` says it is a floor. A lone leading
/// `=` counts: in published tables it is a `≥` whose `>` was lost in conversion.
fn is_floor(chars: &[char], num: &Num, after: usize) -> bool {
    let clause_start = chars[..num.start]
        .iter()
        .rposition(|c| matches!(c, ',' | ';' | '\n'))
        .map_or(0, |i| i + 1);
    let before: String = chars[clause_start..num.start].iter().collect();
    let floor_words = ["不低于", "不少于", "不小于", "至少", "最低", "≥", ">"];
    floor_words.iter().any(|w| before.contains(w))
        || before.ends_with('=')
        || starts_with(chars, after, "以上")
        || starts_with(chars, after, "及以上")
}

/// The first percentage (or per-mille) in the text: a range, a floor or a single value.
fn percent_ratio(chars: &[char], nums: &[Num], text: &str) -> Result<Option<Ratio>, String> {
    for (k, num) in nums.iter().enumerate() {
        let own_scale = scale_at(chars, num.end);
        // `-10%`: a minus sign, not the dash of a range after another number.
        let dash_before = num.start.checked_sub(1).and_then(|i| chars.get(i)) == Some(&'-');
        let after_number = num.start >= 2 && matches!(chars[num.start - 2], '0'..='9' | '%' | '‰');
        if own_scale.is_some() && dash_before && !after_number {
            return Err(format!("`{text}`: a ratio cannot be negative"));
        }
        // The second number of a range, right after this one (and its own % sign).
        let sep_at = num.end + usize::from(own_scale.is_some());
        let second = nums
            .get(k + 1)
            .filter(|next| is_range_sep(chars.get(sep_at)) && next.start == sep_at + 1)
            .and_then(|next| Some((next, scale_at(chars, next.end)?)));
        if let Some((next, scale)) = second {
            let (Some(min), Some(max)) = (num.shifted(scale), next.shifted(scale)) else {
                return Err(format!("`{text}`: unreadable range"));
            };
            if !(0.0..=1.0).contains(&min) || !(0.0..=1.0).contains(&max) || min > max {
                return Err(format!("`{text}`: not a range of ratios within 0-100%"));
            }
            return Ok(Some(Ratio::Range { min, max }));
        }
        let Some(scale) = own_scale else { continue };
        let Some(v) = num.shifted(scale) else {
            return Err(format!("`{text}`: unreadable ratio"));
        };
        if !(0.0..=1.0).contains(&v) {
            return Err(format!("`{text}`: a ratio must be within 0-100%"));
        }
        return Ok(Some(if is_floor(chars, num, num.end + 1) {
            Ratio::AtLeast(v)
        } else {
            Ratio::Fraction(v)
        }));
    }
    Ok(None)
}

/// Units that make a number a count of entities rather than a ratio.
const COUNT_UNITS: [&str; 8] = ["批次", "家", "个", "户", "批", "项", "件", "所"];

/// The first count of entities: `60-70家`, `企业30家`.
fn count_ratio(chars: &[char], nums: &[Num], text: &str) -> Result<Option<Ratio>, String> {
    for (k, num) in nums.iter().enumerate() {
        let Some(unit) = COUNT_UNITS.iter().find(|u| starts_with(chars, num.end, u)) else {
            continue;
        };
        let Some(max) = num.integer() else {
            return Err(format!("`{text}`: a count must be a whole number"));
        };
        let min = match k.checked_sub(1).and_then(|j| nums.get(j)) {
            Some(prev) if prev.end + 1 == num.start && is_range_sep(chars.get(prev.end)) => prev
                .integer()
                .ok_or_else(|| format!("`{text}`: unreadable count"))?,
            _ => max,
        };
        if min > max {
            return Err(format!("`{text}`: the count range is reversed"));
        }
        return Ok(Some(Ratio::Count {
            min,
            max,
            unit: (*unit).to_owned(),
        }));
    }
    Ok(None)
}

/// A Chinese numeral for a small frequency (`两次/年`).
fn chinese_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九十"
        .chars()
        .position(|x| x == c)
        .map(|i| i as u32)
        .or((c == '两').then_some(2))
}

/// Checks per year: `2次/年`, `每年2次`, `1-2次/年` (the lower end), `两次/年`.
fn frequency(chars: &[char], nums: &[Num]) -> Option<u32> {
    let per_year_after = |at: usize| {
        ["次/年", "次每年", "次/每年"]
            .iter()
            .any(|w| starts_with(chars, at, w))
    };
    let per_year_before = |at: usize| {
        ["每年", "一年", "年度"]
            .iter()
            .any(|w| ends_with(chars, at, w))
    };
    for (k, num) in nums.iter().enumerate() {
        let found = per_year_after(num.end)
            || (per_year_before(num.start) && chars.get(num.end) == Some(&'次'));
        if !found {
            continue;
        }
        // In `1-2次/年` the commitment is the lower end.
        let low = match k.checked_sub(1).and_then(|j| nums.get(j)) {
            Some(prev) if prev.end + 1 == num.start && is_range_sep(chars.get(prev.end)) => prev,
            _ => num,
        };
        return low.integer().and_then(|v| u32::try_from(v).ok());
    }
    // A Chinese numeral right before `次/年`, or between `每年` and `次`.
    (1..chars.len()).find_map(|i| {
        let d = chinese_digit(chars[i - 1])?;
        (per_year_after(i) || (per_year_before(i - 1) && chars[i] == '次')).then_some(d)
    })
}

/// `0.05`, `5%`, `５％`, ` 5 % ` → 0.05; None unless it is one ratio within 0..=1.
pub fn parse_fraction(s: &str) -> Option<f64> {
    let chars = normalize(s);
    let value = match chars.split_last() {
        Some(('%', number)) => format!("{}e-2", number.iter().collect::<String>()).parse::<f64>(),
        _ => chars.iter().collect::<String>().parse::<f64>(),
    }
    .ok()?;
    (0.0..=1.0).contains(&value).then_some(value)
}

/// Reads a free-text ratio cell of a published plan table.
///
/// The first percentage wins (`项目抽查比例为5%,1-2次` → 5%); `不低于`/`≥`/`以上` make it
/// a floor. A lone `=` before the number (`=50%`) is read as a floor too: it is what a
/// `≥` becomes when a table loses its `>`, and the floor keeps the same lower bound.
/// Without a percentage, `60-70家` is a count and a bare decimal (`0.05`) a fraction.
/// `2次/年` sets `per_year`; a cell may hold only that.
pub fn parse_cell(s: &str) -> Result<ParsedRatio, String> {
    let text = s.trim().to_owned();
    let chars = normalize(&text);
    let nums = numbers(&chars);
    let per_year = frequency(&chars, &nums);
    let mut ratio = percent_ratio(&chars, &nums, &text)?;
    if ratio.is_none() {
        ratio = count_ratio(&chars, &nums, &text)?;
    }
    if ratio.is_none() {
        ratio = parse_fraction(&text).map(Ratio::Fraction);
    }
    if ratio.is_none() {
        // A decimal such as `比例0.05`: only with a point, so `2次` stays a frequency.
        ratio = nums
            .iter()
            .filter(|n| n.text.contains('.') && !starts_with(&chars, n.end, "次"))
            .find_map(|n| n.value().filter(|v| (0.0..=1.0).contains(v)))
            .map(Ratio::Fraction);
    }
    if ratio.is_none() && per_year.is_none() {
        return Err(if text.is_empty() {
            "empty ratio cell".to_owned()
        } else {
            format!("no ratio, count or frequency in `{text}`")
        });
    }
    Ok(ParsedRatio {
        ratio,
        per_year,
        text,
    })
}

/// `share` as a percentage with one decimal — rounded down where it falls short of
/// `threshold`, so that it never reads as reaching it (99.997% against 100% reads
/// "99.9%", never "100.0%").
pub fn percent_against(share: f64, threshold: f64) -> String {
    if share < threshold && share.is_finite() {
        format!("{:.1}%", (share * 1000.0).floor() / 10.0)
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(s: &str) -> Option<Ratio> {
        parse_cell(s).unwrap().ratio
    }

    fn range(min: f64, max: f64) -> Option<Ratio> {
        Some(Ratio::Range { min, max })
    }

    fn count(min: u64, max: u64, unit: &str) -> Option<Ratio> {
        Some(Ratio::Count {
            min,
            max,
            unit: unit.to_owned(),
        })
    }

    #[test]
    fn fractions() {
        assert_eq!(parse_fraction("0.05"), Some(0.05));
        assert_eq!(parse_fraction("5%"), Some(0.05));
        assert_eq!(parse_fraction("５％"), Some(0.05));
        assert_eq!(parse_fraction(" 5 % "), Some(0.05));
        assert_eq!(parse_fraction("0.3%"), Some(0.003));
        assert_eq!(parse_fraction("100%"), Some(1.0));
        assert_eq!(parse_fraction("0"), Some(0.0));
        assert_eq!(parse_fraction("1"), Some(1.0));
    }

    #[test]
    fn fractions_out_of_range_or_garbage() {
        for s in [
            "150%", "1.5", "-5%", "abc", "", "%", "5%%", "NaN", "inf", "1e999",
        ] {
            assert_eq!(parse_fraction(s), None, "{s}");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(ratio("10-20%"), range(0.10, 0.20));
        assert_eq!(ratio("10%-20%"), range(0.10, 0.20));
        assert_eq!(ratio("10～20%"), range(0.10, 0.20));
        assert_eq!(ratio("１０％－２０％"), range(0.10, 0.20));
        assert_eq!(ratio("10%至20%"), range(0.10, 0.20));
        assert!(parse_cell("20-10%").is_err());
        assert!(parse_cell("50-200%").is_err());
    }

    #[test]
    fn floors() {
        for s in [
            "不低于5%",
            "≥5%",
            ">=5%",
            "＞＝５％",
            "不少于5%",
            "5%以上",
            "全年抽查比例不低于5%,抽查频次根据监管需要确定",
        ] {
            assert_eq!(ratio(s), Some(Ratio::AtLeast(0.05)), "{s}");
        }
        // The chosen reading of a lone `=`: a floor.
        assert_eq!(ratio("=50%"), Some(Ratio::AtLeast(0.5)));
        // A floor word in another clause does not apply.
        assert_eq!(ratio("检查不少于1次;比例5%"), Some(Ratio::Fraction(0.05)));
    }

    #[test]
    fn single_values_and_frequencies() {
        assert_eq!(ratio("15%"), Some(Ratio::Fraction(0.15)));
        assert_eq!(ratio("0.05"), Some(Ratio::Fraction(0.05)));
        assert_eq!(ratio("抽查比例0.05"), Some(Ratio::Fraction(0.05)));
        assert_eq!(ratio("项目抽查比例为5%,1-2次"), Some(Ratio::Fraction(0.05)));
        let cell = parse_cell("3%;2次/年").unwrap();
        assert_eq!(cell.ratio, Some(Ratio::Fraction(0.03)));
        assert_eq!(cell.per_year, Some(2));
        assert_eq!(cell.text, "3%;2次/年");
        let cell = parse_cell(" 1次/年 ").unwrap();
        assert_eq!((cell.ratio, cell.per_year), (None, Some(1)));
        assert_eq!(cell.text, "1次/年");
        assert_eq!(parse_cell("每年2次").unwrap().per_year, Some(2));
        assert_eq!(parse_cell("1-2次/年").unwrap().per_year, Some(1));
        assert_eq!(parse_cell("两次/年").unwrap().per_year, Some(2));
        assert_eq!(parse_cell("5%").unwrap().per_year, None);
    }

    #[test]
    fn counts() {
        assert_eq!(ratio("60-70家"), count(60, 70, "家"));
        assert_eq!(ratio("50个"), count(50, 50, "个"));
        assert_eq!(ratio("企业30家"), count(30, 30, "家"));
        assert_eq!(ratio("2024年抽查企业30家"), count(30, 30, "家"));
        assert_eq!(ratio("3批次"), count(3, 3, "批次"));
        assert!(parse_cell("70-60家").is_err());
    }

    #[test]
    fn lower_bounds() {
        assert_eq!(Ratio::Fraction(0.03).lower_bound(), Some(0.03));
        assert_eq!(range(0.1, 0.2).unwrap().lower_bound(), Some(0.1));
        assert_eq!(Ratio::AtLeast(0.05).lower_bound(), Some(0.05));
        assert_eq!(count(60, 70, "家").unwrap().lower_bound(), None);
    }

    #[test]
    fn unreadable_cells_are_errors() {
        for s in ["", "   ", "根据监管需要确定", "随机", "%%%", "-", "——"] {
            assert!(parse_cell(s).is_err(), "{s:?}");
        }
    }

    #[test]
    fn garbage_never_panics() {
        let huge = "9".repeat(400);
        let inputs = [
            "9999999999999999999999%".to_owned(),
            "99999999999999999999999家".to_owned(),
            "99999999999次/年".to_owned(),
            format!("{huge}%"),
            format!("{huge}.{huge}"),
            format!("1-{huge}%"),
            "1.2.3.4%".to_owned(),
            "5.%".to_owned(),
            ".5%".to_owned(),
            "-".repeat(100),
            "M50%x".to_owned(),
            "次/年".to_owned(),
            "每年次".to_owned(),
            "🙂5%🙂".to_owned(),
            "\u{0}\u{ffff}%".to_owned(),
            "10-".to_owned(),
            "10-%".to_owned(),
            "以上".to_owned(),
            "一".to_owned(),
        ];
        for s in &inputs {
            let _ = parse_cell(s);
            let _ = parse_fraction(s);
        }
        assert!(parse_cell("9999999999999999999999%").is_err());
        assert!(parse_cell("-10%").is_err());
        assert!(parse_cell("比例-5%").is_err());
        assert_eq!(
            parse_cell("🙂5%🙂").unwrap().ratio,
            Some(Ratio::Fraction(0.05))
        );
    }

    #[test]
    fn a_share_short_of_its_threshold_never_reads_as_reaching_it() {
        assert_eq!(percent_against(39_998.0 / 39_999.0, 1.0), "99.9%");
        assert_eq!(percent_against(0.7999, 0.8), "79.9%");
        assert_eq!(percent_against(0.80049, 0.8005), "80.0%");
        assert_eq!(percent_against(0.5, 0.8), "50.0%");
        assert_eq!(percent_against(1.0, 1.0), "100.0%");
        assert_eq!(percent_against(0.999_999_9, 1.0), "99.9%");
    }
}
