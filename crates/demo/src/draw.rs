//! Sampling routines the generators share: independent random streams,
//! weighted picks, skewed amounts and dates. Everything is integer or
//! bounded so that the same seed gives the same records on every machine.

use chrono::{Datelike, NaiveDate, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use yuanjiang_domain::Fen;

/// What a random stream is used for. Each purpose has its own ChaCha key, so
/// that drawing one more number for a project never shifts the people or the
/// plans, and each record (project, batch, plan) has its own stream number.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    /// A project's header: pairing, category, place, amount, fate.
    Header = 1,
    /// A project's details: names, dates, money, indicators.
    Detail = 2,
    /// Batches and assignments.
    People = 3,
    /// Plan versions.
    Plans = 4,
}

/// The keys of every purpose, derived once from the user's seed.
#[derive(Debug, Clone)]
pub(crate) struct Streams {
    keys: [[u8; 32]; 5],
}

/// SplitMix64: spreads a small seed over a whole key.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Streams {
    /// Derives the per-purpose keys from `seed`.
    pub(crate) fn new(seed: u64) -> Streams {
        let mut keys = [[0u8; 32]; 5];
        for (purpose, key) in keys.iter_mut().enumerate() {
            let mut state = seed ^ (purpose as u64).wrapping_mul(0xA076_1D64_78BD_642F);
            for chunk in key.chunks_mut(8) {
                chunk.copy_from_slice(&splitmix(&mut state).to_le_bytes());
            }
        }
        Streams { keys }
    }

    /// The stream of record `index` for `purpose`.
    pub(crate) fn rng(&self, purpose: Purpose, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.keys[purpose as usize]);
        rng.set_stream(index);
        rng
    }
}

/// True with probability `p` (clamped to 0..=1).
pub(crate) fn chance(rng: &mut impl Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// Uniform integer in `lo..=hi` (or `lo` when the range is empty).
pub(crate) fn between(rng: &mut impl Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

/// Uniform float in `lo..hi`.
pub(crate) fn uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Index drawn with the given integer weights; 0 when they are all zero.
pub(crate) fn weighted_index(
    rng: &mut impl Rng,
    weights: impl Iterator<Item = u32> + Clone,
) -> usize {
    let total: u64 = weights.clone().map(u64::from).sum();
    if total == 0 {
        return 0;
    }
    let mut target = rng.random_range(0..total);
    for (i, w) in weights.enumerate() {
        let w = u64::from(w);
        if target < w {
            return i;
        }
        target -= w;
    }
    0
}

/// A value drawn from a static weighted table. Tables are compile-time
/// constants and never empty.
pub(crate) fn weighted<T: Copy>(rng: &mut impl Rng, table: &[(T, u32)]) -> T {
    table[weighted_index(rng, table.iter().map(|(_, w)| *w))].0
}

/// One element of a non-empty static slice.
pub(crate) fn one_of<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A standard normal deviate (Box–Muller); `rand_distr` is not worth a dependency here.
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let u1 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `day` moved by `days`, staying put if the calendar would overflow.
pub(crate) fn shift(day: NaiveDate, days: i64) -> NaiveDate {
    day.checked_add_signed(TimeDelta::days(days)).unwrap_or(day)
}

/// A calendar date from constants known to be valid.
pub(crate) fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// Uniform date in `from..=to` (or `from` when the range is empty).
pub(crate) fn date_between(rng: &mut impl Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    shift(from, between(rng, 0, span))
}

/// The same calendar day `years` later, falling back to 28 February in leap cases.
pub(crate) fn add_years(day: NaiveDate, years: i32) -> NaiveDate {
    let year = day.year() + years;
    NaiveDate::from_ymd_opt(year, day.month(), day.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, day.month(), 28))
        .unwrap_or(day)
}

/// One yuan in fen.
pub(crate) const YUAN: i64 = 100;
/// Ten thousand yuan (万元) in fen, the unit plans and budgets are written in.
pub(crate) const WAN: i64 = 10_000 * YUAN;

/// `part/whole` of `amount` in exact integer arithmetic, rounded down to `unit`.
pub(crate) fn share(amount: Fen, num: i64, den: i64, unit: i64) -> i64 {
    if den <= 0 {
        return 0;
    }
    let v = i128::from(amount.0) * i128::from(num) / i128::from(den);
    let v = i64::try_from(v).unwrap_or(0);
    v / unit * unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_repeatable() {
        let s = Streams::new(7);
        let a: Vec<u32> = (0..4).map(|_| s.rng(Purpose::Header, 3).random()).collect();
        let mut r = s.rng(Purpose::Header, 3);
        let b: Vec<u32> = (0..4).map(|_| r.random()).collect();
        assert_ne!(a, b, "each call starts the stream afresh");
        let mut r2 = s.rng(Purpose::Header, 3);
        let c: Vec<u32> = (0..4).map(|_| r2.random()).collect();
        assert_eq!(b, c);
        let other: u32 = s.rng(Purpose::Header, 4).random();
        let detail: u32 = s.rng(Purpose::Detail, 3).random();
        assert_ne!(b[0], other);
        assert_ne!(b[0], detail);
        let reseeded: u32 = Streams::new(8).rng(Purpose::Header, 3).random();
        assert_ne!(b[0], reseeded);
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let mut rng = Streams::new(1).rng(Purpose::Header, 0);
        let table = [('a', 0), ('b', 3), ('c', 1)];
        let mut counts = [0u32; 3];
        for _ in 0..4000 {
            match weighted(&mut rng, &table) {
                'a' => counts[0] += 1,
                'b' => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        assert_eq!(counts[0], 0);
        assert!((2800..3200).contains(&counts[1]), "{counts:?}");
    }

    #[test]
    fn dates_and_amounts() {
        assert_eq!(add_years(ymd(2020, 2, 29), 1), ymd(2021, 2, 28));
        assert_eq!(shift(ymd(2024, 12, 31), 1), ymd(2025, 1, 1));
        assert_eq!(share(Fen(1000), 1, 3, 1), 333);
        assert_eq!(share(Fen(1000), 1, 0, 1), 0);
    }
}
