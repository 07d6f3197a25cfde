//! One project, drawn in two layers. The header (pairing, category, kind,
//! place, amount, fate) is cheap and comes from its own stream, so plans can
//! sum the projects' funds without drawing the rest. The bundle adds the
//! name, the lifecycle walked up to today, the money and the indicators.

use chrono::{Datelike, NaiveDate, NaiveTime};
use rand::Rng;
use yuanjiang_domain::{
    Category, Fen, Indicator, IndicatorValue, Project, ProjectBundle, ProjectKind, ProjectState,
    RecipientLevel, StateChange,
};

use crate::catalog::{
    CATEGORY_WEIGHTS, IndicatorSpec, Level, delivery_weights, indicator_specs, livelihood_share,
    median_wan, name_templates, non_construction_share, reasons,
};
use crate::draw::{
    Purpose, Streams, WAN, between, chance, date_between, normal, one_of, shift, uniform, weighted,
    weighted_index, ymd,
};
use crate::funds::{Milestones, MoneyInput, transactions};
use crate::parties::short_name;
use crate::world::{World, YearTable};

/// How a project's life goes, decided up front so that plans can leave out
/// projects that never left the reserve list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The full lifecycle, as far as today allows.
    Normal,
    /// Still in the reserve list (储备): only in the current year.
    StaysProposed,
    /// Cancelled before works began.
    Cancel,
    /// Suspended and not resumed.
    Suspend,
    /// Adjusted and left there.
    Adjust,
    /// Suspended during works, then resumed.
    SuspendResume,
    /// Adjusted and re-issued, then carried on.
    AdjustReissue,
}

/// The cheap part of a project.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    /// Global index, which seeds its streams.
    pub index: u64,
    /// Plan year.
    pub year: i32,
    /// Index into [`World::pairings`].
    pub pairing: usize,
    /// Category.
    pub category: Category,
    /// Kind.
    pub kind: ProjectKind,
    /// Fate.
    pub fate: Fate,
    /// Level of the location.
    pub level: Level,
    /// Index into [`World::places`] of the location.
    pub place: usize,
    /// Aid funds.
    pub aid: Fen,
    /// County level and below.
    pub grassroots: bool,
    /// Livelihood.
    pub livelihood: bool,
}

impl Header {
    /// Whether the project counts in the year's issued plan.
    pub(crate) fn in_annual_plan(&self) -> bool {
        self.fate != Fate::StaysProposed
    }
}

