//! `/import` 导入: upload a spreadsheet, see every problem in a dry run,
//! then commit it; the import templates; and `/open-data.zip`, the
//! open-data package for the public portal.
//!
//! An import runs with the caller's scope (`Viewer::may(Action::Edit, …)` on
//! every row, as `yuanjiang import --as USER` does), so only the roles that
//! may edit records (supporters and prefecture offices) get the upload form.
//!
//! Between the dry run and the commit the uploaded file waits on this
//! node's disk, in a temporary directory of the app, under a random
//! 256-bit id bound to the user who sent it; the commit form sends only
//! that id, which is looked up (never used as a path). Uploads are
//! forgotten after [`UPLOAD_TTL`], after the commit, and past
//! [`UPLOADS_PER_USER`] per user. With several app nodes, the commit must
//! reach the node that took the upload (session affinity), else the user is
//! asked to upload again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path as UrlPath, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use chrono::Utc;
use tokio::io::AsyncWriteExt;
use yuanjiang_domain::{Role, Viewer};
use yuanjiang_exchange::{ImportOptions, ImportReport, Kind, Limits, import, write_error_workbook};
use yuanjiang_store::{AuditFilter, Secret, Store};

use super::{Chrome, Ctx, Lang, WebError, form_pairs, render};
use crate::api::export::{attachment, stream_file};
use crate::{ApiError, AppState, MAX_UPLOAD_BYTES};

/// This module's words (key, zh-CN, English), looked up with the shared table.
pub(super) const WORDS: &[(&str, &str, &str)] = &[
    ("nav.import", "导入", "Import"),
    ("import.title", "数据导入", "Data import"),
    (
        "import.preview.title",
        "导入预览（试运行）",
        "Import preview (dry run)",
    ),
    ("import.done.title", "导入完成", "Import complete"),
    (
        "import.failed.title",
        "导入未完成",
        "Import not carried out",
    ),
    (
        "import.intro",
        "上传 Excel（xlsx、xls）、ODS 或 CSV（UTF-8、GBK、GB18030）文件。第一步只做试运行：逐行校验并列出每个问题，不写入任何数据；文件无误后再确认导入。导入全部成功或全部不写入，重复导入同一文件不会改变数据。",
        "Upload an Excel (xlsx, xls), ODS or CSV (UTF-8, GBK, GB18030) file. The first step is a dry run: every row is checked and every problem listed, and nothing is written; once the file is clean, confirm the import. An import writes all or nothing, and importing the same file again changes nothing.",
    ),
    (
        "import.scope_note",
        "导入以您的权限范围执行：超出范围的行会被列为问题。",
        "The import runs with your scope: rows outside it are listed as problems.",
    ),
    (
        "import.no_rights",
        "您的角色不能修改项目记录，因此不能导入；可下载模板、查看导入记录。",
        "Your role may not change project records, so it cannot import; you can download templates and see the import history.",
    ),
    ("import.kind", "数据类型", "Kind of data"),
    (
        "import.kind.all",
        "全部（按工作表识别）",
        "All (recognised by sheet)",
    ),
    ("import.kind.projects", "项目", "Projects"),
    ("import.kind.transactions", "资金", "Fund transactions"),
    ("import.kind.indicators", "绩效指标", "Indicators"),
    ("import.kind.assignments", "干部人才", "Assignments"),
    ("import.kind.pairings", "结对关系", "Pairings"),
    ("import.file", "文件", "File"),
    (
        "import.limit",
        "文件最大 63 MB，最多 2,000,000 行，每格最多 2,000 字符。",
        "At most 63 MB, 2,000,000 rows and 2,000 characters per cell.",
    ),
    ("import.check", "上传并试运行", "Upload and check"),
    ("import.templates", "导入模板", "Import templates"),
    (
        "import.templates.note",
        "模板含冻结表头、枚举下拉列表和填写说明。",
        "Templates have a frozen header row, drop-down lists and an instructions sheet.",
    ),
    ("import.history", "最近导入记录", "Recent imports"),
    ("import.history.none", "暂无导入记录", "No imports yet"),
    ("import.id", "导入编号", "Import id"),
    ("import.when", "时间", "When"),
    ("import.actor", "导入人", "By"),
    ("import.file_name", "文件名", "File name"),
    ("import.rows", "行数", "Rows"),
    ("import.inserted", "新增", "Inserted"),
    ("import.updated", "更新", "Updated"),
    ("import.unchanged", "未变", "Unchanged"),
    ("import.would_insert", "将新增", "Would insert"),
    ("import.would_update", "将更新", "Would update"),
    ("import.would_keep", "不变", "Unchanged"),
    ("import.sm3", "SM3 摘要", "SM3 digest"),
    ("import.format", "格式", "Format"),
    ("import.bytes", "字节", "bytes"),
    ("import.sheets", "识别的工作表", "Sheets found"),
    ("import.sheet", "工作表", "Sheet"),
    ("import.counts", "记录数", "Records"),
    ("import.problems", "问题清单", "Problems"),
    ("import.row", "行", "Row"),
    ("import.column", "列", "Column"),
    ("import.value", "值", "Value"),
    ("import.code", "代码", "Code"),
    ("import.message", "问题", "Problem"),
    (
        "import.problems.count",
        "个问题，未写入任何数据。请修改文件后重新上传。",
        "problem(s); nothing was written. Correct the file and upload it again.",
    ),
    (
        "import.problems.more",
        "另有未列出的问题：",
        "More problems not listed:",
    ),
    (
        "import.errors_xlsx",
        "下载错误报告（xlsx，标出问题单元格）",
        "Download the error report (xlsx, bad cells marked)",
    ),
    (
        "import.clean",
        "文件无误，可以导入。试运行未写入任何数据。",
        "The file is clean and can be imported. The dry run wrote nothing.",
    ),
    ("import.commit", "确认导入", "Import for real"),
    ("import.again", "重新上传", "Upload another file"),
    (
        "import.committed",
        "已导入。导入记录编号：",
        "Imported. Import history id:",
    ),
    (
        "import.stale",
        "数据在试运行后已发生变化，确认导入时发现以下问题，未写入任何数据。",
        "The data changed after the dry run: the import found these problems and wrote nothing.",
    ),
    ("export.downloads", "下载本列表", "Download this list"),
    (
        "export.transactions",
        "所列项目的资金流水",
        "Fund transactions of these projects",
    ),
    (
        "export.note",
        "按当前筛选条件导出全部行，不分页、无行数上限；搜索词不参与导出；资金流水的年份按交易日期计。",
        "All rows under the current filters, without paging or a row cap; the search words are not applied; for fund transactions the year is the transaction's year.",
    ),
    (
        "public.open_data.note",
        "全部已公开项目的 CSV 文件和 datapackage.json（Frictionless 数据包），不含任何个人信息。",
        "Every published project as CSV files with a datapackage.json (Frictionless Data Package), without any personal data.",
    ),
];

