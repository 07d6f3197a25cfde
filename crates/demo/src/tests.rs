//! Tests of the generator as the store and the binary use it: determinism,
//! chunk-size independence, and that every record obeys the domain rules.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use yuanjiang_domain::codes::division_contains;
use yuanjiang_domain::project::validate_project_code;
use yuanjiang_domain::{
    AssignmentMode, Category, FundChain, FundType, PlanKind, ProjectBundle, ProjectKind,
    ProjectState, RecipientLevel, Reference, plan::meets_eighty_percent,
};

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).expect("date")
}

fn reference() -> Reference {
    Reference::load().expect("reference data loads")
}

fn all_chunks(g: &mut Generator, size: usize) -> Vec<ProjectBundle> {
    let mut out = Vec::new();
    while let Some(chunk) = g.next_chunk(size) {
        assert!(!chunk.is_empty() && chunk.len() <= size);
        out.extend(chunk);
    }
    out
}

fn small(seed: u64) -> (DemoExtras, Vec<ProjectBundle>) {
    let r = reference();
    let mut g = Generator::new(Scale::Small, seed, &r, today());
    let extras = g.extras();
    let bundles = all_chunks(&mut g, 50);
    (extras, bundles)
}

/// Checks one bundle against every rule a store would enforce.
fn check_bundle(b: &ProjectBundle, r: &Reference, central: &BTreeSet<String>) {
    let p = &b.project;
    let ctx = &p.code;
    assert_eq!(p.validate(), Ok(()), "{ctx}");
    assert_eq!(validate_project_code(&p.code), Ok(()), "{ctx}");
    assert!(p.name.chars().count() <= 200, "{ctx}");
    assert!(p.start_date <= p.end_date, "{ctx}");

    // History: a legal walk from Proposed, dated in order, up to today.
    assert_eq!(
        b.history.first().map(|h| (h.from, h.to)),
        Some((None, ProjectState::Proposed)),
        "{ctx}"
    );
    for w in b.history.windows(2) {
        assert_eq!(w[1].from, Some(w[0].to), "{ctx}");
        assert_eq!(w[0].to.check_transition(w[1].to, p.kind), Ok(()), "{ctx}");
        assert!(w[0].at < w[1].at, "{ctx}: dates must increase");
    }
    for h in &b.history {
        assert!(h.at.date_naive() <= today(), "{ctx}");
        assert!(!h.by.is_empty() && !h.reason.is_empty(), "{ctx}");
    }
    assert_eq!(b.history.last().map(|h| h.to), Some(p.state), "{ctx}");
    let proposed = b.history[0].at.date_naive();
    assert_eq!(proposed.year(), p.year, "{ctx}");

    // Money replays under the chain rule, capped by the aid funds.
    let chain = FundChain::replay(&b.transactions, p.aid_funds);
    assert!(chain.is_ok(), "{ctx}: {chain:?}");
    let mut keys = BTreeSet::new();
    for t in &b.transactions {
        assert_eq!(t.validate(), Ok(()), "{ctx}");
        assert_eq!(t.project_code, p.code);
        assert!(t.date <= today(), "{ctx}");
        assert!(t.date >= proposed, "{ctx}");
        assert!(
            keys.insert((t.fund_type, t.date, t.document_no.clone())),
            "{ctx}: duplicate key"
        );
    }
    if matches!(p.state, ProjectState::Proposed) {
        assert!(b.transactions.is_empty(), "{ctx}");
    }

    let mut names = BTreeSet::new();
    assert!((1..=3).contains(&b.indicators.len()), "{ctx}");
    for (i, values) in &b.indicators {
        assert_eq!(i.validate(), Ok(()), "{ctx}");
        assert_eq!(i.project_code, p.code);
        assert!(
            names.insert(i.name.clone()),
            "{ctx}: indicator names repeat"
        );
        let mut periods = BTreeSet::new();
        for v in values {
            assert_eq!(v.validate(), Ok(()), "{ctx}");
            assert_eq!(
                (v.project_code.as_str(), v.name.as_str()),
                (p.code.as_str(), i.name.as_str())
            );
            assert!(periods.insert(v.period.clone()), "{ctx}");
            assert!(
                v.period.parse::<i32>().is_ok_and(|y| y <= today().year()),
                "{ctx}"
            );
        }
    }

    // Location under the recipient; XPCC projects sit at the division.
    let location = r.recipients.iter().find(|u| u.code == p.location_code);
    let recipient = r.recipients.iter().find(|u| u.code == p.recipient_code);
    let (Some(location), Some(recipient)) = (location, recipient) else {
        panic!("{ctx}: unknown recipient or location");
    };
    if recipient.level.is_xpcc() {
        assert_eq!(p.location_code, p.recipient_code, "{ctx}");
    } else {
        assert!(
            division_contains(&p.recipient_code, &p.location_code),
            "{ctx}"
        );
    }
    let grassroots = matches!(
        location.level,
        RecipientLevel::County | RecipientLevel::Township | RecipientLevel::XpccDivision
    );
    assert_eq!(p.grassroots, grassroots, "{ctx}");

    // Only real pairings in force when the project was proposed; central
    // bodies support counties of the southern four prefectures.
    if central.contains(&p.supporter_code) {
        assert_eq!(recipient.level, RecipientLevel::County, "{ctx}");
        assert!(recipient.in_southern_four(), "{ctx}");
        assert!(p.code.contains("-ZY"), "{ctx}");
    } else {
        let paired = r.pairings.iter().any(|pr| {
            pr.supporter_code == p.supporter_code
                && pr.recipient_code == p.recipient_code
                && pr.is_active_on(proposed)
        });
        assert!(paired, "{ctx}: no pairing in force");
    }
}

