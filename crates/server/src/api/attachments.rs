//! Attachments through the API: upload, list and download, within the record's scope.
//!
//! - `POST /api/v1/projects/{code}/attachments` (multipart: `kind`, optional
//!   `step`, `file`): for callers who may edit the project.
//! - `GET /api/v1/projects/{code}/attachments`: the list, for callers who may
//!   read the project.
//! - `GET /api/v1/attachments/{id}`: the bytes, with the recognised type,
//!   `Content-Disposition: attachment` and `nosniff`.
//!
//! The public sees no attachments, not even on published projects: approval
//! documents and reports may hold personal data. Outside the caller's scope
//! (and for the public) an attachment answers 404, like an absent one.

use axum::Json;
use axum::Router;
use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use yuanjiang_domain::{Action, AttachmentKind, DomainError, FileType, Owner, Principal, Viewer};
use yuanjiang_store::{Attachment, ProjectRow, StoreError};

use super::writes::{authorised, principal};
use crate::{ApiError, AppState, Caller};

/// The attachment routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/projects/{code}/attachments",
            post(upload)
                // The extractors' 1 MB limit would refuse most scans.
                .layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES))
                .get(list),
        )
        .route("/api/v1/attachments/{id}", get(download))
}

fn attachment_not_found() -> ApiError {
    ApiError::not_found("附件", "attachment")
}

fn project_not_found() -> ApiError {
    ApiError::not_found("项目", "project")
}

/// The API's view of an attachment: the record and its download link.
pub(crate) fn attachment_json(a: &Attachment) -> Value {
    let mut v = json!(a);
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "href".into(),
            json!(format!("/api/v1/attachments/{}", a.id)),
        );
    }
    v
}

/// Loads a project whose attachments the caller may read: signed in and
/// allowed to read the project; 404 otherwise (the public sees none).
pub(crate) async fn readable_project(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<ProjectRow, ApiError> {
    if caller.0 == Viewer::Public {
        return Err(project_not_found());
    }
    authorised(state, caller, code, Action::Read).await
}

/// Whether the caller may see the attachments of `row`.
pub(crate) async fn may_read_attachments(
    state: &AppState,
    viewer: &Viewer,
    row: &ProjectRow,
) -> Result<bool, ApiError> {
    if *viewer == Viewer::Public {
        return Ok(false);
    }
    let parent = state
        .store
        .supporter_parent(&row.project.supporter_code)
        .await?;
    let owner = Owner {
        supporter_code: &row.project.supporter_code,
        recipient_code: &row.project.recipient_code,
        published: row.project.published,
    };
    Ok(viewer.may(Action::Read, owner, parent.as_deref()))
}

/// An upload as sent: the fields of the multipart form.
#[derive(Debug, Default)]
pub(crate) struct UploadForm {
    /// `kind` as sent.
    pub kind: Option<String>,
    /// `step` as sent (empty means none).
    pub step: Option<String>,
    /// The file's name as the client gave it.
    pub file_name: String,
    /// The file's bytes, if a `file` field came.
    pub content: Option<axum::body::Bytes>,
}

fn bad_field(field: &str, zh: String, en: String) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_field",
        zh,
        en,
        field: Some(field.to_owned()),
    }
}

fn multipart_error(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let mb = crate::MAX_UPLOAD_BYTES / (1024 * 1024);
        return ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "request_too_large",
            zh: format!("请求体超过 {mb} MB 上限"),
            en: format!("the request body is larger than the limit of {mb} MB"),
            field: Some("file".into()),
        };
    }
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_multipart",
        zh: format!("请求体不是有效的 multipart/form-data：{}", e.body_text()),
        en: format!(
            "the request body is not valid multipart/form-data: {}",
            e.body_text()
        ),
        field: None,
    }
}

/// Reads the upload form's fields; `csrf_token` (sent by the web form) is
/// ignored here, any other unknown field is refused.
pub(crate) async fn read_form(mut multipart: Multipart) -> Result<UploadForm, ApiError> {
    let mut form = UploadForm::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "kind" | "step" => {
                let text = field.text().await.map_err(|e| multipart_error(&e))?;
                if name == "kind" {
                    form.kind = Some(text);
                } else {
                    form.step = Some(text);
                }
            }
            "file" => {
                form.file_name = field.file_name().unwrap_or_default().to_owned();
                form.content = Some(field.bytes().await.map_err(|e| multipart_error(&e))?);
            }
            "csrf_token" => {
                field.bytes().await.map_err(|e| multipart_error(&e))?;
            }
            other => {
                return Err(bad_field(
                    other,
                    format!("未知字段“{other}”；可用字段：kind、step、file"),
                    format!("unknown field \"{other}\"; expected kind, step and file"),
                ));
            }
        }
    }
    Ok(form)
}

/// The upload's kind, step and file, checked for presence and form.
pub(crate) fn parse_form(
    form: UploadForm,
) -> Result<(AttachmentKind, Option<i64>, String, axum::body::Bytes), ApiError> {
    let kind = match form.kind.as_deref().map(str::trim) {
        None | Some("") => {
            return Err(bad_field(
                "kind",
                "缺少附件类型 kind（approval_document、acceptance_report、photo 或 other）".into(),
                "the field kind is missing (approval_document, acceptance_report, photo or other)"
                    .into(),
            ));
        }
        Some(k) => AttachmentKind::parse(k).map_err(|e| ApiError::bad_parameter("kind", e))?,
    };
    let step = match form.step.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            bad_field(
                "step",
                format!("审批步骤编号“{s}”应为整数"),
                format!("the approval step \"{s}\" should be a whole number"),
            )
        })?),
    };
    let Some(content) = form.content else {
        return Err(bad_field(
            "file",
            "缺少文件字段 file".into(),
            "the field file is missing".into(),
        ));
    };
    Ok((kind, step, form.file_name, content))
}