/// Largest file an import accepts: the upload limit less room for the
/// rest of the multipart form, so that a file just over it still reaches
/// the handler and gets its bilingual message.
const IMPORT_MAX_BYTES: u64 = (MAX_UPLOAD_BYTES - 1024 * 1024) as u64;

/// How long an upload waits for its commit.
const UPLOAD_TTL: Duration = Duration::from_secs(3600);

/// Uploads kept per user; older ones are forgotten.
const UPLOADS_PER_USER: usize = 3;

/// Import history lines read, and shown, on the page.
const HISTORY_READ: u32 = 500;
const HISTORY_SHOWN: usize = 20;

/// This module's page routes.
pub(super) fn routes() -> Router<AppState> {
    let shared = Arc::new(Exchange::default());
    Router::new()
        .route(
            "/import",
            get(import_page)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/import/commit", axum::routing::post(commit))
        .route("/import/errors/{id}", get(error_report))
        .route("/import/template/{kind}", get(template_download))
        .route("/open-data.zip", get(open_data_zip))
        .layer(Extension(shared))
}

/// What this module keeps between requests, one per app.
#[derive(Default)]
struct Exchange {
    uploads: Mutex<Uploads>,
    open_data: tokio::sync::Mutex<Option<OpenDataZip>>,
}

/// Uploads waiting for their commit.
#[derive(Default)]
struct Uploads {
    /// Created on the first upload; removed with everything in it when the
    /// app is dropped.
    dir: Option<tempfile::TempDir>,
    staged: HashMap<String, Staged>,
}

/// One upload waiting for its commit.
#[derive(Debug, Clone)]
struct Staged {
    owner: String,
    kind: String,
    file_name: String,
    file: PathBuf,
    errors: PathBuf,
    created: Instant,
    clean: bool,
}

impl Uploads {
    /// Forgets expired uploads and deletes their files.
    fn sweep(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .staged
            .iter()
            .filter(|(_, s)| now.duration_since(s.created) > UPLOAD_TTL)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.forget(&id);
        }
    }

    fn forget(&mut self, id: &str) {
        if let Some(s) = self.staged.remove(id) {
            // Best effort: the directory goes with the app anyway.
            let _ = std::fs::remove_file(&s.file);
            let _ = std::fs::remove_file(&s.errors);
        }
    }

    /// A new upload slot for `owner`: the id and its file paths.
    fn reserve(&mut self, owner: &str) -> std::io::Result<(String, PathBuf, PathBuf)> {
        let now = Instant::now();
        self.sweep(now);
        let mut mine: Vec<(Instant, String)> = self
            .staged
            .iter()
            .filter(|(_, s)| s.owner == owner)
            .map(|(id, s)| (s.created, id.clone()))
            .collect();
        mine.sort();
        while mine.len() >= UPLOADS_PER_USER {
            let (_, id) = mine.remove(0);
            self.forget(&id);
        }
        let dir = match &self.dir {
            Some(d) => d.path().to_owned(),
            None => {
                let d = tempfile::Builder::new()
                    .prefix("yuanjiang-import-")
                    .tempdir()?;
                let path = d.path().to_owned();
                self.dir = Some(d);
                path
            }
        };
        let id = Secret::random().expose().to_owned();
        let file = dir.join(format!("{id}.upload"));
        let errors = dir.join(format!("{id}.errors.xlsx"));
        Ok((id, file, errors))
    }

    /// The upload `id` if it belongs to `owner` and has not expired.
    fn find(&mut self, id: &str, owner: &str) -> Option<Staged> {
        self.sweep(Instant::now());
        self.staged.get(id).filter(|s| s.owner == owner).cloned()
    }
}

