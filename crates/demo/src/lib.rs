//! Deterministic, realistic demo data for Yuanjiang (援疆通).
//!
//! Pure: [`Generator`] draws domain records from a seed and the reference
//! data; the store writes them. Output depends only on the scale, the seed,
//! the reference data and `today`, never on the chunk size or the order of
//! calls: every project is drawn from its own ChaCha8 stream, keyed by the
//! seed and numbered by the project's index, and projects are produced year
//! by year in chunks, so memory stays bounded at national scale.

#![forbid(unsafe_code)]

mod catalog;
mod draw;
mod funds;
mod parties;
mod people;
mod plans;
mod project;
mod world;

use chrono::NaiveDate;
use yuanjiang_domain::{
    Assignment, Batch, FrontCommand, Pairing, PairingScope, Plan, ProjectBundle, Reference,
    Supporter, SupporterKind,
};

use crate::draw::Streams;
use crate::plans::Sums;
use crate::world::World;

/// How much data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A few hundred projects: tests and first runs.
    Small,
    /// About Xinjiang's real volume: 2,500 projects a year, a million fund transactions.
    Xinjiang,
    /// Ten times Xinjiang, to test the platform nationally.
    National,
}

impl Scale {
    /// Parses `small`, `xinjiang` or `national`.
    pub fn parse(s: &str) -> Option<Scale> {
        match s.trim().to_ascii_lowercase().as_str() {
            "small" => Some(Scale::Small),
            "xinjiang" => Some(Scale::Xinjiang),
            "national" => Some(Scale::National),
            _ => None,
        }
    }

    /// Projects in a full plan year (2010, when the round began in May, has half).
    pub fn projects_per_year(self) -> u32 {
        match self {
            Scale::Small => 20,
            Scale::Xinjiang => 2_500,
            Scale::National => 25_000,
        }
    }

    /// Cadres and professionals over all batches.
    fn assignments(self) -> u32 {
        match self {
            Scale::Small => 200,
            Scale::Xinjiang => 20_000,
            Scale::National => 200_000,
        }
    }
}

/// Records other than projects: generated whole, as they are small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoExtras {
    /// Central departments and central SOEs (the reference data has the provinces).
    pub supporters: Vec<Supporter>,
    /// Front commands, sub-commands and work groups.
    pub front_commands: Vec<FrontCommand>,
    /// Five-year and annual plans, in versions.
    pub plans: Vec<Plan>,
    /// Cadre batches.
    pub batches: Vec<Batch>,
    /// Cadres and professionals.
    pub assignments: Vec<Assignment>,
    /// Pairings of the central bodies (the reference data has the provinces').
    pub pairings: Vec<Pairing>,
}

/// Draws demo data chunk by chunk.
#[derive(Debug, Clone)]
pub struct Generator {
    scale: Scale,
    streams: Streams,
    world: World,
    /// Global index of the next project to yield.
    next: u64,
    /// Index into `world.years` of the year holding `next`.
    year: usize,
    /// Last sequence number used per supporter in the current year.
    seq: Vec<u32>,
}

impl Generator {
    /// `today` bounds the data (no dates after it); years run 2010..=today.year().
    pub fn new(scale: Scale, seed: u64, reference: &Reference, today: NaiveDate) -> Generator {
        let streams = Streams::new(seed);
        let world = World::new(reference, today, scale.projects_per_year(), &streams);
        let seq = vec![0; world.supporters.len()];
        Generator {
            scale,
            streams,
            world,
            next: 0,
            year: 0,
            seq,
        }
    }

    /// Exact number of projects that [`Generator::next_chunk`] yields in total.
    pub fn total_projects(&self) -> u64 {
        self.world.total_projects()
    }

    /// Supporters, front commands, plans, batches and assignments. The
    /// result does not depend on when it is called.
    pub fn extras(&mut self) -> DemoExtras {
        let world = &self.world;
        // Plans sum the projects' headers, which are cheap to draw again.
        let mut sums = vec![vec![Sums::default(); world.years.len()]; world.pairings.len()];
        for (yi, table) in world.years.iter().enumerate() {
            for index in table.first..table.first + table.count {
                let h = project::header(world, &self.streams, table, index);
                if let Some(s) = sums.get_mut(h.pairing).and_then(|v| v.get_mut(yi)) {
                    s.add(&h);
                }
            }
        }
        let batches = people::batches(world);
        let assignments =
            people::assignments(world, &self.streams, &batches, self.scale.assignments());
        DemoExtras {
            supporters: parties::central_supporters(),
            front_commands: parties::front_commands(world),
            plans: plans::plans(world, &self.streams, &sums),
            batches,
            assignments,
            pairings: central_pairings(world),
        }
    }

    /// Next up to `size` projects with their history, transactions and indicators; None when done.
    pub fn next_chunk(&mut self, size: usize) -> Option<Vec<ProjectBundle>> {
        let total = self.total_projects();
        if self.next >= total {
            return None;
        }
        let end = total.min(self.next.saturating_add(size.max(1) as u64));
        let mut out = Vec::with_capacity((end - self.next) as usize);
        while self.next < end {
            let index = self.next;
            while let Some(table) = self.world.years.get(self.year) {
                if index < table.first + table.count {
                    break;
                }
                // A new plan year restarts every supporter's numbering.
                self.year += 1;
                self.seq.iter_mut().for_each(|s| *s = 0);
            }
            let Some(table) = self.world.years.get(self.year) else {
                break;
            };
            let header = project::header(&self.world, &self.streams, table, index);
            let supporter = self.world.pairings[header.pairing].supporter;
            self.seq[supporter] += 1;
            out.push(project::bundle(
                &self.world,
                &self.streams,
                &header,
                self.seq[supporter],
            ));
            self.next += 1;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests;

/// The central bodies' pairings, which only the demo knows.
fn central_pairings(world: &World) -> Vec<Pairing> {
    world
        .pairings
        .iter()
        .filter_map(|p| {
            let supporter = world.supporters.get(p.supporter)?;
            let central = matches!(
                supporter.kind,
                SupporterKind::CentralDepartment | SupporterKind::CentralSoe
            );
            let target = world.targets.get(p.target)?;
            let place = world.places.get(target.place)?;
            central.then(|| Pairing {
                supporter_code: supporter.code.clone(),
                recipient_code: place.code.clone(),
                scope: PairingScope::Full,
                valid_from: p.valid_from,
                valid_to: p.valid_to,
                confidence: "demo".into(),
            })
        })
        .collect()
}
