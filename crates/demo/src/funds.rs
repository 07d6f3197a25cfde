//! A project's money: commitments, transfers to Xinjiang, allocations to the
//! project, payments and expenditures, with the odd refund and year-end
//! carry-over. Each step is drawn as a schedule of cumulative targets and
//! then clamped to what the step above it has delivered by that date, so
//! the result always replays under [`FundChain`]; cutting it at any date
//! keeps it valid, which is how unfinished projects get partial money.

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use yuanjiang_domain::fund::chain_order;
use yuanjiang_domain::{Fen, FundChain, FundTransaction, FundType, ProjectKind};

use crate::draw::{WAN, YUAN, between, chance, shift, uniform, ymd};

/// The dates money follows, taken from the project's full (uncut) timeline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Milestones {
    /// Plan issued or approved: the commitment.
    pub issued: NaiveDate,
    /// Preparation began (construction only): design fees.
    pub prep: Option<NaiveDate>,
    /// Works or implementation began.
    pub works_start: NaiveDate,
    /// Works completed or programme done.
    pub works_end: NaiveDate,
    /// Acceptance (construction) or wrap-up: the settlement payment.
    pub settle: NaiveDate,
    /// End of the defect-liability period: the retention payment.
    pub retention: Option<NaiveDate>,
}

/// What the money of one project depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MoneyInput<'a> {
    /// Project code.
    pub code: &'a str,
    /// Aid funds, the cap of commitments.
    pub aid: Fen,
    /// Construction or not.
    pub kind: ProjectKind,
    /// Timeline dates.
    pub milestones: Milestones,
    /// No transaction after this day (today, or the day the project stopped).
    pub until: NaiveDate,
    /// Whether the project runs its normal course (only those refund a balance).
    pub normal: bool,
    /// Supporter's document abbreviation (沪).
    pub supporter_abbr: &'a str,
    /// Recipient's short name for recipient-side documents (莎车).
    pub recipient_short: &'a str,
}

/// One drawn movement before numbering.
#[derive(Debug, Clone, Copy)]
struct Move {
    fund_type: FundType,
    date: NaiveDate,
    amount: i64,
    note: &'static str,
}

/// Total of `moves` dated on or before `day`.
fn cum(moves: &[Move], day: NaiveDate) -> i64 {
    moves
        .iter()
        .filter(|m| m.date <= day)
        .map(|m| m.amount)
        .sum()
}

/// Turns cumulative targets into movements, never letting the running
/// total pass what `room` allows on each date. Shortfalls roll forward into
/// the next target, so a later tranche catches up.
fn clamped(
    fund_type: FundType,
    targets: &[(NaiveDate, i64, &'static str)],
    room: impl Fn(NaiveDate) -> i64,
) -> Vec<Move> {
    let mut out = Vec::new();
    let mut done = 0i64;
    for &(date, target, note) in targets {
        let want = target.min(room(date));
        if want > done {
            out.push(Move {
                fund_type,
                date,
                amount: want - done,
                note,
            });
            done = want;
        }
    }
    out
}

/// Tops `moves` up to `total` once everything above has arrived: money
/// that came after the last scheduled tranche moves on when it is there.
fn settle_rest(
    rng: &mut impl Rng,
    moves: &mut Vec<Move>,
    above: &[Move],
    total: i64,
    fund_type: FundType,
    note: &'static str,
) {
    let done: i64 = moves.iter().map(|m| m.amount).sum();
    let available: i64 = above.iter().map(|m| m.amount).sum();
    let rest = total.min(available) - done;
    if rest <= 0 {
        return;
    }
    let last = moves.iter().chain(above).map(|m| m.date).max();
    if let Some(last) = last {
        moves.push(Move {
            fund_type,
            date: shift(last, between(rng, 10, 40)),
            amount: rest,
            note,
        });
    }
}

/// `total * fraction`, rounded down to `unit`, never above `total`.
fn part(total: i64, fraction: f64, unit: i64) -> i64 {
    let v = (total as f64 * fraction.clamp(0.0, 1.0)) as i64;
    (v / unit * unit).min(total)
}

/// Cumulative shares of `steps` progress payments, ending at 1: uneven,
/// as works progress unevenly from month to month.
fn progress(rng: &mut impl Rng, steps: i64) -> Vec<f64> {
    let weights: Vec<f64> = (0..steps).map(|_| uniform(rng, 0.5, 1.5)).collect();
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w;
            acc / total
        })
        .collect()
}