fn lock(m: &Mutex<Uploads>) -> std::sync::MutexGuard<'_, Uploads> {
    // A poisoned lock means another request panicked; the map is still whole.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the viewer may import: imports run with the caller's scope, and
/// only these roles may edit records (`Viewer::may(Action::Edit, …)`).
pub(super) fn may_import(viewer: &Viewer) -> bool {
    matches!(viewer, Viewer::User(p) if matches!(p.role, Role::Supporter | Role::Prefecture))
}

/// A word of this module's table in `lang`, or `fallback` when absent
/// (a kind the exchange crate gained after these words were written).
fn word(lang: Lang, key: &str, fallback: (&'static str, &'static str)) -> &'static str {
    WORDS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or(lang.pick(fallback.0, fallback.1), |(_, zh, en)| {
            lang.pick(zh, en)
        })
}

fn kind_label(lang: Lang, key: &str) -> String {
    match Kind::parse(key) {
        Ok(kind) => word(lang, &format!("import.kind.{key}"), (kind.zh(), kind.key())).to_owned(),
        Err(_) => key.to_owned(),
    }
}

/// A choice of what to import.
pub struct KindOption {
    /// `projects`, …, or `all`.
    pub value: String,
    /// Label.
    pub label: String,
    /// Whether it is chosen.
    pub selected: bool,
    /// The template link, for single kinds.
    pub template: Option<String>,
}

fn kind_options(lang: Lang, chosen: &str) -> Vec<KindOption> {
    let mut out: Vec<KindOption> = Kind::IMPORTABLE
        .iter()
        .map(|k| KindOption {
            value: k.key().to_owned(),
            label: kind_label(lang, k.key()),
            selected: k.key() == chosen,
            template: Some(format!("/import/template/{}", k.key())),
        })
        .collect();
    out.push(KindOption {
        value: "all".into(),
        label: word(lang, "import.kind.all", ("全部", "All")).to_owned(),
        selected: chosen == "all",
        template: None,
    });
    out
}

/// The kinds an import form value stands for.
fn kinds_of(value: &str) -> Option<Vec<Kind>> {
    if value == "all" {
        return Some(Kind::IMPORTABLE.to_vec());
    }
    Kind::parse(value)
        .ok()
        .filter(|k| Kind::IMPORTABLE.contains(k))
        .map(|k| vec![k])
}

/// A line of the import history.
pub struct HistoryRow {
    /// History id.
    pub id: i64,
    /// When, Beijing time.
    pub when: String,
    /// Who.
    pub actor: String,
    /// File name.
    pub file_name: String,
    /// What.
    pub kind: String,
    /// Rows read.
    pub rows: i64,
    /// Inserted.
    pub inserted: i64,
    /// Updated.
    pub updated: i64,
    /// Unchanged.
    pub unchanged: i64,
    /// The first 16 hex digits of the file's SM3.
    pub sm3: String,
}

fn beijing(t: chrono::DateTime<Utc>) -> String {
    chrono::FixedOffset::east_opt(8 * 3600).map_or_else(
        || t.format("%Y-%m-%d %H:%M UTC").to_string(),
        |tz| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
    )
}

