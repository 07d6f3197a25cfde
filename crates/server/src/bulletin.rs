//! The monthly bulletin (月报) and the annual report (年报): the standard
//! tables for the region or one supporter as of a chosen day, with warnings,
//! as an xlsx workbook and as a print-ready HTML page with SVG charts. Every
//! figure comes from the store's measures and `fund_stats`, the same layer
//! as the API and the dashboard.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use serde::Serialize;
use yuanjiang_domain::{Category, Fen, FundChain, FundRates};
use yuanjiang_store::{FlaggedProject, Measures, ProjectFilter, StatDimension, Store, StoreError};

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BulletinKind {
    /// 月报: the year to date and the month of the as-of day.
    Monthly,
    /// 年报: the whole year of the as-of day, up to it.
    Annual,
}

/// One row of a breakdown table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Code (supporter, prefecture or category key).
    pub code: String,
    /// Name as shown.
    pub name: String,
    /// Its fund chain.
    pub chain: FundChain,
}

/// A supporter below the 80/80 thresholds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EightyEightyBreach {
    /// Supporter code and name.
    pub supporter: Row,
    /// Grassroots share of commitments.
    pub grassroots_share: Option<f64>,
    /// Livelihood share of commitments.
    pub livelihood_share: Option<f64>,
}

/// Everything a bulletin shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bulletin {
    /// Monthly or annual.
    pub kind: BulletinKind,
    /// The as-of day.
    pub as_of: NaiveDate,
    /// The supporter reported on, or the whole programme.
    pub supporter: Option<String>,
    /// Year to date.
    pub summary: Measures,
    /// The month of the as-of day (monthly bulletins).
    pub month: Option<FundChain>,
    /// By supporter.
    pub by_supporter: Vec<Row>,
    /// By prefecture or XPCC division.
    pub by_prefecture: Vec<Row>,
    /// By category.
    pub by_category: Vec<Row>,
    /// Supporters that break the 80/80 rule this year.
    pub eighty_eighty: Vec<EightyEightyBreach>,
    /// Projects with payments but no progress.
    pub paid_without_progress: Vec<FlaggedProject>,
    /// Projects whose funds have been idle for more than six months.
    pub idle_funds: Vec<FlaggedProject>,
    /// Acceptance without documents (验收无文件): accepted projects with no
    /// acceptance report attached; the amount is the project's aid funds.
    pub accepted_without_report: Vec<FlaggedProject>,
}

fn rows(stats: Vec<yuanjiang_store::FundStatRow>, name: impl Fn(&str) -> String) -> Vec<Row> {
    stats
        .into_iter()
        .map(|r| {
            let code = r.key.first().map(|(_, v)| v.clone()).unwrap_or_default();
            Row {
                name: name(&code),
                code,
                chain: r.chain,
            }
        })
        .collect()
}

