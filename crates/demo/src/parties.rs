//! The central departments and central SOEs that take part alongside the
//! provinces (the reference data has only provinces and Shenzhen), and the
//! front commands (前方指挥部) every supporter runs in Xinjiang.

use std::collections::BTreeSet;

use yuanjiang_domain::codes::credit_code_check_char;
use yuanjiang_domain::{CommandLevel, FrontCommand, RecipientLevel, Supporter, SupporterKind};

use crate::world::World;

/// A central body and the southern counties it supports.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CentralBody {
    /// Official name.
    pub name: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Department or SOE.
    pub kind: SupporterKind,
    /// Latin slug for user names.
    pub slug: &'static str,
    /// Relative annual budget, small beside the provinces'.
    pub budget: f64,
    /// Counties supported, all in the four southern prefectures.
    pub counties: &'static [&'static str],
    /// Serial part of the organisation code; the codes are made up, not the real ones.
    pub serial: u32,
}

impl CentralBody {
    /// A unified social credit code in the real layout: registration type
    /// (11 = state organ, 91 = enterprise), a Beijing-level division code, a
    /// nine-character organisation code and the GB 32100 check character.
    pub(crate) fn credit_code(&self) -> String {
        let (registration, division) = match self.kind {
            SupporterKind::CentralDepartment => ("11", "100000"),
            _ => ("91", "110000"),
        };
        let first17 = format!("{registration}{division}{:09}", self.serial);
        let check = credit_code_check_char(&first17).unwrap_or('0');
        format!("{first17}{check}")
    }
}

/// Central bodies in the demo. Their pairings are illustrative: each supports
/// two counties of the southern four prefectures.
pub(crate) const CENTRAL_BODIES: [CentralBody; 8] = [
    CentralBody {
        name: "教育部",
        name_en: "Ministry of Education",
        kind: SupporterKind::CentralDepartment,
        slug: "moe",
        budget: 0.9,
        counties: &["653127", "653226"],
        serial: 717_802_126,
    },
    CentralBody {
        name: "国家卫生健康委员会",
        name_en: "National Health Commission",
        kind: SupporterKind::CentralDepartment,
        slug: "nhc",
        budget: 0.8,
        counties: &["653223", "653024"],
        serial: 717_803_523,
    },
    CentralBody {
        name: "人力资源和社会保障部",
        name_en: "Ministry of Human Resources and Social Security",
        kind: SupporterKind::CentralDepartment,
        slug: "mohrss",
        budget: 0.6,
        counties: &["652929", "653123"],
        serial: 717_801_982,
    },
    CentralBody {
        name: "国家电网有限公司",
        name_en: "State Grid Corporation of China",
        kind: SupporterKind::CentralSoe,
        slug: "sgcc",
        budget: 1.0,
        counties: &["653222", "652927"],
        serial: 710_931_230,
    },
    CentralBody {
        name: "中国石油天然气集团有限公司",
        name_en: "China National Petroleum Corporation",
        kind: SupporterKind::CentralSoe,
        slug: "cnpc",
        budget: 1.0,
        counties: &["652924", "652902"],
        serial: 100_010_600,
    },
    CentralBody {
        name: "中国石油化工集团有限公司",
        name_en: "China Petrochemical Corporation",
        kind: SupporterKind::CentralSoe,
        slug: "sinopec",
        budget: 0.9,
        counties: &["653130", "653126"],
        serial: 100_010_742,
    },
    CentralBody {
        name: "中国移动通信集团有限公司",
        name_en: "China Mobile Communications Group",
        kind: SupporterKind::CentralSoe,
        slug: "cmcc",
        budget: 0.6,
        counties: &["653225", "653227"],
        serial: 710_925_243,
    },
    CentralBody {
        name: "中国建筑集团有限公司",
        name_en: "China State Construction Engineering Corporation",
        kind: SupporterKind::CentralSoe,
        slug: "cscec",
        budget: 0.7,
        counties: &["653022", "652928"],
        serial: 100_001_242,
    },
];

/// The central bodies as domain supporters.
pub(crate) fn central_supporters() -> Vec<Supporter> {
    CENTRAL_BODIES
        .iter()
        .map(|b| Supporter {
            code: b.credit_code(),
            name: b.name.to_owned(),
            name_en: b.name_en.to_owned(),
            kind: b.kind,
            parent_code: None,
        })
        .collect()
}

