//! 统一社会信用代码 (unified social credit code) validation per GB 32100-2015.

/// The code alphabet: digits and capitals without I, O, S, V, Z (easily misread).
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of positions 1..17 (3^(i-1) mod 31) for the check character.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a string is not a valid code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("a unified social credit code has 18 characters, this one has {len}")]
    Length { len: usize },
    #[error("character {pos} `{ch}` is not allowed in a unified social credit code")]
    BadChar { pos: usize, ch: char },
    #[error("unified social credit codes are written in capital letters")]
    Lowercase,
    #[error("the first character `{ch}` is not a registration authority code")]
    BadAuthority { ch: char },
    #[error("characters 3-8 must be the six digits of an administrative division code")]
    BadDivision,
    #[error("the check character (18th) should be `{expected}`, not `{found}`")]
    CheckChar { expected: char, found: char },
}

impl UsccError {
    /// The same message in Chinese, for reports read by the departments.
    pub fn zh(&self) -> String {
        match self {
            UsccError::Length { len } => format!("统一社会信用代码应为18位，实为{len}位"),
            UsccError::BadChar { pos, ch } => {
                format!("第{pos}位字符“{ch}”不是统一社会信用代码允许的字符")
            }
            UsccError::Lowercase => "统一社会信用代码中的字母应为大写".to_owned(),
            UsccError::BadAuthority { ch } => format!("第1位“{ch}”不是登记管理部门代码"),
            UsccError::BadDivision => "第3至8位应为6位数字的登记管理机关行政区划码".to_owned(),
            UsccError::CheckChar { expected, found } => {
                format!("第18位校验码应为{expected}，实为{found}")
            }
        }
    }
}

/// Each ASCII character's value in the code alphabet plus one (0: not in it). A table,
/// as the check runs for every object and every result record.
const VALUES: [u8; 128] = {
    let mut table = [0u8; 128];
    let alphabet = CHARSET.as_bytes();
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8 + 1;
        i += 1;
    }
    table
};

/// A character's value in the code alphabet (its index), or None.
fn value(c: char) -> Option<u32> {
    let plus_one = *VALUES.get(c as usize)?;
    (plus_one > 0).then(|| u32::from(plus_one) - 1)
}

/// The 18th (check) character for the first 17, or None when they are not exactly 17
/// characters of the code alphabet.
pub fn check_char(first17: &str) -> Option<char> {
    check_of(first17.chars())
}

fn check_of(first17: impl Iterator<Item = char>) -> Option<char> {
    let mut sum = 0u32;
    let mut count = 0usize;
    for c in first17 {
        let weight = *WEIGHTS.get(count)?;
        sum += value(c)? * weight;
        count += 1;
    }
    if count != WEIGHTS.len() {
        return None;
    }
    // 31 - (sum mod 31), where 31 itself stands for 0.
    let check = (31 - sum % 31) % 31;
    CHARSET
        .as_bytes()
        .get(check as usize)
        .map(|&b| char::from(b))
}

/// Whether 18 bytes are a valid code, in one pass over the bytes. Most codes are valid;
/// one that is not is checked again character by character to say what is wrong.
fn valid_ascii(bytes: &[u8; 18]) -> bool {
    let mut sum = 0u32;
    for (&b, weight) in bytes.iter().zip(WEIGHTS) {
        match value(char::from(b)) {
            Some(v) => sum += v * weight,
            None => return false,
        }
    }
    is_authority(char::from(bytes[0]))
        && bytes[2..8].iter().all(u8::is_ascii_digit)
        && value(char::from(bytes[17])) == Some((31 - sum % 31) % 31)
}

/// Whether `c` is a registration authority code (the first character).
fn is_authority(c: char) -> bool {
    matches!(c, '1'..='9' | 'A'..='H' | 'N' | 'Y')
}

