//! Export through the API: any list with the API's filters as CSV, xlsx or JSON.
//!
//! `GET /api/v1/export/{what}?format=csv|xlsx|json&lang=zh|en&<filters>`,
//! `what` one of `projects`, `transactions`, `indicators`, `pairings`,
//! `assignments` (masked per viewer by the exchange crate). The
//! caller's scope is applied as on `/api/v1/projects` (the public gets
//! published records). `yuanjiang_exchange::export` writes page by page to
//! a temporary file, which is then streamed back: no row cap, and memory
//! stays flat however long the list. The file is unlinked as soon as it is
//! open, so nothing is left behind when the client goes away.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;
use yuanjiang_domain::DomainError;
use yuanjiang_exchange::{
    ExchangeError, ExportFormat, ExportOptions, Kind, PeopleExport, PersonalDataExport,
    parse_assignment_filter,
};

use super::query::{self, FILTER_PARAMS};
use crate::{ApiError, AppState, Caller};

/// The export routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/export/{what}", get(export))
}

/// How long a download may take before its headers are sent anyway: under
/// the server's 30 s request timeout, so that a long export is not cut
/// off; past it an error can no longer change the status and ends the
/// download early instead (and is logged).
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// The MIME type of an export format.
pub(crate) fn content_type(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ExportFormat::Json => "application/json",
    }
}

/// The file extension of an export format.
pub(crate) fn extension(format: ExportFormat) -> &'static str {
    match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Xlsx => "xlsx",
        ExportFormat::Json => "json",
    }
}

/// A `Content-Disposition: attachment` with an ASCII `filename` for old
/// clients and the real (Chinese) name as UTF-8 `filename*` (RFC 6266/5987).
pub(crate) fn attachment(ascii: &str, utf8: &str) -> HeaderValue {
    let plain: String = ascii
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(utf8.len() * 3);
    for b in utf8.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let value = format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}");
    // Only ASCII went in, so the header is always valid.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The export's options from the path and the query, or 400 naming the bad
/// parameter. The caller's scope is applied here.
pub(crate) fn options(
    what: &str,
    params: &HashMap<String, String>,
    caller: &Caller,
) -> Result<ExportOptions, ApiError> {
    let what = [
        Kind::Projects,
        Kind::Transactions,
        Kind::Indicators,
        Kind::Pairings,
        Kind::Assignments,
    ]
    .into_iter()
    .find(|k| k.key() == what)
    .ok_or_else(|| {
        ApiError::bad_parameter(
            "what",
            DomainError::new(
                "invalid_kind",
                format!(
                    "导出类型“{what}”无效，可选值：projects、transactions、indicators、pairings、assignments"
                ),
                format!(
                    "export kind \"{what}\" is invalid; expected one of: projects, transactions, indicators, pairings, assignments"
                ),
            ),
        )
    })?;
    let mut allowed: Vec<&str> = match what {
        Kind::Pairings => vec!["supporter", "recipient"],
        Kind::Assignments => vec!["supporter", "recipient", "batch", "personal_data"],
        _ => FILTER_PARAMS.to_vec(),
    };
    allowed.extend(["format", "lang"]);
    query::only(params, &allowed)?;
    let format = match params.get("format") {
        None => ExportFormat::Csv,
        Some(f) => ExportFormat::parse(f).map_err(|e| ApiError::bad_parameter("format", e))?,
    };
    let english = match params.get("lang").map(|v| v.trim()) {
        None | Some("zh" | "zh-CN") => false,
        Some("en") => true,
        Some(other) => {
            return Err(ApiError::bad_parameter(
                "lang",
                DomainError::new(
                    "invalid_lang",
                    format!("语言“{other}”无效，可选值：zh、en"),
                    format!("language \"{other}\" is invalid; expected zh or en"),
                ),
            ));
        }
    };
    // `batch` and `personal_data` are the assignments' own (see `people`).
    let registry_params: HashMap<String, String> = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "batch" | "personal_data"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let filter = super::scoped(query::filter(&registry_params)?, caller);
    Ok(ExportOptions {
        what,
        format,
        filter,
        english,
    })
}

/// How assignments are exported for `caller`: their scope, the filters,
/// and personal data masked unless asked for in full (which the exchange
/// crate allows only to a viewer who may see it, per record).
fn people(params: &HashMap<String, String>, caller: &Caller) -> Result<PeopleExport, ApiError> {
    if caller.0 == yuanjiang_domain::Viewer::Public {
        return Err(ApiError::not_found("页面", "page"));
    }
    let mut pairs = Vec::new();
    for name in ["supporter", "recipient", "batch"] {
        if let Some(v) = params.get(name) {
            let pair = format!("{name}={v}");
            // Checked one by one, so that the error names its parameter.
            parse_assignment_filter(std::slice::from_ref(&pair))
                .map_err(|e| ApiError::bad_parameter(name, e))?;
            pairs.push(pair);
        }
    }
    let filter =
        parse_assignment_filter(&pairs).map_err(|e| ApiError::bad_parameter("batch", e))?;
    let personal_data = match params.get("personal_data") {
        None => PersonalDataExport::Masked,
        Some(v) => {
            PersonalDataExport::parse(v).map_err(|e| ApiError::bad_parameter("personal_data", e))?
        }
    };
    Ok(PeopleExport {
        viewer: Some(caller.0.clone()),
        filter,
        personal_data,
    })
}

