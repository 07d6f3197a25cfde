//! The open-data package (公开数据包): everything published, as CSV files
//! plus a Frictionless Data Package (`datapackage.json`) with a Table Schema
//! for every file: field names, types, constraints, primary keys and
//! foreign keys between the files.
//!
//! What goes in: published projects with their transactions, indicators and
//! indicator values; the parties and pairings (public reference data); and
//! head-counts of assignments by supporter, recipient, category and year.
//! What never goes in: unpublished records, and any personal data (no
//! names, ID numbers or phones; people appear only as counts).
//!
//! The files are plain UTF-8 without a byte-order mark, with English keys as
//! headers and vocabulary keys as values, for machines; amounts are yuan
//! with two decimals, exact.

use std::path::Path;

use serde_json::{Value as J, json};
use yuanjiang_domain::{
    AssignmentCategory, Category, DeliveryMode, FundType, PairingScope, ProjectKind, ProjectState,
    RecipientLevel, SupporterKind,
};
use yuanjiang_store::{ProjectFilter, Store};

use crate::error::ExchangeError;
use crate::export::{CsvStyle, CsvTable, Value, indicator_values, transaction_values};

/// Rows fetched per page.
const PAGE: u32 = 5_000;

/// A Table Schema field type.
#[derive(Debug, Clone, Copy)]
enum Ty {
    Str,
    Int,
    Num,
    Date,
    Bool,
}

/// One field of a resource's Table Schema.
struct Field {
    name: &'static str,
    ty: Ty,
    required: bool,
    description: &'static str,
    choices: Option<Vec<&'static str>>,
    minimum: Option<i64>,
}

fn f(name: &'static str, ty: Ty, required: bool, description: &'static str) -> Field {
    Field {
        name,
        ty,
        required,
        description,
        choices: None,
        minimum: None,
    }
}