#[test]
fn same_seed_same_data_and_another_seed_other_data() {
    let (e1, b1) = small(42);
    let (e2, b2) = small(42);
    assert_eq!(e1, e2);
    assert_eq!(b1, b2);
    let (e3, b3) = small(43);
    assert_ne!(e1.assignments, e3.assignments);
    assert_ne!(e1.plans, e3.plans);
    assert_ne!(b1, b3);
    // The frame is the same, only the draws differ.
    assert_eq!(e1.supporters, e3.supporters);
    assert_eq!(b1.len(), b3.len());
}

#[test]
fn chunk_size_and_call_order_do_not_change_the_output() {
    let r = reference();
    let mut a = Generator::new(Scale::Small, 9, &r, today());
    let extras_first = a.extras();
    let by_7 = all_chunks(&mut a, 7);
    let mut b = Generator::new(Scale::Small, 9, &r, today());
    let by_1000 = all_chunks(&mut b, 1000);
    let extras_last = b.extras();
    assert_eq!(by_7.len(), by_1000.len());
    assert_eq!(by_7, by_1000);
    assert_eq!(extras_first, extras_last);
    assert_eq!(a.next_chunk(10), None);
}

#[test]
fn small_scale_counts_and_every_bundle_is_valid() {
    let r = reference();
    let (extras, bundles) = small(1);
    let g = Generator::new(Scale::Small, 1, &r, today());
    let total = g.total_projects();
    assert!((200..=600).contains(&total), "{total}");
    assert_eq!(bundles.len() as u64, total);
    let central: BTreeSet<String> = extras.supporters.iter().map(|s| s.code.clone()).collect();
    let mut codes = BTreeSet::new();
    for b in &bundles {
        check_bundle(b, &r, &central);
        assert!(
            codes.insert(b.project.code.clone()),
            "duplicate code {}",
            b.project.code
        );
    }
    let years: BTreeSet<i32> = bundles.iter().map(|b| b.project.year).collect();
    assert_eq!(years.first(), Some(&2010));
    assert_eq!(years.last(), Some(&2026));
}

