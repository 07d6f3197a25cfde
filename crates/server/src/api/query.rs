//! Query-string parsing for the read API. Every parameter is checked and a
//! bad one answers 400 naming it; an unknown parameter is refused too, so a
//! typo never silently widens a result.

use std::collections::HashMap;

use yuanjiang_domain::codes::{validate_division_code, validate_xpcc_code};
use yuanjiang_domain::{Category, DomainError, ProjectState};
use yuanjiang_store::{ProjectFilter, StatDimension};

use crate::ApiError;

/// Filter parameter names shared by the registry and the statistics.
pub const FILTER_PARAMS: [&str; 10] = [
    "supporter",
    "recipient",
    "category",
    "state",
    "year",
    "in_plan",
    "continued",
    "grassroots",
    "livelihood",
    "xpcc",
];

/// Refuses any parameter not in `allowed`.
pub fn only(params: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    let mut unknown: Vec<&String> = params
        .keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(name) => Err(ApiError::bad_parameter(
            name,
            DomainError::new(
                "unknown_parameter",
                format!("未知参数，可用参数：{}", allowed.join("、")),
                format!("unknown parameter; allowed: {}", allowed.join(", ")),
            ),
        )),
    }
}

fn flag(name: &str, v: &str) -> Result<bool, ApiError> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::bad_parameter(
            name,
            DomainError::new(
                "invalid_flag",
                format!("“{v}”应为 true 或 false"),
                format!("\"{v}\" should be true or false"),
            ),
        )),
    }
}

fn code(name: &str, v: &str) -> Result<String, ApiError> {
    // 18 characters is a unified social credit code (central departments and
    // SOEs), even when every character is a digit.
    let checked = if v.starts_with("XPCC-") {
        validate_xpcc_code(v).map(|_| ())
    } else if v.len() != 18 && v.bytes().all(|b| b.is_ascii_digit()) {
        validate_division_code(v).map(|_| ())
    } else {
        yuanjiang_domain::codes::validate_credit_code(v)
    };
    checked
        .map(|()| v.to_owned())
        .map_err(|e| ApiError::bad_parameter(name, e))
}

/// Parses the filter parameters.
pub fn filter(params: &HashMap<String, String>) -> Result<ProjectFilter, ApiError> {
    let mut f = ProjectFilter::default();
    for (name, v) in params {
        let v = v.trim();
        match name.as_str() {
            "supporter" => f.supporter = Some(code(name, v)?),
            "recipient" => f.recipient = Some(code(name, v)?),
            "category" => {
                f.category =
                    Some(Category::parse(v).map_err(|e| ApiError::bad_parameter(name, e))?);
            }
            "state" => {
                f.state =
                    Some(ProjectState::parse(v).map_err(|e| ApiError::bad_parameter(name, e))?);
            }
            "year" => {
                f.year = Some(
                    v.parse::<i32>()
                        .ok()
                        .filter(|y| (2000..=2100).contains(y))
                        .ok_or_else(|| {
                            ApiError::bad_parameter(
                                name,
                                DomainError::new(
                                    "invalid_year",
                                    format!("“{v}”应为四位年份"),
                                    format!("\"{v}\" should be a four-digit year"),
                                ),
                            )
                        })?,
                );
            }
            "in_plan" => f.in_plan = Some(flag(name, v)?),
            "continued" => f.continued = Some(flag(name, v)?),
            "grassroots" => f.grassroots = Some(flag(name, v)?),
            "livelihood" => f.livelihood = Some(flag(name, v)?),
            "xpcc" => f.xpcc = Some(flag(name, v)?),
            _ => {}
        }
    }
    Ok(f)
}

/// Parses `limit` (1–1000, default 100) and `cursor`.
pub fn paging(params: &HashMap<String, String>) -> Result<(u32, Option<i64>), ApiError> {
    let limit = match params.get("limit") {
        None => 100,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiError::bad_parameter(
                    "limit",
                    DomainError::new(
                        "invalid_limit",
                        format!("“{v}”应为1至1000的整数"),
                        format!("\"{v}\" should be an integer from 1 to 1000"),
                    ),
                )
            })?,
    };
    let cursor = match params.get("cursor") {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_parameter(
                "cursor",
                DomainError::new(
                    "invalid_cursor",
                    "游标无效：请使用上一页返回的 next_cursor",
                    "invalid cursor: use the next_cursor of the previous page",
                ),
            )
        })?),
    };
    Ok((limit, cursor))
}

/// Parses `by=a,b,c` into distinct dimensions.
pub fn dimensions(params: &HashMap<String, String>) -> Result<Vec<StatDimension>, ApiError> {
    let mut dims = Vec::new();
    if let Some(v) = params.get("by") {
        for part in v.split(',').filter(|p| !p.trim().is_empty()) {
            let d = StatDimension::parse(part).map_err(|e| ApiError::bad_parameter("by", e))?;
            if !dims.contains(&d) {
                dims.push(d);
            }
        }
    }
    Ok(dims)
}

/// The registry's filter parameters, as the OpenAPI document lists them
/// (a test checks the names against [`FILTER_PARAMS`]).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParams {
    /// Supporter code: GB/T 2260 province code, or an 18-character unified social credit code (援助方).
    supporter: Option<String>,
    /// Recipient code: GB/T 2260 division code or an XPCC code `XPCC-NN` (受援地).
    recipient: Option<String>,
    /// Project category key.
    #[param(schema_with = super::openapi::category)]
    category: Option<String>,
    /// Lifecycle state key.
    #[param(schema_with = super::openapi::project_state)]
    state: Option<String>,
    /// Plan year (2000–2100); for fund statistics, the transaction's year.
    #[param(minimum = 2000, maximum = 2100)]
    year: Option<i32>,
    /// In the annual plan (计划内).
    in_plan: Option<bool>,
    /// Continued from an earlier year (续建).
    continued: Option<bool>,
    /// At the grassroots (县及以下).
    grassroots: Option<bool>,
    /// Livelihood project (民生).
    livelihood: Option<bool>,
    /// Recipient is an XPCC division (兵团).
    xpcc: Option<bool>,
}

/// Cursor paging.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PagingParams {
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(minimum = 0)]
    cursor: Option<i64>,
}