/// Draws the project's fund transactions.
pub(crate) fn transactions(rng: &mut impl Rng, input: &MoneyInput<'_>) -> Vec<FundTransaction> {
    let ms = input.milestones;
    let aid = input.aid.0;
    if aid <= 0 || ms.issued > input.until {
        return Vec::new();
    }
    // Commitments: the annual plan, sometimes topped up (追加) a few months later.
    let mut commits = Vec::new();
    if aid >= 200 * WAN && chance(rng, 0.15) {
        let first = part(aid, uniform(rng, 0.6, 0.8), WAN);
        commits.push(Move {
            fund_type: FundType::Commitment,
            date: ms.issued,
            amount: first,
            note: "年度援疆计划下达",
        });
        commits.push(Move {
            fund_type: FundType::Commitment,
            date: shift(ms.issued, between(rng, 60, 150)),
            amount: aid - first,
            note: "追加安排援疆资金",
        });
    } else {
        commits.push(Move {
            fund_type: FundType::Commitment,
            date: ms.issued,
            amount: aid,
            note: "年度援疆计划下达",
        });
    }

    // Transfers to Xinjiang in one to three tranches over the first months.
    // Small programmes get their money in one go more often.
    let tranches = match (input.kind, between(rng, 0, 99)) {
        (ProjectKind::NonConstruction, 0..=69) | (ProjectKind::Construction, 0..=24) => 1,
        (ProjectKind::NonConstruction, _) | (ProjectKind::Construction, 25..=69) => 2,
        _ => 3,
    };
    let fractions: Vec<f64> = match tranches {
        1 => vec![1.0],
        2 => vec![uniform(rng, 0.5, 0.7), 1.0],
        _ => vec![uniform(rng, 0.3, 0.5), uniform(rng, 0.6, 0.85), 1.0],
    };
    let gap = match input.kind {
        ProjectKind::Construction => (40, 120),
        ProjectKind::NonConstruction => (20, 60),
    };
    let mut day = shift(ms.issued, between(rng, 10, 45));
    let mut targets = Vec::new();
    for f in fractions {
        targets.push((day, part(aid, f, WAN), "援疆资金拨付到疆"));
        day = shift(day, between(rng, gap.0, gap.1));
    }
    let mut transfers = clamped(FundType::Transfer, &targets, |d| cum(&commits, d));
    settle_rest(
        rng,
        &mut transfers,
        &commits,
        aid,
        FundType::Transfer,
        "援疆资金拨付到疆",
    );

    // Allocations follow each transfer within days, sometimes in two parts.
    let mut targets = Vec::new();
    let mut running = 0i64;
    for t in &transfers {
        if t.amount >= 2 * WAN && chance(rng, 0.45) {
            let first = part(t.amount, uniform(rng, 0.5, 0.7), WAN).max(WAN);
            targets.push((
                shift(t.date, between(rng, 3, 20)),
                running + first,
                "拨付至项目实施单位",
            ));
            running += t.amount;
            targets.push((
                shift(t.date, between(rng, 25, 80)),
                running,
                "拨付至项目实施单位",
            ));
        } else {
            running += t.amount;
            targets.push((
                shift(t.date, between(rng, 3, 25)),
                running,
                "拨付至项目实施单位",
            ));
        }
    }
    targets.sort_by_key(|t| t.0);
    // Sorting can put a later tranche's target first; keep targets monotone.
    let mut high = 0;
    for t in &mut targets {
        high = high.max(t.1);
        t.1 = high;
    }
    let mut allocations = clamped(FundType::Allocation, &targets, |d| cum(&transfers, d));
    settle_rest(
        rng,
        &mut allocations,
        &transfers,
        running,
        FundType::Allocation,
        "拨付至项目实施单位",
    );
    let allocated: i64 = allocations.iter().map(|m| m.amount).sum();

    // A few finished projects hand back an unspent balance (结余退回).
    let reserve = if input.normal && chance(rng, 0.08) {
        part(allocated, uniform(rng, 0.005, 0.03), YUAN)
    } else {
        0
    };
    let to_pay = allocated - reserve;

    // Payments follow the works: design fees, monthly-ish progress payments,
    // the settlement after acceptance and the retention money a year or two later.
    let mut schedule: Vec<(NaiveDate, f64, &'static str)> = Vec::new();
    let span = (ms.works_end - ms.works_start).num_days().max(1);
    match input.kind {
        ProjectKind::Construction => {
            let mut start_fraction = 0.0;
            if let Some(prep) = ms.prep
                && chance(rng, 0.5)
            {
                start_fraction = uniform(rng, 0.03, 0.06);
                schedule.push((
                    shift(prep, between(rng, 20, 70)),
                    start_fraction,
                    "支付勘察设计费",
                ));
            }
            let steps = (span / 45).clamp(3, 14) + between(rng, 0, 2);
            for (i, f) in progress(rng, steps).into_iter().enumerate() {
                let offset = span * (i as i64 + 1) / steps - between(rng, 0, 10);
                let f = start_fraction + (0.82 - start_fraction) * f;
                schedule.push((shift(ms.works_start, offset.max(1)), f, "支付工程进度款"));
            }
            let retention = if ms.retention.is_some() {
                uniform(rng, 0.03, 0.05)
            } else {
                0.0
            };
            schedule.push((
                shift(ms.settle, between(rng, 10, 40)),
                1.0 - retention,
                "支付工程结算款",
            ));
            if let Some(day) = ms.retention {
                schedule.push((day, 1.0, "支付工程质保金"));
            }
        }
        ProjectKind::NonConstruction => {
            let steps = between(rng, 2, 6);
            for (i, f) in progress(rng, steps).into_iter().enumerate() {
                let offset = span * (i as i64 + 1) / steps - between(rng, 0, 10);
                schedule.push((
                    shift(ms.works_start, offset.max(1)),
                    0.9 * f,
                    "支付项目实施费用",
                ));
            }
            schedule.push((shift(ms.settle, between(rng, 5, 30)), 1.0, "支付项目尾款"));
        }
    }
    schedule.sort_by_key(|s| s.0);
    let targets: Vec<(NaiveDate, i64, &'static str)> = schedule
        .iter()
        .map(|&(d, f, note)| {
            let v = if f >= 1.0 {
                to_pay
            } else {
                part(to_pay, f, YUAN)
            };
            (d, v, note)
        })
        .collect();
    let mut payments = clamped(FundType::Payment, &targets, |d| cum(&allocations, d));
    settle_rest(
        rng,
        &mut payments,
        &allocations,
        to_pay,
        FundType::Payment,
        "支付结算尾款",
    );
    let paid: i64 = payments.iter().map(|m| m.amount).sum();

    let mut moves = commits;
    moves.extend(transfers);
    moves.extend(allocations.iter().copied());

    if reserve > 0 {
        let last = payments
            .iter()
            .chain(allocations.iter())
            .map(|m| m.date)
            .max()
            .unwrap_or(ms.settle);
        let amount = reserve.min(allocated - paid);
        if amount > 0 {
            moves.push(Move {
                fund_type: FundType::Refund,
                date: shift(last, between(rng, 15, 60)),
                amount,
                note: "项目结余资金退回",
            });
        }
    }

    // Each payment is booked as spent the same month, sometimes in two parts.
    let mut spent = Vec::new();
    for p in &payments {
        let first = part(p.amount, uniform(rng, 0.4, 0.7), YUAN);
        if chance(rng, 0.25) && first >= YUAN && p.amount - first >= YUAN {
            spent.push(Move {
                fund_type: FundType::Expenditure,
                date: shift(p.date, between(rng, 0, 10)),
                amount: first,
                note: "",
            });
            spent.push(Move {
                fund_type: FundType::Expenditure,
                date: shift(p.date, between(rng, 11, 45)),
                amount: p.amount - first,
                note: "",
            });
        } else {
            spent.push(Move {
                fund_type: FundType::Expenditure,
                date: shift(p.date, between(rng, 0, 20)),
                amount: p.amount,
                note: "项目单位列支",
            });
        }
    }
    moves.extend(payments);
    moves.extend(spent);

    // Works that run past the plan year carry the unspent balance over (结转).
    let year_end = ymd(ms.issued.year(), 12, 31);
    if ms.works_end > year_end && chance(rng, 0.3) {
        let by_type = |t: FundType| -> i64 {
            moves
                .iter()
                .filter(|m| m.fund_type == t && m.date <= year_end)
                .map(|m| m.amount)
                .sum()
        };
        let unspent = by_type(FundType::Allocation)
            - by_type(FundType::Refund)
            - by_type(FundType::Expenditure);
        if unspent >= YUAN {
            moves.push(Move {
                fund_type: FundType::CarryOver,
                date: year_end,
                amount: unspent,
                note: "年末未支出余额结转下年使用",
            });
        }
    }

    // Cut at the last allowed day; a date prefix of a valid chain is valid.
    moves.retain(|m| m.date <= input.until && m.amount > 0);
    // One transaction per type and day: merge the rare collisions.
    moves.sort_by_key(|m| (m.date, m.fund_type));
    let mut merged: Vec<Move> = Vec::with_capacity(moves.len());
    for m in moves {
        match merged.last_mut() {
            Some(last) if last.date == m.date && last.fund_type == m.fund_type => {
                last.amount += m.amount;
            }
            _ => merged.push(m),
        }
    }

    let mut out: Vec<FundTransaction> = Vec::with_capacity(merged.len());
    let mut counters = [(0i64, 0i64); 7];
    for c in &mut counters {
        // Document numbers start somewhere in the issuer's series and rise.
        *c = (between(rng, 1, 180), between(rng, 1, 6));
    }
    for m in merged {
        let slot = FundType::ALL
            .iter()
            .position(|t| *t == m.fund_type)
            .unwrap_or(0);
        let (n, step) = counters[slot];
        counters[slot].0 += step;
        out.push(FundTransaction {
            project_code: input.code.to_owned(),
            fund_type: m.fund_type,
            amount: Fen(m.amount),
            date: m.date,
            document_no: document_no(input, m.fund_type, m.date.year(), n),
            note: m.note.to_owned(),
        });
    }
    out.sort_by(chain_order);
    if let Err((i, e)) = FundChain::replay(&out, input.aid) {
        // Unreachable by construction. Tests and debug builds fail loudly; a
        // release build keeps the valid prefix rather than hand the store a
        // broken chain.
        if cfg!(any(test, debug_assertions)) {
            panic!("fund chain of {} broke at {i}: {e}", input.code);
        }
        out.truncate(i);
    }
    out
}

/// A document number (文号) in the style of the issuing side.
fn document_no(input: &MoneyInput<'_>, fund_type: FundType, year: i32, n: i64) -> String {
    let (issuer, word) = match fund_type {
        FundType::Commitment => (input.supporter_abbr, "援疆指"),
        FundType::Transfer => (input.supporter_abbr, "财援"),
        FundType::CarryOver => (input.supporter_abbr, "援疆结"),
        FundType::Allocation => (input.recipient_short, "援办拨"),
        FundType::Payment => (input.recipient_short, "援付"),
        FundType::Expenditure => (input.recipient_short, "援支"),
        FundType::Refund => (input.recipient_short, "援退"),
    };
    format!("{issuer}{word}〔{year}〕{n}号")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draw::{Purpose, Streams};

    fn input(until: NaiveDate, kind: ProjectKind) -> MoneyInput<'static> {
        MoneyInput {
            code: "YJ2020-31-00001",
            aid: Fen(1_200 * WAN),
            kind,
            milestones: Milestones {
                issued: ymd(2020, 3, 1),
                prep: Some(ymd(2020, 3, 20)),
                works_start: ymd(2020, 6, 1),
                works_end: ymd(2021, 5, 1),
                settle: ymd(2021, 7, 1),
                retention: Some(ymd(2022, 8, 1)),
            },
            until,
            normal: true,
            supporter_abbr: "沪",
            recipient_short: "莎车",
        }
    }

    #[test]
    fn finished_projects_are_paid_and_every_cut_replays() {
        let streams = Streams::new(3);
        for i in 0..300 {
            let kind = if i % 3 == 0 {
                ProjectKind::NonConstruction
            } else {
                ProjectKind::Construction
            };
            let full = transactions(
                &mut streams.rng(Purpose::Detail, i),
                &input(ymd(2026, 1, 1), kind),
            );
            let chain = FundChain::replay(&full, Fen(1_200 * WAN)).expect("replays");
            assert_eq!(chain.committed, Fen(1_200 * WAN));
            assert_eq!(chain.transferred, chain.committed);
            // Everything allocated is paid or refunded.
            assert_eq!(
                chain.paid.0 + chain.refunded.0,
                chain.allocated.0,
                "{full:#?}"
            );
            assert_eq!(chain.spent, chain.paid);
            let mut keys: Vec<(FundType, NaiveDate)> =
                full.iter().map(|t| (t.fund_type, t.date)).collect();
            keys.dedup();
            assert_eq!(keys.len(), full.len(), "one transaction per type and day");
            let mut docs: Vec<&str> = full.iter().map(|t| t.document_no.as_str()).collect();
            docs.sort_unstable();
            docs.dedup();
            assert_eq!(docs.len(), full.len(), "document numbers are unique");
            for t in &full {
                assert_eq!(t.validate(), Ok(()));
                assert_eq!(t.amount.0 % YUAN, 0, "whole yuan");
            }
            let cut = transactions(
                &mut streams.rng(Purpose::Detail, i),
                &input(ymd(2020, 9, 30), kind),
            );
            assert!(cut.iter().all(|t| t.date <= ymd(2020, 9, 30)));
            assert!(cut.len() < full.len());
            FundChain::replay(&cut, Fen(1_200 * WAN)).expect("a cut chain replays");
        }
    }

    #[test]
    fn nothing_before_the_plan_is_issued() {
        let streams = Streams::new(3);
        let none = transactions(
            &mut streams.rng(Purpose::Detail, 0),
            &input(ymd(2020, 2, 1), ProjectKind::Construction),
        );
        assert!(none.is_empty());
        let first = transactions(
            &mut streams.rng(Purpose::Detail, 0),
            &input(ymd(2020, 3, 1), ProjectKind::Construction),
        );
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].fund_type, FundType::Commitment);
        assert!(first[0].document_no.starts_with("沪援疆指〔2020〕"));
    }
}
