//! How the pages write numbers, money, rates, waits and URLs. Money stays
//! integer fen until it is printed here.

use std::collections::HashMap;

use yuanjiang_domain::{Fen, RecipientUnit, Supporter};

use super::Lang;

/// Groups the integer part of a decimal string in thousands: `1234567.89` → `1,234,567.89`.
fn group(decimal: &str) -> String {
    let (sign, rest) = decimal
        .strip_prefix('-')
        .map_or(("", decimal), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(decimal.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// An amount in 万元 with two places and thousands separators.
pub fn wan(f: Fen) -> String {
    group(&f.to_wan_yuan_string())
}

/// An amount in yuan, exact to the fen, with thousands separators.
pub fn yuan(f: Fen) -> String {
    group(&f.to_yuan_string())
}

/// A whole number with thousands separators.
pub fn int(n: i64) -> String {
    group(&n.to_string())
}

/// A rate as a percentage with one place, or a dash when undefined.
pub fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// A wait or a stay, in days and hours (or minutes when short).
pub fn duration(seconds: i64, lang: Lang) -> String {
    let s = seconds.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let (dw, hw, mw) = (lang.t("days"), lang.t("hours"), lang.t("minutes"));
    let sep = if lang == Lang::En { " " } else { "" };
    if d > 0 {
        format!("{d}{sep}{dw}{sep}{h}{sep}{hw}")
    } else if h > 0 {
        format!("{h}{sep}{hw}{sep}{m}{sep}{mw}")
    } else {
        format!("{m}{sep}{mw}")
    }
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string from pairs, skipping empty values.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Names of the parties by code, in the page's language where one exists.
pub struct Names {
    supporters: HashMap<String, (String, String)>,
    recipients: HashMap<String, String>,
    lang: Lang,
}

impl Names {
    /// Builds the lookup.
    pub fn new(supporters: &[Supporter], recipients: &[RecipientUnit], lang: Lang) -> Names {
        Names {
            supporters: supporters
                .iter()
                .map(|s| (s.code.clone(), (s.name.clone(), s.name_en.clone())))
                .collect(),
            recipients: recipients
                .iter()
                .map(|r| (r.code.clone(), r.name.clone()))
                .collect(),
            lang,
        }
    }

    /// A supporter's name, or its code if unknown.
    pub fn supporter(&self, code: &str) -> String {
        self.supporters.get(code).map_or_else(
            || code.to_owned(),
            |(zh, en)| {
                if self.lang == Lang::En && !en.is_empty() {
                    en.clone()
                } else {
                    zh.clone()
                }
            },
        )
    }

    /// A recipient unit's (Chinese) name, or its code if unknown.
    pub fn recipient(&self, code: &str) -> String {
        self.recipients
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(yuan(Fen(123_456_789)), "1,234,567.89");
        assert_eq!(yuan(Fen(-5)), "-0.05");
        assert_eq!(wan(Fen(1_234_567_800)), "1,234.57");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(999), "999");
        assert_eq!(pct(Some(0.8523)), "85.2%");
        assert_eq!(pct(None), "—");
        assert_eq!(duration(90_000, Lang::Zh), "1天1小时");
        assert_eq!(duration(125, Lang::En), "2 minutes");
        assert_eq!(
            url_encode("/projects?q=喀什"),
            "/projects%3Fq%3D%E5%96%80%E4%BB%80"
        );
    }
}
