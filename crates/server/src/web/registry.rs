//! `/projects` 项目库 (filters, Chinese full-text search, sorting, keyset
//! paging) and `/projects/{code}`, one project with its fund chain, state
//! history, approval steps, indicators and related people, plus the action
//! forms the viewer may use.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use yuanjiang_domain::{
    Action, ApprovalStep, Category, FundChain, FundRates, FundType, Owner, ProjectState,
    RecipientLevel, Role, Viewer,
};
use yuanjiang_search::SearchFilter;
use yuanjiang_store::{AssignmentFilter, RegistryQuery, RegistrySort};

use super::charts::{self, Bar};
use super::dashboard::{Opt, Rate, options};
use super::format::{self, Names, duration, int, pct, wan, yuan};
use super::{Chrome, Ctx, WebError, filled, render};
use crate::AppState;

/// Rows per registry page.
const PAGE: u32 = 50;
/// Most search hits considered.
const MAX_HITS: usize = 1000;

/// A registry row.
pub struct Row {
    /// Code.
    pub code: String,
    /// Link to the project.
    pub href: String,
    /// Name.
    pub name: String,
    /// Supporter name.
    pub supporter: String,
    /// Recipient name.
    pub recipient: String,
    /// Category label.
    pub category: &'static str,
    /// Plan year.
    pub year: i32,
    /// State label.
    pub state: &'static str,
    /// Approval label.
    pub approval: &'static str,
    /// Aid funds in 万元.
    pub aid: String,
}

/// A select filter of the registry form.
pub struct Select {
    /// Parameter name.
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// Options.
    pub options: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    c: Chrome,
    q: String,
    notice: Option<String>,
    rows: Vec<Row>,
    next_href: Option<String>,
    first_href: Option<String>,
    export_href: String,
    downloads: Vec<super::exchange::Download>,
    transaction_downloads: Vec<super::exchange::Download>,
    selects: Vec<Select>,
    sorts: Vec<Opt>,
    dirs: Vec<Opt>,
    can_create: bool,
    filtering: bool,
}

/// `GET /projects`: the registry.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    ctx.respond(registry(&state, &ctx, filled(params)).await)
}

fn yes_no(lang: super::Lang, current: Option<&String>) -> Vec<Opt> {
    options(
        vec![
            ("true".into(), lang.t("yes").into()),
            ("false".into(), lang.t("no").into()),
        ],
        current,
    )
}

