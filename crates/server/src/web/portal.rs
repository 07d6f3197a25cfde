//! `/public` 公开: the portal for everyone, signed in or not. It shows only
//! published projects, whoever asks: totals by prefecture and category, a
//! schematic tile map of Xinjiang's prefectures and XPCC divisions coloured
//! by funds (tiles, not drawn borders: no boundary data, no map approval
//! needed), and the latest published projects.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use yuanjiang_domain::{Category, Fen, FundChain};
use yuanjiang_store::{ProjectCountBy, ProjectFilter, RegistryQuery, RegistrySort, StatDimension};

use super::charts::{self, BINS, Tile};
use super::format::{self, Names, int, wan};
use super::registry::Row;
use super::{Chrome, Ctx, Lang, WebError, render};
use crate::AppState;

/// Where each prefecture sits on the tile map: (code, column, row, short zh, short en).
const PREFECTURE_TILES: [(&str, u32, u32, &str, &str); 15] = [
    ("6542", 2, 0, "塔城", "Tacheng"),
    ("6543", 3, 0, "阿勒泰", "Altay"),
    ("6527", 1, 1, "博州", "Bortala"),
    ("6502", 2, 1, "克拉玛依", "Karamay"),
    ("6523", 3, 1, "昌吉州", "Changji"),
    ("6540", 1, 2, "伊犁州", "Ili"),
    ("6590", 2, 2, "直辖县市", "Sub-prefecture cities"),
    ("6501", 3, 2, "乌鲁木齐", "Urumqi"),
    ("6504", 4, 2, "吐鲁番", "Turpan"),
    ("6505", 5, 2, "哈密", "Hami"),
    ("6530", 0, 3, "克州", "Kizilsu"),
    ("6529", 1, 3, "阿克苏", "Aksu"),
    ("6528", 3, 3, "巴州", "Bayingolin"),
    ("6531", 0, 4, "喀什", "Kashgar"),
    ("6532", 1, 4, "和田", "Hotan"),
];

/// Where each XPCC division sits, near the prefecture it lies in.
const XPCC_TILES: [(&str, u32, u32, &str, &str); 14] = [
    ("XPCC-09", 2, 0, "第九师", "9th Div."),
    ("XPCC-10", 3, 0, "第十师", "10th Div."),
    ("XPCC-05", 1, 1, "第五师", "5th Div."),
    ("XPCC-07", 2, 1, "第七师", "7th Div."),
    ("XPCC-08", 3, 1, "第八师", "8th Div."),
    ("XPCC-06", 4, 1, "第六师", "6th Div."),
    ("XPCC-04", 1, 2, "第四师", "4th Div."),
    ("XPCC-11", 3, 2, "第十一师", "11th Div."),
    ("XPCC-12", 4, 2, "第十二师", "12th Div."),
    ("XPCC-13", 5, 2, "第十三师", "13th Div."),
    ("XPCC-01", 1, 3, "第一师", "1st Div."),
    ("XPCC-02", 3, 3, "第二师", "2nd Div."),
    ("XPCC-03", 0, 4, "第三师", "3rd Div."),
    ("XPCC-14", 1, 4, "第十四师", "14th Div."),
];

/// A line of a totals table.
pub struct Total {
    /// What.
    pub label: String,
    /// Registry link.
    pub href: String,
    /// Projects.
    pub projects: String,
    /// Planned funds in 万元.
    pub planned: String,
    /// Paid funds in 万元.
    pub paid: String,
}

/// A legend entry of the map.
pub struct LegendItem {
    /// The bin colour.
    pub colour: &'static str,
    /// The range it stands for.
    pub label: String,
}

#[derive(Template)]
#[template(path = "public.html")]
struct PortalPage {
    c: Chrome,
    planned: String,
    paid: String,
    projects: String,
    map_prefectures: String,
    map_xpcc: String,
    legend: Vec<LegendItem>,
    by_prefecture: Vec<Total>,
    by_category: Vec<Total>,
    latest: Vec<Row>,
}

/// `GET /public`: the public portal.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    ctx.respond(portal(&state, &ctx).await)
}

fn tiles(
    layout: &[(&str, u32, u32, &str, &str)],
    chains: &HashMap<String, FundChain>,
    full_names: &Names,
    max: i64,
    lang: Lang,
) -> Vec<Tile> {
    layout
        .iter()
        .map(|(code, col, row, zh, en)| {
            let planned = chains.get(*code).map_or(Fen(0), |c| c.committed);
            Tile {
                col: *col,
                row: *row,
                label: lang.pick(zh, en).to_owned(),
                text: wan(planned),
                bin: charts::bin(planned.0, max),
                tooltip: format!(
                    "{}：{} {} {}",
                    full_names.recipient(code),
                    lang.t("fig.planned"),
                    wan(planned),
                    lang.t("wan_yuan")
                ),
                href: format!("/projects?recipient={}", format::url_encode(code)),
            }
        })
        .collect()
}

