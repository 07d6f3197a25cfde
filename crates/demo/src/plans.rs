//! Plans (规划/计划) that agree with the projects: each pairing's annual plan
//! is the sum of the aid funds of that year's issued projects, its
//! grassroots and livelihood parts the sums of the flagged ones; a
//! five-year plan sums its years, or projects the current period from the
//! years so far. A few plans have an adjusted second version (调整).

use yuanjiang_domain::{Fen, Plan, PlanKind};

use crate::draw::{Purpose, Streams, WAN, chance, share, uniform};
use crate::project::Header;
use crate::world::World;

/// Aid funds of one pairing in one year, with the 80/80 parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    /// All aid funds.
    pub amount: i64,
    /// County level and below.
    pub grassroots: i64,
    /// Livelihood.
    pub livelihood: i64,
}

impl Sums {
    /// Adds a project, if it is in the issued plan.
    pub(crate) fn add(&mut self, h: &Header) {
        if !h.in_annual_plan() {
            return;
        }
        self.amount += h.aid.0;
        if h.grassroots {
            self.grassroots += h.aid.0;
        }
        if h.livelihood {
            self.livelihood += h.aid.0;
        }
    }

    fn plus(self, other: Sums) -> Sums {
        Sums {
            amount: self.amount + other.amount,
            grassroots: self.grassroots + other.grassroots,
            livelihood: self.livelihood + other.livelihood,
        }
    }

    /// The same shares on a different total.
    fn rescaled(self, amount: i64) -> Sums {
        Sums {
            amount,
            grassroots: share(Fen(self.grassroots), amount, self.amount, 1),
            livelihood: share(Fen(self.livelihood), amount, self.amount, 1),
        }
    }
}

/// The name a five-year plan goes by (“十四五”).
fn five_year_name(start: i32) -> &'static str {
    match start {
        2011 => "十二五",
        2016 => "十三五",
        2021 => "十四五",
        2026 => "十五五",
        2031 => "十六五",
        _ => "五年",
    }
}

/// `amount` moved by a random factor in `lo..hi`, in whole 万元.
fn drafted(rng: &mut impl rand::Rng, amount: i64, lo: f64, hi: f64) -> i64 {
    let v = (amount as f64 * uniform(rng, lo, hi) / WAN as f64).round() as i64;
    v.max(1) * WAN
}

/// Builds all plans from `sums[pairing][year - first_year]`.
pub(crate) fn plans(world: &World, streams: &Streams, sums: &[Vec<Sums>]) -> Vec<Plan> {
    let first_year = world.years.first().map_or(2010, |y| y.year);
    let last_year = world.years.last().map_or(first_year, |y| y.year);
    let mut out = Vec::new();
    for (p, years) in sums.iter().enumerate() {
        let Some(pairing) = world.pairings.get(p) else {
            continue;
        };
        let supporter = &world.supporters[pairing.supporter];
        let recipient = &world.places[world.targets[pairing.target].place];
        let plan = |kind, start_year, end_year, version, s: Sums, note: String| Plan {
            kind,
            supporter_code: supporter.code.clone(),
            recipient_code: recipient.code.clone(),
            start_year,
            end_year,
            version,
            amount: Fen(s.amount),
            grassroots_amount: Fen(s.grassroots),
            livelihood_amount: Fen(s.livelihood),
            note,
        };

        for (i, s) in years.iter().enumerate() {
            if s.amount <= 0 {
                continue;
            }
            let year = first_year + i as i32;
            let mut rng = streams.rng(Purpose::Plans, (p as u64) << 16 | i as u64);
            if chance(&mut rng, 0.06) {
                let original = s.rescaled(drafted(&mut rng, s.amount, 0.85, 1.15));
                out.push(plan(
                    PlanKind::Annual,
                    year,
                    year,
                    1,
                    original,
                    format!("{year}年度援疆计划"),
                ));
                out.push(plan(
                    PlanKind::Annual,
                    year,
                    year,
                    2,
                    *s,
                    "年中调整：根据项目实施情况调整年度计划".to_owned(),
                ));
            } else {
                out.push(plan(
                    PlanKind::Annual,
                    year,
                    year,
                    1,
                    *s,
                    format!("{year}年度援疆计划"),
                ));
            }
        }

        let mut start = 2011;
        while start <= last_year {
            let end = start + 4;
            let covered: Vec<Sums> = (start..=end.min(last_year))
                .filter_map(|y| years.get((y - first_year) as usize).copied())
                .collect();
            let realised = covered.iter().fold(Sums::default(), |a, b| a.plus(*b));
            let name = five_year_name(start);
            let title = format!("{}对口支援{}“{name}”规划", supporter.name, recipient.name);
            let mut rng = streams.rng(Purpose::Plans, (p as u64) << 16 | 0x8000 | start as u64);
            if realised.amount > 0 {
                if end > last_year {
                    // The period is under way: the plan projects the years so far.
                    let years_so_far = covered.len().max(1) as f64;
                    let projected = drafted(
                        &mut rng,
                        realised.amount,
                        5.0 / years_so_far,
                        5.0 / years_so_far,
                    );
                    out.push(plan(
                        PlanKind::FiveYear,
                        start,
                        end,
                        1,
                        realised.rescaled(projected),
                        title,
                    ));
                } else if chance(&mut rng, 0.25) {
                    let original = realised.rescaled(drafted(&mut rng, realised.amount, 0.9, 1.1));
                    out.push(plan(PlanKind::FiveYear, start, end, 1, original, title));
                    out.push(plan(
                        PlanKind::FiveYear,
                        start,
                        end,
                        2,
                        realised,
                        format!("“{name}”规划中期评估调整"),
                    ));
                } else {
                    out.push(plan(PlanKind::FiveYear, start, end, 1, realised, title));
                }
            }
            start += 5;
        }
    }
    out
}
