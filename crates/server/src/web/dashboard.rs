//! `/` 首页: headline figures, rates, the 80/80 shares and projects by
//! state, with charts by year, supporter and category, for the viewer's own
//! scope. Figures come from `Store::fund_stats`, the layer the API's
//! `/api/v1/stats/funds` uses, so the two agree to the fen.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use yuanjiang_domain::rates::ratio;
use yuanjiang_domain::{Category, Fen, FundChain, FundRates, ProjectState, Viewer};
use yuanjiang_store::{ProjectCountBy, ProjectFilter, StatDimension};

use super::charts::{self, Bar, Group};
use super::format::{self, Names, int, pct, wan, yuan};
use super::{Chrome, Ctx, WebError, filled, render};
use crate::AppState;
use crate::cache::{Asker, Cached};

/// A headline figure.
pub struct Figure {
    /// What it is.
    pub label: &'static str,
    /// In 万元.
    pub wan: String,
    /// Exact, in yuan.
    pub exact: String,
}

/// A rate.
pub struct Rate {
    /// What it is.
    pub label: &'static str,
    /// As a percentage.
    pub value: String,
}

/// One of the 80/80 shares.
pub struct Share {
    /// What it is.
    pub label: &'static str,
    /// As a percentage.
    pub value: String,
    /// At least 80%.
    pub ok: bool,
}

/// Projects in one state.
pub struct StateCount {
    /// State label.
    pub label: &'static str,
    /// Count.
    pub count: String,
    /// Registry link filtered to the state.
    pub href: String,
}

/// A `<select>` option.
pub struct Opt {
    /// Value sent.
    pub value: String,
    /// Label shown.
    pub label: String,
    /// Currently chosen.
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    c: Chrome,
    scope_note: String,
    figures: Vec<Figure>,
    rates: Vec<Rate>,
    shares: Vec<Share>,
    states: Vec<StateCount>,
    total_projects: String,
    chart_year: String,
    chart_supporter: String,
    chart_category: String,
    years: Vec<Opt>,
    supporters: Vec<Opt>,
    prefectures: Vec<Opt>,
    xpcc: Vec<Opt>,
}

/// Options of a select, with `current` chosen.
pub fn options(items: Vec<(String, String)>, current: Option<&String>) -> Vec<Opt> {
    items
        .into_iter()
        .map(|(value, label)| Opt {
            selected: current == Some(&value),
            value,
            label,
        })
        .collect()
}

/// `GET /`: the dashboard.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    // The public's dashboard is the same for every visitor: it is built once
    // per change to the data (the signed-in see their name and form token).
    if ctx.viewer != Viewer::Public {
        return ctx.respond(dashboard(&state, &ctx, filled(params)).await);
    }
    let result = async {
        let key = format!("dashboard:{}:{}", ctx.lang.tag(), ctx.here);
        state
            .cache
            .get_or_build(&state.store, key, Asker::Public, || async {
                let page = dashboard(&state, &ctx, filled(params)).await?;
                let body = axum::body::to_bytes(page.into_body(), usize::MAX)
                    .await
                    .map_err(|e| crate::ApiError::internal(&e))?;
                Ok::<_, WebError>(Cached {
                    body,
                    etag: None,
                    owner: None,
                })
            })
            .await
    }
    .await
    .map(|hit: std::sync::Arc<Cached>| {
        (
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            hit.body.clone(),
        )
            .into_response()
    });
    ctx.respond(result)
}

/// The registry/stats filter from the dashboard's fields, narrowed to the viewer.
fn dashboard_filter(
    ctx: &Ctx,
    params: &HashMap<String, String>,
) -> Result<ProjectFilter, WebError> {
    let mut api_params = HashMap::new();
    for (from, to) in [
        ("year", "year"),
        ("supporter", "supporter"),
        ("prefecture", "recipient"),
        ("xpcc", "xpcc"),
    ] {
        if let Some(v) = params.get(from) {
            api_params.insert(to.to_owned(), v.clone());
        }
    }
    let filter = crate::api::query::filter(&api_params)?;
    Ok(crate::api::scoped(filter, &ctx.caller()))
}

