//! The fixed frame every generated record hangs on: the supporters with
//! their budgets and document abbreviations, the places (prefectures,
//! counties, townships, XPCC divisions) a project can be located in, the
//! pairings, and for each year which pairings are active and how many
//! projects the year has. Built once, with every lookup precomputed so that
//! generating a project never scans the reference data.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use yuanjiang_domain::reference::pairing_round_start;
use yuanjiang_domain::{RecipientLevel, Reference, SupporterKind};

use crate::draw::{Purpose, Streams, chance, ymd};

/// Stream numbers of the per-pairing-year plan leaning, apart from the plans' own.
const HEAVY_STREAM: u64 = 1 << 62;
use crate::parties::CENTRAL_BODIES;

/// A supporter as the generator sees it.
#[derive(Debug, Clone)]
pub(crate) struct SupporterInfo {
    /// Supporter code (GB/T 2260, or the credit code of a central body).
    pub code: String,
    /// Official name.
    pub name: String,
    /// Kind of body.
    pub kind: SupporterKind,
    /// One-character abbreviation used in document numbers (沪, 粤, 央).
    pub abbr: &'static str,
    /// Latin slug for user names (`shanghai-officer`).
    pub slug: &'static str,
    /// Short tag inside project codes (the province code, or `ZY01`).
    pub tag: String,
    /// Relative annual aid budget, which sets its share of projects and people.
    pub budget: f64,
    /// County codes of its home area, the prefix of its people's ID numbers.
    pub id_regions: &'static [&'static str],
    /// Whether its 2010 batch counts as its 7th (provinces have sent cadres since 1997).
    pub batches_since_1997: bool,
}

/// A place a project can be located in or a person posted to.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    /// Recipient code.
    pub code: String,
    /// Name as written in project names (兵团第三师 for divisions).
    pub name: String,
    /// Level.
    pub level: RecipientLevel,
    /// For a township, the county place it lies in.
    pub county: Option<usize>,
}

/// A recipient unit that a pairing names, with the places under it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The unit itself, as a place.
    pub place: usize,
    /// Its counties: itself for a county, those of a prefecture, none for XPCC.
    pub counties: Vec<usize>,
    /// Townships of each county in `counties`, in the same order.
    pub townships: Vec<Vec<usize>>,
    /// The recipient-side office user that accepts and receives projects.
    pub office: String,
}

/// A pairing with its parties resolved to indices.
#[derive(Debug, Clone)]
pub(crate) struct PairingInfo {
    /// Index into [`World::supporters`].
    pub supporter: usize,
    /// Index into [`World::targets`].
    pub target: usize,
    /// First day in force.
    pub valid_from: NaiveDate,
    /// Last day in force.
    pub valid_to: Option<NaiveDate>,
}

impl PairingInfo {
    /// Whether the pairing is in force on `day`.
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_to.is_none_or(|to| day <= to)
    }
}

/// One plan year: its projects' global index range and its active pairings.
#[derive(Debug, Clone)]
pub(crate) struct YearTable {
    /// Calendar year.
    pub year: i32,
    /// Global index of its first project.
    pub first: u64,
    /// Number of projects.
    pub count: u64,
    /// Pairings in force mid-year (or today, for the current year).
    pub pairings: Vec<usize>,
    /// Their relative weights, in thousandths of a budget unit.
    pub weights: Vec<u32>,
    /// Per active pairing: whether this year's plan leans towards industry
    /// and infrastructure, so that a few plans fall below the 80/80 rule.
    pub industry_heavy: Vec<bool>,
}

/// Everything fixed before any record is drawn.
#[derive(Debug, Clone)]
pub(crate) struct World {
    /// Supporters that take part: the reference provinces and cities in
    /// pairings, then the central bodies.
    pub supporters: Vec<SupporterInfo>,
    /// Places.
    pub places: Vec<Place>,
    /// Pairing targets.
    pub targets: Vec<Target>,
    /// Pairings: the reference ones, then those of the central bodies.
    pub pairings: Vec<PairingInfo>,
    /// One table per year, 2010 to today's year.
    pub years: Vec<YearTable>,
    /// The last day any event may fall on.
    pub today: NaiveDate,
}

