//! Sampling ratios as departments write them: `0.05`, `"5%"`, and the free-text cells of
//! published plan tables: `10-20%`, `不低于5%`, `原则上不高于10%`, `60-70家`, `不少于2所`,
//! `10% (20户)`, `A:3%;B:4%;C:5%;D:6%`, `3%;2次/年`, `每年不少于1次`, `=1`.

/// A lower and an upper bound, either or both given: an exact value has both, equal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds<T> {
    pub min: Option<T>,
    pub max: Option<T>,
}

impl<T: Copy> Bounds<T> {
    pub fn exact(v: T) -> Self {
        Bounds {
            min: Some(v),
            max: Some(v),
        }
    }

    pub fn at_least(v: T) -> Self {
        Bounds {
            min: Some(v),
            max: None,
        }
    }

    pub fn at_most(v: T) -> Self {
        Bounds {
            min: None,
            max: Some(v),
        }
    }

    pub fn range(min: T, max: T) -> Self {
        Bounds {
            min: Some(min),
            max: Some(max),
        }
    }
}

/// A number of objects to check (`60-70家`, `不少于2所`, `1户`).
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub bounds: Bounds<u64>,
    pub unit: String,
}

/// What a sampling cell commits to: a ratio, a count, ratios per credit-risk class and
/// checks per year, each when the cell states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    pub ratio: Option<Bounds<f64>>,
    pub count: Option<Count>,
    /// Ratios per risk class, `A` (low) to `D` (high), in the order written.
    pub classes: Vec<(char, f64)>,
    pub per_year: Option<u32>,
    pub text: String,
}

/// Full-width digits and signs (typed with Chinese IMEs) as ASCII; whitespace dropped.
fn normalize(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10).unwrap_or(c),
            'Ａ'..='Ｚ' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '％' => '%',
            '．' => '.',
            '－' | '—' | '–' | '―' | '～' | '〜' | '~' => '-',
            '；' => ';',
            '，' | '、' => ',',
            '。' => ';',
            '：' => ':',
            '／' => '/',
            '＞' => '>',
            '＜' => '<',
            '＝' => '=',
            '（' => '(',
            '）' => ')',
            '≧' => '≥',
            '≦' => '≤',
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

fn is_clause_break(c: char) -> bool {
    matches!(c, ',' | ';' | '\n')
}

/// The text of the clause before char `at` (from the last `,` `;` or line break).
fn clause_before(chars: &[char], at: usize) -> String {
    let start = chars[..at]
        .iter()
        .rposition(|c| is_clause_break(*c))
        .map_or(0, |i| i + 1);
    chars[start..at].iter().collect()
}

const FLOOR_WORDS: [&str; 12] = [
    "不低于",
    "不少于",
    "不小于",
    "不得低于",
    "不得少于",
    "不应低于",
    "至少",
    "最低",
    "最少",
    "≥",
    ">",
    "以上",
];
const CEILING_WORDS: [&str; 11] = [
    "不高于",
    "不超过",
    "不大于",
    "不得超过",
    "不得高于",
    "不多于",
    "最高",
    "最多",
    "≤",
    "<",
    "上限",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Exact,
    Floor,
    Ceiling,
}

/// Whether the clause holding a number says it is a floor or a ceiling. A lone leading
/// `=` counts as a floor: in published tables it is a `≥` whose `>` was lost.
fn bound_of(chars: &[char], start: usize, after: usize) -> Bound {
    let before = clause_before(chars, start);
    let floor_after = ["以上", "及以上"]
        .iter()
        .any(|w| starts_with(chars, after, w));
    let ceiling_after = ["以下", "及以下", "以内"]
        .iter()
        .any(|w| starts_with(chars, after, w));
    // The word nearest the number decides (`不低于…，最高…` is rare; `最高` alone is not).
    let floor_at = FLOOR_WORDS.iter().filter_map(|w| before.rfind(w)).max();
    let ceiling_at = CEILING_WORDS.iter().filter_map(|w| before.rfind(w)).max();
    match (floor_at, ceiling_at) {
        _ if floor_after => Bound::Floor,
        _ if ceiling_after => Bound::Ceiling,
        (Some(f), Some(c)) if c > f => Bound::Ceiling,
        (Some(_), _) => Bound::Floor,
        (None, Some(_)) => Bound::Ceiling,
        (None, None) if before.ends_with('=') => Bound::Floor,
        (None, None) => Bound::Exact,
    }
}