/// Draws the header of global project `index`, which lies in `table`'s year.
pub(crate) fn header(world: &World, streams: &Streams, table: &YearTable, index: u64) -> Header {
    let mut rng = streams.rng(Purpose::Header, index);
    let slot = weighted_index(&mut rng, table.weights.iter().copied());
    let pairing = table.pairings.get(slot).copied().unwrap_or(0);
    let heavy = table.industry_heavy.get(slot).copied().unwrap_or(false);
    let category = weighted(&mut rng, &CATEGORY_WEIGHTS);
    let kind = if chance(&mut rng, non_construction_share(category)) {
        ProjectKind::NonConstruction
    } else {
        ProjectKind::Construction
    };
    let current_year = table.year == world.today.year();
    let fate = if current_year && chance(&mut rng, 0.12) {
        Fate::StaysProposed
    } else {
        match between(&mut rng, 0, 999) {
            0..=19 => Fate::Cancel,
            20..=39 => Fate::Suspend,
            40..=49 => Fate::Adjust,
            50..=79 => Fate::SuspendResume,
            80..=99 => Fate::AdjustReissue,
            _ => Fate::Normal,
        }
    };

    let target = world
        .pairings
        .get(pairing)
        .and_then(|p| world.targets.get(p.target));
    let (level, place) = match target {
        None => (Level::County, 0),
        Some(t) => {
            let own_level = world.places[t.place].level;
            let construction = kind == ProjectKind::Construction;
            // Where in the unit the project sits: buildings spread over
            // townships, programmes are run from the county seat.
            let wanted = match own_level {
                RecipientLevel::Prefecture => {
                    let weights: &[(Level, u32)] = if construction {
                        &[
                            (Level::Prefecture, 8),
                            (Level::County, 46),
                            (Level::Township, 46),
                        ]
                    } else {
                        &[
                            (Level::Prefecture, 20),
                            (Level::County, 70),
                            (Level::Township, 10),
                        ]
                    };
                    weighted(&mut rng, weights)
                }
                RecipientLevel::County => {
                    let p_township = if construction { 0.5 } else { 0.15 };
                    if chance(&mut rng, p_township) {
                        Level::Township
                    } else {
                        Level::County
                    }
                }
                _ => Level::County,
            };
            match wanted {
                Level::Prefecture => (Level::Prefecture, t.place),
                _ if t.counties.is_empty() => (Level::County, t.place),
                Level::County => (Level::County, *one_of(&mut rng, &t.counties)),
                Level::Township => {
                    let c = rng.random_range(0..t.counties.len());
                    match t.townships.get(c).filter(|towns| !towns.is_empty()) {
                        Some(towns) => (Level::Township, *one_of(&mut rng, towns)),
                        None => (Level::County, t.counties[c]),
                    }
                }
            }
        }
    };

    // Log-normal amounts around the category's median, with a few flagship
    // projects; prefecture-level facilities are larger.
    // Plans are drafted to meet the 80/80 rule, so non-livelihood projects
    // are rarer than the category alone suggests, except in the few plans
    // that lean towards industry and infrastructure.
    let not_livelihood = 1.0 - livelihood_share(category);
    let factor = if heavy { 2.5 } else { 0.35 };
    let livelihood = !chance(&mut rng, not_livelihood * factor);
    let mut wan = median_wan(category, kind) * (0.8 * normal(&mut rng)).exp();
    if level == Level::Prefecture {
        wan *= 1.8;
    }
    // The flagship projects are hospitals, schools and housing estates.
    if kind == ProjectKind::Construction && livelihood && chance(&mut rng, 0.025) {
        wan *= uniform(&mut rng, 4.0, 15.0);
    }
    let wan = wan.clamp(10.0, 50_000.0).round() as i64;
    Header {
        index,
        year: table.year,
        pairing,
        category,
        kind,
        fate,
        level,
        place,
        aid: Fen(wan * WAN),
        // County level and below; the Corps' divisions count as grassroots too.
        grassroots: level != Level::Prefecture,
        livelihood,
    }
}

/// One step of the lifecycle.
#[derive(Debug, Clone, Copy)]
struct Step {
    state: ProjectState,
    date: NaiveDate,
}

/// States a terminal side-event may branch from.
fn side_branches(kind: ProjectKind, fate: Fate) -> &'static [ProjectState] {
    use ProjectState::*;
    match (kind, fate) {
        (ProjectKind::Construction, Fate::Cancel | Fate::Adjust) => {
            &[Proposed, PlanIssued, Preparation, Tendering]
        }
        (ProjectKind::Construction, Fate::Suspend) => &[
            PlanIssued,
            Preparation,
            Tendering,
            UnderConstruction,
            UnderConstruction,
        ],
        (ProjectKind::NonConstruction, Fate::Cancel | Fate::Adjust) => &[Proposed, Approved],
        (ProjectKind::NonConstruction, Fate::Suspend) => &[Approved, Implementing],
        _ => &[],
    }
}

/// Pushes the works phase `(works, finished)` lasting `duration` days; a
/// `SuspendResume` project stops part-way for up to `resume_days`.
fn push_works(
    rng: &mut impl Rng,
    gaps: &mut Vec<(ProjectState, i64)>,
    fate: Fate,
    (works, finished): (ProjectState, ProjectState),
    duration: i64,
    resume_days: i64,
) {
    if fate == Fate::SuspendResume {
        let before = (duration as f64 * uniform(rng, 0.2, 0.7)) as i64;
        gaps.push((ProjectState::Suspended, before.max(1)));
        gaps.push((works, between(rng, 30, resume_days)));
        gaps.push((finished, (duration - before).max(1)));
    } else {
        gaps.push((finished, duration));
    }
}

/// The lifecycle with an adjustment after step `after`, a re-issue as
/// `issued`, and everything from step 2 (the first after issue) again.
fn reissue_detour(
    rng: &mut impl Rng,
    gaps: &[(ProjectState, i64)],
    after: usize,
    issued: ProjectState,
) -> Vec<(ProjectState, i64)> {
    let mut detour: Vec<(ProjectState, i64)> = gaps[..=after].to_vec();
    detour.push((ProjectState::Adjusted, between(rng, 10, 60)));
    detour.push((issued, between(rng, 15, 60)));
    detour.extend_from_slice(&gaps[2..]);
    detour
}