/// The recent imports the viewer may see: everyone's for the region,
/// auditors and administrators; one's own for everybody else, since file
/// names tell of other offices' work.
async fn history(store: &Store, ctx: &Ctx) -> Result<Vec<HistoryRow>, WebError> {
    let Viewer::User(p) = &ctx.viewer else {
        return Ok(Vec::new());
    };
    let all = ctx.viewer.sees_whole_programme();
    let rows = store.import_history(HISTORY_READ).await?;
    Ok(rows
        .into_iter()
        .filter(|r| all || r.actor == p.name)
        .take(HISTORY_SHOWN)
        .map(|r| HistoryRow {
            id: r.id,
            when: beijing(r.imported_at),
            actor: r.actor,
            file_name: r.file_name,
            kind: r
                .kind
                .split('+')
                .map(|k| kind_label(ctx.lang, k))
                .collect::<Vec<_>>()
                .join(" + "),
            rows: r.rows_read,
            inserted: r.inserted,
            updated: r.updated,
            unchanged: r.unchanged,
            sm3: r.file_sm3.chars().take(16).collect(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    c: Chrome,
    may_import: bool,
    kinds: Vec<KindOption>,
    error: Option<String>,
    history: Vec<HistoryRow>,
}

async fn import_form(
    state: &AppState,
    ctx: &Ctx,
    chosen: &str,
    error: Option<String>,
) -> Result<ImportPage, WebError> {
    ctx.principal()?;
    Ok(ImportPage {
        c: Chrome::new(ctx, "/import", ctx.lang.t("import.title")),
        may_import: may_import(&ctx.viewer),
        kinds: kind_options(ctx.lang, chosen),
        error,
        history: history(&state.store, ctx).await?,
    })
}

/// `GET /import`: the upload form, the templates and the history.
async fn import_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let result = async { render(&import_form(&state, &ctx, "projects", None).await?) }.await;
    ctx.respond(result)
}

/// The upload form again with a message, answered with `status`.
async fn refuse_upload(
    state: &AppState,
    ctx: &Ctx,
    chosen: &str,
    status: StatusCode,
    zh: &str,
    en: &str,
) -> Result<Response, WebError> {
    let message = ctx.lang.pick(zh, en).to_owned();
    let page = import_form(state, ctx, chosen, Some(message)).await?;
    Ok((status, render(&page)?).into_response())
}

fn forbidden() -> WebError {
    ApiError {
        status: StatusCode::FORBIDDEN,
        code: "forbidden",
        zh: "您的角色不能修改项目记录，因此不能导入".into(),
        en: "your role may not change project records, so it cannot import".into(),
        field: None,
    }
    .into()
}

/// What the upload form sent.
struct Upload {
    kind: String,
    file_name: String,
    bytes: u64,
}

/// Why an upload was refused before its check.
enum UploadRefusal {
    TooLarge(u64),
    NoFile,
    Broken,
    Internal(std::io::Error),
}

/// Reads the form, writing the file to `path` as it arrives and stopping
/// as soon as it passes [`IMPORT_MAX_BYTES`].
async fn receive(mut form: Multipart, path: &Path) -> Result<Upload, UploadRefusal> {
    let mut kind = String::new();
    let mut file_name = None;
    let mut bytes = 0u64;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(UploadRefusal::TooLarge(MAX_UPLOAD_BYTES as u64 + 1));
            }
            Err(_) => return Err(UploadRefusal::Broken),
        };
        match field.name() {
            Some("kind") => kind = field.text().await.map_err(|_| UploadRefusal::Broken)?,
            Some("file") => {
                let name = field.file_name().unwrap_or_default();
                // Browsers send the bare name; some old ones the full path.
                let name = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
                file_name = Some(name.chars().take(200).collect::<String>());
                let mut out = tokio::fs::File::create(path)
                    .await
                    .map_err(UploadRefusal::Internal)?;
                let mut field = field;
                loop {
                    let chunk: Option<Bytes> = match field.chunk().await {
                        Ok(c) => c,
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(UploadRefusal::TooLarge(bytes + 1));
                        }
                        Err(_) => return Err(UploadRefusal::Broken),
                    };
                    let Some(chunk) = chunk else { break };
                    bytes += chunk.len() as u64;
                    if bytes > IMPORT_MAX_BYTES {
                        return Err(UploadRefusal::TooLarge(bytes));
                    }
                    out.write_all(&chunk)
                        .await
                        .map_err(UploadRefusal::Internal)?;
                }
                out.flush().await.map_err(UploadRefusal::Internal)?;
            }
            // The CSRF token, checked by the authentication layer, and
            // anything else a browser may add.
            _ => {}
        }
    }
    match file_name {
        Some(file_name) if bytes > 0 => Ok(Upload {
            kind,
            file_name,
            bytes,
        }),
        _ => Err(UploadRefusal::NoFile),
    }
}

fn limits() -> Limits {
    Limits {
        max_bytes: IMPORT_MAX_BYTES,
        ..Limits::default()
    }
}