/// Document abbreviation, slug, budget and ID regions of the supporting
/// provinces and cities. Budgets follow the published ranking of annual aid
/// (Shanghai, Guangdong, Jiangsu and Beijing largest), in rough units.
#[rustfmt::skip]
const PROVINCE_PROFILES: [(&str, &str, &str, f64, &[&str]); 19] = [
    ("11", "京", "beijing", 12.0, &["110101", "110102", "110105", "110108"]),
    ("12", "津", "tianjin", 5.0, &["120101", "120102", "120103", "120104"]),
    ("13", "冀", "hebei", 4.0, &["130102", "130104", "130105", "130602"]),
    ("14", "晋", "shanxi", 2.5, &["140105", "140106", "140107"]),
    ("21", "辽", "liaoning", 3.5, &["210102", "210103", "210202"]),
    ("22", "吉", "jilin", 2.5, &["220102", "220103", "220104"]),
    ("23", "黑", "heilongjiang", 2.5, &["230102", "230103", "230104"]),
    ("31", "沪", "shanghai", 16.0, &["310101", "310104", "310105", "310115"]),
    ("32", "苏", "jiangsu", 13.0, &["320102", "320104", "320106", "320506"]),
    ("33", "浙", "zhejiang", 11.0, &["330102", "330105", "330106", "330206"]),
    ("34", "皖", "anhui", 2.5, &["340102", "340103", "340104"]),
    ("35", "闽", "fujian", 4.0, &["350102", "350103", "350203"]),
    ("36", "赣", "jiangxi", 1.8, &["360102", "360103", "360104"]),
    ("37", "鲁", "shandong", 10.0, &["370102", "370103", "370202", "370203"]),
    ("41", "豫", "henan", 5.0, &["410102", "410103", "410105"]),
    ("42", "鄂", "hubei", 4.0, &["420102", "420103", "420106"]),
    ("43", "湘", "hunan", 3.5, &["430102", "430103", "430104"]),
    ("44", "粤", "guangdong", 12.0, &["440103", "440104", "440106"]),
    ("4403", "深", "shenzhen", 6.0, &["440303", "440304", "440305"]),
];

/// ID regions for a supporter missing from the table: central Beijing.
const BEIJING_REGIONS: &[&str] = &["110101", "110102", "110105", "110108"];

/// Latin slugs of the prefectures, for recipient-side user names.
const PREFECTURE_SLUGS: [(&str, &str); 14] = [
    ("6501", "urumqi"),
    ("6502", "karamay"),
    ("6504", "turpan"),
    ("6505", "hami"),
    ("6523", "changji"),
    ("6527", "bortala"),
    ("6528", "bayingolin"),
    ("6529", "aksu"),
    ("6530", "kizilsu"),
    ("6531", "kashgar"),
    ("6532", "hotan"),
    ("6540", "ili"),
    ("6542", "tacheng"),
    ("6543", "altay"),
];

/// How much of a supporter's budget a unit draws, by level: a prefecture
/// spreads over many counties, a Corps division gets less than a county.
fn recipient_weight(level: RecipientLevel) -> f64 {
    match level {
        RecipientLevel::Prefecture => 3.0,
        RecipientLevel::XpccDivision => 0.7,
        _ => 1.0,
    }
}

impl World {
    /// Builds the frame from the reference data, for plan years 2010 to
    /// `today`'s year with `per_year` projects each (half in 2010, when the
    /// current round of pairings began in May).
    pub(crate) fn new(
        reference: &Reference,
        today: NaiveDate,
        per_year: u32,
        streams: &Streams,
    ) -> World {
        let by_code: HashMap<&str, &yuanjiang_domain::RecipientUnit> = reference
            .recipients
            .iter()
            .map(|r| (r.code.as_str(), r))
            .collect();
        let mut children: HashMap<&str, Vec<&yuanjiang_domain::RecipientUnit>> = HashMap::new();
        for r in &reference.recipients {
            if let Some(parent) = &r.parent_code {
                children.entry(parent.as_str()).or_default().push(r);
            }
        }

        let mut world = World {
            supporters: Vec::new(),
            places: Vec::new(),
            targets: Vec::new(),
            pairings: Vec::new(),
            years: Vec::new(),
            today,
        };
        let mut supporter_index: HashMap<String, usize> = HashMap::new();
        let mut target_index: HashMap<String, usize> = HashMap::new();

        for p in &reference.pairings {
            let Some(unit) = by_code.get(p.recipient_code.as_str()) else {
                continue;
            };
            let Some(s) = reference
                .supporters
                .iter()
                .find(|s| s.code == p.supporter_code)
            else {
                continue;
            };
            let supporter = *supporter_index.entry(s.code.clone()).or_insert_with(|| {
                let profile = PROVINCE_PROFILES.iter().find(|(c, ..)| *c == s.code);
                world.supporters.push(SupporterInfo {
                    code: s.code.clone(),
                    name: s.name.clone(),
                    kind: s.kind,
                    abbr: profile.map_or("援", |p| p.1),
                    slug: profile.map_or("supporter", |p| p.2),
                    tag: s.code.clone(),
                    budget: profile.map_or(3.0, |p| p.3),
                    id_regions: profile.map_or(BEIJING_REGIONS, |p| p.4),
                    batches_since_1997: true,
                });
                world.supporters.len() - 1
            });
            let target = world.target_for(unit, &by_code, &children, &mut target_index);
            world.pairings.push(PairingInfo {
                supporter,
                target,
                valid_from: p.valid_from,
                valid_to: p.valid_to,
            });
        }

        for (i, body) in CENTRAL_BODIES.iter().enumerate() {
            let supporter = world.supporters.len();
            world.supporters.push(SupporterInfo {
                code: body.credit_code(),
                name: body.name.to_owned(),
                kind: body.kind,
                abbr: "央",
                slug: body.slug,
                tag: format!("ZY{:02}", i + 1),
                budget: body.budget,
                id_regions: BEIJING_REGIONS,
                batches_since_1997: false,
            });
            for county in body.counties {
                let Some(unit) = by_code.get(county) else {
                    continue;
                };
                let target = world.target_for(unit, &by_code, &children, &mut target_index);
                world.pairings.push(PairingInfo {
                    supporter,
                    target,
                    valid_from: pairing_round_start(),
                    valid_to: None,
                });
            }
        }

        let mut first = 0u64;
        for year in 2010..=today.year() {
            // Mid-year decides which pairings count, so that Henan's pairing
            // with Aksu, which ended in May 2010, gets no new-round projects.
            let ref_day = ymd(year, 7, 1).min(today);
            let active: Vec<usize> = (0..world.pairings.len())
                .filter(|&i| world.pairings[i].is_active_on(ref_day))
                .collect();
            let mut share_sum: HashMap<usize, f64> = HashMap::new();
            for &i in &active {
                let p = &world.pairings[i];
                *share_sum.entry(p.supporter).or_default() += world.target_weight(p.target);
            }
            let weights: Vec<u32> = active
                .iter()
                .map(|&i| {
                    let p = &world.pairings[i];
                    let budget = world.supporters[p.supporter].budget;
                    let sum = share_sum.get(&p.supporter).copied().unwrap_or(1.0);
                    let w = budget * world.target_weight(p.target) / sum;
                    (w * 1000.0).round().max(1.0) as u32
                })
                .collect();
            let count = if active.is_empty() {
                0
            } else if year == 2010 {
                u64::from(per_year / 2)
            } else {
                u64::from(per_year)
            };
            let industry_heavy = active
                .iter()
                .map(|&p| {
                    let mut rng = streams.rng(
                        Purpose::Plans,
                        HEAVY_STREAM | (p as u64) << 16 | year as u64,
                    );
                    chance(&mut rng, 0.1)
                })
                .collect();
            world.years.push(YearTable {
                year,
                first,
                count,
                pairings: active,
                weights,
                industry_heavy,
            });
            first += count;
        }
        world
    }