/// Builds a bulletin from the store.
pub async fn build(
    store: &Store,
    kind: BulletinKind,
    as_of: NaiveDate,
    supporter: Option<String>,
) -> Result<Bulletin, StoreError> {
    let year = as_of.year();
    let base = ProjectFilter {
        supporter: supporter.clone(),
        year: Some(year),
        as_of: Some(as_of),
        ..Default::default()
    };
    let summary = store.measures(&base, Some(as_of)).await?;
    let month = match kind {
        BulletinKind::Monthly => {
            let by_month = store.fund_stats(&base, &[StatDimension::Month]).await?;
            let m = as_of.month().to_string();
            Some(
                by_month
                    .into_iter()
                    .find(|r| r.key.first().is_some_and(|(_, v)| *v == m))
                    .map(|r| r.chain)
                    .unwrap_or_default(),
            )
        }
        BulletinKind::Annual => None,
    };
    let supporters = store.supporters().await?;
    let supporter_name = |code: &str| {
        supporters
            .iter()
            .find(|s| s.code == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let recipients = store.recipients(false).await?;
    let recipient_name = |code: &str| {
        recipients
            .iter()
            .find(|r| r.code == code)
            .map_or_else(|| code.to_owned(), |r| r.name.clone())
    };
    let by_supporter = rows(
        store.fund_stats(&base, &[StatDimension::Supporter]).await?,
        supporter_name,
    );
    let by_prefecture = rows(
        store
            .fund_stats(&base, &[StatDimension::Prefecture])
            .await?,
        recipient_name,
    );
    let by_category = rows(
        store.fund_stats(&base, &[StatDimension::Category]).await?,
        |k| Category::parse(k).map_or_else(|_| k.to_owned(), |c| c.zh().to_owned()),
    );
    let grassroots = store
        .fund_stats(
            &ProjectFilter {
                grassroots: Some(true),
                ..base.clone()
            },
            &[StatDimension::Supporter],
        )
        .await?;
    let livelihood = store
        .fund_stats(
            &ProjectFilter {
                livelihood: Some(true),
                ..base.clone()
            },
            &[StatDimension::Supporter],
        )
        .await?;
    let committed_of = |stats: &[yuanjiang_store::FundStatRow], code: &str| {
        stats
            .iter()
            .find(|r| r.key.first().is_some_and(|(_, v)| v == code))
            .map_or(Fen(0), |r| r.chain.committed)
    };
    let mut eighty_eighty = Vec::new();
    for row in &by_supporter {
        let total = row.chain.committed;
        let g = committed_of(&grassroots, &row.code);
        let l = committed_of(&livelihood, &row.code);
        let ok = |part: Fen| yuanjiang_domain::plan::meets_eighty_percent(part, total);
        if total.0 > 0 && (!ok(g) || !ok(l)) {
            eighty_eighty.push(EightyEightyBreach {
                supporter: row.clone(),
                grassroots_share: yuanjiang_domain::rates::ratio(g.0, total.0),
                livelihood_share: yuanjiang_domain::rates::ratio(l.0, total.0),
            });
        }
    }
    let scope = ProjectFilter {
        supporter: supporter.clone(),
        ..Default::default()
    };
    Ok(Bulletin {
        kind,
        as_of,
        supporter,
        summary,
        month,
        by_supporter,
        by_prefecture,
        by_category,
        eighty_eighty,
        paid_without_progress: store.paid_without_progress(&scope, as_of).await?,
        idle_funds: store.idle_funds(&scope, as_of).await?,
        accepted_without_report: store.accepted_without_report(&scope, as_of).await?,
    })
}

/// 万元 with two decimals, for tables.
fn wan(f: Fen) -> String {
    f.to_wan_yuan_string()
}

fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |v| format!("{:.2}%", v * 100.0))
}

const CHAIN_HEADERS: [&str; 9] = [
    "代码 Code",
    "名称 Name",
    "计划安排(万元) Planned",
    "资金到疆(万元) Transferred",
    "拨付到项目(万元) Allocated",
    "支付(万元) Paid",
    "支出(万元) Spent",
    "到疆率 Arrival",
    "支付率 Payment",
];

fn chain_cells(r: &Row) -> [String; 9] {
    let rates = FundRates::of(&r.chain);
    [
        r.code.clone(),
        r.name.clone(),
        wan(r.chain.committed),
        wan(r.chain.transferred),
        wan(r.chain.allocated),
        wan(r.chain.paid),
        wan(r.chain.spent),
        pct(rates.arrival_rate),
        pct(rates.payment_rate),
    ]
}

impl Bulletin {
    /// The title, in Chinese with English.
    pub fn title(&self) -> String {
        let who = self.supporter.clone().unwrap_or_else(|| "全区".into());
        match self.kind {
            BulletinKind::Monthly => format!(
                "对口援疆工作月报（{who}，截至{}）/ Monthly bulletin as of {}",
                self.as_of.format("%Y年%m月%d日"),
                self.as_of
            ),
            BulletinKind::Annual => format!(
                "对口援疆工作年报（{who}，{}年）/ Annual report {}",
                self.as_of.year(),
                self.as_of.year()
            ),
        }
    }