async fn registry(
    state: &AppState,
    ctx: &Ctx,
    params: HashMap<String, String>,
) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let t = |k| lang.t(k);
    let api_params: HashMap<String, String> = params
        .iter()
        .filter(|(k, _)| crate::api::FILTER_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let filter = crate::api::scoped(crate::api::query::filter(&api_params)?, &ctx.caller());
    let q = params.get("q").cloned().unwrap_or_default();
    let searching = !q.trim().is_empty() && state.search.is_ready();
    let notice =
        (!q.trim().is_empty() && !state.search.is_ready()).then(|| t("search.building").to_owned());
    let sort_key = params.get("sort").map(String::as_str);
    let relevance = searching && matches!(sort_key, None | Some("relevance"));
    let sort = sort_key.and_then(RegistrySort::parse).unwrap_or_default();
    let descending = match params.get("dir").map(String::as_str) {
        Some("asc") => false,
        Some("desc") => true,
        _ => matches!(
            sort,
            RegistrySort::Newest
                | RegistrySort::Investment
                | RegistrySort::AidFunds
                | RegistrySort::Year
        ),
    };
    let hits = if searching {
        Some(
            state
                .search
                .search(&q, &SearchFilter::of(&ctx.viewer), MAX_HITS)
                .map_err(|e| crate::ApiError::internal(&e))?,
        )
    } else {
        None
    };
    let cursor = params.get("cursor").cloned();
    let (items, next_cursor) = match (&hits, relevance) {
        (Some(codes), true) => {
            // Relevance order comes from the index; page through it by offset.
            let offset: usize = cursor
                .as_deref()
                .and_then(|c| c.strip_prefix('r'))
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let end = (offset + PAGE as usize).min(codes.len());
            let slice = codes.get(offset..end).unwrap_or_default().to_vec();
            let page = state
                .store
                .registry(&RegistryQuery {
                    filter: filter.clone(),
                    only_codes: Some(slice.clone()),
                    limit: PAGE,
                    ..RegistryQuery::default()
                })
                .await?;
            let mut items = page.items;
            items.sort_by_key(|r| slice.iter().position(|c| *c == r.project.code));
            (items, (end < codes.len()).then(|| format!("r{end}")))
        }
        _ => {
            let page = state
                .store
                .registry(&RegistryQuery {
                    filter: filter.clone(),
                    only_codes: hits.clone(),
                    sort,
                    descending,
                    cursor: cursor.clone(),
                    limit: PAGE,
                })
                .await?;
            (page.items, page.next_cursor)
        }
    };
    let supporters = state.store.supporters().await?;
    let recipients = state.store.recipients(false).await?;
    let names = Names::new(&supporters, &recipients, lang);
    let rows = items
        .iter()
        .map(|r| {
            let p = &r.project;
            Row {
                href: format!("/projects/{}", format::url_encode(&p.code)),
                code: p.code.clone(),
                name: p.name.clone(),
                supporter: names.supporter(&p.supporter_code),
                recipient: names.recipient(&p.recipient_code),
                category: lang.pick(p.category.zh(), p.category.en()),
                year: p.year,
                state: lang.pick(p.state.zh(), p.state.en()),
                approval: lang.pick(r.approval.zh(), r.approval.en()),
                aid: wan(p.aid_funds),
            }
        })
        .collect();
    // Links keep every parameter but the cursor.
    let kept: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "cursor")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let with_cursor = |c: &str| {
        let mut pairs = kept.clone();
        pairs.push(("cursor", c));
        format!("/projects?{}", format::query_string(pairs))
    };
    let next_href = next_cursor.as_deref().map(with_cursor);
    let first_href = cursor
        .is_some()
        .then(|| format!("/projects?{}", format::query_string(kept.clone())));
    let mut export: Vec<(&str, &str)> = api_params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    export.push(("limit", "1000"));
    let export_href = format!("/api/v1/projects?{}", format::query_string(export));
    let (downloads, transaction_downloads) = super::exchange::downloads(lang, &api_params);

    let current = |k: &str| params.get(k);
    let years: Vec<(String, String)> = (2010..=Utc::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap_or(2026)
        + 1)
        .rev()
        .map(|y| (y.to_string(), y.to_string()))
        .collect();
    let selects = vec![
        Select {
            name: "supporter",
            label: t("supporter"),
            options: options(
                supporters
                    .iter()
                    .map(|s| (s.code.clone(), names.supporter(&s.code)))
                    .collect(),
                current("supporter"),
            ),
        },
        Select {
            name: "recipient",
            label: t("recipient"),
            options: options(
                recipients
                    .iter()
                    .filter(|r| r.level != RecipientLevel::Region && r.code != "6590")
                    .map(|r| {
                        let indent =
                            if matches!(r.level, RecipientLevel::County | RecipientLevel::Regiment)
                            {
                                "　"
                            } else {
                                ""
                            };
                        (r.code.clone(), format!("{indent}{}", r.name))
                    })
                    .collect(),
                current("recipient"),
            ),
        },
        Select {
            name: "category",
            label: t("category"),
            options: options(
                Category::ALL
                    .iter()
                    .map(|c| (c.key().to_owned(), lang.pick(c.zh(), c.en()).to_owned()))
                    .collect(),
                current("category"),
            ),
        },
        Select {
            name: "state",
            label: t("state"),
            options: options(
                ProjectState::ALL
                    .iter()
                    .map(|s| (s.key().to_owned(), lang.pick(s.zh(), s.en()).to_owned()))
                    .collect(),
                current("state"),
            ),
        },
        Select {
            name: "year",
            label: t("sort.year"),
            options: options(years, current("year")),
        },
        Select {
            name: "in_plan",
            label: t("in_plan"),
            options: yes_no(lang, current("in_plan")),
        },
        Select {
            name: "continued",
            label: t("continued"),
            options: yes_no(lang, current("continued")),
        },
        Select {
            name: "grassroots",
            label: t("grassroots"),
            options: yes_no(lang, current("grassroots")),
        },
        Select {
            name: "livelihood",
            label: t("livelihood"),
            options: yes_no(lang, current("livelihood")),
        },
        Select {
            name: "xpcc",
            label: t("xpcc"),
            options: options(
                vec![
                    ("true".into(), t("xpcc.only").into()),
                    ("false".into(), t("xpcc.without").into()),
                ],
                current("xpcc"),
            ),
        },
    ];
    let mut sort_items = Vec::new();
    if searching {
        sort_items.push(("relevance".to_owned(), t("sort.relevance").to_owned()));
    }
    for s in RegistrySort::ALL {
        sort_items.push((
            s.key().to_owned(),
            lang.t(&format!("sort.{}", s.key())).to_owned(),
        ));
    }
    let chosen_sort = if relevance {
        "relevance".to_owned()
    } else {
        sort.key().to_owned()
    };
    let chosen_dir = if descending {
        "desc".to_owned()
    } else {
        "asc".to_owned()
    };
    let can_create = matches!(&ctx.viewer, Viewer::User(p) if p.role == Role::Supporter);
    render(&ProjectsPage {
        c: Chrome::new(ctx, "/projects", t("projects.title")),
        notice: notice.or_else(|| relevance.then(|| t("search.hits").to_owned())),
        q,
        rows,
        next_href,
        first_href,
        export_href,
        downloads,
        transaction_downloads,
        selects,
        sorts: options(sort_items, Some(&chosen_sort)),
        dirs: options(
            vec![
                ("asc".into(), t("dir.asc").into()),
                ("desc".into(), t("dir.desc").into()),
            ],
            Some(&chosen_dir),
        ),
        can_create,
        filtering: !api_params.is_empty(),
    })
}