async fn portal(state: &AppState, ctx: &Ctx) -> Result<Response, WebError> {
    let lang = ctx.lang;
    let t = |k| lang.t(k);
    // The portal is the public's view for everyone, signed in or not.
    let filter = ProjectFilter {
        published_only: true,
        ..ProjectFilter::default()
    };
    let store = &state.store;
    let by_pref = store
        .fund_stats(&filter, &[StatDimension::Prefecture])
        .await?;
    let by_cat = store
        .fund_stats(&filter, &[StatDimension::Category])
        .await?;
    // One scan of the projects serves both breakdowns.
    let mut count_pref: HashMap<String, i64> = HashMap::new();
    let mut count_cat: HashMap<String, i64> = HashMap::new();
    for (k, n) in store
        .count_projects_by(
            &filter,
            &[ProjectCountBy::Prefecture, ProjectCountBy::Category],
        )
        .await?
    {
        if let [prefecture, category] = k.as_slice() {
            *count_pref.entry(prefecture.clone()).or_default() += n;
            *count_cat.entry(category.clone()).or_default() += n;
        }
    }
    let latest = store
        .registry(&RegistryQuery {
            filter: filter.clone(),
            sort: RegistrySort::Newest,
            descending: true,
            limit: 10,
            ..RegistryQuery::default()
        })
        .await?;
    let supporters = store.supporters().await?;
    let recipients = store.recipients(false).await?;
    let names = Names::new(&supporters, &recipients, lang);

    let key0 = |r: &yuanjiang_store::FundStatRow| {
        r.key.first().map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let pref_chains: HashMap<String, FundChain> =
        by_pref.iter().map(|r| (key0(r), r.chain)).collect();
    let cat_chains: HashMap<String, FundChain> =
        by_cat.iter().map(|r| (key0(r), r.chain)).collect();
    let mut total = FundChain::default();
    for c in pref_chains.values() {
        total.merge(c);
    }
    let max = pref_chains
        .values()
        .map(|c| c.committed.0)
        .max()
        .unwrap_or(0);
    let map_prefectures = charts::tile_map(
        "map-prefectures",
        &format!("{}：{}", t("public.map"), t("public.map.prefectures")),
        &tiles(&PREFECTURE_TILES, &pref_chains, &names, max, lang),
    );
    let map_xpcc = charts::tile_map(
        "map-xpcc",
        &format!("{}：{}", t("public.map"), t("public.map.xpcc")),
        &tiles(&XPCC_TILES, &pref_chains, &names, max, lang),
    );
    let at = |share: f64| Fen((max as f64 * share).round() as i64);
    let [a, b, c] = charts::BIN_EDGES;
    let legend = vec![
        LegendItem {
            colour: BINS[0],
            label: t("none").to_owned(),
        },
        LegendItem {
            colour: BINS[1],
            label: format!("≤ {}", wan(at(a))),
        },
        LegendItem {
            colour: BINS[2],
            label: format!("{} – {}", wan(at(a)), wan(at(b))),
        },
        LegendItem {
            colour: BINS[3],
            label: format!("{} – {}", wan(at(b)), wan(at(c))),
        },
        LegendItem {
            colour: BINS[4],
            label: format!("> {}", wan(at(c))),
        },
    ];
    let total_line = |label: String, href: String, n: i64, c: Option<&FundChain>| Total {
        label,
        href,
        projects: int(n),
        planned: wan(c.map_or(Fen(0), |c| c.committed)),
        paid: wan(c.map_or(Fen(0), |c| c.paid)),
    };
    let mut pref_codes: Vec<&String> = count_pref.keys().collect();
    pref_codes.sort();
    let by_prefecture = pref_codes
        .into_iter()
        .map(|code| {
            total_line(
                names.recipient(code),
                format!("/projects?recipient={}", format::url_encode(code)),
                count_pref[code],
                pref_chains.get(code),
            )
        })
        .collect();
    let by_category = Category::ALL
        .iter()
        .filter(|c| count_cat.contains_key(c.key()))
        .map(|c| {
            total_line(
                lang.pick(c.zh(), c.en()).to_owned(),
                format!("/projects?category={}", c.key()),
                count_cat[c.key()],
                cat_chains.get(c.key()),
            )
        })
        .collect();
    let latest = latest
        .items
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
    render(&PortalPage {
        c: Chrome::new(ctx, "/public", t("public.title")),
        planned: wan(total.committed),
        paid: wan(total.paid),
        projects: int(count_pref.values().sum()),
        map_prefectures,
        map_xpcc,
        legend,
        by_prefecture,
        by_category,
        latest,
    })
}