    /// Total number of projects over all years.
    pub(crate) fn total_projects(&self) -> u64 {
        self.years.iter().map(|y| y.count).sum()
    }

    fn target_weight(&self, target: usize) -> f64 {
        recipient_weight(self.places[self.targets[target].place].level)
    }

    fn add_place(
        &mut self,
        unit: &yuanjiang_domain::RecipientUnit,
        county: Option<usize>,
    ) -> usize {
        let name = if unit.level == RecipientLevel::XpccDivision {
            // 第十一师（建工师） reads badly inside a project name.
            let short = unit.name.split('（').next().unwrap_or(&unit.name);
            format!("兵团{short}")
        } else {
            unit.name.clone()
        };
        self.places.push(Place {
            code: unit.code.clone(),
            name,
            level: unit.level,
            county,
        });
        self.places.len() - 1
    }

    fn target_for(
        &mut self,
        unit: &yuanjiang_domain::RecipientUnit,
        by_code: &HashMap<&str, &yuanjiang_domain::RecipientUnit>,
        children: &HashMap<&str, Vec<&yuanjiang_domain::RecipientUnit>>,
        index: &mut HashMap<String, usize>,
    ) -> usize {
        if let Some(&t) = index.get(&unit.code) {
            return t;
        }
        let place = self.add_place(unit, None);
        let county_units: Vec<&yuanjiang_domain::RecipientUnit> = match unit.level {
            RecipientLevel::County => vec![unit],
            RecipientLevel::Prefecture => children
                .get(unit.code.as_str())
                .map(|c| {
                    c.iter()
                        .copied()
                        .filter(|u| u.level == RecipientLevel::County)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut counties = Vec::new();
        let mut townships = Vec::new();
        for county in county_units {
            let county_place = if county.code == unit.code {
                place
            } else {
                self.add_place(county, None)
            };
            let towns: Vec<usize> = children
                .get(county.code.as_str())
                .map(|c| {
                    c.iter()
                        .filter(|u| u.level == RecipientLevel::Township)
                        .map(|u| self.add_place(u, Some(county_place)))
                        .collect()
                })
                .unwrap_or_default();
            counties.push(county_place);
            townships.push(towns);
        }
        let office = if unit.level.is_xpcc() {
            "xpcc-office".to_owned()
        } else {
            let prefecture = if unit.level == RecipientLevel::Prefecture {
                Some(unit.code.as_str())
            } else {
                unit.parent_code
                    .as_deref()
                    .and_then(|p| by_code.get(p))
                    .map(|p| p.code.as_str())
            };
            PREFECTURE_SLUGS
                .iter()
                .find(|(code, _)| Some(*code) == prefecture)
                .map_or_else(
                    || "region-office".to_owned(),
                    |(_, slug)| format!("{slug}-office"),
                )
        };
        self.targets.push(Target {
            place,
            counties,
            townships,
            office,
        });
        index.insert(unit.code.clone(), self.targets.len() - 1);
        self.targets.len() - 1
    }
}
