//! Official identifiers and their check rules:
//! GB/T 2260 administrative-division codes, XPCC division and regiment codes,
//! GB 32100 unified social credit codes (with their check character) and
//! GB 11643 citizen ID numbers (with their check digit).

use crate::DomainError;

/// Two-digit provincial prefixes defined by GB/T 2260 (31 mainland + HK, MO, TW).
const PROVINCE_PREFIXES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// How precise a GB/T 2260 code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DivisionGrain {
    /// Two digits: a province-level unit.
    Province,
    /// Four digits: a prefecture-level unit.
    Prefecture,
    /// Six digits: a county-level unit.
    County,
    /// Nine digits: a township-level unit (乡镇/街道).
    Township,
}

fn invalid_division(code: &str, why_zh: &str, why_en: &str) -> DomainError {
    DomainError::new(
        "invalid_division_code",
        format!("行政区划代码“{code}”无效：{why_zh}"),
        format!("administrative division code \"{code}\" is invalid: {why_en}"),
    )
}

/// Validates a GB/T 2260 code (2, 4 or 6 digits; 9 for townships) and says
/// how precise it is.
pub fn validate_division_code(code: &str) -> Result<DivisionGrain, DomainError> {
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_division(
            code,
            "只能包含数字",
            "it must contain only digits",
        ));
    }
    let grain = match code.len() {
        2 => DivisionGrain::Province,
        4 => DivisionGrain::Prefecture,
        6 => DivisionGrain::County,
        9 => DivisionGrain::Township,
        _ => {
            return Err(invalid_division(
                code,
                "长度应为2、4、6或9位",
                "expected 2, 4, 6 or 9 digits",
            ));
        }
    };
    if !PROVINCE_PREFIXES.contains(&&code[..2]) {
        return Err(invalid_division(
            code,
            "前两位不是有效的省级代码",
            "the first two digits are not a province-level code",
        ));
    }
    if code.len() >= 4 && &code[2..4] == "00" {
        return Err(invalid_division(
            code,
            "地级部分不能为00",
            "the prefecture part must not be 00",
        ));
    }
    if code.len() >= 6 && &code[4..6] == "00" {
        return Err(invalid_division(
            code,
            "县级部分不能为00",
            "the county part must not be 00",
        ));
    }
    if code.len() == 9 && &code[6..9] == "000" {
        return Err(invalid_division(
            code,
            "乡级部分不能为000",
            "the township part must not be 000",
        ));
    }
    Ok(grain)
}

/// Whether `child` lies inside `ancestor` by code prefix (e.g. 653121 in 6531).
pub fn division_contains(ancestor: &str, child: &str) -> bool {
    child.len() >= ancestor.len() && child.starts_with(ancestor)
}

/// Validates an XPCC code: `XPCC-NN` for a division (师, 01–14), or
/// `XPCC-NN-NNN` for a regiment (团场) under it. Returns whether it is a regiment.
pub fn validate_xpcc_code(code: &str) -> Result<bool, DomainError> {
    let bad = || {
        DomainError::new(
            "invalid_xpcc_code",
            format!("兵团代码“{code}”无效：应为 XPCC-01 至 XPCC-14，团场为 XPCC-NN-NNN"),
            format!(
                "XPCC code \"{code}\" is invalid: expected XPCC-01 to XPCC-14, or XPCC-NN-NNN for a regiment"
            ),
        )
    };
    let rest = code.strip_prefix("XPCC-").ok_or_else(bad)?;
    let mut parts = rest.split('-');
    let division = parts.next().ok_or_else(bad)?;
    let n: u8 = if division.len() == 2 && division.bytes().all(|b| b.is_ascii_digit()) {
        division.parse().map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    if !(1..=14).contains(&n) {
        return Err(bad());
    }
    match (parts.next(), parts.next()) {
        (None, _) => Ok(false),
        (Some(r), None) if r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()) && r != "000" => {
            Ok(true)
        }
        _ => Err(bad()),
    }
}

/// Characters allowed in a unified social credit code, in value order (no I, O, Z, S, V).
const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The GB 32100 check character for the first 17 characters of a code.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in first17.bytes().zip(USCC_WEIGHTS) {
        let v = USCC_CHARSET.iter().position(|c| *c == b)? as u32;
        sum += v * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(USCC_CHARSET[check as usize] as char)
}

/// Validates an 18-character unified social credit code (统一社会信用代码,
/// GB 32100): the character set, the embedded division code and the check character.
pub fn validate_credit_code(code: &str) -> Result<(), DomainError> {
    let bad = |why_zh: &str, why_en: &str| {
        DomainError::new(
            "invalid_credit_code",
            format!("统一社会信用代码“{code}”无效：{why_zh}"),
            format!("unified social credit code \"{code}\" is invalid: {why_en}"),
        )
    };
    if code.len() != 18 || !code.is_ascii() {
        return Err(bad("应为18位", "expected 18 characters"));
    }
    if !code.bytes().all(|b| USCC_CHARSET.contains(&b)) {
        return Err(bad(
            "含有不允许的字符（I、O、Z、S、V 及小写字母不可用）",
            "it contains a character that is not allowed (I, O, Z, S, V and lower case are excluded)",
        ));
    }
    if !code[2..8].bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            "第3至8位应为行政区划代码",
            "characters 3 to 8 must be a division code",
        ));
    }
    let expected = credit_code_check_char(&code[..17]);
    let actual = code[17..].chars().next();
    if expected != actual {
        return Err(bad(
            &format!("校验码应为 {}", expected.unwrap_or('?')),
            &format!("the check character should be {}", expected.unwrap_or('?')),
        ));
    }
    Ok(())
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// The GB 11643 check character for the first 17 digits of an ID number.
pub fn id_number_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize] as char)
}

