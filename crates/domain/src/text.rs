//! Text helpers on the import's per-cell path.

/// [`str::trim`], answered from the end bytes when they cannot be white
/// space: a large file's cells are trimmed a dozen times a row, and
/// `str::trim` decodes each end character of Chinese text and looks it up
/// in Unicode's table. White space outside ASCII starts with one of the
/// UTF-8 lead bytes `C2` (U+0085, U+00A0), `E1` (U+1680), `E2`
/// (U+2000–U+205F) or `E3` (U+3000); any other end character is kept.
pub fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return s;
    };
    // The last character's lead byte, where it may be white space: a
    // character of two bytes ends `lead, x`, of three `lead, x, y`.
    let end_may_be_space = match b {
        [.., last] if *last < 0x80 => may_start_space(*last),
        [.., 0xC2, _] | [.., 0xE1..=0xE3, _, _] => true,
        _ => false,
    };
    if end_may_be_space || may_start_space(first) {
        s.trim()
    } else {
        s
    }
}

/// Whether a character starting with this byte may be white space.
fn may_start_space(lead: u8) -> bool {
    matches!(lead, b'\t'..=b'\r' | b' ' | 0xC2 | 0xE1 | 0xE2 | 0xE3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn trims_as_the_standard_library_does() {
        for s in [
            "",
            " ",
            "鲁援疆指〔2010〕145号",
            " 计划安排\u{3000}",
            "\u{a0}12.5",
            "项目\u{2003}",
            "\u{85}x\u{1680}",
            "〔2010〕",
            "a\tb\n",
            "年度援疆计划下达",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_text_trims_as_str_trim(s in "\\PC*|[ \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}〔〕a中]{0,6}") {
            prop_assert_eq!(trim(&s), s.trim());
        }
    }
}