fn keys<T: Copy>(all: &[T], key: fn(T) -> &'static str) -> Option<Vec<&'static str>> {
    Some(all.iter().map(|v| key(*v)).collect())
}

impl Field {
    fn choices(mut self, c: Option<Vec<&'static str>>) -> Field {
        self.choices = c;
        self
    }

    fn min(mut self, m: i64) -> Field {
        self.minimum = Some(m);
        self
    }

    fn schema(&self) -> J {
        let mut field = json!({
            "name": self.name,
            "type": match self.ty {
                Ty::Str => "string",
                Ty::Int => "integer",
                Ty::Num => "number",
                Ty::Date => "date",
                Ty::Bool => "boolean",
            },
            "description": self.description,
        });
        if matches!(self.ty, Ty::Bool) {
            field["trueValues"] = json!(["true"]);
            field["falseValues"] = json!(["false"]);
        }
        let mut constraints = serde_json::Map::new();
        if self.required {
            constraints.insert("required".into(), json!(true));
        }
        if let Some(c) = &self.choices {
            constraints.insert("enum".into(), json!(c));
        }
        if let Some(m) = self.minimum {
            constraints.insert("minimum".into(), json!(m));
        }
        if !constraints.is_empty() {
            field["constraints"] = J::Object(constraints);
        }
        field
    }
}

/// One file of the package.
struct Resource {
    name: &'static str,
    title: &'static str,
    fields: Vec<Field>,
    primary_key: Vec<&'static str>,
    /// (fields, resource, fields there); an empty resource means this one.
    foreign_keys: Vec<(Vec<&'static str>, &'static str, Vec<&'static str>)>,
}

impl Resource {
    fn path(&self) -> String {
        format!("{}.csv", self.name)
    }

    fn headers(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }

    fn descriptor(&self, rows: u64) -> J {
        let foreign: Vec<J> = self
            .foreign_keys
            .iter()
            .map(|(fields, resource, there)| {
                json!({
                    "fields": fields,
                    "reference": {"resource": resource, "fields": there},
                })
            })
            .collect();
        let mut schema = json!({
            "fields": self.fields.iter().map(Field::schema).collect::<Vec<_>>(),
            "primaryKey": self.primary_key,
            "missingValues": [""],
        });
        if !foreign.is_empty() {
            schema["foreignKeys"] = J::Array(foreign);
        }
        json!({
            "name": self.name,
            "title": self.title,
            "path": self.path(),
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "header": true},
            "schema": schema,
            "x-rows": rows,
        })
    }
}

fn resources() -> Vec<Resource> {
    use Ty::*;
    vec![
        Resource {
            name: "supporters",
            title: "支援方 Supporters",
            fields: vec![
                f(
                    "code",
                    Str,
                    true,
                    "GB/T 2260 code, or unified social credit code for central bodies",
                ),
                f("name", Str, true, "Official Chinese name"),
                f("name_en", Str, true, "English name"),
                f("kind", Str, true, "Kind of body")
                    .choices(keys(SupporterKind::ALL, SupporterKind::key)),
                f(
                    "parent_code",
                    Str,
                    false,
                    "Parent supporter (Shenzhen under Guangdong)",
                ),
            ],
            primary_key: vec!["code"],
            foreign_keys: vec![(vec!["parent_code"], "", vec!["code"])],
        },
        Resource {
            name: "recipients",
            title: "受援地 Recipient units",
            fields: vec![
                f(
                    "code",
                    Str,
                    true,
                    "GB/T 2260 code, or XPCC-NN / XPCC-NN-NNN",
                ),
                f("name", Str, true, "Official Chinese name"),
                f("level", Str, true, "Level")
                    .choices(keys(RecipientLevel::ALL, RecipientLevel::key)),
                f("parent_code", Str, false, "The unit above"),
            ],
            primary_key: vec!["code"],
            foreign_keys: vec![(vec!["parent_code"], "", vec!["code"])],
        },
        Resource {
            name: "pairings",
            title: "结对关系 Pairings",
            fields: vec![
                f("supporter_code", Str, true, "Supporter"),
                f("recipient_code", Str, true, "Recipient unit"),
                f("scope", Str, true, "Full or cadre-only")
                    .choices(keys(PairingScope::ALL, PairingScope::key)),
                f("valid_from", Date, true, "First day in force"),
                f(
                    "valid_to",
                    Date,
                    false,
                    "Last day in force; empty while it lasts",
                ),
                f(
                    "confidence",
                    Str,
                    true,
                    "reported (found in published news) or unverified",
                ),
            ],
            primary_key: vec!["supporter_code", "recipient_code", "valid_from"],
            foreign_keys: vec![
                (vec!["supporter_code"], "supporters", vec!["code"]),
                (vec!["recipient_code"], "recipients", vec!["code"]),
            ],
        },
        Resource {
            name: "projects",
            title: "援疆项目 Published aid projects",
            fields: vec![
                f("code", Str, true, "Project code"),
                f("name", Str, true, "Project name"),
                f("category", Str, true, "Category").choices(keys(Category::ALL, Category::key)),
                f("delivery_mode", Str, true, "Delivery mode")
                    .choices(keys(DeliveryMode::ALL, DeliveryMode::key)),
                f("kind", Str, true, "Construction or not")
                    .choices(keys(ProjectKind::ALL, ProjectKind::key)),
                f("year", Int, true, "Plan year").min(2010),
                f("in_plan", Bool, true, "In the plan (规划内)"),
                f(
                    "continued",
                    Bool,
                    true,
                    "Continued from an earlier year (续建)",
                ),
                f(
                    "grassroots",
                    Bool,
                    true,
                    "County level and below (县及县以下)",
                ),
                f("livelihood", Bool, true, "Livelihood (民生)"),
                f("supporter_code", Str, true, "Supporter"),
                f("recipient_code", Str, true, "Recipient unit"),
                f(
                    "location_code",
                    Str,
                    true,
                    "Where it is, down to a township",
                ),
                f(
                    "planned_investment",
                    Num,
                    true,
                    "Planned total investment, yuan",
                )
                .min(0),
                f("aid_funds", Num, true, "Aid funds, yuan").min(0),
                f("matching_funds", Num, true, "Matching funds, yuan").min(0),
                f("start_date", Date, true, "Planned start"),
                f("end_date", Date, true, "Planned end"),
                f("state", Str, true, "Lifecycle state")
                    .choices(keys(ProjectState::ALL, ProjectState::key)),
                f("description", Str, false, "Description"),
            ],
            primary_key: vec!["code"],
            foreign_keys: vec![
                (vec!["supporter_code"], "supporters", vec!["code"]),
                (vec!["recipient_code"], "recipients", vec!["code"]),
                (vec!["location_code"], "recipients", vec!["code"]),
            ],
        },
        Resource {
            name: "fund_transactions",
            title: "资金 Fund transactions of published projects",
            fields: vec![
                f("project_code", Str, true, "Project"),
                f("fund_type", Str, true, "Step of the fund chain")
                    .choices(keys(FundType::ALL, FundType::key)),
                f("amount", Num, true, "Amount, yuan").min(0),
                f("date", Date, true, "Value date"),
                f("document_no", Str, true, "Document number (文号)"),
                f("note", Str, false, "Note"),
            ],
            primary_key: vec!["project_code", "fund_type", "date", "document_no"],
            foreign_keys: vec![(vec!["project_code"], "projects", vec!["code"])],
        },
        Resource {
            name: "indicators",
            title: "绩效指标 Indicators of published projects",
            fields: vec![
                f("project_code", Str, true, "Project"),
                f("name", Str, true, "Indicator name"),
                f("unit", Str, true, "Unit of measure"),
                f("baseline", Num, true, "Value before the project"),
                f("target", Num, true, "Target value"),
            ],
            primary_key: vec!["project_code", "name"],
            foreign_keys: vec![(vec!["project_code"], "projects", vec!["code"])],
        },
        Resource {
            name: "indicator_values",
            title: "指标实际值 Indicator actual values",
            fields: vec![
                f("project_code", Str, true, "Project"),
                f("indicator", Str, true, "Indicator name"),
                f("period", Str, true, "YYYY or YYYY-MM"),
                f("actual", Num, true, "Measured value"),
            ],
            primary_key: vec!["project_code", "indicator", "period"],
            foreign_keys: vec![(
                vec!["project_code", "indicator"],
                "indicators",
                vec!["project_code", "name"],
            )],
        },
        Resource {
            name: "assignment_counts",
            title: "援疆干部人才人数 Cadres and professionals, counted",
            fields: vec![
                f("supporter_code", Str, true, "Sending supporter"),
                f("recipient_code", Str, true, "Recipient unit served"),
                f("category", Str, true, "Cadre, teacher, doctor…")
                    .choices(keys(AssignmentCategory::ALL, AssignmentCategory::key)),
                f("year", Int, true, "Year of arrival"),
                f("people", Int, true, "Number of assignments").min(1),
            ],
            primary_key: vec!["supporter_code", "recipient_code", "category", "year"],
            foreign_keys: vec![
                (vec!["supporter_code"], "supporters", vec!["code"]),
                (vec!["recipient_code"], "recipients", vec!["code"]),
            ],
        },
    ]
}

const STYLE: CsvStyle = CsvStyle {
    bom: false,
    labels: false,
    guard_formulas: false,
};

fn opt(s: Option<String>) -> Value {
    s.map_or(Value::Empty, Value::Code)
}

/// Rows written per file.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct OpenDataSummary {
    /// (file, rows), in package order.
    pub files: Vec<(String, u64)>,
}