/// Runs an import of the file at `file` on a blocking thread (the exchange
/// crate's import future is not `Send`; the thread also lets a commit
/// finish even if the client gives up). For a file with problems the
/// error workbook is written to `errors`.
async fn run_import(
    store: &Store,
    file: &Path,
    errors: &Path,
    options: ImportOptions,
) -> Result<ImportReport, WebError> {
    let store = store.clone();
    let (file, errors) = (file.to_owned(), errors.to_owned());
    let outcome = tokio::task::spawn_blocking(move || -> Result<ImportReport, ApiError> {
        let bytes = std::fs::read(&file).map_err(|e| ApiError::internal(&e))?;
        let bytes = yuanjiang_exchange::Bytes::from(bytes);
        let handle = tokio::runtime::Handle::current();
        let report = handle
            .block_on(import(&store, bytes.clone(), &options, &mut |_| {}))
            .map_err(crate::api::export::exchange_error)?;
        if !report.is_ok() {
            write_error_workbook(&bytes, &report, &options.limits, &errors)
                .map_err(|e| ApiError::internal(&e))?;
        }
        Ok(report)
    })
    .await
    .map_err(|e| ApiError::internal(&e))
    .and_then(|r| r);
    crate::metrics::count_import(outcome.as_ref().map_err(|_| ()));
    Ok(outcome?)
}

/// A sheet line of the report page.
pub struct SheetLine {
    /// Sheet name.
    pub name: String,
    /// What it holds.
    pub kind: String,
    /// Data rows.
    pub rows: u64,
}

/// A counts line of the report page.
pub struct CountLine {
    /// What.
    pub kind: String,
    /// New.
    pub inserted: u64,
    /// Changed.
    pub updated: u64,
    /// Left as they were.
    pub unchanged: u64,
}

/// A problem line of the report page.
pub struct ProblemLine {
    /// Sheet.
    pub sheet: String,
    /// Row (header = 1), or empty.
    pub row: String,
    /// Column letter and header, or empty.
    pub column: String,
    /// The value read.
    pub value: String,
    /// Stable code.
    pub code: String,
    /// What is wrong, in the page's language.
    pub message: String,
}

#[derive(Template)]
#[template(path = "import_report.html")]
struct ReportPage {
    c: Chrome,
    file_name: String,
    format: String,
    file_bytes: u64,
    sm3: String,
    dry_run: bool,
    stale: bool,
    sheets: Vec<SheetLine>,
    counts: Vec<CountLine>,
    problems: Vec<ProblemLine>,
    problem_count: u64,
    suppressed: u64,
    upload: String,
    import_id: Option<i64>,
}

fn report_page(ctx: &Ctx, report: &ImportReport, upload: &str, stale: bool) -> ReportPage {
    let lang = ctx.lang;
    let title = match (report.dry_run, report.is_ok()) {
        (true, _) => "import.preview.title",
        (false, true) => "import.done.title",
        (false, false) => "import.failed.title",
    };
    ReportPage {
        c: Chrome::new(ctx, "/import", lang.t(title)),
        file_name: report.file_name.clone(),
        format: report.format.clone().unwrap_or_default(),
        file_bytes: report.file_bytes,
        sm3: report.file_sm3.clone(),
        dry_run: report.dry_run,
        stale,
        sheets: report
            .sheets
            .iter()
            .map(|s| SheetLine {
                name: s.name.clone(),
                kind: kind_label(lang, s.kind),
                rows: s.rows,
            })
            .collect(),
        counts: report
            .counts
            .iter()
            .map(|(k, c)| CountLine {
                kind: kind_label(lang, k),
                inserted: c.inserted,
                updated: c.updated,
                unchanged: c.unchanged,
            })
            .collect(),
        problems: report
            .issues
            .iter()
            .map(|i| ProblemLine {
                sheet: i.sheet.clone(),
                row: i.row.map(|r| r.to_string()).unwrap_or_default(),
                column: match (i.column_letter(), &i.header) {
                    (Some(c), Some(h)) => format!("{c}（{h}）"),
                    (Some(c), None) => c,
                    _ => String::new(),
                },
                value: i.value.clone().unwrap_or_default(),
                code: i.code.to_owned(),
                message: lang.pick(&i.zh, &i.en).to_owned(),
            })
            .collect(),
        problem_count: report.issues.len() as u64 + report.suppressed,
        suppressed: report.suppressed,
        upload: upload.to_owned(),
        import_id: report.import_id,
    }
}

