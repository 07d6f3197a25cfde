//! `/metrics` in the Prometheus text format: requests and latencies per
//! route and status class, imports and their rows, and the database pool.
//! Counters live in this process; each app node is scraped on its own. The
//! import history's size is read from the database, so it covers every
//! node and the command line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState, Caller};

/// Latency bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Series by route, then by method and status class. Nested so that a
/// request finds its series by borrowed names: only a route's first
/// request allocates.
type ByRoute = BTreeMap<String, BTreeMap<(&'static str, &'static str), Series>>;

static SERIES: LazyLock<Mutex<ByRoute>> = LazyLock::new(|| Mutex::new(BTreeMap::new()));

/// Imports run by this node, by outcome; rows by change.
#[derive(Default)]
struct Imports {
    checked: u64,
    committed: u64,
    rejected: u64,
    failed: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
}

static IMPORTS: LazyLock<Mutex<Imports>> = LazyLock::new(|| Mutex::new(Imports::default()));

/// Counts an import run through the web: a dry run (`checked`), a commit,
/// a file refused for its problems, or a run the database broke (`failed`).
pub fn count_import(outcome: Result<&yuanjiang_exchange::ImportReport, ()>) {
    let Ok(mut imports) = IMPORTS.lock() else {
        return;
    };
    match outcome {
        Err(()) => imports.failed += 1,
        Ok(report) if !report.is_ok() => imports.rejected += 1,
        Ok(report) if report.dry_run => imports.checked += 1,
        Ok(report) => {
            imports.committed += 1;
            let totals = report.totals();
            imports.inserted += totals.inserted;
            imports.updated += totals.updated;
            imports.unchanged += totals.unchanged;
        }
    }
}

fn class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A routed request being timed: started by [`Timer::start`] before the
/// handler, recorded by [`Timer::record`] with its response. The router's
/// one per-request middleware (`lib.rs`) runs it.
pub struct Timer {
    method: &'static str,
    route: Option<MatchedPath>,
    started: Instant,
}

impl Timer {
    /// Starts timing `req`, noting its method and matched route.
    pub fn start(req: &Request) -> Timer {
        Timer {
            method: method_name(req.method()),
            route: req.extensions().get::<MatchedPath>().cloned(),
            started: Instant::now(),
        }
    }

    /// Counts the request in its series with the response's status.
    pub fn record(self, status: StatusCode) {
        let seconds = self.started.elapsed().as_secs_f64();
        let route = self.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let Ok(mut series) = SERIES.lock() else {
            return;
        };
        let by_method = match series.get_mut(route) {
            Some(m) => m,
            None => series.entry(route.to_owned()).or_default(),
        };
        let s = by_method.entry((self.method, class(status))).or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }
}

/// A method's name without an allocation. Methods no route answers are
/// counted together, so that made-up methods cannot grow the series.
fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// `GET /metrics`: for administrators and auditors (and their tokens); 404 for others.
pub async fn metrics(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if !(caller.0.may_read_audit() || caller.0.may_administer()) {
        return Err(ApiError::not_found("页面", "page"));
    }
    // Read before any counter is locked: a guard must not be held across an await.
    let recorded = state.store.import_count().await?;
    let mut out = String::new();
    out.push_str(
        "# HELP yuanjiang_http_requests_total Requests by method, route and status class.\n",
    );
    out.push_str("# TYPE yuanjiang_http_requests_total counter\n");
    let series = SERIES.lock().map_err(|e| ApiError::internal(&e))?;
    let all = || {
        series.iter().flat_map(|(route, m)| {
            m.iter()
                .map(move |((method, status), s)| (method, route, status, s))
        })
    };
    for (method, route, status, s) in all() {
        let _ = writeln!(
            out,
            "yuanjiang_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
            s.count
        );
    }
    out.push_str("# HELP yuanjiang_http_request_duration_seconds Request latency.\n");
    out.push_str("# TYPE yuanjiang_http_request_duration_seconds histogram\n");
    for (method, route, status, s) in all() {
        let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
        for (bound, n) in BUCKETS.iter().zip(s.buckets) {
            let _ = writeln!(
                out,
                "yuanjiang_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "yuanjiang_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            s.count
        );
        let _ = writeln!(
            out,
            "yuanjiang_http_request_duration_seconds_sum{{{labels}}} {}",
            s.sum_seconds
        );
        let _ = writeln!(
            out,
            "yuanjiang_http_request_duration_seconds_count{{{labels}}} {}",
            s.count
        );
    }
    drop(series);
    write_imports(&mut out, recorded)?;
    let (size, idle) = state.store.pool_stats();
    out.push_str("# HELP yuanjiang_db_pool_connections Database pool connections.\n");
    out.push_str("# TYPE yuanjiang_db_pool_connections gauge\n");
    let _ = writeln!(
        out,
        "yuanjiang_db_pool_connections{{state=\"open\"}} {size}"
    );
    let _ = writeln!(
        out,
        "yuanjiang_db_pool_connections{{state=\"idle\"}} {idle}"
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

fn write_imports(out: &mut String, recorded: i64) -> Result<(), ApiError> {
    let imports = IMPORTS.lock().map_err(|e| ApiError::internal(&e))?;
    out.push_str("# HELP yuanjiang_imports_total Imports run through this node, by outcome.\n");
    out.push_str("# TYPE yuanjiang_imports_total counter\n");
    for (outcome, n) in [
        ("checked", imports.checked),
        ("committed", imports.committed),
        ("rejected", imports.rejected),
        ("failed", imports.failed),
    ] {
        let _ = writeln!(out, "yuanjiang_imports_total{{outcome=\"{outcome}\"}} {n}");
    }
    out.push_str(
        "# HELP yuanjiang_import_rows_total Rows of the imports committed through this node.\n",
    );
    out.push_str("# TYPE yuanjiang_import_rows_total counter\n");
    for (change, n) in [
        ("inserted", imports.inserted),
        ("updated", imports.updated),
        ("unchanged", imports.unchanged),
    ] {
        let _ = writeln!(
            out,
            "yuanjiang_import_rows_total{{change=\"{change}\"}} {n}"
        );
    }
    out.push_str(
        "# HELP yuanjiang_import_history_entries Imports committed so far, by any node or the command line.\n",
    );
    out.push_str("# TYPE yuanjiang_import_history_entries gauge\n");
    let _ = writeln!(out, "yuanjiang_import_history_entries {recorded}");
    Ok(())
}