/// The whole intended lifecycle (not yet cut at today) and its money dates.
fn lifecycle(
    rng: &mut impl Rng,
    kind: ProjectKind,
    fate: Fate,
    aid: Fen,
    proposed: NaiveDate,
) -> (Vec<Step>, Milestones) {
    use ProjectState::*;
    let wan = (aid.0 / WAN).max(1) as f64;
    let mut gaps: Vec<(ProjectState, i64)> = Vec::new();
    match kind {
        ProjectKind::Construction => {
            // Bigger works take longer: about 7 months for 1 million yuan, 16 for 50 million.
            let duration =
                (200.0 + 70.0 * (wan / 100.0).ln()).max(120.0) as i64 + between(rng, -40, 80);
            let duration = duration.clamp(120, 900);
            gaps.extend([
                (Proposed, 0),
                (PlanIssued, between(rng, 20, 90)),
                (Preparation, between(rng, 15, 60)),
                (Tendering, between(rng, 45, 180)),
                (UnderConstruction, between(rng, 25, 75)),
            ]);
            push_works(
                rng,
                &mut gaps,
                fate,
                (UnderConstruction, Completed),
                duration,
                150,
            );
            gaps.push((Accepted, between(rng, 30, 120)));
            gaps.push((HandedOver, between(rng, 15, 60)));
            match between(rng, 0, 99) {
                0..=14 => {}
                15..=74 => gaps.push((Operating, between(rng, 1, 45))),
                75..=84 => gaps.push((Closed, between(rng, 30, 200))),
                _ => {
                    gaps.push((Operating, between(rng, 1, 45)));
                    gaps.push((Closed, between(rng, 730, 2190)));
                }
            }
            if fate == Fate::AdjustReissue {
                // Adjusted after plan issue, preparation or tendering.
                let after = between(rng, 1, 3) as usize;
                gaps = reissue_detour(rng, &gaps, after, PlanIssued);
            }
        }
        ProjectKind::NonConstruction => {
            let duration = between(rng, 60, 300);
            gaps.extend([
                (Proposed, 0),
                (Approved, between(rng, 15, 60)),
                (Implementing, between(rng, 10, 60)),
            ]);
            push_works(rng, &mut gaps, fate, (Implementing, Done), duration, 120);
            if chance(rng, 0.85) {
                gaps.push((Evaluated, between(rng, 30, 150)));
            }
            if fate == Fate::AdjustReissue {
                // Adjusted while proposed or once approved.
                let after = between(rng, 0, 1) as usize;
                gaps = reissue_detour(rng, &gaps, after, Approved);
            }
        }
    }

    let mut steps = Vec::with_capacity(gaps.len() + 1);
    let mut day = proposed;
    for (state, gap) in gaps {
        day = shift(day, gap);
        steps.push(Step { state, date: day });
    }
    let first = |wanted: &[ProjectState]| {
        steps
            .iter()
            .find(|s| wanted.contains(&s.state))
            .map(|s| s.date)
    };
    let issued = first(&[PlanIssued, Approved]).unwrap_or(proposed);
    let works_start = first(&[UnderConstruction, Implementing]).unwrap_or(issued);
    let works_end = first(&[Completed, Done]).unwrap_or(works_start);
    let (settle, retention) = match kind {
        ProjectKind::Construction => {
            let accepted = first(&[Accepted]).unwrap_or(works_end);
            let retention = chance(rng, 0.7).then(|| shift(accepted, between(rng, 365, 730)));
            (accepted, retention)
        }
        ProjectKind::NonConstruction => (shift(works_end, between(rng, 20, 60)), None),
    };
    let milestones = Milestones {
        issued,
        prep: first(&[Preparation]),
        works_start,
        works_end,
        settle,
        retention,
    };

    // A terminal side-event replaces everything after the step it branches from.
    let branches = side_branches(kind, fate);
    if !branches.is_empty() {
        let from_state = *one_of(rng, branches);
        if let Some(pos) = steps.iter().position(|s| s.state == from_state) {
            let next_gap = steps
                .get(pos + 1)
                .map_or(90, |n| (n.date - steps[pos].date).num_days());
            let gap = between(rng, 1, next_gap.max(2) - 1);
            let side = match fate {
                Fate::Cancel => Cancelled,
                Fate::Suspend => Suspended,
                _ => Adjusted,
            };
            let date = shift(steps[pos].date, gap);
            steps.truncate(pos + 1);
            steps.push(Step { state: side, date });
        }
    }
    if fate == Fate::StaysProposed {
        steps.truncate(1);
    }
    (steps, milestones)
}