/// `GET /api/v1/export/{what}`: the list as a file download.
#[utoipa::path(get, path = "/api/v1/export/{what}", tag = "exchange", params(("what" = String, Path, description = "projects, transactions, indicators, pairings (filtered by supporter and recipient only) or assignments (supporter, recipient, batch; personal data masked unless personal_data=full and the caller may see it)"), ("batch" = Option<u32>, Query, description = "assignments: batch number"), ("personal_data" = Option<String>, Query, description = "assignments: masked (default) or full"), ("format" = Option<String>, Query, description = "csv (UTF-8 with BOM, the default), xlsx or json (amounts in fen)"), ("lang" = Option<String>, Query, description = "zh (Chinese headers and labels, the default) or en (English headers and vocabulary keys)"), query::FilterParams), responses((status = 200, description = "The whole list within the caller's scope as an attachment (Content-Disposition with a UTF-8 filename*), streamed with no row cap"), (status = 400, description = "A bad parameter (field names it)", body = super::openapi::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    UrlPath(what): UrlPath<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let options = match options(&what, &params, &caller) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let people = if options.what == Kind::Assignments {
        match people(&params, &caller) {
            Ok(p) => Some(p),
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    let kind = options.what;
    let ext = extension(options.format);
    let date = Utc::now().format("%Y%m%d");
    let disposition = attachment(
        &format!("yuanjiang-{}-{date}.{ext}", kind.key()),
        &format!("援疆通-{}-{date}.{ext}", kind.zh()),
    );
    let content_type = content_type(options.format);
    let store = state.store.clone();
    tracing::info!(user = caller.0.name(), what = kind.key(), "export");
    download(content_type, disposition, move |path| {
        let handle = tokio::runtime::Handle::current();
        match &people {
            Some(people) => handle.block_on(yuanjiang_exchange::export_assignments(
                &store,
                &options,
                people,
                path,
                &mut |_, _| {},
            )),
            None => handle.block_on(yuanjiang_exchange::export(
                &store,
                &options,
                path,
                &mut |_, _| {},
            )),
        }
        .map(|_| ())
    })
    .await
}

/// Maps a failed export or package to the API's error.
pub(crate) fn exchange_error(e: ExchangeError) -> ApiError {
    match e {
        ExchangeError::Store(e) => ApiError::from(e),
        ExchangeError::Invalid(e) => ApiError {
            status: StatusCode::BAD_REQUEST,
            code: e.code,
            zh: e.zh,
            en: e.en,
            field: None,
        },
        other => ApiError::internal(&other),
    }
}

/// Writes a file with `produce` on a blocking thread (the exchange crate's
/// writers are synchronous, and their futures are not `Send`, so they run
/// under `Handle::block_on` there) and streams it back as an attachment.
/// If it is ready within [`ANSWER_WITHIN`] the answer carries its length,
/// or the error; otherwise the headers go first and the body follows when
/// the file is done.
pub(crate) async fn download<F>(
    content_type: &'static str,
    disposition: HeaderValue,
    produce: F,
) -> Response
where
    F: FnOnce(&Path) -> Result<(), ExchangeError> + Send + 'static,
{
    let file = match tempfile::NamedTempFile::new() {
        Ok(f) => f,
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let (done, finished) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let outcome = produce(file.path()).and_then(|()| {
            // Opened before the name is removed, so the data lives on for
            // the reader alone.
            std::fs::File::open(file.path()).map_err(|e| ExchangeError::io(file.path(), e))
        });
        drop(file);
        // The receiver is gone if the client went away.
        let _ = done.send(outcome);
    });
    let mut finished = finished;
    let ready = tokio::time::timeout(ANSWER_WITHIN, &mut finished).await;
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (CONTENT_DISPOSITION, disposition),
    ];
    match ready {
        Ok(Ok(Ok(opened))) => {
            let length = opened.metadata().map(|m| m.len()).ok();
            let mut response = (headers, stream_file(opened)).into_response();
            if let Some(n) = length {
                response
                    .headers_mut()
                    .insert(CONTENT_LENGTH, HeaderValue::from(n));
            }
            response
        }
        Ok(Ok(Err(e))) => exchange_error(e).into_response(),
        Ok(Err(e)) => ApiError::internal(&e).into_response(),
        Err(_) => (headers, Body::from_stream(late_body(finished))).into_response(),
    }
}

/// Where a late download is: waiting for its file, reading it, or failed.
enum Late {
    Waiting(tokio::sync::oneshot::Receiver<Result<std::fs::File, ExchangeError>>),
    Reading(ReaderStream<tokio::fs::File>),
    Failed,
}

/// The body of a download whose headers went before its file was done:
/// waits for the file, then streams it; a failure ends the body with an
/// error, so the client sees a broken download rather than a short file.
fn late_body(
    finished: tokio::sync::oneshot::Receiver<Result<std::fs::File, ExchangeError>>,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> {
    futures_util::stream::unfold(Late::Waiting(finished), |state| async move {
        let mut reader = match state {
            Late::Failed => return None,
            Late::Reading(reader) => reader,
            Late::Waiting(finished) => match finished.await {
                Ok(Ok(file)) => ReaderStream::new(tokio::fs::File::from_std(file)),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "download failed after its headers were sent");
                    let e = std::io::Error::other("the download failed");
                    return Some((Err(e), Late::Failed));
                }
                Err(e) => return Some((Err(std::io::Error::other(e)), Late::Failed)),
            },
        };
        let next = reader.next().await?;
        Some((next, Late::Reading(reader)))
    })
}

/// A body that reads an open file in chunks.
pub(crate) fn stream_file(file: std::fs::File) -> Body {
    Body::from_stream(ReaderStream::new(tokio::fs::File::from_std(file)))
}
