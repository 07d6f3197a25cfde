//! Reference data shipped inside the binary: the 31 provinces, Xinjiang's
//! divisions down to townships, the 14 XPCC divisions and the pairings.
//! The CSV files under `reference/` are copies of `shared/data`; parsing them
//! is pure (the text is compiled in), so the domain stays free of I/O.

use chrono::NaiveDate;

use crate::{
    DomainError, Pairing, PairingScope, RecipientLevel, RecipientUnit, Supporter, SupporterKind,
};

const PROVINCES: &str = include_str!("../reference/provinces.csv");
const DIVISIONS: &str = include_str!("../reference/xinjiang-divisions.csv");
const TOWNSHIPS: &str = include_str!("../reference/xinjiang-townships.csv");
const XPCC: &str = include_str!("../reference/xpcc-divisions.csv");
const PAIRINGS: &str = include_str!("../reference/pairings.csv");

/// English names of the provincial-level divisions, by GB/T 2260 code.
const PROVINCE_NAMES_EN: [(&str, &str); 31] = [
    ("11", "Beijing"),
    ("12", "Tianjin"),
    ("13", "Hebei"),
    ("14", "Shanxi"),
    ("15", "Inner Mongolia"),
    ("21", "Liaoning"),
    ("22", "Jilin"),
    ("23", "Heilongjiang"),
    ("31", "Shanghai"),
    ("32", "Jiangsu"),
    ("33", "Zhejiang"),
    ("34", "Anhui"),
    ("35", "Fujian"),
    ("36", "Jiangxi"),
    ("37", "Shandong"),
    ("41", "Henan"),
    ("42", "Hubei"),
    ("43", "Hunan"),
    ("44", "Guangdong"),
    ("45", "Guangxi"),
    ("46", "Hainan"),
    ("50", "Chongqing"),
    ("51", "Sichuan"),
    ("52", "Guizhou"),
    ("53", "Yunnan"),
    ("54", "Tibet"),
    ("61", "Shaanxi"),
    ("62", "Gansu"),
    ("63", "Qinghai"),
    ("64", "Ningxia"),
    ("65", "Xinjiang"),
];

/// The day the current round of pairings took effect (2010 national conference).
pub fn pairing_round_start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2010, 5, 17).unwrap_or(NaiveDate::MIN)
}

/// All reference data, parsed and validated.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Provinces, municipalities and Shenzhen (the plan-city in the pairings).
    pub supporters: Vec<Supporter>,
    /// Region, prefectures, counties, townships and XPCC divisions.
    pub recipients: Vec<RecipientUnit>,
    /// Pairings with validity periods.
    pub pairings: Vec<Pairing>,
}

fn rows(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split(',').map(str::trim).collect()))
}

fn field<'a>(file: &str, line: usize, cols: &[&'a str], i: usize) -> Result<&'a str, DomainError> {
    cols.get(i).copied().ok_or_else(|| {
        DomainError::new(
            "reference_data_broken",
            format!("参考数据{file}第{line}行缺少第{}列", i + 1),
            format!("reference file {file} line {line} lacks column {}", i + 1),
        )
    })
}