async fn dashboard(
    state: &AppState,
    ctx: &Ctx,
    params: HashMap<String, String>,
) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let t = |k| lang.t(k);
    let filter = dashboard_filter(ctx, &params)?;
    let store = &state.store;
    let rows = store
        .fund_stats(
            &filter,
            &[
                StatDimension::Year,
                StatDimension::Supporter,
                StatDimension::Category,
            ],
        )
        .await?;
    let share_of = |flag: fn(&mut ProjectFilter)| {
        let mut f = filter.clone();
        flag(&mut f);
        f
    };
    let grassroots = store
        .fund_stats(&share_of(|f| f.grassroots = Some(true)), &[])
        .await?;
    let livelihood = store
        .fund_stats(&share_of(|f| f.livelihood = Some(true)), &[])
        .await?;
    let states: Vec<(String, i64)> = store
        .count_projects_by(&filter, &[ProjectCountBy::State])
        .await?
        .into_iter()
        .map(|(mut k, n)| (k.pop().unwrap_or_default(), n))
        .collect();
    let supporters = store.supporters().await?;
    let recipients = store.recipients(false).await?;
    let names = Names::new(&supporters, &recipients, lang);

    let mut total = FundChain::default();
    let mut by_year: BTreeMap<String, FundChain> = BTreeMap::new();
    let mut by_supporter: HashMap<String, FundChain> = HashMap::new();
    let mut by_category: HashMap<String, FundChain> = HashMap::new();
    for r in &rows {
        total.merge(&r.chain);
        let value = |d: StatDimension| {
            r.key
                .iter()
                .find(|(k, _)| *k == d)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        by_year
            .entry(value(StatDimension::Year))
            .or_default()
            .merge(&r.chain);
        by_supporter
            .entry(value(StatDimension::Supporter))
            .or_default()
            .merge(&r.chain);
        by_category
            .entry(value(StatDimension::Category))
            .or_default()
            .merge(&r.chain);
    }
    let figure = |label, f: Fen| Figure {
        label: t(label),
        wan: wan(f),
        exact: yuan(f),
    };
    let figures = vec![
        figure("fig.planned", total.committed),
        figure("fig.transferred", total.transferred),
        figure("fig.allocated", total.allocated),
        figure("fig.paid", total.paid),
        figure("fig.spent", total.spent),
    ];
    let r = FundRates::of(&total);
    let mut planned_n = 0;
    let (mut started, mut completed, mut accepted, mut all_n) = (0, 0, 0, 0);
    let mut state_counts = Vec::new();
    for (key, n) in &states {
        all_n += n;
        let Ok(s) = ProjectState::parse(key) else {
            continue;
        };
        if s.is_planned() {
            planned_n += n;
            started += if s.is_started() { *n } else { 0 };
            completed += if s.is_completed() { *n } else { 0 };
            accepted += if s.is_accepted() { *n } else { 0 };
        }
        state_counts.push((s, *n));
    }
    state_counts.sort_by_key(|(s, _)| ProjectState::ALL.iter().position(|x| x == s));
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
        Rate {
            label: t("rate.start"),
            value: pct(ratio(started, planned_n)),
        },
        Rate {
            label: t("rate.completion"),
            value: pct(ratio(completed, planned_n)),
        },
        Rate {
            label: t("rate.acceptance"),
            value: pct(ratio(accepted, planned_n)),
        },
    ];
    let committed = |rows: &[yuanjiang_store::FundStatRow]| {
        rows.iter().map(|r| r.chain.committed.0).sum::<i64>()
    };
    let share = |label, part: i64| {
        let share = ratio(part, total.committed.0);
        Share {
            label: t(label),
            value: pct(share),
            // Exact integer test, as the plan rule does: part ≥ 80% of whole.
            ok: total.committed.0 > 0 && part * 100 >= total.committed.0 * 80,
        }
    };
    let shares = vec![
        share("eighty.grassroots", committed(&grassroots)),
        share("eighty.livelihood", committed(&livelihood)),
    ];
    let base = |extra: (&str, &str)| {
        let mut pairs: Vec<(&str, &str)> = ["year", "supporter", "xpcc"]
            .into_iter()
            .filter_map(|k| params.get(k).map(|v| (k, v.as_str())))
            .collect();
        if let Some(p) = params.get("prefecture") {
            pairs.push(("recipient", p));
        }
        pairs.push(extra);
        format!("/projects?{}", format::query_string(pairs))
    };
    let states = state_counts
        .into_iter()
        .map(|(s, n)| StateCount {
            label: lang.pick(s.zh(), s.en()),
            count: int(n),
            href: base(("state", s.key())),
        })
        .collect();

    let year_groups: Vec<Group> = by_year
        .iter()
        .map(|(y, c)| Group {
            label: y.clone(),
            values: vec![
                (
                    c.committed.0,
                    format!("{} {}", wan(c.committed), t("wan_yuan")),
                ),
                (
                    c.transferred.0,
                    format!("{} {}", wan(c.transferred), t("wan_yuan")),
                ),
                (c.paid.0, format!("{} {}", wan(c.paid), t("wan_yuan"))),
            ],
        })
        .collect();
    let chart_year = charts::columns(
        "chart-year",
        t("chart.by_year"),
        &[t("fig.planned"), t("fig.transferred"), t("fig.paid")],
        &year_groups,
    );
    let bar = |label: String, c: &FundChain| Bar {
        tooltip: format!(
            "{label}：{} {} · {} {}",
            t("fig.planned"),
            wan(c.committed),
            t("wan_yuan"),
            pct(FundRates::of(c).arrival_rate)
        ),
        text: wan(c.committed),
        value: c.committed.0,
        label,
    };
    let mut supporter_bars: Vec<Bar> = by_supporter
        .iter()
        .map(|(code, c)| bar(names.supporter(code), c))
        .collect();
    supporter_bars.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));
    supporter_bars.truncate(20);
    let chart_supporter = charts::bars(
        "chart-supporter",
        &format!("{}（{}）", t("chart.by_supporter"), t("wan_yuan")),
        &supporter_bars,
    );
    let mut category_bars: Vec<Bar> = Category::ALL
        .iter()
        .filter_map(|c| {
            by_category
                .get(c.key())
                .map(|chain| bar(lang.pick(c.zh(), c.en()).to_owned(), chain))
        })
        .collect();
    category_bars.sort_by_key(|b| std::cmp::Reverse(b.value));
    let chart_category = charts::bars(
        "chart-category",
        &format!("{}（{}）", t("chart.by_category"), t("wan_yuan")),
        &category_bars,
    );

    let scope_note = match &ctx.viewer {
        Viewer::Public => t("home.scope.public").to_owned(),
        Viewer::User(p) => match &p.scope {
            Some(code) => {
                let name = if p.role == yuanjiang_domain::Role::Supporter {
                    names.supporter(code)
                } else {
                    names.recipient(code)
                };
                format!("{}：{name}", t("home.scope.yours"))
            }
            None => t("home.scope.all").to_owned(),
        },
    };
    let mut year_list: Vec<String> = by_year.keys().cloned().collect();
    if let Some(y) = params.get("year")
        && !year_list.contains(y)
    {
        year_list.push(y.clone());
    }
    year_list.sort_unstable_by(|a, b| b.cmp(a));
    let years = options(
        year_list.into_iter().map(|y| (y.clone(), y)).collect(),
        params.get("year"),
    );
    let supporters = options(
        supporters
            .iter()
            .filter(|s| s.parent_code.is_none() || s.code.len() == 4)
            .map(|s| (s.code.clone(), names.supporter(&s.code)))
            .collect(),
        params.get("supporter"),
    );
    let prefectures = options(
        recipients
            .iter()
            .filter(|r| {
                matches!(
                    r.level,
                    yuanjiang_domain::RecipientLevel::Prefecture
                        | yuanjiang_domain::RecipientLevel::XpccDivision
                ) && r.code != "6590"
            })
            .map(|r| (r.code.clone(), r.name.clone()))
            .collect(),
        params.get("prefecture"),
    );
    let xpcc = options(
        vec![
            ("true".into(), t("xpcc.only").into()),
            ("false".into(), t("xpcc.without").into()),
        ],
        params.get("xpcc"),
    );
    render(&DashboardPage {
        c: Chrome::new(ctx, "/", t("home.title")),
        scope_note,
        figures,
        rates,
        shares,
        states,
        total_projects: int(all_n),
        chart_year,
        chart_supporter,
        chart_category,
        years,
        supporters,
        prefectures,
        xpcc,
    })
}