/// The credit-risk class a percentage at `at` is written for: `A:3%`, `A类3%`,
/// `低风险企业5%`.
fn class_before(chars: &[char], at: usize) -> Option<char> {
    let mut i = at;
    // Skip what stands between a class and its ratio.
    loop {
        if i > 0 && matches!(chars[i - 1], ':' | '类' | '为' | '级' | '的' | '按') {
            i -= 1;
        } else if ends_with(chars, i, "企业") || ends_with(chars, i, "对象") {
            i -= 2;
        } else {
            break;
        }
    }
    for (word, class) in [
        ("较高风险", 'C'),
        ("一般风险", 'B'),
        ("低风险", 'A'),
        ("高风险", 'D'),
    ] {
        if ends_with(chars, i, word) {
            // `较高风险` also ends in `高风险`: the longer word is tried first.
            return Some(class);
        }
    }
    let letter = *chars.get(i.checked_sub(1)?)?;
    let before_letter = i.checked_sub(2).and_then(|j| chars.get(j));
    let standalone = before_letter.is_none_or(|c| !c.is_ascii_alphabetic());
    (matches!(letter, 'A'..='D') && standalone).then_some(letter)
}

/// One percentage of a cell.
struct Percent {
    bounds: Bounds<f64>,
    class: Option<char>,
}

/// Every percentage (or per-mille) of the text: ranges, floors, ceilings, single values.
fn percentages(chars: &[char], nums: &[Num], text: &str) -> Result<Vec<Percent>, String> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < nums.len() {
        let num = &nums[k];
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
            out.push(Percent {
                bounds: Bounds::range(min, max),
                class: class_before(chars, num.start),
            });
            k += 2;
            continue;
        }
        k += 1;
        let Some(scale) = own_scale else { continue };
        let Some(v) = num.shifted(scale) else {
            return Err(format!("`{text}`: unreadable ratio"));
        };
        if !(0.0..=1.0).contains(&v) {
            return Err(format!("`{text}`: a ratio must be within 0-100%"));
        }
        let bounds = match bound_of(chars, num.start, num.end + 1) {
            Bound::Exact => Bounds::exact(v),
            Bound::Floor => Bounds::at_least(v),
            Bound::Ceiling => Bounds::at_most(v),
        };
        out.push(Percent {
            bounds,
            class: class_before(chars, num.start),
        });
    }
    Ok(out)
}

/// `A、B、C、D类分别为1%、3%、5%、10%`: the classes listed, then their ratios in turn.
fn listed_classes(chars: &[char], percents: &[Percent]) -> Vec<(char, f64)> {
    let text: String = chars.iter().collect();
    let Some(at) = text.find("分别") else {
        return Vec::new();
    };
    let head: Vec<char> = text[..at].chars().collect();
    let letters: Vec<char> = head
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            matches!(c, 'A'..='D')
                && i.checked_sub(1)
                    .and_then(|j| head.get(j))
                    .is_none_or(|p| !p.is_ascii_alphabetic())
                && head.get(i + 1).is_none_or(|n| !n.is_ascii_alphabetic())
        })
        .map(|(_, c)| *c)
        .collect();
    let values: Vec<f64> = percents.iter().filter_map(|p| p.bounds.min).collect();
    if letters.len() < 2 || letters.len() != values.len() {
        return Vec::new();
    }
    letters.into_iter().zip(values).collect()
}