/// Validates an 18-character citizen ID number (GB 11643): digits, a plausible
/// birth date and the check character. The number itself is personal data.
pub fn validate_id_number(id: &str) -> Result<(), DomainError> {
    // The value is never echoed back: it is personal data.
    let bad = |why_zh: &str, why_en: &str| {
        DomainError::new(
            "invalid_id_number",
            format!("身份证号码无效：{why_zh}"),
            format!("ID number is invalid: {why_en}"),
        )
    };
    if id.len() != 18 || !id.is_ascii() {
        return Err(bad("应为18位", "expected 18 characters"));
    }
    let birth = &id[6..14];
    if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
        return Err(bad("出生日期无效", "the birth date is not a real date"));
    }
    match id_number_check_char(&id[..17]) {
        Some(c) if id[17..].eq_ignore_ascii_case(&c.to_string()) => Ok(()),
        Some(_) => Err(bad("校验码错误", "the check digit is wrong")),
        None => Err(bad(
            "前17位应为数字",
            "the first 17 characters must be digits",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn division_codes() {
        assert_eq!(validate_division_code("65"), Ok(DivisionGrain::Province));
        assert_eq!(
            validate_division_code("6531"),
            Ok(DivisionGrain::Prefecture)
        );
        assert_eq!(validate_division_code("653121"), Ok(DivisionGrain::County));
        assert_eq!(
            validate_division_code("650102002"),
            Ok(DivisionGrain::Township)
        );
        for bad in ["", "6", "653", "99", "6500", "650100", "65a1", "650102000"] {
            assert!(validate_division_code(bad).is_err(), "{bad}");
        }
        assert!(division_contains("6531", "653121"));
        assert!(!division_contains("6531", "653221"));
    }

    #[test]
    fn xpcc_codes() {
        assert_eq!(validate_xpcc_code("XPCC-01"), Ok(false));
        assert_eq!(validate_xpcc_code("XPCC-14-003"), Ok(true));
        for bad in [
            "XPCC-00",
            "XPCC-15",
            "XPCC-1",
            "XPC-01",
            "XPCC-01-000",
            "XPCC-01-1",
        ] {
            assert!(validate_xpcc_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn credit_codes() {
        // Published example codes with valid check characters.
        for good in [
            "91350100M000100Y43",
            "91110000802100433B",
            "11100000000013127D",
        ] {
            assert_eq!(validate_credit_code(good), Ok(()), "{good}");
        }
        let err = validate_credit_code("91350100M000100Y44").map_err(|e| e.en);
        assert!(
            matches!(err, Err(ref m) if m.contains("should be 3")),
            "{err:?}"
        );
        assert!(validate_credit_code("91350100M000100Y4").is_err());
        assert!(validate_credit_code("91350100I000100Y43").is_err());
    }

    #[test]
    fn id_numbers() {
        // The GB 11643 standard's own example.
        assert_eq!(validate_id_number("11010519491231002X"), Ok(()));
        assert_eq!(validate_id_number("11010519491231002x"), Ok(()));
        assert!(validate_id_number("110105194912310021").is_err());
        assert!(validate_id_number("110105194913310028").is_err());
    }

    proptest! {
        #[test]
        fn any_credit_code_with_computed_check_char_validates(
            body in "[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{9}"
        ) {
            let check = credit_code_check_char(&body).expect("17 valid chars");
            prop_assert_eq!(validate_credit_code(&format!("{body}{check}")), Ok(()));
        }

        #[test]
        fn changing_one_credit_code_char_is_caught(
            body in "[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{9}",
            pos in 8usize..17,
            delta in 1usize..31,
        ) {
            let check = credit_code_check_char(&body).expect("17 valid chars");
            let mut bytes = format!("{body}{check}").into_bytes();
            let v = USCC_CHARSET.iter().position(|c| *c == bytes[pos]).expect("in set");
            bytes[pos] = USCC_CHARSET[(v + delta) % 31];
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(validate_credit_code(&changed).is_err());
        }

        #[test]
        fn id_check_digit_catches_single_digit_errors(
            first in "[1-6][0-9]{5}19[5-9][0-9]0[1-9]1[0-9][0-9]{3}",
            pos in 14usize..17, delta in 1u8..10,
        ) {
            let check = id_number_check_char(&first).expect("17 digits");
            let good = format!("{first}{check}");
            prop_assert_eq!(validate_id_number(&good), Ok(()));
            let mut bytes = good.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(validate_id_number(&changed).is_err());
        }
    }
}