/// Who records a move into `to`: the front-command officer for works, the
/// regional aid office for plans and evaluations, the recipient's office
/// for acceptance and hand-over.
fn actor(to: ProjectState, officer: &str, office: &str) -> String {
    use ProjectState::*;
    match to {
        PlanIssued | Approved | Adjusted | Cancelled | Evaluated => "region-office".to_owned(),
        Accepted | HandedOver | Operating | Closed => office.to_owned(),
        _ => officer.to_owned(),
    }
}

/// The place name as written in a project name: county and township for a
/// township, the unit's own name otherwise.
fn place_label(world: &World, place: usize) -> String {
    let p = &world.places[place];
    match p.county {
        Some(c) if p.level == RecipientLevel::Township => {
            format!("{}{}", world.places[c].name, p.name)
        }
        _ => p.name.clone(),
    }
}

/// Draws project `header`'s full record; `seq` numbers it within its
/// supporter and year.
pub(crate) fn bundle(world: &World, streams: &Streams, header: &Header, seq: u32) -> ProjectBundle {
    let mut rng = streams.rng(Purpose::Detail, header.index);
    let pairing = &world.pairings[header.pairing];
    let supporter = &world.supporters[pairing.supporter];
    let target = &world.targets[pairing.target];
    let recipient = &world.places[target.place];
    let year = header.year;
    let code = format!("YJ{year}-{}-{seq:05}", supporter.tag);

    let template = *one_of(
        &mut rng,
        name_templates(header.category, header.kind, header.level),
    );
    let label = place_label(world, header.place);
    let mut name = template
        .replace("{p}", &label)
        .replace("{y}", &year.to_string());
    let continued = header.kind == ProjectKind::Construction
        && !template.contains("{y}")
        && chance(&mut rng, 0.1);
    if continued {
        name.push_str("（二期）");
    }
    let delivery_mode = weighted(&mut rng, delivery_weights(header.kind));

    // The proposal falls early in the plan year, inside the pairing's term.
    let today = world.today;
    let from = ymd(year, 1, 5).max(pairing.valid_from);
    let mut to = ymd(year, 4, 30).max(shift(from, 100)).min(today);
    if let Some(end) = pairing.valid_to {
        to = to.min(end);
    }
    let proposed = date_between(&mut rng, from.min(to), to);

    let (steps, milestones) = lifecycle(&mut rng, header.kind, header.fate, header.aid, proposed);
    let kept: Vec<Step> = steps.iter().copied().filter(|s| s.date <= today).collect();
    let state = kept.last().map_or(ProjectState::Proposed, |s| s.state);
    let stopped = matches!(
        state,
        ProjectState::Cancelled | ProjectState::Suspended | ProjectState::Adjusted
    );
    let until = match kept.last() {
        Some(last) if stopped => last.date,
        _ => today,
    };

    let officer = format!("{}-officer", supporter.slug);
    let mut history = Vec::with_capacity(kept.len());
    let mut from_state = None;
    for s in &kept {
        let time = NaiveTime::from_hms_opt(
            between(&mut rng, 1, 9) as u32,
            between(&mut rng, 0, 59) as u32,
            0,
        )
        .unwrap_or_default();
        history.push(StateChange {
            from: from_state,
            to: s.state,
            at: s.date.and_time(time).and_utc(),
            by: actor(s.state, &officer, &target.office),
            reason: (*one_of(&mut rng, reasons(s.state))).to_owned(),
        });
        from_state = Some(s.state);
    }
    let issued = kept
        .iter()
        .any(|s| matches!(s.state, ProjectState::PlanIssued | ProjectState::Approved));
    let published = issued && chance(&mut rng, 0.9);

    let matching = if chance(&mut rng, 0.55) {
        crate::draw::share(header.aid, between(&mut rng, 5, 50), 100, WAN)
    } else {
        0
    };
    let other = if chance(&mut rng, 0.3) {
        crate::draw::share(header.aid, between(&mut rng, 1, 20), 100, WAN)
    } else {
        0
    };
    // Planned dates: works were planned a little earlier and shorter than they ran.
    let start_date = shift(milestones.works_start, -between(&mut rng, 0, 30));
    let planned_days = ((milestones.works_end - milestones.works_start).num_days() as f64
        * uniform(&mut rng, 0.8, 1.0)) as i64;
    let end_date = shift(start_date, planned_days.max(30));

    let recipient_short = short_name(&recipient.name);
    let money = MoneyInput {
        code: &code,
        aid: header.aid,
        kind: header.kind,
        milestones,
        until,
        normal: header.fate == Fate::Normal,
        supporter_abbr: supporter.abbr,
        recipient_short,
    };
    let transactions = if issued {
        transactions(&mut rng, &money)
    } else {
        Vec::new()
    };

    let started = kept.iter().any(|s| {
        matches!(
            s.state,
            ProjectState::UnderConstruction | ProjectState::Implementing
        )
    });
    let completed_on = kept
        .iter()
        .find(|s| matches!(s.state, ProjectState::Completed | ProjectState::Done))
        .map(|s| s.date);
    let indicators = indicators(
        &mut rng,
        &code,
        header,
        &milestones,
        started.then_some(until),
        completed_on,
        today,
    );

    let wan = header.aid.0 / WAN;
    let description = format!(
        "{}对口支援{}{}项目，位于{}，采用{}方式实施，安排援疆资金{}万元。",
        supporter.name,
        recipient.name,
        header.category.zh(),
        label,
        delivery_mode.zh(),
        wan
    );
    let project = Project {
        code,
        name,
        category: header.category,
        delivery_mode,
        kind: header.kind,
        year,
        in_plan: chance(&mut rng, 0.92),
        continued,
        grassroots: header.grassroots,
        livelihood: header.livelihood,
        supporter_code: supporter.code.clone(),
        recipient_code: recipient.code.clone(),
        location_code: world.places[header.place].code.clone(),
        planned_investment: Fen(header.aid.0 + matching + other),
        aid_funds: header.aid,
        matching_funds: Fen(matching),
        start_date,
        end_date,
        state,
        published,
        description,
    };
    ProjectBundle {
        project,
        history,
        transactions,
        indicators,
    }
}

