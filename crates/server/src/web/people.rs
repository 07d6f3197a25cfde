//! `/personnel` 援疆干部人才 (batches, people by category and host unit, the
//! rotation timeline, the list with personal data masked by the store as
//! the access rules say) and `/pairings` 结对关系 (who supports whom, over time).

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate, Utc};
use yuanjiang_domain::{AssignmentCategory, Role};
use yuanjiang_store::{AssignmentFilter, PersonalData};

use super::charts::{self, Bar, Group, Span};
use super::format::{Names, int};
use super::{Chrome, Ctx, WebError, filled, render};
use crate::AppState;

/// A batch row.
pub struct BatchRow {
    /// Supporter name.
    pub supporter: String,
    /// "第N批".
    pub number: String,
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
}

/// A person row; ID number and phone as the store returned them.
pub struct PersonRow {
    /// Name.
    pub name: String,
    /// Supporter and batch.
    pub sent_by: String,
    /// Category.
    pub category: &'static str,
    /// Host unit.
    pub host_unit: String,
    /// Post.
    pub post: String,
    /// ID number (masked unless allowed).
    pub id_number: String,
    /// Phone (masked unless allowed).
    pub phone: String,
    /// Arrival.
    pub arrival: String,
    /// Return.
    pub ret: String,
}

#[derive(Template)]
#[template(path = "personnel.html")]
struct PersonnelPage {
    c: Chrome,
    in_post: String,
    by_category: String,
    by_host: String,
    timeline: String,
    batch_chart: String,
    batches: Vec<BatchRow>,
    people: Vec<PersonRow>,
    masked: bool,
    more: bool,
}

fn batch_label(lang: super::Lang, n: u32) -> String {
    lang.t("personnel.batch_n").replace("{}", &n.to_string())
}

/// `GET /personnel`: the personnel overview for a signed-in user's scope;
/// `supporter` and `recipient` narrow it further.
pub async fn personnel(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    ctx.respond(personnel_page(&state, &ctx, filled(params)).await)
}