impl Reference {
    /// Parses and validates the embedded reference data.
    pub fn load() -> Result<Reference, DomainError> {
        let mut supporters = Vec::new();
        for (line, cols) in rows(PROVINCES) {
            let code = field("provinces.csv", line, &cols, 0)?;
            let name = field("provinces.csv", line, &cols, 1)?;
            let kind = if matches!(code, "11" | "12" | "31" | "50") {
                SupporterKind::Municipality
            } else {
                SupporterKind::Province
            };
            let name_en = PROVINCE_NAMES_EN
                .iter()
                .find(|(c, _)| *c == code)
                .map_or(name, |(_, n)| n);
            supporters.push(Supporter {
                code: code.into(),
                name: name.into(),
                name_en: name_en.into(),
                kind,
                parent_code: None,
            });
        }
        supporters.push(Supporter {
            code: "4403".into(),
            name: "深圳市".into(),
            name_en: "Shenzhen".into(),
            kind: SupporterKind::PlanCity,
            parent_code: Some("44".into()),
        });

        let mut recipients = Vec::new();
        for (line, cols) in rows(DIVISIONS) {
            let level =
                RecipientLevel::parse(match field("xinjiang-divisions.csv", line, &cols, 2)? {
                    "province" => "region",
                    other => other,
                })?;
            let parent = field("xinjiang-divisions.csv", line, &cols, 3)?;
            recipients.push(RecipientUnit {
                code: field("xinjiang-divisions.csv", line, &cols, 0)?.into(),
                name: field("xinjiang-divisions.csv", line, &cols, 1)?.into(),
                level,
                parent_code: (!parent.is_empty()).then(|| parent.to_owned()),
            });
        }
        for (line, cols) in rows(TOWNSHIPS) {
            recipients.push(RecipientUnit {
                code: field("xinjiang-townships.csv", line, &cols, 0)?.into(),
                name: field("xinjiang-townships.csv", line, &cols, 1)?.into(),
                level: RecipientLevel::Township,
                parent_code: Some(field("xinjiang-townships.csv", line, &cols, 2)?.into()),
            });
        }
        for (line, cols) in rows(XPCC) {
            recipients.push(RecipientUnit {
                code: field("xpcc-divisions.csv", line, &cols, 0)?.into(),
                name: field("xpcc-divisions.csv", line, &cols, 1)?.into(),
                level: RecipientLevel::XpccDivision,
                parent_code: None,
            });
        }

        let mut pairings = Vec::new();
        for (line, cols) in rows(PAIRINGS) {
            pairings.push(Pairing {
                supporter_code: field("pairings.csv", line, &cols, 1)?.into(),
                recipient_code: field("pairings.csv", line, &cols, 3)?.into(),
                scope: PairingScope::Full,
                valid_from: pairing_round_start(),
                valid_to: None,
                confidence: field("pairings.csv", line, &cols, 5)?.into(),
            });
        }
        // Henan supported Aksu before the 2010 round moved it to Hami
        // (shared/data/README.md): kept to show a pairing that ended.
        pairings.push(Pairing {
            supporter_code: "41".into(),
            recipient_code: "6529".into(),
            scope: PairingScope::Full,
            valid_from: NaiveDate::from_ymd_opt(1997, 1, 1).unwrap_or(NaiveDate::MIN),
            valid_to: pairing_round_start().pred_opt(),
            confidence: "reported".into(),
        });

        let reference = Reference {
            supporters,
            recipients,
            pairings,
        };
        reference.validate()?;
        Ok(reference)
    }

    /// Every record obeys the domain rules and every pairing names known parties.
    pub fn validate(&self) -> Result<(), DomainError> {
        for s in &self.supporters {
            s.validate()?;
        }
        for r in &self.recipients {
            r.validate()?;
        }
        for p in &self.pairings {
            p.validate()?;
            let known_s = self.supporters.iter().any(|s| s.code == p.supporter_code);
            let known_r = self.recipients.iter().any(|r| r.code == p.recipient_code);
            if !known_s || !known_r {
                return Err(DomainError::new(
                    "reference_data_broken",
                    format!(
                        "结对关系{}→{}引用了未知单位",
                        p.supporter_code, p.recipient_code
                    ),
                    format!(
                        "pairing {}→{} names an unknown party",
                        p.supporter_code, p.recipient_code
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The prefecture (or XPCC division) a recipient rolls up to.
    pub fn prefecture_of(&self, code: &str) -> Option<&RecipientUnit> {
        let mut unit = self.recipients.iter().find(|r| r.code == code)?;
        loop {
            match unit.level {
                RecipientLevel::Prefecture
                | RecipientLevel::XpccDivision
                | RecipientLevel::Region => {
                    return Some(unit);
                }
                _ => {
                    let parent = unit.parent_code.as_deref()?;
                    unit = self.recipients.iter().find(|r| r.code == parent)?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_loads_and_validates() {
        let r = Reference::load().expect("reference data is valid");
        assert_eq!(r.supporters.len(), 32);
        assert_eq!(
            r.recipients
                .iter()
                .filter(|u| u.level == RecipientLevel::Prefecture)
                .count(),
            15
        );
        assert_eq!(
            r.recipients
                .iter()
                .filter(|u| u.level == RecipientLevel::County)
                .count(),
            108
        );
        assert_eq!(
            r.recipients
                .iter()
                .filter(|u| u.level == RecipientLevel::Township)
                .count(),
            1405
        );
        assert_eq!(
            r.recipients
                .iter()
                .filter(|u| u.level == RecipientLevel::XpccDivision)
                .count(),
            14
        );
        let supporters: std::collections::BTreeSet<&str> = r
            .pairings
            .iter()
            .map(|p| p.supporter_code.as_str())
            .collect();
        assert_eq!(
            supporters.len(),
            19,
            "the 19 supporting provinces and cities"
        );
        assert_eq!(
            r.prefecture_of("650102002").map(|u| u.code.as_str()),
            Some("6501")
        );
        assert_eq!(
            r.prefecture_of("XPCC-03").map(|u| u.code.as_str()),
            Some("XPCC-03")
        );
    }
}