/// What a form on the project page sent, and what was wrong with it, so
/// the page can show the error next to the field and keep the input.
#[derive(Default)]
pub struct Feedback {
    /// Which form: `state`, `txn` or `step`.
    pub form: &'static str,
    /// The field at fault.
    pub field: String,
    /// The message, in the page's language.
    pub message: String,
    /// What was sent.
    pub values: HashMap<String, String>,
}

impl Feedback {
    /// The value sent in `form`'s field `name`, or empty.
    pub fn v(&self, form: &str, name: &str) -> &str {
        if self.form == form {
            self.values.get(name).map_or("", String::as_str)
        } else {
            ""
        }
    }

    /// The error for `form`'s field `name`, if that is where it is.
    pub fn err(&self, form: &str, name: &str) -> Option<&str> {
        (self.form == form && self.field == name).then_some(self.message.as_str())
    }

    /// Whether `value` was chosen in `form`'s field `name`.
    pub fn chose(&self, form: &str, name: &str, value: &str) -> bool {
        self.v(form, name) == value
    }
}

/// A line of the summary.
pub struct Line {
    /// Label.
    pub label: &'static str,
    /// Value.
    pub value: String,
}

/// A figure of the fund chain.
pub struct ChainStep {
    /// Label.
    pub label: &'static str,
    /// Exact in yuan.
    pub exact: String,
}

/// A transaction row.
pub struct TxnRow {
    /// Date.
    pub date: String,
    /// Type label.
    pub kind: &'static str,
    /// Amount in yuan.
    pub amount: String,
    /// Document number.
    pub document_no: String,
    /// Note.
    pub note: String,
}

/// A state-history row.
pub struct HistoryRow {
    /// When.
    pub at: String,
    /// From.
    pub from: String,
    /// To.
    pub to: &'static str,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// How long the project stayed in `to`.
    pub stayed: String,
}