async fn personnel_page(
    state: &AppState,
    ctx: &Ctx,
    params: HashMap<String, String>,
) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let t = |k| lang.t(k);
    let principal = ctx.principal()?;
    let today = Utc::now().date_naive();
    let supporter = params.get("supporter").cloned();
    let recipient = params.get("recipient").cloned();
    let supporters = state.store.supporters().await?;
    let recipients = state.store.recipients(false).await?;
    let names = Names::new(&supporters, &recipients, lang);
    let parents: HashMap<&str, Option<&str>> = supporters
        .iter()
        .map(|s| (s.code.as_str(), s.parent_code.as_deref()))
        .collect();
    let sent_by = |code: &str, filter: &str| {
        code == filter || parents.get(code).copied().flatten() == Some(filter)
    };
    let summaries: Vec<_> = state
        .store
        .assignment_summaries(&ctx.viewer, today)
        .await?
        .into_iter()
        .filter(|a| {
            supporter
                .as_deref()
                .is_none_or(|s| sent_by(&a.supporter_code, s))
        })
        .filter(|a| {
            recipient
                .as_deref()
                .is_none_or(|r| a.recipient_code.starts_with(r))
        })
        .collect();
    let in_post: Vec<_> = summaries
        .iter()
        .filter(|a| a.arrival_date <= today)
        .collect();

    let mut cats: BTreeMap<AssignmentCategory, i64> = BTreeMap::new();
    let mut hosts: HashMap<(String, String), i64> = HashMap::new();
    for a in &in_post {
        *cats.entry(a.category).or_default() += 1;
        *hosts
            .entry((a.host_unit.clone(), a.recipient_code.clone()))
            .or_default() += 1;
    }
    let by_category = charts::bars(
        "chart-people-category",
        t("personnel.by_category"),
        &cats
            .iter()
            .map(|(c, n)| Bar {
                label: lang.pick(c.zh(), c.en()).to_owned(),
                value: *n,
                text: int(*n),
                tooltip: format!("{}：{}", lang.pick(c.zh(), c.en()), int(*n)),
            })
            .collect::<Vec<_>>(),
    );
    let mut host_bars: Vec<Bar> = hosts
        .into_iter()
        .map(|((host, code), n)| Bar {
            tooltip: format!("{host}（{}）：{}", names.recipient(&code), int(n)),
            label: host,
            value: n,
            text: int(n),
        })
        .collect();
    host_bars.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));
    host_bars.truncate(15);
    let by_host = charts::bars("chart-people-host", t("personnel.by_host"), &host_bars);

    // Who leaves when: returns per month over the next two years.
    let month_key = |d: NaiveDate| (d.year(), d.month());
    let mut months: Vec<(i32, u32)> = Vec::new();
    let (mut y, mut m) = month_key(today);
    for _ in 0..24 {
        months.push((y, m));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    let mut returns: HashMap<(i32, u32), i64> = HashMap::new();
    for a in &summaries {
        *returns.entry(month_key(a.return_date)).or_default() += 1;
    }
    let groups: Vec<Group> = months
        .iter()
        .map(|(y, m)| {
            let n = returns.get(&(*y, *m)).copied().unwrap_or(0);
            Group {
                label: if *m == 1 || (*y, *m) == months[0] {
                    format!("{y}-{m:02}")
                } else {
                    format!("{m:02}")
                },
                values: vec![(n, int(n))],
            }
        })
        .collect();
    let timeline = charts::columns(
        "chart-rotation",
        t("personnel.timeline"),
        &[t("personnel.return")],
        &groups,
    );

    let batch_scope = match principal.role {
        Role::Supporter => principal.scope.clone(),
        _ => supporter.clone(),
    };
    let all_batches = state.store.batches(batch_scope.as_deref()).await?;
    // The timeline shows batches in service in the last year or later.
    let recent: Vec<_> = all_batches
        .iter()
        .filter(|b| (today - b.end_date).num_days() < 365)
        .collect();
    let day = |d: NaiveDate| i64::from(d.num_days_from_ce());
    let from = recent
        .iter()
        .map(|b| day(b.start_date))
        .min()
        .unwrap_or(day(today));
    let to = recent
        .iter()
        .map(|b| day(b.end_date))
        .max()
        .unwrap_or(day(today));
    let ticks: Vec<(i64, String)> =
        (NaiveDate::from_num_days_from_ce_opt(i32::try_from(from).unwrap_or(0))
            .map_or(today.year(), |d| d.year())
            + 1
            ..=NaiveDate::from_num_days_from_ce_opt(i32::try_from(to).unwrap_or(0))
                .map_or(today.year(), |d| d.year()))
            .filter_map(|y| NaiveDate::from_ymd_opt(y, 1, 1).map(|d| (day(d), y.to_string())))
            .collect();
    let spans: Vec<Span> = recent
        .iter()
        .map(|b| {
            let label = format!(
                "{} {}",
                names.supporter(&b.supporter_code),
                batch_label(lang, b.number)
            );
            Span {
                tooltip: format!("{label}：{} – {}", b.start_date, b.end_date),
                label,
                start: day(b.start_date),
                end: day(b.end_date),
            }
        })
        .collect();
    let batch_chart = charts::timeline(
        "chart-batches",
        t("personnel.batches"),
        &spans,
        from,
        to,
        &ticks,
        Some((day(today), &today.to_string())),
    );
    let batches = all_batches
        .iter()
        .rev()
        .map(|b| BatchRow {
            supporter: names.supporter(&b.supporter_code),
            number: batch_label(lang, b.number),
            start: b.start_date.to_string(),
            end: b.end_date.to_string(),
        })
        .collect();

    let page = state
        .store
        .assignments(
            &AssignmentFilter {
                supporter,
                recipient,
                batch: None,
            },
            &ctx.viewer,
            None,
            100,
        )
        .await?;
    let masked = page
        .items
        .iter()
        .any(|a| a.personal_data == PersonalData::Masked);
    let people = page
        .items
        .iter()
        .map(|row| {
            let a = &row.assignment;
            PersonRow {
                name: a.person_name.clone(),
                sent_by: match a.batch_number {
                    Some(n) => format!(
                        "{} {}",
                        names.supporter(&a.supporter_code),
                        batch_label(lang, n)
                    ),
                    None => names.supporter(&a.supporter_code),
                },
                category: lang.pick(a.category.zh(), a.category.en()),
                host_unit: a.host_unit.clone(),
                post: a.post.clone(),
                id_number: a.id_number.clone().unwrap_or_default(),
                phone: a.phone.clone().unwrap_or_default(),
                arrival: a.arrival_date.to_string(),
                ret: a.return_date.to_string(),
            }
        })
        .collect();
    render(&PersonnelPage {
        c: Chrome::new(ctx, "/personnel", t("personnel.title")),
        in_post: int(i64::try_from(in_post.len()).unwrap_or(i64::MAX)),
        by_category,
        by_host,
        timeline,
        batch_chart,
        batches,
        people,
        masked,
        more: page.next_cursor.is_some(),
    })
}