/// `POST /import` (multipart: `csrf_token` first, `kind`, `file`): keeps the
/// file and shows the dry run.
async fn upload(
    State(state): State<AppState>,
    Extension(exchange): Extension<Arc<Exchange>>,
    ctx: Ctx,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let principal = ctx.principal()?;
        if !may_import(&ctx.viewer) {
            return Err(forbidden());
        }
        let Ok(form) = form else {
            return refuse_upload(
                &state,
                &ctx,
                "projects",
                StatusCode::BAD_REQUEST,
                "请通过页面上的表单上传文件",
                "please upload the file with the form on the page",
            )
            .await;
        };
        let (id, file, errors) = lock(&exchange.uploads)
            .reserve(&principal.name)
            .map_err(|e| ApiError::internal(&e))?;
        let received = receive(form, &file).await;
        let upload =
            match received {
                Ok(u) => u,
                Err(refusal) => {
                    let _ = tokio::fs::remove_file(&file).await;
                    return match refusal {
                        UploadRefusal::TooLarge(bytes) => {
                            let issue = limits().check_size(bytes).err();
                            let (zh, en) = issue.map_or_else(
                                || ("文件过大".to_owned(), "the file is too large".to_owned()),
                                |i| (i.zh, i.en),
                            );
                            refuse_upload(
                                &state,
                                &ctx,
                                "projects",
                                StatusCode::PAYLOAD_TOO_LARGE,
                                &zh,
                                &en,
                            )
                            .await
                        }
                        UploadRefusal::NoFile => {
                            refuse_upload(
                                &state,
                                &ctx,
                                "projects",
                                StatusCode::BAD_REQUEST,
                                "请选择要上传的文件（文件不能为空）",
                                "choose a file to upload (it must not be empty)",
                            )
                            .await
                        }
                        UploadRefusal::Broken => refuse_upload(
                            &state,
                            &ctx,
                            "projects",
                            StatusCode::BAD_REQUEST,
                            "上传未完成或表单已损坏，请重新上传",
                            "the upload was cut short or the form is broken; please upload again",
                        )
                        .await,
                        UploadRefusal::Internal(e) => Err(ApiError::internal(&e).into()),
                    };
                }
            };
        let Some(kinds) = kinds_of(upload.kind.trim()) else {
            let _ = tokio::fs::remove_file(&file).await;
            return refuse_upload(
                &state,
                &ctx,
                "projects",
                StatusCode::BAD_REQUEST,
                "请选择数据类型",
                "choose the kind of data",
            )
            .await;
        };
        tracing::info!(
            user = principal.name,
            file = upload.file_name,
            bytes = upload.bytes,
            "import upload"
        );
        let options = ImportOptions {
            kinds,
            dry_run: true,
            viewer: Some(ctx.viewer.clone()),
            actor: principal.name.clone(),
            file_name: upload.file_name.clone(),
            limits: limits(),
        };
        let report = run_import(&state.store, &file, &errors, options).await?;
        lock(&exchange.uploads).staged.insert(
            id.clone(),
            Staged {
                owner: principal.name.clone(),
                kind: upload.kind.trim().to_owned(),
                file_name: upload.file_name,
                file,
                errors,
                created: Instant::now(),
                clean: report.is_ok(),
            },
        );
        render(&report_page(&ctx, &report, &id, false))
    }
    .await;
    ctx.respond(result)
}

/// 410 for an upload that is not (or no longer) there for this user; not
/// 404, whose page would not say what to do. Another user's upload looks
/// the same as an expired one.
fn upload_gone() -> WebError {
    ApiError {
        status: StatusCode::GONE,
        code: "upload_expired",
        zh: "上传的文件已过期或不存在（保留 1 小时，导入后即删除），请重新上传".into(),
        en: "the uploaded file has expired or does not exist (uploads are kept for an hour and removed once imported); please upload it again".into(),
        field: None,
    }
    .into()
}