/// Checks length, alphabet, registration authority, division digits and check character.
pub fn check(code: &str) -> Result<(), UsccError> {
    if code
        .as_bytes()
        .first_chunk::<18>()
        .is_some_and(|bytes| code.len() == 18 && valid_ascii(bytes))
    {
        return Ok(());
    }
    // Count chars, not bytes: cells often hold Chinese text by mistake.
    let len = code.chars().count();
    if len != 18 {
        return Err(UsccError::Length { len });
    }
    // On the stack: this runs for every object and every result record.
    let mut chars = ['0'; 18];
    for (slot, c) in chars.iter_mut().zip(code.chars()) {
        *slot = c;
    }
    // Said before BadChar so that `91420102ma…` gets the helpful message.
    if chars.iter().any(char::is_ascii_lowercase) {
        return Err(UsccError::Lowercase);
    }
    if let Some((i, &ch)) = chars.iter().enumerate().find(|(_, c)| value(**c).is_none()) {
        return Err(UsccError::BadChar { pos: i + 1, ch });
    }
    let authority = chars[0];
    if !is_authority(authority) {
        return Err(UsccError::BadAuthority { ch: authority });
    }
    if !chars[2..8].iter().all(char::is_ascii_digit) {
        return Err(UsccError::BadDivision);
    }
    let found = chars[17];
    match check_of(chars[..17].iter().copied()) {
        Some(expected) if expected != found => Err(UsccError::CheckChar { expected, found }),
        // None cannot happen: all 17 were checked against the alphabet above.
        _ => Ok(()),
    }
}