/// A pairing row.
pub struct PairingRow {
    /// Supporter name.
    pub supporter: String,
    /// Recipient name.
    pub recipient: String,
    /// Scope label.
    pub scope: &'static str,
    /// Valid from.
    pub from: String,
    /// Valid to, or "ongoing".
    pub to: String,
}

#[derive(Template)]
#[template(path = "pairings.html")]
struct PairingsPage {
    c: Chrome,
    rows: Vec<PairingRow>,
    chart: String,
}

/// `GET /pairings`: who supports whom, with validity periods; open to all.
pub async fn pairings(State(state): State<AppState>, ctx: Ctx) -> Response {
    let result = async {
        let lang = ctx.lang;
        let t = |k| lang.t(k);
        let pairings = state.store.pairings().await?;
        let supporters = state.store.supporters().await?;
        let recipients = state.store.recipients(false).await?;
        let names = Names::new(&supporters, &recipients, lang);
        let today = Utc::now().date_naive();
        let day = |d: NaiveDate| i64::from(d.num_days_from_ce());
        let from = pairings
            .iter()
            .map(|p| day(p.valid_from))
            .min()
            .unwrap_or(day(today));
        let to = day(today).max(
            pairings
                .iter()
                .filter_map(|p| p.valid_to)
                .map(day)
                .max()
                .unwrap_or(0),
        );
        let first_year = NaiveDate::from_num_days_from_ce_opt(i32::try_from(from).unwrap_or(0))
            .map_or(today.year(), |d| d.year());
        let ticks: Vec<(i64, String)> = (first_year + 1..=today.year())
            .filter(|y| (y - first_year) % 4 == 0)
            .filter_map(|y| NaiveDate::from_ymd_opt(y, 1, 1).map(|d| (day(d), y.to_string())))
            .collect();
        let spans: Vec<Span> = pairings
            .iter()
            .map(|p| {
                let label = format!(
                    "{} → {}",
                    names.supporter(&p.supporter_code),
                    names.recipient(&p.recipient_code)
                );
                Span {
                    tooltip: format!(
                        "{label}：{} – {}",
                        p.valid_from,
                        p.valid_to
                            .map_or_else(|| t("pairings.ongoing").to_owned(), |d| d.to_string())
                    ),
                    label,
                    start: day(p.valid_from),
                    end: p.valid_to.map_or(to, day),
                }
            })
            .collect();
        let chart = charts::timeline(
            "chart-pairings",
            t("pairings.timeline"),
            &spans,
            from,
            to,
            &ticks,
            Some((day(today), &today.to_string())),
        );
        let rows = pairings
            .iter()
            .map(|p| PairingRow {
                supporter: names.supporter(&p.supporter_code),
                recipient: names.recipient(&p.recipient_code),
                scope: lang.pick(p.scope.zh(), p.scope.en()),
                from: p.valid_from.to_string(),
                to: p
                    .valid_to
                    .map_or_else(|| t("pairings.ongoing").to_owned(), |d| d.to_string()),
            })
            .collect();
        render(&PairingsPage {
            c: Chrome::new(&ctx, "/pairings", t("pairings.title")),
            rows,
            chart,
        })
    }
    .await;
    ctx.respond(result)
}