/// Units that make a number a count of objects rather than a ratio.
const COUNT_UNITS: [&str; 12] = [
    "批次", "家", "个", "户", "批", "项", "件", "所", "辆", "台", "处", "座",
];

/// The count of objects a cell commits to: the first floor (`不少于2所`), else the
/// first exact count or range (`60-70家`, `1户`), else the first ceiling; counts that
/// state a condition (`10所及以下的市`) count as ceilings.
fn count_of(chars: &[char], nums: &[Num], text: &str) -> Result<Option<Count>, String> {
    let mut found: Vec<(Bound, Count)> = Vec::new();
    for (k, num) in nums.iter().enumerate() {
        let Some(unit) = COUNT_UNITS.iter().find(|u| starts_with(chars, num.end, u)) else {
            continue;
        };
        // `2020年度…企业30家`: a year is not part of a count range.
        let Some(max) = num.integer() else {
            return Err(format!("`{text}`: a count must be a whole number"));
        };
        let low = match k.checked_sub(1).and_then(|j| nums.get(j)) {
            Some(prev) if prev.end + 1 == num.start && is_range_sep(chars.get(prev.end)) => Some(
                prev.integer()
                    .ok_or_else(|| format!("`{text}`: unreadable count"))?,
            ),
            _ => None,
        };
        let unit_end = num.end + unit.chars().count();
        let (bound, bounds) = match low {
            Some(min) if min > max => return Err(format!("`{text}`: the count range is reversed")),
            Some(min) => (Bound::Exact, Bounds::range(min, max)),
            None => match bound_of(chars, num.start, unit_end) {
                Bound::Exact => (Bound::Exact, Bounds::exact(max)),
                Bound::Floor => (Bound::Floor, Bounds::at_least(max)),
                Bound::Ceiling => (Bound::Ceiling, Bounds::at_most(max)),
            },
        };
        found.push((
            bound,
            Count {
                bounds,
                unit: (*unit).to_owned(),
            },
        ));
    }
    let pick = [Bound::Floor, Bound::Exact, Bound::Ceiling]
        .iter()
        .find_map(|want| found.iter().find(|(b, _)| b == want));
    Ok(pick.map(|(_, c)| c.clone()))
}

/// A Chinese numeral for a small number (`两次/年`, `十二次`), with its length in chars.
fn chinese_number(chars: &[char], at: usize) -> Option<(u32, usize)> {
    let digit = |c: char| -> Option<u32> {
        "〇一二三四五六七八九"
            .chars()
            .position(|x| x == c)
            .map(|i| i as u32)
            .or((c == '两').then_some(2))
    };
    let first = *chars.get(at)?;
    if first == '十' {
        return match chars.get(at + 1).and_then(|c| digit(*c)) {
            Some(d) => Some((10 + d, 2)),
            None => Some((10, 1)),
        };
    }
    let d = digit(first)?;
    if chars.get(at + 1) == Some(&'十') {
        return match chars.get(at + 2).and_then(|c| digit(*c)) {
            Some(e) => Some((d * 10 + e, 3)),
            None => Some((d * 10, 2)),
        };
    }
    Some((d, 1))
}

/// Checks per period written as a unit: `年` → 1 a year, `季度` → 4 …
const PERIODS: [(&str, u32); 14] = [
    ("半年", 2),
    ("学期", 2),
    ("季度", 4),
    ("年度", 1),
    ("全年", 1),
    ("一年", 1),
    ("每年", 1),
    ("年", 1),
    ("季", 4),
    ("月度", 12),
    ("月", 12),
    ("周", 52),
    ("天", 365),
    ("日", 365),
];

/// Words that may stand between a period (`每年`) or a verb (`抽查`) and its count.
const FILLERS: [&str; 12] = [
    "抽查",
    "检查",
    "开展",
    "进行",
    "不少于",
    "至少",
    "不超过",
    "最多",
    "各",
    "为",
    ":",
    "共",
];