    fn summary_lines(&self) -> Vec<(String, String)> {
        let m = &self.summary;
        let mut lines = vec![
            ("计划安排(万元) Planned".into(), wan(m.chain.committed)),
            (
                "资金到疆(万元) Transferred".into(),
                wan(m.chain.transferred),
            ),
            ("拨付到项目(万元) Allocated".into(), wan(m.chain.allocated)),
            ("支付(万元) Paid".into(), wan(m.chain.paid)),
            ("支出(万元) Spent".into(), wan(m.chain.spent)),
            ("资金到疆率 Arrival rate".into(), pct(m.rates.arrival_rate)),
            (
                "拨付率 Allocation rate".into(),
                pct(m.rates.allocation_rate),
            ),
            ("支付率 Payment rate".into(), pct(m.rates.payment_rate)),
            ("执行率 Execution rate".into(), pct(m.rates.execution_rate)),
            ("项目数 Projects".into(), m.projects.to_string()),
            ("开工率 Start rate".into(), pct(m.start_rate)),
            ("竣工率 Completion rate".into(), pct(m.completion_rate)),
            ("验收率 Acceptance rate".into(), pct(m.acceptance_rate)),
            (
                "基层资金占比 Grassroots share (≥80%)".into(),
                pct(m.grassroots_share),
            ),
            (
                "民生资金占比 Livelihood share (≥80%)".into(),
                pct(m.livelihood_share),
            ),
            (
                "干部人才人年 Person-years".into(),
                format!("{:.1}", m.person_milliyears as f64 / 1000.0),
            ),
        ];
        if let Some(month) = &self.month {
            lines.push((
                "本月资金到疆(万元) Transferred this month".into(),
                wan(month.transferred),
            ));
            lines.push(("本月支付(万元) Paid this month".into(), wan(month.paid)));
        }
        lines
    }