/// An approval-step row.
pub struct StepRow {
    /// When.
    pub at: String,
    /// What.
    pub step: &'static str,
    /// Status after.
    pub to: &'static str,
    /// Who, in which role.
    pub actor: String,
    /// Comment.
    pub comment: String,
    /// How long it had waited.
    pub waited: String,
}

/// An indicator row.
pub struct IndicatorRow {
    /// Name.
    pub name: String,
    /// Unit.
    pub unit: String,
    /// Baseline.
    pub baseline: String,
    /// Target.
    pub target: String,
    /// Latest actual (with its period).
    pub actual: String,
    /// Progress from baseline to target, 0–100.
    pub progress: u32,
}

/// A person posted by the project's supporter to its recipient.
pub struct PersonRow {
    /// Name.
    pub name: String,
    /// Category.
    pub category: &'static str,
    /// Host unit.
    pub host_unit: String,
    /// Arrival to return.
    pub term: String,
}

/// An approval step the viewer may take now.
pub struct StepButton {
    /// Step key.
    pub value: &'static str,
    /// Label.
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    c: Chrome,
    flash: Option<&'static str>,
    code: String,
    version: i64,
    summary: Vec<Line>,
    description: String,
    chain: Vec<ChainStep>,
    chain_chart: String,
    rates: Vec<Rate>,
    txns: Vec<TxnRow>,
    history: Vec<HistoryRow>,
    approvals: Vec<StepRow>,
    indicators: Vec<IndicatorRow>,
    people: Vec<PersonRow>,
    people_href: String,
    can_edit: bool,
    next_states: Vec<Opt>,
    fund_types: Vec<Opt>,
    steps: Vec<StepButton>,
    attachments: super::attachments::Section,
    fb: Feedback,
}

/// `GET /projects/{code}`: one project.
pub async fn project(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let flash = params.contains_key("saved");
    ctx.respond(project_page(&state, &ctx, &code, Feedback::default(), flash).await)
}

/// A UTC time as Beijing time (UTC+8), to the minute.
pub(super) fn beijing(t: chrono::DateTime<Utc>) -> String {
    let tz = chrono::FixedOffset::east_opt(8 * 3600);
    tz.map_or_else(
        || t.format("%Y-%m-%d %H:%M").to_string(),
        |tz| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        int(x as i64)
    } else {
        format!("{x:.2}")
    }
}