/// Skips fillers backwards from `at`: where the words before the count end.
fn skip_fillers(chars: &[char], mut at: usize) -> usize {
    loop {
        let Some(word) = FILLERS.iter().find(|w| ends_with(chars, at, w)) else {
            return at;
        };
        at -= word.chars().count();
    }
}

/// The checks per year a count of `次` at `start..次` stands for, from what surrounds it.
fn per_year_at(chars: &[char], start: usize, after: usize) -> Option<u32> {
    // `1次/年`, `2次/季度`, `1次每年`.
    for lead in ["/", "每", "/每"] {
        if starts_with(chars, after, lead) {
            let at = after + lead.chars().count();
            if let Some((_, n)) = PERIODS.iter().find(|(w, _)| starts_with(chars, at, w)) {
                return Some(*n);
            }
        }
    }
    // `每年抽查1次`, `每季度各抽查1次`, `年度…次数为1次`.
    let before = skip_fillers(chars, start);
    for (word, n) in PERIODS {
        let with_each = format!("每{word}");
        if ends_with(chars, before, &with_each) || (n == 1 && ends_with(chars, before, word)) {
            // A bare `年` only as `每年`/`全年`/`年度`, not a date (`2023年1次`).
            if word == "年" && !ends_with(chars, before, "每年") {
                continue;
            }
            return Some(n);
        }
    }
    // `抽查1次`, `抽查次数为1次`, or a clause of its own (`…5%,1-2次`): a year's worth.
    let clause_start = before == 0 || chars.get(before - 1).is_some_and(|c| is_clause_break(*c));
    let verb = before != start
        || ["频次", "次数", "抽查", "检查"]
            .iter()
            .any(|w| ends_with(chars, before, w));
    (clause_start || verb).then_some(1)
}

/// Checks per year: `2次/年`, `每年2次`, `每年抽查1次`, `每季度各抽查1次` (4), `1次/季`,
/// `1-2次/年` (the lower end), `两次/年`, `抽查1次`.
fn frequency(chars: &[char], nums: &[Num]) -> Option<u32> {
    let mut i = 0;
    while i < chars.len() {
        let (value, len) = if chars[i].is_ascii_digit() {
            let Some(num) = nums.iter().find(|n| n.start == i) else {
                i += 1;
                continue;
            };
            let len = num.end - num.start;
            match num.integer().and_then(|v| u32::try_from(v).ok()) {
                Some(v) => (v, len),
                None => {
                    i += len;
                    continue;
                }
            }
        } else if let Some(found) = chinese_number(chars, i) {
            found
        } else {
            i += 1;
            continue;
        };
        let mut end = i + len;
        // `1-2次`: the lower end counts.
        if is_range_sep(chars.get(end)) {
            if let Some(next) = nums.iter().find(|n| n.start == end + 1) {
                end = next.end;
            }
        }
        if chars.get(end) == Some(&'次') && !starts_with(chars, end + 1, "数") {
            if let Some(n) = per_year_at(chars, i, end + 1) {
                return value.checked_mul(n);
            }
        }
        i += len.max(1);
    }
    None
}