/// Writes the open-data package into `dir` (created if absent).
/// `progress(file, rows)` is called as files fill.
pub async fn open_data(
    store: &Store,
    dir: &Path,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<OpenDataSummary, ExchangeError> {
    std::fs::create_dir_all(dir).map_err(|e| ExchangeError::io(dir, e))?;
    let published = ProjectFilter {
        published_only: true,
        ..ProjectFilter::default()
    };
    let resources = resources();
    let mut summary = OpenDataSummary::default();
    for r in &resources {
        let path = dir.join(r.path());
        let mut table = CsvTable::create(&path, &r.headers(), STYLE)?;
        let mut rows = 0u64;
        match r.name {
            "supporters" => {
                for s in store.supporters().await? {
                    table.row(&[
                        Value::Code(s.code),
                        Value::Text(s.name),
                        Value::Text(s.name_en),
                        Value::Code(s.kind.key().to_owned()),
                        opt(s.parent_code),
                    ])?;
                    rows += 1;
                }
            }
            "recipients" => {
                for u in store.recipients(true).await? {
                    table.row(&[
                        Value::Code(u.code),
                        Value::Text(u.name),
                        Value::Code(u.level.key().to_owned()),
                        opt(u.parent_code),
                    ])?;
                    rows += 1;
                }
            }
            "pairings" => {
                for p in store.pairings().await? {
                    table.row(&crate::export::pairing_values(&p))?;
                    rows += 1;
                }
            }
            "projects" => {
                let mut cursor = None;
                loop {
                    let page = store.projects(&published, cursor, 1000).await?;
                    for row in &page.items {
                        let mut values = crate::export::project_values(&row.project);
                        // Every project here is published; the column says nothing.
                        values.remove(19);
                        table.row(&values)?;
                    }
                    rows += page.items.len() as u64;
                    progress(r.name, rows);
                    match page.next_cursor.and_then(|c| c.parse().ok()) {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
            }
            "fund_transactions" => {
                let mut after = 0;
                loop {
                    let page = store.transactions_page(&published, after, PAGE).await?;
                    for (_, t) in &page {
                        table.row(&transaction_values(t))?;
                    }
                    rows += page.len() as u64;
                    progress(r.name, rows);
                    match page.last() {
                        Some((id, _)) if page.len() == PAGE as usize => after = *id,
                        _ => break,
                    }
                }
            }
            "indicators" | "indicator_values" => {
                let values_only = r.name == "indicator_values";
                let mut after = 0;
                loop {
                    let (page, last) = store.indicators_page(&published, after, 1000).await?;
                    let mut previous: Option<(String, String)> = None;
                    for i in &page {
                        if values_only {
                            if let (Some(period), Some(actual)) = (&i.period, i.actual) {
                                table.row(&[
                                    Value::Code(i.project_code.clone()),
                                    Value::Text(i.name.clone()),
                                    Value::Code(period.clone()),
                                    Value::Number(actual),
                                ])?;
                                rows += 1;
                            }
                        } else {
                            // One line per indicator, not per value.
                            let key = (i.project_code.clone(), i.name.clone());
                            if previous.as_ref() != Some(&key) {
                                let mut v = indicator_values(i);
                                v.truncate(5);
                                table.row(&v)?;
                                rows += 1;
                                previous = Some(key);
                            }
                        }
                    }
                    progress(r.name, rows);
                    match last {
                        Some(id) => after = id,
                        None => break,
                    }
                }
            }
            "assignment_counts" => {
                for c in store.assignment_counts().await? {
                    table.row(&[
                        Value::Code(c.supporter_code),
                        Value::Code(c.recipient_code),
                        Value::Code(c.category),
                        Value::Int(i64::from(c.year)),
                        Value::Int(c.people),
                    ])?;
                    rows += 1;
                }
            }
            _ => {}
        }
        table.finish()?;
        progress(r.name, rows);
        summary.files.push((r.path(), rows));
    }
    let package = json!({
        "profile": "tabular-data-package",
        "name": "yuanjiang-open-data",
        "title": "援疆通公开数据 Yuanjiang open data: paired assistance to Xinjiang",
        "description": "Published aid projects with their fund transactions and indicators, the parties and pairings, and head-counts of cadres and professionals. Unpublished records and personal data are never included. Amounts are yuan.",
        "created": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "resources": resources
            .iter()
            .zip(&summary.files)
            .map(|(r, (_, rows))| r.descriptor(*rows))
            .collect::<Vec<_>>(),
    });
    let path = dir.join("datapackage.json");
    let text = serde_json::to_string_pretty(&package)?;
    std::fs::write(&path, text).map_err(|e| ExchangeError::io(&path, e))?;
    Ok(summary)
}