/// A county or city name without its administrative suffix, as sub-commands
/// are named (莎车县 → 莎车, 塔什库尔干塔吉克自治县 → 塔什库尔干).
pub(crate) fn short_name(name: &str) -> &str {
    const SUFFIXES: [&str; 11] = [
        "塔吉克自治县",
        "哈萨克自治县",
        "蒙古自治县",
        "回族自治县",
        "锡伯自治县",
        "自治县",
        "地区",
        "县",
        "市",
        "区",
        "州",
    ];
    for suffix in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix)
            && stem.chars().count() >= 2
        {
            return stem;
        }
    }
    name.strip_prefix("兵团").unwrap_or(name)
}

/// One HQ per supporter, a sub-command for every other unit it is paired
/// with, and a work group in every county of a paired prefecture.
pub(crate) fn front_commands(world: &World) -> Vec<FrontCommand> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    let mut push = |out: &mut Vec<FrontCommand>, c: FrontCommand| {
        // Names are unique in the store; a repeated unit is skipped, not renamed.
        if names.insert(c.name.clone()) {
            out.push(c);
        }
    };
    for (si, s) in world.supporters.iter().enumerate() {
        let targets: Vec<usize> = world
            .pairings
            .iter()
            .filter(|p| p.supporter == si && p.valid_to.is_none())
            .map(|p| p.target)
            .collect();
        let Some(&first) = targets.first() else {
            continue;
        };
        let hq_name = match s.kind {
            SupporterKind::CentralDepartment | SupporterKind::CentralSoe => {
                format!("{}援疆工作队", s.name)
            }
            _ => format!("{}援疆前方指挥部", s.name),
        };
        // The HQ serves the prefecture when the supporter has several
        // counties in one (Shanghai's four in Kashgar), else its largest unit.
        let prefecture_target = targets
            .iter()
            .copied()
            .find(|&t| world.places[world.targets[t].place].level == RecipientLevel::Prefecture);
        let hq_code = match prefecture_target {
            Some(t) => world.places[world.targets[t].place].code.clone(),
            None => {
                let code = &world.places[world.targets[first].place].code;
                let same_prefecture = targets
                    .iter()
                    .filter(|&&t| {
                        let c = &world.places[world.targets[t].place].code;
                        c.len() == 6 && code.len() == 6 && c[..4] == code[..4]
                    })
                    .count();
                if same_prefecture >= 2 {
                    code[..4].to_owned()
                } else {
                    code.clone()
                }
            }
        };
        push(
            &mut out,
            FrontCommand {
                supporter_code: s.code.clone(),
                level: CommandLevel::Headquarters,
                recipient_code: hq_code.clone(),
                name: hq_name.clone(),
            },
        );
        for &t in &targets {
            let target = &world.targets[t];
            let place = &world.places[target.place];
            if place.level == RecipientLevel::Prefecture {
                for &c in &target.counties {
                    let county = &world.places[c];
                    push(
                        &mut out,
                        FrontCommand {
                            supporter_code: s.code.clone(),
                            level: CommandLevel::WorkGroup,
                            recipient_code: county.code.clone(),
                            name: format!("{hq_name}{}工作组", county.name),
                        },
                    );
                }
            } else if place.code != hq_code {
                // Central bodies run small work groups rather than sub-commands.
                let (level, suffix) = match s.kind {
                    SupporterKind::CentralDepartment | SupporterKind::CentralSoe => {
                        (CommandLevel::WorkGroup, "工作组")
                    }
                    _ => (CommandLevel::SubCommand, "分指挥部"),
                };
                push(
                    &mut out,
                    FrontCommand {
                        supporter_code: s.code.clone(),
                        level,
                        recipient_code: place.code.clone(),
                        name: format!("{hq_name}{}{suffix}", short_name(&place.name)),
                    },
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_codes_validate_and_differ() {
        let supporters = central_supporters();
        let codes: BTreeSet<&str> = supporters.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes.len(), CENTRAL_BODIES.len());
        for s in &supporters {
            assert_eq!(s.validate(), Ok(()), "{}", s.code);
            assert_eq!(s.code.len(), 18);
        }
        assert!(supporters[0].code.starts_with("11100000"));
        assert!(supporters[3].code.starts_with("91110000"));
    }

    #[test]
    fn short_names() {
        assert_eq!(short_name("莎车县"), "莎车");
        assert_eq!(short_name("塔什库尔干塔吉克自治县"), "塔什库尔干");
        assert_eq!(short_name("喀什市"), "喀什");
        assert_eq!(short_name("兵团第三师"), "第三师");
        assert_eq!(short_name("和田县"), "和田");
    }
}