#[test]
fn small_data_looks_like_the_programme() {
    let (extras, bundles) = small(5);
    let aid = |f: &dyn Fn(&ProjectBundle) -> bool| -> i64 {
        bundles
            .iter()
            .filter(|b| f(b))
            .map(|b| b.project.aid_funds.0)
            .sum()
    };
    let total = aid(&|_| true);
    let grassroots = aid(&|b| b.project.grassroots) as f64 / total as f64;
    let livelihood = aid(&|b| b.project.livelihood) as f64 / total as f64;
    assert!(grassroots >= 0.8, "grassroots share {grassroots}");
    assert!(
        (0.7..=0.95).contains(&livelihood),
        "livelihood share {livelihood}"
    );

    let categories: BTreeSet<Category> = bundles.iter().map(|b| b.project.category).collect();
    assert!(categories.len() >= 8, "{categories:?}");
    // Old projects are finished, this year's are early.
    let finished = |b: &&&ProjectBundle| b.project.state.is_completed();
    let old: Vec<&ProjectBundle> = bundles.iter().filter(|b| b.project.year <= 2020).collect();
    let old_done = old.iter().filter(finished).count() as f64 / old.len() as f64;
    assert!(old_done > 0.8, "{old_done}");
    let current: Vec<&ProjectBundle> = bundles.iter().filter(|b| b.project.year == 2026).collect();
    assert!(!current.is_empty());
    assert!(current.iter().filter(finished).count() * 4 < current.len());
    // Finished construction is paid in full, less any refund.
    for b in old.iter().filter(|b| {
        matches!(
            b.project.state,
            ProjectState::Operating | ProjectState::Closed
        )
    }) {
        let c = FundChain::replay(&b.transactions, b.project.aid_funds).expect("replays");
        assert_eq!(c.committed, b.project.aid_funds, "{}", b.project.code);
        assert_eq!(c.paid.0 + c.refunded.0, c.allocated.0, "{}", b.project.code);
    }
    // Some projects are central ones.
    let central: BTreeSet<&str> = extras.supporters.iter().map(|s| s.code.as_str()).collect();
    let central_projects = bundles
        .iter()
        .filter(|b| central.contains(b.project.supporter_code.as_str()))
        .count();
    assert!(
        central_projects > 0 && central_projects * 10 < bundles.len(),
        "{central_projects}"
    );
    assert!(
        bundles
            .iter()
            .any(|b| b.project.kind == ProjectKind::NonConstruction)
    );
    assert!(
        bundles
            .iter()
            .flat_map(|b| &b.transactions)
            .any(|t| t.fund_type == FundType::CarryOver)
    );
}

#[test]
fn extras_validate_and_agree_with_projects() {
    let r = reference();
    let (extras, bundles) = small(11);
    assert_eq!(extras.supporters.len(), 8);
    for s in &extras.supporters {
        assert_eq!(s.validate(), Ok(()), "{}", s.name);
        assert!(!r.supporters.iter().any(|x| x.code == s.code));
    }
    let supporter_codes: BTreeSet<&str> = r
        .supporters
        .iter()
        .chain(&extras.supporters)
        .map(|s| s.code.as_str())
        .collect();
    let recipient_codes: BTreeSet<&str> = r.recipients.iter().map(|u| u.code.as_str()).collect();

    let names: BTreeSet<&str> = extras
        .front_commands
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names.len(),
        extras.front_commands.len(),
        "front command names are unique"
    );
    assert!(names.contains("上海市援疆前方指挥部"));
    assert!(names.contains("上海市援疆前方指挥部莎车分指挥部"));
    for c in &extras.front_commands {
        assert!(supporter_codes.contains(c.supporter_code.as_str()));
        assert!(
            recipient_codes.contains(c.recipient_code.as_str()),
            "{}",
            c.name
        );
    }
    let hqs = extras
        .front_commands
        .iter()
        .filter(|c| c.level == yuanjiang_domain::CommandLevel::Headquarters)
        .count();
    assert_eq!(hqs, 19 + 8, "one HQ per supporter");

    let mut plan_keys = BTreeSet::new();
    for p in &extras.plans {
        assert_eq!(p.validate(), Ok(()), "{p:?}");
        assert!(plan_keys.insert((
            p.kind,
            p.supporter_code.clone(),
            p.recipient_code.clone(),
            p.start_year,
            p.version
        )));
        assert!(supporter_codes.contains(p.supporter_code.as_str()));
    }
    // The latest annual plan of each finished year equals its projects' aid funds.
    let mut latest: BTreeMap<(String, String, i32), (u32, i64)> = BTreeMap::new();
    for p in extras.plans.iter().filter(|p| p.kind == PlanKind::Annual) {
        let e = latest
            .entry((
                p.supporter_code.clone(),
                p.recipient_code.clone(),
                p.start_year,
            ))
            .or_insert((0, 0));
        if p.version > e.0 {
            *e = (p.version, p.amount.0);
        }
    }
    let mut from_projects: BTreeMap<(String, String, i32), i64> = BTreeMap::new();
    for b in bundles.iter().filter(|b| b.project.year < 2026) {
        *from_projects
            .entry((
                b.project.supporter_code.clone(),
                b.project.recipient_code.clone(),
                b.project.year,
            ))
            .or_default() += b.project.aid_funds.0;
    }
    let plan_amounts: BTreeMap<_, i64> = latest
        .into_iter()
        .filter(|(k, _)| k.2 < 2026)
        .map(|(k, v)| (k, v.1))
        .collect();
    assert_eq!(plan_amounts, from_projects);
    assert!(
        extras
            .plans
            .iter()
            .any(|p| p.kind == PlanKind::FiveYear && p.start_year == 2026)
    );
    assert!(extras.plans.iter().any(|p| p.version == 2));

    let mut batch_numbers = BTreeSet::new();
    for b in &extras.batches {
        assert_eq!(b.validate(), Ok(()));
        assert!(b.start_date <= today());
        assert!(batch_numbers.insert((b.supporter_code.clone(), b.number)));
    }
    assert!(
        batch_numbers.contains(&("31".to_owned(), 11)),
        "Shanghai's 11th batch"
    );
    assert!(
        (150..=250).contains(&extras.assignments.len()),
        "{}",
        extras.assignments.len()
    );
    let latest_return = today() + chrono::Months::new(36);
    let mut ids = BTreeSet::new();
    for a in &extras.assignments {
        assert_eq!(a.validate(), Ok(()), "{a:?}");
        assert!(a.arrival_date <= today());
        assert!(a.return_date <= latest_return);
        assert!(recipient_codes.contains(a.recipient_code.as_str()));
        if let Some(n) = a.batch_number {
            assert!(batch_numbers.contains(&(a.supporter_code.clone(), n)));
        }
        let id = a.id_number.clone().expect("every person has an ID number");
        assert!(ids.insert(id), "ID numbers are unique");
        assert_eq!(a.appraisal.is_some(), a.return_date <= today());
        if a.mode == AssignmentMode::Team {
            assert!(a.arrival_date.year() >= 2016);
        }
    }
}