/// Whether `id` looks like an upload id (64 hex digits).
fn is_upload_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `POST /import/commit` (form: `csrf_token`, `upload`): imports a file
/// whose dry run was clean.
async fn commit(
    State(state): State<AppState>,
    Extension(exchange): Extension<Arc<Exchange>>,
    ctx: Ctx,
    body: Bytes,
) -> Response {
    let result = async {
        let principal = ctx.principal()?;
        if !may_import(&ctx.viewer) {
            return Err(forbidden());
        }
        let form = form_pairs(&body);
        let id = form.get("upload").map(String::as_str).unwrap_or_default();
        if !is_upload_id(id) {
            return Err(upload_gone());
        }
        // Taken out while it runs, so that a second click cannot import twice.
        let staged = {
            let mut uploads = lock(&exchange.uploads);
            let found = uploads.find(id, &principal.name);
            if found.is_some() {
                uploads.staged.remove(id);
            }
            found
        };
        let Some(staged) = staged else {
            return Err(upload_gone());
        };
        if !staged.clean {
            lock(&exchange.uploads).staged.insert(id.to_owned(), staged);
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                code: "import_has_problems",
                zh: "该文件试运行时有问题，不能导入：请修改后重新上传".into(),
                en: "the file had problems in its dry run and cannot be imported; correct it and upload it again".into(),
                field: None,
            }
            .into());
        }
        let kinds = kinds_of(&staged.kind).ok_or_else(upload_gone)?;
        let options = ImportOptions {
            kinds,
            dry_run: false,
            viewer: Some(ctx.viewer.clone()),
            actor: principal.name.clone(),
            file_name: staged.file_name.clone(),
            limits: limits(),
        };
        let report = run_import(&state.store, &staged.file, &staged.errors, options).await;
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                lock(&exchange.uploads).staged.insert(id.to_owned(), staged);
                return Err(e);
            }
        };
        let ok = report.is_ok();
        if ok {
            let _ = tokio::fs::remove_file(&staged.file).await;
            let _ = tokio::fs::remove_file(&staged.errors).await;
        } else {
            // The data moved on since the dry run: keep the file so that
            // its error report can be downloaded.
            lock(&exchange.uploads).staged.insert(
                id.to_owned(),
                Staged {
                    clean: false,
                    ..staged
                },
            );
        }
        let page = report_page(&ctx, &report, id, !ok);
        let status = if ok { StatusCode::OK } else { StatusCode::CONFLICT };
        Ok((status, render(&page)?).into_response())
    }
    .await;
    ctx.respond(result)
}

/// `GET /import/errors/{id}`: the error report of one's own upload, as xlsx.
async fn error_report(
    Extension(exchange): Extension<Arc<Exchange>>,
    ctx: Ctx,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let result = async {
        let principal = ctx.principal()?;
        if !is_upload_id(&id) {
            return Err(upload_gone());
        }
        let staged = lock(&exchange.uploads)
            .find(&id, &principal.name)
            .ok_or_else(upload_gone)?;
        let file = std::fs::File::open(&staged.errors).map_err(|_| upload_gone())?;
        let stem = staged
            .file_name
            .rsplit_once('.')
            .map_or(staged.file_name.as_str(), |(s, _)| s);
        Ok(xlsx_response(
            file,
            "import-errors.xlsx",
            &format!("错误报告-{stem}.xlsx"),
        ))
    }
    .await;
    ctx.respond(result)
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn xlsx_response(file: std::fs::File, ascii: &str, utf8: &str) -> Response {
    let length = file.metadata().map(|m| m.len()).ok();
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static(XLSX)),
            (CONTENT_DISPOSITION, attachment(ascii, utf8)),
        ],
        stream_file(file),
    )
        .into_response();
    if let Some(n) = length {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(n));
    }
    response
}

/// `GET /import/template/{kind}` (also `{kind}.xlsx`): the import template.
async fn template_download(ctx: Ctx, UrlPath(kind): UrlPath<String>) -> Response {
    let result = async {
        ctx.principal()?;
        let key = kind.strip_suffix(".xlsx").unwrap_or(&kind);
        let kind = Kind::parse(key)
            .ok()
            .filter(|k| Kind::IMPORTABLE.contains(k))
            .ok_or_else(WebError::not_found)?;
        let bytes = yuanjiang_exchange::template(kind)
            .and_then(|mut wb| Ok(wb.save_to_buffer()?))
            .map_err(|e| ApiError::internal(&e))?;
        Ok((
            [
                (CONTENT_TYPE, HeaderValue::from_static(XLSX)),
                (
                    CONTENT_DISPOSITION,
                    attachment(
                        &format!("template-{}.xlsx", kind.key()),
                        &format!("导入模板-{}.xlsx", kind.zh()),
                    ),
                ),
            ],
            bytes,
        )
            .into_response())
    }
    .await;
    ctx.respond(result)
}

/// The open-data zip as last built, and what the data looked like then.
struct OpenDataZip {
    data_version: i64,
    /// The last audit entry read when it was built (or checked since).
    trail_seen: i64,
    file: tempfile::NamedTempFile,
}

/// Audit entries of these kinds change no data in the package (sign-ins,
/// accounts, tokens), so they do not call for a rebuild.
const NOT_DATA: [&str; 2] = ["user", "api_token"];

/// Audit entries read per look at what changed.
const TRAIL_PAGE: u32 = 200;

/// Whether anything in the package may have changed since audit entry
/// `seen`, and the entry read up to. Every write appends its audit entry in
/// its own transaction, so the trail sees publishing, renaming and
/// un-publishing a project that the data version (which moves with money
/// only) does not.
async fn trail_since(store: &Store, seen: i64) -> Result<(bool, i64), ApiError> {
    let page = store
        .audit_entries(&AuditFilter::default(), Some(seen), TRAIL_PAGE)
        .await?;
    if page.items.len() < TRAIL_PAGE as usize {
        let changed = page
            .items
            .iter()
            .any(|e| !NOT_DATA.contains(&e.entity.as_str()));
        let head = page.items.last().map_or(seen, |e| e.id);
        return Ok((changed, head));
    }
    Ok((true, store.write_version().await?))
}