    /// The workbook: 总表, 分支援方, 分地州, 分类别, 预警, 说明.
    pub fn to_xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let sheet = book.add_worksheet().set_name("总表 Summary")?;
        sheet.write_string_with_format(0, 0, self.title(), &bold)?;
        for (i, (k, v)) in self.summary_lines().into_iter().enumerate() {
            let r = u32::try_from(i).unwrap_or(0) + 2;
            sheet.write_string(r, 0, k)?;
            sheet.write_string(r, 1, v)?;
        }
        sheet.set_column_width(0, 40)?;
        for (name, table) in [
            ("分支援方 Supporters", &self.by_supporter),
            ("分地州 Prefectures", &self.by_prefecture),
            ("分类别 Categories", &self.by_category),
        ] {
            let sheet = book.add_worksheet().set_name(name)?;
            for (c, h) in CHAIN_HEADERS.iter().enumerate() {
                sheet.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)?;
            }
            for (i, row) in table.iter().enumerate() {
                for (c, cell) in chain_cells(row).into_iter().enumerate() {
                    sheet.write_string(
                        u32::try_from(i).unwrap_or(0) + 1,
                        u16::try_from(c).unwrap_or(0),
                        cell,
                    )?;
                }
            }
            sheet.set_freeze_panes(1, 0)?;
        }
        let sheet = book.add_worksheet().set_name("预警 Warnings")?;
        for (r, line) in (0u32..).zip(self.warning_lines()) {
            sheet.write_string(r, 0, line)?;
        }
        book.save_to_buffer()
    }

    fn warning_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.push(format!(
            "80/80 规则未达标的支援方 Supporters below 80/80: {}",
            self.eighty_eighty.len()
        ));
        for b in &self.eighty_eighty {
            out.push(format!(
                "  {} {}: 基层 {} 民生 {}",
                b.supporter.code,
                b.supporter.name,
                pct(b.grassroots_share),
                pct(b.livelihood_share)
            ));
        }
        out.push(format!(
            "已支付但未开工的项目 Projects paid without progress: {}",
            self.paid_without_progress.len()
        ));
        for p in self.paid_without_progress.iter().take(200) {
            out.push(format!(
                "  {} {} 已支付 {} 万元",
                p.code,
                p.name,
                wan(p.amount)
            ));
        }
        out.push(format!(
            "资金闲置超过6个月的项目 Projects with funds idle over 6 months: {}",
            self.idle_funds.len()
        ));
        for p in self.idle_funds.iter().take(200) {
            out.push(format!(
                "  {} {} 闲置 {} 万元，最近支付 {}",
                p.code,
                p.name,
                wan(p.amount),
                p.last_activity
                    .map_or_else(|| "—".into(), |d| d.to_string())
            ));
        }
        out.push(format!(
            "已验收但无验收报告的项目 Projects accepted without an acceptance report: {}",
            self.accepted_without_report.len()
        ));
        for p in self.accepted_without_report.iter().take(200) {
            out.push(format!(
                "  {} {} 援疆资金 {} 万元，未上传验收报告",
                p.code,
                p.name,
                wan(p.amount)
            ));
        }
        out
    }

    /// A print-ready HTML page with SVG charts; no external asset.
    pub fn to_html(&self) -> String {
        let esc = crate::auth::escape_html;
        let mut h = String::new();
        let _ = write!(
            h,
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
             <style>body{{font-family:\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;margin:2em;color:#1a1a1a}}\
             table{{border-collapse:collapse;margin:1em 0;font-size:14px}}td,th{{border:1px solid #999;padding:4px 8px;text-align:right}}\
             td:nth-child(-n+2),th{{text-align:left}}h2{{page-break-before:auto;border-bottom:2px solid #1b4f72}}\
             svg.chart{{max-width:100%;height:auto}}@media print{{h2{{page-break-after:avoid}}}}</style></head><body>",
            esc(&self.title())
        );
        let _ = write!(
            h,
            "<h1>{}</h1><h2>总表 Summary</h2><table>",
            esc(&self.title())
        );
        for (k, v) in self.summary_lines() {
            let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
        }
        h.push_str("</table>");
        for (title, table) in [
            ("分支援方 By supporter", &self.by_supporter),
            ("分地州 By prefecture", &self.by_prefecture),
            ("分类别 By category", &self.by_category),
        ] {
            let bars: Vec<crate::web::charts::Bar> = table
                .iter()
                .map(|r| crate::web::charts::Bar {
                    label: r.name.clone(),
                    value: r.chain.transferred.0,
                    text: format!("{} 万元", wan(r.chain.transferred)),
                    tooltip: format!("{}：资金到疆 {} 万元", r.name, wan(r.chain.transferred)),
                })
                .collect();
            let _ = write!(h, "<h2>{}</h2>", esc(title));
            h.push_str(&crate::web::charts::bars(
                &format!("c{}", title.len()),
                &format!("{title} — 资金到疆 Transferred"),
                &bars,
            ));
            h.push_str("<table><tr>");
            for c in CHAIN_HEADERS {
                let _ = write!(h, "<th>{}</th>", esc(c));
            }
            h.push_str("</tr>");
            for r in table {
                h.push_str("<tr>");
                for cell in chain_cells(r) {
                    let _ = write!(h, "<td>{}</td>", esc(&cell));
                }
                h.push_str("</tr>");
            }
            h.push_str("</table>");
        }
        h.push_str("<h2>预警 Warnings</h2><ul>");
        for line in self.warning_lines() {
            let _ = write!(h, "<li>{}</li>", esc(&line));
        }
        h.push_str("</ul></body></html>");
        h
    }
}