/// Whether `code` is a valid unified social credit code.
pub fn is_valid(code: &str) -> bool {
    check(code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid code from 17 characters plus their computed check character.
    fn complete(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).unwrap())
    }

    #[test]
    fn computed_codes_are_valid() {
        for prefix in [
            "91420100MA4K00001",
            "91420100MA4KXY9PQ",
            "12100000400000000",
            "Y1110000000000000",
            "N2420100000000000",
        ] {
            let code = complete(prefix);
            assert_eq!(check(&code), Ok(()), "{code}");
            assert!(is_valid(&code));
        }
    }

    #[test]
    fn known_published_codes_are_valid() {
        // Codes whose check characters were not computed by this module.
        for code in [
            "91350100M000100Y43",
            "91110000100010433L",
            "91330100799655058B",
            "91440300708461136T",
        ] {
            assert_eq!(check(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn check_char_maps_31_to_zero() {
        // All zeros: sum 0, 31 - 0 = 31 → 0.
        assert_eq!(check_char("00000000000000000"), Some('0'));
        // Weight 1 at position 1: 31 - 1 = 30 → 'Y'.
        assert_eq!(check_char("10000000000000000"), Some('Y'));
    }

    #[test]
    fn check_char_rejects_bad_input() {
        assert_eq!(check_char("9142010"), None);
        assert_eq!(check_char("91420100MA4K000011"), None);
        assert_eq!(check_char("91420100MA4K0000I"), None);
        assert_eq!(check_char("91420100ma4k00001"), None);
        assert_eq!(check_char("武汉市某某食品有限公司统一社会信用"), None);
        assert_eq!(check_char(""), None);
    }

    #[test]
    fn flipped_check_char_fails() {
        let code = complete("91420100MA4K00001");
        let expected = code.chars().last().unwrap();
        let found = if expected == 'A' { 'B' } else { 'A' };
        let flipped = format!("{}{found}", &code[..17]);
        assert_eq!(
            check(&flipped),
            Err(UsccError::CheckChar { expected, found })
        );
        assert!(!is_valid(&flipped));
    }

    #[test]
    fn wrong_length() {
        assert_eq!(check(""), Err(UsccError::Length { len: 0 }));
        assert_eq!(check("9142010"), Err(UsccError::Length { len: 7 }));
        let long = format!("{}0", complete("91420100MA4K00001"));
        assert_eq!(check(&long), Err(UsccError::Length { len: 19 }));
    }

    #[test]
    fn excluded_letters() {
        let base = complete("91420100MA4K00001");
        for (pos, bad) in [(13, 'I'), (14, 'O'), (15, 'Z'), (16, 'S'), (17, 'V')] {
            let mut chars: Vec<char> = base.chars().collect();
            chars[pos - 1] = bad;
            let code: String = chars.into_iter().collect();
            assert_eq!(check(&code), Err(UsccError::BadChar { pos, ch: bad }));
        }
        assert_eq!(
            check("Z1420100MA4K00001Q"),
            Err(UsccError::BadChar { pos: 1, ch: 'Z' })
        );
    }

    #[test]
    fn lowercase_is_named() {
        let code = complete("91420100MA4K00001").to_lowercase();
        assert_eq!(check(&code), Err(UsccError::Lowercase));
        assert!(UsccError::Lowercase.to_string().contains("capital"));
        assert!(UsccError::Lowercase.zh().contains("大写"));
    }

    #[test]
    fn authority_and_division() {
        let code = complete("J1420100MA4K00001");
        assert_eq!(check(&code), Err(UsccError::BadAuthority { ch: 'J' }));
        let code = complete("01420100MA4K00001");
        assert_eq!(check(&code), Err(UsccError::BadAuthority { ch: '0' }));
        let code = complete("914201A0MA4K00001");
        assert_eq!(check(&code), Err(UsccError::BadDivision));
    }

    /// The one-pass check agrees with the character-by-character one: for valid codes,
    /// for each of their characters replaced, and for codes completed with a correct
    /// check character after a replacement (a letter among the division digits, a bad
    /// registration authority).
    #[test]
    fn fast_path_agrees_with_full_check() {
        let slow = |code: &str| {
            let chars: Vec<char> = code.chars().collect();
            chars.len() == 18
                && chars.iter().all(|&c| value(c).is_some())
                && matches!(chars[0], '1'..='9' | 'A'..='H' | 'N' | 'Y')
                && chars[2..8].iter().all(char::is_ascii_digit)
                && check_of(chars[..17].iter().copied()) == Some(chars[17])
        };
        let agree = |code: &str| {
            assert_eq!(check(code).is_ok(), slow(code), "{code}");
            if let Some(bytes) = code.as_bytes().first_chunk::<18>() {
                let whole = code.len() == 18;
                assert_eq!(whole && valid_ascii(bytes), slow(code), "{code}");
            }
        };
        let (mut valid, mut invalid) = (0, 0);
        for n in 0..100u32 {
            let first17 = format!("9{}4201{:02}MA4K{:05}", n % 3, n % 100, n * 7919 % 100_000);
            let code = complete(&first17);
            agree(&code);
            for pos in 0..18 {
                for with in ['0', '7', 'A', 'J', 'N', 'Y', 'I', 'a', '-', '武'] {
                    let replace = |text: &str| -> String {
                        let mut chars: Vec<char> = text.chars().collect();
                        chars[pos] = with;
                        chars.into_iter().collect()
                    };
                    let changed = replace(&code);
                    agree(&changed);
                    if pos < 17 {
                        if let Some(check) = check_char(&replace(&first17)) {
                            let completed = format!("{}{check}", replace(&first17));
                            agree(&completed);
                            if slow(&completed) {
                                valid += 1;
                            } else {
                                invalid += 1;
                            }
                        }
                    }
                }
            }
        }
        // Both kinds were tried.
        assert!(valid > 1000 && invalid > 1000, "{valid} {invalid}");
    }

    #[test]
    fn non_ascii_does_not_panic() {
        // 18 Chinese characters: 54 bytes, but 18 chars.
        let text = "武汉市某某食品有限公司统一社会信用代";
        assert_eq!(text.chars().count(), 18);
        assert_eq!(check(text), Err(UsccError::BadChar { pos: 1, ch: '武' }));
        // Full-width digits are not the ASCII ones.
        assert!(matches!(
            check("９1420100MA4K00001Q"),
            Err(UsccError::BadChar { pos: 1, .. })
        ));
        assert_eq!(check("某某"), Err(UsccError::Length { len: 2 }));
        assert!(!is_valid("🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂"));
    }

    #[test]
    fn chinese_messages() {
        assert_eq!(
            UsccError::Length { len: 17 }.zh(),
            "统一社会信用代码应为18位，实为17位"
        );
        assert_eq!(
            UsccError::CheckChar {
                expected: 'Q',
                found: 'R'
            }
            .zh(),
            "第18位校验码应为Q，实为R"
        );
        assert!(UsccError::BadChar { pos: 3, ch: 'I' }
            .to_string()
            .contains("character 3 `I`"));
    }
}