/// Renders the project page; with `fb`, a form's error and input (422).
pub async fn project_page(
    state: &AppState,
    ctx: &Ctx,
    code: &str,
    fb: Feedback,
    saved: bool,
) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let t = |k| lang.t(k);
    let caller = ctx.caller();
    // Absent and out of scope are both 404 (`WebError::from` keeps that).
    let row = crate::api::writes::authorised(state, &caller, code, Action::Read).await?;
    let p = &row.project;
    let parent = state.store.supporter_parent(&p.supporter_code).await?;
    let owner = Owner {
        supporter_code: &p.supporter_code,
        recipient_code: &p.recipient_code,
        published: p.published,
    };
    let may = |a| ctx.viewer.may(a, owner, parent.as_deref());
    let transactions = state.store.project_transactions(row.id).await?;
    let chain = FundChain::sum(transactions.iter().map(|t| &t.transaction));
    let history = state.store.project_history(row.id).await?;
    let approvals = state.store.approval_steps(row.id).await?;
    let indicators = state.store.project_indicators(row.id, &p.code).await?;
    let supporters = state.store.supporters().await?;
    let recipients = state.store.recipients(true).await?;
    let names = Names::new(&supporters, &recipients, lang);
    let people = state
        .store
        .assignments(
            &AssignmentFilter {
                supporter: Some(p.supporter_code.clone()),
                recipient: Some(p.recipient_code.clone()),
                batch: None,
            },
            &ctx.viewer,
            None,
            10,
        )
        .await?;

    let yes = |b: bool| t(if b { "yes" } else { "no" }).to_owned();
    let summary = vec![
        Line {
            label: t("code"),
            value: p.code.clone(),
        },
        Line {
            label: t("supporter"),
            value: names.supporter(&p.supporter_code),
        },
        Line {
            label: t("recipient"),
            value: names.recipient(&p.recipient_code),
        },
        Line {
            label: t("location"),
            value: names.recipient(&p.location_code),
        },
        Line {
            label: t("category"),
            value: lang.pick(p.category.zh(), p.category.en()).to_owned(),
        },
        Line {
            label: t("delivery_mode"),
            value: lang
                .pick(p.delivery_mode.zh(), p.delivery_mode.en())
                .to_owned(),
        },
        Line {
            label: t("kind"),
            value: lang.pick(p.kind.zh(), p.kind.en()).to_owned(),
        },
        Line {
            label: t("sort.year"),
            value: p.year.to_string(),
        },
        Line {
            label: t("state"),
            value: lang.pick(p.state.zh(), p.state.en()).to_owned(),
        },
        Line {
            label: t("approval"),
            value: lang.pick(row.approval.zh(), row.approval.en()).to_owned(),
        },
        Line {
            label: t("planned_investment"),
            value: format!("{} {}", yuan(p.planned_investment), t("yuan")),
        },
        Line {
            label: t("aid_funds"),
            value: format!("{} {}", yuan(p.aid_funds), t("yuan")),
        },
        Line {
            label: t("matching_funds"),
            value: format!("{} {}", yuan(p.matching_funds), t("yuan")),
        },
        Line {
            label: t("start_date"),
            value: p.start_date.to_string(),
        },
        Line {
            label: t("end_date"),
            value: p.end_date.to_string(),
        },
        Line {
            label: t("in_plan"),
            value: yes(p.in_plan),
        },
        Line {
            label: t("continued"),
            value: yes(p.continued),
        },
        Line {
            label: t("grassroots"),
            value: yes(p.grassroots),
        },
        Line {
            label: t("livelihood"),
            value: yes(p.livelihood),
        },
        Line {
            label: t("published"),
            value: yes(p.published),
        },
    ];
    let steps = [
        ("fig.planned", chain.committed),
        ("fig.transferred", chain.transferred),
        ("fig.allocated", chain.allocated),
        ("fig.paid", chain.paid),
        ("fig.spent", chain.spent),
        ("fig.refunded", chain.refunded),
    ];
    let chain_rows: Vec<ChainStep> = steps
        .iter()
        .map(|(k, f)| ChainStep {
            label: t(k),
            exact: yuan(*f),
        })
        .collect();
    let chain_chart = charts::bars(
        "chart-chain",
        &format!("{}（{}）", t("fund_chain"), t("wan_yuan")),
        &steps[..5]
            .iter()
            .map(|(k, f)| Bar {
                label: t(k).to_owned(),
                value: f.0,
                text: wan(*f),
                tooltip: format!("{}：{} {}", t(k), yuan(*f), t("yuan")),
            })
            .collect::<Vec<_>>(),
    );
    let r = FundRates::of(&chain);
    let rates = vec![
        Rate {
            label: t("rate.arrival"),
            value: pct(r.arrival_rate),
        },
        Rate {
            label: t("rate.allocation"),
            value: pct(r.allocation_rate),
        },
        Rate {
            label: t("rate.payment"),
            value: pct(r.payment_rate),
        },
        Rate {
            label: t("rate.execution"),
            value: pct(r.execution_rate),
        },
    ];
    let txns = transactions
        .iter()
        .map(|tr| {
            let x = &tr.transaction;
            TxnRow {
                date: x.date.to_string(),
                kind: lang.pick(x.fund_type.zh(), x.fund_type.en()),
                amount: yuan(x.amount),
                document_no: x.document_no.clone(),
                note: x.note.clone(),
            }
        })
        .collect();
    let now = Utc::now();
    let history_rows = history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let until = history.get(i + 1).map(|n| n.at);
            let stayed = (until.unwrap_or(now) - h.at).num_seconds();
            HistoryRow {
                at: beijing(h.at),
                from: h
                    .from
                    .map_or_else(String::new, |s| lang.pick(s.zh(), s.en()).to_owned()),
                to: lang.pick(h.to.zh(), h.to.en()),
                by: h.by.clone(),
                reason: h.reason.clone(),
                stayed: if until.is_some() {
                    duration(stayed, lang)
                } else {
                    format!("{}（{}）", duration(stayed, lang), t("history.current"))
                },
            }
        })
        .collect();
    let approval_rows = approvals
        .iter()
        .map(|a| {
            let role = Role::parse(&a.actor_role).map_or_else(
                |_| a.actor_role.clone(),
                |r| lang.pick(r.zh(), r.en()).to_owned(),
            );
            StepRow {
                at: beijing(a.at),
                step: lang.pick(a.step.zh(), a.step.en()),
                to: lang.pick(a.to.zh(), a.to.en()),
                actor: format!("{} · {role}", a.actor),
                comment: a.comment.clone(),
                waited: duration(a.waited_seconds, lang),
            }
        })
        .collect();
    let indicator_rows = indicators
        .iter()
        .map(|(i, values)| {
            let last = values.last();
            let progress = last.map_or(0.0, |v| {
                let span = i.target - i.baseline;
                if span.abs() < f64::EPSILON {
                    if v.actual >= i.target { 100.0 } else { 0.0 }
                } else {
                    ((v.actual - i.baseline) / span * 100.0).clamp(0.0, 100.0)
                }
            });
            IndicatorRow {
                name: i.name.clone(),
                unit: i.unit.clone(),
                baseline: number(i.baseline),
                target: number(i.target),
                actual: last.map_or_else(
                    || "—".to_owned(),
                    |v| format!("{}（{}）", number(v.actual), v.period),
                ),
                progress: progress.round() as u32,
            }
        })
        .collect();
    let people_rows = people
        .items
        .iter()
        .map(|a| {
            let x = &a.assignment;
            PersonRow {
                name: x.person_name.clone(),
                category: lang.pick(x.category.zh(), x.category.en()),
                host_unit: x.host_unit.clone(),
                term: format!("{} – {}", x.arrival_date, x.return_date),
            }
        })
        .collect();
    let can_edit = may(Action::Edit);
    let next_states = if can_edit {
        p.state
            .next_states(p.kind)
            .iter()
            .map(|s| Opt {
                value: s.key().to_owned(),
                label: lang.pick(s.zh(), s.en()).to_owned(),
                selected: fb.chose("state", "to", s.key()),
            })
            .collect()
    } else {
        Vec::new()
    };
    let fund_types = FundType::ALL
        .iter()
        .map(|f| Opt {
            value: f.key().to_owned(),
            label: lang.pick(f.zh(), f.en()).to_owned(),
            selected: fb.chose("txn", "fund_type", f.key()),
        })
        .collect();
    let steps = ApprovalStep::ALL
        .iter()
        .filter_map(|s| {
            let (_, needed) = s.apply(row.approval).ok()?;
            may(needed).then(|| StepButton {
                value: s.key(),
                label: lang.pick(s.zh(), s.en()),
            })
        })
        .collect();
    let attachments = super::attachments::section(state, ctx, &row, can_edit, &fb).await?;
    let status = if fb.form.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ProjectPage {
        c: Chrome::new(ctx, "/projects", p.name.clone()),
        flash: saved.then(|| t("done")),
        code: p.code.clone(),
        version: row.row_version,
        summary,
        description: p.description.clone(),
        chain: chain_rows,
        chain_chart,
        rates,
        txns,
        history: history_rows,
        approvals: approval_rows,
        indicators: indicator_rows,
        people: people_rows,
        people_href: format!(
            "/personnel?{}",
            format::query_string([
                ("supporter", p.supporter_code.as_str()),
                ("recipient", p.recipient_code.as_str())
            ])
        ),
        can_edit,
        next_states,
        fund_types,
        steps,
        attachments,
        fb,
    };
    let mut response = render(&page)?;
    *response.status_mut() = status;
    Ok(response.into_response())
}