/// A refused file, with the status that says why: too large (413), of a
/// type we do not accept (415), or empty or otherwise wrong (422).
pub(crate) fn upload_error(e: StoreError) -> ApiError {
    let status = match &e {
        StoreError::Rule(DomainError { code, .. }) => match *code {
            "attachment_too_large" => Some(StatusCode::PAYLOAD_TOO_LARGE),
            "attachment_type_not_allowed" => Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            _ => None,
        },
        _ => None,
    };
    let field = matches!(&e, StoreError::Rule(r) if r.code.starts_with("attachment_"))
        .then(|| "file".to_owned());
    let mut api = ApiError::from(e);
    if let Some(s) = status {
        api.status = s;
    }
    if api.field.is_none() {
        api.field = field;
    }
    api
}

/// The caller, if they may attach files to project `code`: 401 for the
/// public, 404 out of scope, 403 in scope without the right to edit.
pub(crate) async fn uploader<'c>(
    state: &AppState,
    caller: &'c Caller,
    code: &str,
) -> Result<&'c Principal, ApiError> {
    let actor = principal(caller)?;
    authorised(state, caller, code, Action::Edit).await?;
    Ok(actor)
}

/// Stores an upload checked by [`uploader`].
pub(crate) async fn store_upload(
    state: &AppState,
    actor: &Principal,
    code: &str,
    form: UploadForm,
) -> Result<Attachment, ApiError> {
    let (kind, step, file_name, content) = parse_form(form)?;
    state
        .store
        .add_attachment(actor, code, step, kind, &file_name, content)
        .await
        .map_err(upload_error)
}

/// `POST /api/v1/projects/{code}/attachments`: stores a file (201 with its record).
#[utoipa::path(post, path = "/api/v1/projects/{code}/attachments", tag = "attachments", params(("code" = String, Path, description = "Project code (项目编号)")), responses((status = 201, description = "The stored attachment's record; Location names its download"), (status = 400, description = "A missing or bad field (field names it)"), (status = 401, description = "Not signed in"), (status = 403, description = "In scope but may not edit"), (status = 404, description = "Absent, or out of the caller's scope"), (status = 413, description = "Larger than 20 MB"), (status = 415, description = "Content of a type not accepted (judged by the bytes)"), (status = 422, description = "Empty file, or a step of another project")))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    // Role and scope first: nothing is read for a caller who may not write.
    let actor = uploader(&state, &caller, &code).await?;
    let form = read_form(multipart).await?;
    let attachment = store_upload(&state, actor, &code, form).await?;
    let location = format!("/api/v1/attachments/{}", attachment.id);
    let mut response = (StatusCode::CREATED, Json(attachment_json(&attachment))).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `GET /api/v1/projects/{code}/attachments`: the project's attachments.
#[utoipa::path(get, path = "/api/v1/projects/{code}/attachments", tag = "attachments", params(("code" = String, Path, description = "Project code (项目编号)")), responses((status = 200, description = "`{items}`: the attachments, oldest first"), (status = 404, description = "Absent, out of the caller's scope, or asked by the public")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let row = readable_project(&state, &caller, &code).await?;
    let items = state.store.project_attachments(row.id).await?;
    Ok(Json(json!({
        "items": items.iter().map(attachment_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/attachments/{id}`: the file.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", params(("id" = i64, Path, description = "Attachment id")), responses((status = 200, description = "The file's bytes, with its recognised Content-Type"), (status = 404, description = "Absent, out of the caller's scope, or asked by the public")))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    download_as(&state, &caller, &id).await
}

/// The download response of attachment `id` for the caller, or 404.
pub(crate) async fn download_as(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Response, ApiError> {
    // A malformed id names no attachment.
    let id: i64 = id.parse().map_err(|_| attachment_not_found())?;
    let attachment = state
        .store
        .attachment(id)
        .await?
        .ok_or_else(attachment_not_found)?;
    let row = state
        .store
        .project(&attachment.project_code)
        .await?
        .ok_or_else(attachment_not_found)?;
    if !may_read_attachments(state, &caller.0, &row).await? {
        return Err(attachment_not_found());
    }
    let bytes = state.store.attachment_content(&attachment).await?;
    let media_type = FileType::from_media_type(&attachment.media_type)
        .map_or("application/octet-stream", FileType::media_type);
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&attachment.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Opened in a tab after all, it may not run anything or load anything.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", attachment.content_sm3)) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 with RFC 5987
/// encoding): an ASCII fallback for old clients, the exact name for the rest.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        let attr_char = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if attr_char {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_carries_the_exact_name() {
        assert_eq!(
            content_disposition("验收报告 v2.pdf"),
            "attachment; filename=\"____ v2.pdf\"; filename*=UTF-8''%E9%AA%8C%E6%94%B6%E6%8A%A5%E5%91%8A%20v2.pdf"
        );
        assert_eq!(
            content_disposition("a\"b%c.pdf"),
            "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%25c.pdf"
        );
    }
}