/// A frequency column's cell: as [`frequency`], and also `=1`, `>=1`, `1`, `1次`,
/// `每月`, `每月一次`, `每季度` (checks per year).
pub fn parse_frequency(s: &str) -> Option<u32> {
    let chars = normalize(s);
    let nums = numbers(&chars);
    if let Some(n) = frequency(&chars, &nums) {
        return Some(n);
    }
    let text: String = chars.iter().collect();
    let bare = text.trim_start_matches(['=', '≥', '>', '<', '≤']);
    let bare = bare.strip_suffix('次').unwrap_or(bare);
    if let Ok(n) = bare.parse::<u32>() {
        return Some(n);
    }
    let each = text.strip_prefix('每')?;
    PERIODS
        .iter()
        .find(|(w, _)| each.starts_with(w))
        .map(|(_, n)| *n)
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

/// A whole number of objects: `18`, `1户`, `企业30家`, `不少于2所`.
pub fn parse_count(s: &str) -> Option<Count> {
    let chars = normalize(s);
    let nums = numbers(&chars);
    if let Ok(Some(count)) = count_of(&chars, &nums, s) {
        return Some(count);
    }
    let text: String = chars.iter().collect();
    text.parse::<u64>().ok().map(|n| Count {
        bounds: Bounds::exact(n),
        unit: String::new(),
    })
}

/// Reads a free-text sampling cell of a published table.
///
/// Percentages written for a credit-risk class (`A:3%`, `低风险5%`, `A、B类分别为1%、2%`)
/// are that class's ratio; the first other percentage is the ratio, a floor
/// (`不低于5%`, `≥5%`, `5%以上`, and a lone `=50%`, a `≥` whose `>` was lost), a ceiling
/// (`不高于10%`, `不超过20%`, `10%以下`) or a range (`10-20%`). A count (`60-70家`,
/// `不少于2所`, `(20户)`) is read beside it, and `2次/年` sets `per_year`. Without a
/// percentage, a bare decimal (`0.05`) is the ratio. Err when the cell commits to none
/// of these, or writes an impossible ratio (`150%`, `-5%`, `20-10%`).
pub fn parse_cell(s: &str) -> Result<Sampling, String> {
    let text = s.trim().to_owned();
    let chars = normalize(&text);
    let nums = numbers(&chars);
    let per_year = frequency(&chars, &nums);
    let percents = percentages(&chars, &nums, &text)?;
    let mut classes: Vec<(char, f64)> = percents
        .iter()
        .filter_map(|p| Some((p.class?, p.bounds.min.or(p.bounds.max)?)))
        .collect();
    if classes.is_empty() {
        classes = listed_classes(&chars, &percents);
    }
    let mut ratio = if classes.is_empty() {
        percents
            .iter()
            .find(|p| p.class.is_none())
            .map(|p| p.bounds)
    } else {
        None
    };
    let count = count_of(&chars, &nums, &text)?;
    // `全覆盖`, `全部抽查`: every object.
    let whole: String = chars.iter().collect();
    if ratio.is_none()
        && classes.is_empty()
        && ["全覆盖", "全部抽查", "全面覆盖", "全部检查"]
            .iter()
            .any(|w| whole.contains(w))
    {
        ratio = Some(Bounds::exact(1.0));
    }
    if ratio.is_none() && classes.is_empty() && count.is_none() {
        ratio = parse_fraction(&text).map(Bounds::exact);
    }
    if ratio.is_none() && classes.is_empty() && count.is_none() {
        // A decimal such as `比例0.05`: only with a point, so `2次` stays a frequency.
        ratio = nums
            .iter()
            .filter(|n| n.text.contains('.') && !starts_with(&chars, n.end, "次"))
            .find_map(|n| n.value().filter(|v| (0.0..=1.0).contains(v)))
            .map(Bounds::exact);
    }
    if ratio.is_none() && classes.is_empty() && count.is_none() && per_year.is_none() {
        return Err(if text.is_empty() {
            "empty ratio cell".to_owned()
        } else {
            format!("no ratio, count or frequency in `{text}`")
        });
    }
    Ok(Sampling {
        ratio,
        count,
        classes,
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

    fn ratio(s: &str) -> Option<Bounds<f64>> {
        parse_cell(s).unwrap().ratio
    }

    fn count(s: &str) -> Option<(Option<u64>, Option<u64>, String)> {
        parse_cell(s)
            .unwrap()
            .count
            .map(|c| (c.bounds.min, c.bounds.max, c.unit))
    }

    fn per_year(s: &str) -> Option<u32> {
        parse_cell(s).unwrap().per_year
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
        for s in ["10-20%", "10%-20%", "10～20%", "１０％－２０％", "10%至20%"] {
            assert_eq!(ratio(s), Some(Bounds::range(0.10, 0.20)), "{s}");
        }
        assert_eq!(ratio("2%-5%"), Some(Bounds::range(0.02, 0.05)));
        assert!(parse_cell("20-10%").is_err());
        assert!(parse_cell("50-200%").is_err());
    }

    #[test]
    fn floors_and_ceilings() {
        for s in [
            "不低于5%",
            "≥5%",
            ">=5%",
            "＞＝５％",
            "不少于5%",
            "5%以上",
            "全年抽查比例不低于5%,抽查频次根据监管需要确定",
            "每月抽查比例不得低于总数的5%。",
            "按照不少于5%的比例抽取检查对象,每年不少于1次。",
        ] {
            assert_eq!(ratio(s), Some(Bounds::at_least(0.05)), "{s}");
        }
        // The chosen reading of a lone `=`: a floor.
        assert_eq!(ratio("=50%"), Some(Bounds::at_least(0.5)));
        // A floor word in another clause does not apply.
        assert_eq!(ratio("检查不少于1次;比例5%"), Some(Bounds::exact(0.05)));
        for s in [
            "原则上不高于10%",
            "原则上一般检查事项抽查比例不高于10%,由各级粮食部门按实际情况自行确定比例。",
            "≤10%",
            "10%以下",
            "抽查比例不超过抽查对象名录库的10%;同一年度对同一单位(人)的抽查次数为1次。",
        ] {
            assert_eq!(ratio(s), Some(Bounds::at_most(0.1)), "{s}");
        }
    }

    #[test]
    fn single_values_and_frequencies() {
        assert_eq!(ratio("15%"), Some(Bounds::exact(0.15)));
        assert_eq!(ratio("0.05"), Some(Bounds::exact(0.05)));
        assert_eq!(ratio("抽查比例0.05"), Some(Bounds::exact(0.05)));
        assert_eq!(ratio("全覆盖"), Some(Bounds::exact(1.0)));
        assert_eq!(ratio("项目抽查比例为5%,1-2次"), Some(Bounds::exact(0.05)));
        let cell = parse_cell("3%;2次/年").unwrap();
        assert_eq!(cell.ratio, Some(Bounds::exact(0.03)));
        assert_eq!(cell.per_year, Some(2));
        assert_eq!(cell.text, "3%;2次/年");
        let cell = parse_cell(" 1次/年 ").unwrap();
        assert_eq!((cell.ratio, cell.per_year), (None, Some(1)));
        assert_eq!(cell.text, "1次/年");
        for (s, n) in [
            ("每年2次", 2),
            ("1-2次/年", 1),
            ("两次/年", 2),
            ("项目抽查比例为5%,1-2次", 1),
            ("全年抽查比例不低于1%,抽查1次", 1),
            ("抽查比率30%,每年一次。", 1),
            ("全年抽查比例为100%,每年抽查1次", 1),
            ("根据实际情况,每年不少于1次。", 1),
            ("每季度各抽查1次", 4),
            ("…一般排污单位按比例开展污染源随机抽查。1次/季", 4),
            ("1次/年 100%", 1),
            ("从本年度审批的环评报告中进行抽查。2次/年", 2),
            ("每月一次", 12),
            (
                "抽查比例不超过20%;同一年度对同一单位(人)的抽查次数为1次。",
                1,
            ),
        ] {
            assert_eq!(per_year(s), Some(n), "{s}");
        }
        for s in [
            "5%",
            "全年抽查比例不低于5%,抽查频次根据监管需要确定",
            "(三)2023年度受到1次(含)以上处罚的单位应当为重点抽查对象。5%",
        ] {
            assert_eq!(per_year(s), None, "{s}");
        }
    }

    #[test]
    fn frequency_columns() {
        for (s, n) in [
            ("=1", Some(1)),
            (">=1", Some(1)),
            ("1", Some(1)),
            ("1次", Some(1)),
            ("每年1次", Some(1)),
            ("每月一次", Some(12)),
            ("每月", Some(12)),
            ("每周", Some(52)),
            ("每季度", Some(4)),
            ("1次/年", Some(1)),
            ("根据工作需要确定", None),
        ] {
            assert_eq!(parse_frequency(s), n, "{s}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(count("60-70家"), Some((Some(60), Some(70), "家".into())));
        assert_eq!(count("50个"), Some((Some(50), Some(50), "个".into())));
        assert_eq!(count("企业30家"), Some((Some(30), Some(30), "家".into())));
        assert_eq!(
            count("2024年抽查企业30家"),
            Some((Some(30), Some(30), "家".into()))
        );
        assert_eq!(count("3批次"), Some((Some(3), Some(3), "批次".into())));
        assert_eq!(count("不少于2所"), Some((Some(2), None, "所".into())));
        assert_eq!(
            count("1户(实际以联合双随机牵头单位抽查数为准。)"),
            Some((Some(1), Some(1), "户".into()))
        );
        // A count stating a condition is not the commitment.
        let cell = parse_cell("营利性民办学校数在10所及以下的市,原则上按不少于2所学校随机抽取;其余抽查比例不低于50%。").unwrap();
        assert_eq!(cell.count.map(|c| c.bounds), Some(Bounds::at_least(2)));
        assert_eq!(cell.ratio, Some(Bounds::at_least(0.5)));
        // A ratio and a count side by side.
        let cell = parse_cell("10% (20户)").unwrap();
        assert_eq!(cell.ratio, Some(Bounds::exact(0.1)));
        assert_eq!(cell.count.map(|c| c.bounds), Some(Bounds::exact(20)));
        assert!(parse_cell("70-60家").is_err());
        assert_eq!(parse_count("18").map(|c| c.bounds), Some(Bounds::exact(18)));
        assert_eq!(
            parse_count("46家").map(|c| c.bounds),
            Some(Bounds::exact(46))
        );
        assert_eq!(parse_count("若干"), None);
    }

    #[test]
    fn ratios_per_risk_class() {
        let classes = |s: &str| parse_cell(s).unwrap().classes;
        let all = vec![('A', 0.03), ('B', 0.04), ('C', 0.05), ('D', 0.06)];
        assert_eq!(classes("A:3%;B:4%;C:5%;D:6%"), all);
        assert_eq!(classes("A3% B4% C5% D6%"), all);
        assert_eq!(classes("A类3%、B类4%、C类5%、D类6%"), all);
        assert_eq!(classes("Ａ：３％"), vec![('A', 0.03)]);
        assert_eq!(
            classes("低风险企业3%,一般风险企业4%,较高风险企业5%,高风险企业6%"),
            all
        );
        assert_eq!(classes("A、B、C、D类企业分别按3%、4%、5%、6%抽取"), all);
        // Per-class ratios are no single ratio.
        assert_eq!(parse_cell("A:3%;").unwrap().ratio, None);
        // Letters inside words are no classes.
        assert!(classes("VOCs治理5%").is_empty());
    }

    #[test]
    fn unreadable_cells_are_errors() {
        for s in [
            "",
            "   ",
            "根据监管需要确定",
            "按实际情况确定",
            "随机",
            "%%%",
            "-",
            "——",
        ] {
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
            "4294967295次/季".to_owned(),
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
            "十".to_owned(),
            "A".to_owned(),
            "分别".to_owned(),
            "A、B分别".to_owned(),
        ];
        for s in &inputs {
            let _ = parse_cell(s);
            let _ = parse_fraction(s);
            let _ = parse_frequency(s);
            let _ = parse_count(s);
        }
        assert!(parse_cell("9999999999999999999999%").is_err());
        assert!(parse_cell("-10%").is_err());
        assert!(parse_cell("比例-5%").is_err());
        assert_eq!(
            parse_cell("🙂5%🙂").unwrap().ratio,
            Some(Bounds::exact(0.05))
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