/// Builds the package into a fresh zip file.
async fn build_open_data(store: &Store) -> Result<tempfile::NamedTempFile, ApiError> {
    let dir = tempfile::Builder::new()
        .prefix("yuanjiang-open-data-")
        .tempdir()
        .map_err(|e| ApiError::internal(&e))?;
    yuanjiang_exchange::open_data(store, dir.path(), &mut |_, _| {})
        .await
        .map_err(crate::api::export::exchange_error)?;
    let zip = tempfile::NamedTempFile::new().map_err(|e| ApiError::internal(&e))?;
    let out = zip.reopen().map_err(|e| ApiError::internal(&e))?;
    write_zip(dir.path(), out).map_err(|e| ApiError::internal(&e))?;
    Ok(zip)
}

/// Packs every file of `dir` (flat, sorted by name) into a zip.
fn write_zip(dir: &Path, out: std::fs::File) -> zip::result::ZipResult<()> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(out));
    for path in names {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let size = std::fs::metadata(&path)?.len();
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(size >= u64::from(u32::MAX));
        zip.start_file(name, options)?;
        let mut input = std::fs::File::open(&path)?;
        std::io::copy(&mut input, &mut zip)?;
    }
    zip.finish()?;
    Ok(())
}

/// The package's zip, rebuilt only when the data changed; opened for reading.
async fn open_data_file(store: &Store, exchange: &Exchange) -> Result<std::fs::File, ApiError> {
    // Held while building, so that concurrent downloads wait for one build.
    let mut cached = exchange.open_data.lock().await;
    let version = store.data_version().await?;
    if let Some(zip) = cached.as_mut()
        && zip.data_version == version
    {
        let (changed, head) = trail_since(store, zip.trail_seen).await?;
        if !changed {
            zip.trail_seen = head;
            return zip.file.reopen().map_err(|e| ApiError::internal(&e));
        }
    }
    // The trail is read first: a write landing during the build makes the
    // next download rebuild rather than be missed.
    let head = store.write_version().await?;
    let file = build_open_data(store).await?;
    let opened = file.reopen().map_err(|e| ApiError::internal(&e))?;
    *cached = Some(OpenDataZip {
        data_version: version,
        trail_seen: head,
        file,
    });
    Ok(opened)
}

/// `GET /open-data.zip`: the open-data package (published records only, no
/// personal data) for anyone.
async fn open_data_zip(
    State(state): State<AppState>,
    Extension(exchange): Extension<Arc<Exchange>>,
) -> Response {
    let store = state.store.clone();
    // On a blocking thread: the exchange crate's future is not `Send`, and a
    // build runs to the end (and is cached) even if the client gives up.
    let built = tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(open_data_file(&store, &exchange))
    })
    .await;
    let file = match built {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => return e.into_response(),
        Err(e) => return ApiError::internal(&e).into_response(),
    };
    let length = file.metadata().map(|m| m.len()).ok();
    let date = Utc::now().format("%Y%m%d");
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/zip")),
            (
                CONTENT_DISPOSITION,
                attachment(
                    &format!("yuanjiang-open-data-{date}.zip"),
                    &format!("援疆通开放数据-{date}.zip"),
                ),
            ),
        ],
        stream_file(file),
    )
        .into_response();
    if let Some(n) = length {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(n));
    }
    response
}

/// A download link of the project list page.
pub struct Download {
    /// Target.
    pub href: String,
    /// Label (the format).
    pub label: &'static str,
}

/// The project list page's download links: the filtered list, and the fund
/// transactions under the same filters, as CSV, xlsx and JSON through the
/// export API (which applies the viewer's scope itself).
pub(super) fn downloads(
    lang: Lang,
    filters: &HashMap<String, String>,
) -> (Vec<Download>, Vec<Download>) {
    let mut pairs: Vec<(&str, &str)> = filters
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    pairs.sort_unstable();
    if lang == Lang::En {
        pairs.push(("lang", "en"));
    }
    let links = |what: &str| {
        [("csv", "CSV"), ("xlsx", "Excel"), ("json", "JSON")]
            .into_iter()
            .map(|(format, label)| {
                let mut q = vec![("format", format)];
                q.extend(pairs.iter().copied());
                Download {
                    href: format!("/api/v1/export/{what}?{}", super::format::query_string(q)),
                    label,
                }
            })
            .collect()
    };
    (links("projects"), links("transactions"))
}