#[test]
fn eighty_eighty_mostly_holds_and_sometimes_breaks() {
    let r = reference();
    let mut g = Generator::new(Scale::Xinjiang, 3, &r, today());
    let extras = g.extras();
    let annual: Vec<_> = extras
        .plans
        .iter()
        .filter(|p| p.kind == PlanKind::Annual)
        .collect();
    let breaking = annual
        .iter()
        .filter(|p| {
            !meets_eighty_percent(p.grassroots_amount, p.amount)
                || !meets_eighty_percent(p.livelihood_amount, p.amount)
        })
        .count();
    assert!(breaking > 0, "the 80/80 warning needs something to find");
    assert!(
        breaking * 3 < annual.len(),
        "{breaking} of {}",
        annual.len()
    );
    let total: i64 = annual
        .iter()
        .filter(|p| p.version == 1)
        .map(|p| p.amount.0)
        .sum();
    // About 20 billion yuan a year (2 × 10^12 fen), over 16.5 years.
    let per_year = total as f64 / 16.5 / 100.0;
    assert!((1.4e10..=2.8e10).contains(&per_year), "{per_year}");
    assert!((15_000..=25_000).contains(&extras.assignments.len()));
}

#[test]
fn xinjiang_scale_sizes() {
    let r = reference();
    let mut g = Generator::new(Scale::Xinjiang, 7, &r, today());
    let total = g.total_projects();
    assert!((35_000..=50_000).contains(&total), "{total}");
    let central: BTreeSet<String> = parties::central_supporters()
        .into_iter()
        .map(|s| s.code)
        .collect();
    let mut projects = 0usize;
    let mut transactions = 0usize;
    while projects < 2_000 {
        let Some(chunk) = g.next_chunk(500) else {
            break;
        };
        for b in &chunk {
            check_bundle(b, &r, &central);
            transactions += b.transactions.len();
        }
        projects += chunk.len();
    }
    assert_eq!(projects, 2_000);
    let average = transactions as f64 / projects as f64;
    assert!(
        (15.0..=35.0).contains(&average),
        "{average} transactions per project"
    );
}

#[test]
fn scale_parsing() {
    assert_eq!(Scale::parse("small"), Some(Scale::Small));
    assert_eq!(Scale::parse("Xinjiang"), Some(Scale::Xinjiang));
    assert_eq!(Scale::parse("national"), Some(Scale::National));
    assert_eq!(Scale::parse("huge"), None);
    assert_eq!(
        Scale::National.projects_per_year(),
        10 * Scale::Xinjiang.projects_per_year()
    );
}