/// A value rounded as it would be reported: one decimal for lengths and rates.
fn reported(value: f64, spec: &IndicatorSpec) -> f64 {
    if spec.rate || spec.unit == "公里" {
        (value * 10.0).round() / 10.0
    } else {
        value.round()
    }
}

/// One to three indicators with a value per year from the start of works.
/// `active_until` is `None` for projects that never started.
fn indicators(
    rng: &mut impl Rng,
    code: &str,
    header: &Header,
    ms: &Milestones,
    active_until: Option<NaiveDate>,
    completed_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Vec<(Indicator, Vec<IndicatorValue>)> {
    let specs = indicator_specs(header.category, header.kind);
    let count = between(rng, 1, specs.len().min(3) as i64) as usize;
    let offset = rng.random_range(0..specs.len());
    let million = header.aid.0 as f64 / 100_000_000.0;
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let spec = &specs[(offset + k) % specs.len()];
        let (baseline, target) = if spec.rate {
            (between(rng, 80, 88) as f64, between(rng, 90, 98) as f64)
        } else {
            let t = (million * spec.per_million * uniform(rng, 0.7, 1.3)).clamp(spec.min, spec.max);
            (0.0, reported(t, spec))
        };
        let mut values = Vec::new();
        if let Some(until) = active_until {
            // Report through two years after completion, or up to now.
            let last_year = completed_on
                .map_or(until.year(), |d| (d.year() + 2).min(until.year()))
                .min(today.year());
            let span = (ms.works_end - ms.works_start).num_days().max(1) as f64;
            for y in ms.works_start.year()..=last_year {
                let at = ymd(y, 12, 31).min(until);
                let done = completed_on.is_some_and(|d| d <= at);
                let actual = if spec.rate {
                    if !done {
                        continue;
                    }
                    (target + 2.0 * normal(rng)).clamp(60.0, 100.0)
                } else if done {
                    target * uniform(rng, 0.9, 1.12)
                } else {
                    let elapsed = (at - ms.works_start).num_days().max(0) as f64 / span;
                    target * 0.85 * elapsed.min(1.0)
                };
                values.push(IndicatorValue {
                    project_code: code.to_owned(),
                    name: spec.name.to_owned(),
                    period: y.to_string(),
                    actual: reported(baseline.max(actual), spec),
                });
            }
        }
        out.push((
            Indicator {
                project_code: code.to_owned(),
                name: spec.name.to_owned(),
                unit: spec.unit.to_owned(),
                baseline,
                target,
            },
            values,
        ));
    }
    out
}
