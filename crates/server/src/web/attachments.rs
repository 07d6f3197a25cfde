//! Attachments on projects and approval steps: the project page's list and
//! upload form, the upload (`POST /projects/{code}/attachments`, multipart)
//! and the download (`GET /attachments/{id}`). Both go through the API's own
//! functions (`api::attachments`), so the page can see and do no more than
//! the API: the public sees no attachments at all, out of scope is 404.

use std::collections::HashMap;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use yuanjiang_domain::AttachmentKind;
use yuanjiang_store::ProjectRow;

use super::dashboard::Opt;
use super::registry::{Feedback, beijing, project_page};
use super::{Ctx, WebError, format, redirect};
use crate::api::attachments::{
    download_as, may_read_attachments, read_form, store_upload, uploader,
};
use crate::{ApiError, AppState};

/// This module's words (key, zh-CN, English), looked up with the shared table.
pub(super) const WORDS: &[(&str, &str, &str)] = &[
    ("attachments", "附件", "Attachments"),
    ("attachments.none", "尚无附件", "No attachments yet"),
    ("attachments.kind", "类型", "Kind"),
    ("attachments.name", "文件名", "File name"),
    ("attachments.size", "大小", "Size"),
    ("attachments.step", "审批步骤", "Approval step"),
    (
        "attachments.no_step",
        "（不关联审批步骤）",
        "(no approval step)",
    ),
    ("attachments.download", "下载", "Download"),
    ("attachments.upload", "上传附件", "Upload an attachment"),
    ("attachments.file", "文件", "File"),
    (
        "attachments.hint",
        "接受 PDF、PNG、JPEG、Word/Excel/PowerPoint（docx、xlsx、pptx）和 OpenDocument 文件，单个不超过 20 MB；类型按文件内容判断。附件仅在本项目的可见范围内可见，不对公众公开。",
        "PDF, PNG, JPEG, Word/Excel/PowerPoint (docx, xlsx, pptx) and OpenDocument files up to 20 MB each; the type is judged by the content. Attachments are visible only within this project's scope, never to the public.",
    ),
];

/// One attachment as the project page lists it.
pub struct Item {
    /// Kind label.
    pub kind: &'static str,
    /// File name.
    pub name: String,
    /// Size, e.g. `1.2 MB`.
    pub size: String,
    /// The approval step it belongs to, if any.
    pub step: String,
    /// Who uploaded it.
    pub by: String,
    /// When (Beijing time).
    pub at: String,
    /// The download link.
    pub href: String,
}

/// The project page's attachment section.
#[derive(Default)]
pub struct Section {
    /// Whether the viewer may see attachments at all (not the public).
    pub visible: bool,
    /// The attachments, oldest first.
    pub items: Vec<Item>,
    /// Whether the viewer may upload (edit the project).
    pub can_upload: bool,
    /// The kinds to choose from.
    pub kinds: Vec<Opt>,
    /// The approval steps to attach to (the first is "none").
    pub steps: Vec<Opt>,
}

/// A size in bytes as people read it.
fn size_text(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else if b >= KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{bytes} B")
    }
}

/// Builds the attachment section of project `row` for the viewer.
pub async fn section(
    state: &AppState,
    ctx: &Ctx,
    row: &ProjectRow,
    can_edit: bool,
    fb: &Feedback,
) -> Result<Section, WebError> {
    if !may_read_attachments(state, &ctx.viewer, row).await? {
        return Ok(Section::default());
    }
    let lang = ctx.lang;
    let attachments = state.store.project_attachments(row.id).await?;
    let steps = state.store.attachable_steps(row.id).await?;
    let step_label = |id: Option<i64>| {
        id.and_then(|id| steps.iter().find(|s| s.id == id))
            .map_or_else(String::new, |s| {
                format!(
                    "{} · {} · {}",
                    lang.pick(s.step.zh(), s.step.en()),
                    s.actor,
                    beijing(s.at)
                )
            })
    };
    let items = attachments
        .iter()
        .map(|a| Item {
            kind: lang.pick(a.kind.zh(), a.kind.en()),
            name: a.file_name.clone(),
            size: size_text(a.size_bytes),
            step: step_label(a.step_id),
            by: a.uploaded_by.clone(),
            at: beijing(a.uploaded_at),
            href: format!("/attachments/{}", a.id),
        })
        .collect();
    let (kinds, step_opts) = if can_edit {
        let kinds = AttachmentKind::ALL
            .iter()
            .map(|k| Opt {
                value: k.key().to_owned(),
                label: lang.pick(k.zh(), k.en()).to_owned(),
                selected: fb.chose("attachment", "kind", k.key()),
            })
            .collect();
        let mut opts = vec![Opt {
            value: String::new(),
            label: lang.t("attachments.no_step").to_owned(),
            selected: fb.v("attachment", "step").is_empty(),
        }];
        opts.extend(steps.iter().rev().map(|s| {
            let value = s.id.to_string();
            Opt {
                selected: fb.chose("attachment", "step", &value),
                label: step_label(Some(s.id)),
                value,
            }
        }));
        (kinds, opts)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Section {
        visible: true,
        items,
        can_upload: can_edit,
        kinds,
        steps: step_opts,
    })
}

/// This module's page routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{code}/attachments",
            post(upload).layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        )
        .route("/attachments/{id}", get(download))
}

/// `GET /attachments/{id}`: the file, or an error page (404 out of scope).
async fn download(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    let result = download_as(&state, &ctx.caller(), &id).await;
    ctx.respond(result.map_err(WebError::from))
}

/// `POST /projects/{code}/attachments`: stores the file and comes back to
/// the project; a refused file shows the page again with the reason.
async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let result = async {
        let caller = ctx.caller();
        let actor = uploader(&state, &caller, &code).await?;
        let form = match multipart {
            Ok(m) => read_form(m).await,
            Err(rejection) => Err(ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_multipart",
                zh: format!("请求不是文件上传表单：{}", rejection.body_text()),
                en: format!(
                    "the request is not a file upload form: {}",
                    rejection.body_text()
                ),
                field: Some("file".into()),
            }),
        };
        let kind = form
            .as_ref()
            .ok()
            .and_then(|f| f.kind.clone())
            .unwrap_or_default();
        let step = form
            .as_ref()
            .ok()
            .and_then(|f| f.step.clone())
            .unwrap_or_default();
        let stored = match form {
            Ok(form) => store_upload(&state, actor, &code, form).await,
            Err(e) => Err(e),
        };
        match stored {
            Ok(_) => Ok(redirect(&format!(
                "/projects/{}?saved=1#h-attachments",
                format::url_encode(&code)
            ))),
            Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
                let fb = Feedback {
                    form: "attachment",
                    field: e.field.clone().unwrap_or_else(|| "file".into()),
                    message: ctx.lang.pick(&e.zh, &e.en).to_owned(),
                    values: HashMap::from([("kind".to_owned(), kind), ("step".to_owned(), step)]),
                };
                let mut page = project_page(&state, &ctx, &code, fb, false).await?;
                *page.status_mut() = e.status;
                Ok(page)
            }
            Err(e) => Err(WebError::from(e)),
        }
    }
    .await;
    ctx.respond(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_text(512), "512 B");
        assert_eq!(size_text(34 * 1024 + 100), "34 KB");
        assert_eq!(size_text(1_258_291), "1.2 MB");
    }
}
