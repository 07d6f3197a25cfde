//! The API's error type. Each error has a stable snake_case code and a
//! message in zh-CN and English; the cause of an internal error goes to the
//! log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yuanjiang_domain::DomainError;
use yuanjiang_store::{StorageRefusal, StoreError};

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `invalid_parameter`.
    pub code: &'static str,
    /// Message in zh-CN.
    pub zh: String,
    /// Message in English.
    pub en: String,
    /// The query parameter or field at fault, if any.
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    message: Messages<'a>,
}

#[derive(Serialize)]
struct Messages<'a> {
    #[serde(rename = "zh-CN")]
    zh: &'a str,
    en: &'a str,
}

impl ApiError {
    /// 404 for a record that does not exist (or is outside the caller's scope).
    pub fn not_found(what_zh: &str, what_en: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            zh: format!("{what_zh}不存在"),
            en: format!("{what_en} not found"),
            field: None,
        }
    }

    /// 400 for a bad query parameter, naming it.
    pub fn bad_parameter(name: &str, e: DomainError) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: e.code,
            zh: format!("参数 {name} 无效：{}", e.zh),
            en: format!("parameter {name} is invalid: {}", e.en),
            field: Some(name.to_owned()),
        }
    }

    /// 500 whose cause is logged and not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            zh: "服务器内部错误，请稍后再试".into(),
            en: "internal server error; please try again later".into(),
            field: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::VersionMismatch { current } => ApiError {
                status: StatusCode::PRECONDITION_FAILED,
                code: "version_mismatch",
                zh: format!("记录已被他人修改（当前版本 v{current}），请重新读取后再提交"),
                en: format!(
                    "the record was changed by someone else (now v{current}); read it again and retry"
                ),
                field: Some("If-Match".into()),
            },
            StoreError::VersionRequired { current } => ApiError {
                status: StatusCode::PRECONDITION_REQUIRED,
                code: "precondition_required",
                zh: format!("该记录已存在（版本 v{current}），更新必须带 If-Match"),
                en: format!("the record exists (v{current}); an update must send If-Match"),
                field: Some("If-Match".into()),
            },
            StoreError::NotFound => ApiError::not_found("记录", "record"),
            StoreError::Duplicate(what) => ApiError {
                status: StatusCode::CONFLICT,
                code: "duplicate",
                zh: format!("已存在相同的记录：{what}"),
                en: format!("a record with the same key exists: {what}"),
                field: None,
            },
            StoreError::Rule(rule) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: rule.code,
                zh: rule.zh,
                en: rule.en,
                field: None,
            },
            other if other.storage_refusal().is_some() => {
                // Logged like any database failure; the client learns that
                // nothing was written and why, not the driver's words.
                tracing::error!(error = %other, "the database refused a write");
                match other.storage_refusal() {
                    Some(StorageRefusal::Full) => ApiError {
                        status: StatusCode::INSUFFICIENT_STORAGE,
                        code: "storage_full",
                        zh: "数据库存储空间已满，本次操作未写入任何数据；请联系系统管理员".into(),
                        en: "the database's storage is full; nothing was written. Contact the administrator".into(),
                        field: None,
                    },
                    _ => ApiError {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        code: "storage_read_only",
                        zh: "数据库当前为只读，本次操作未写入任何数据；请联系系统管理员".into(),
                        en: "the database is read-only at present; nothing was written. Contact the administrator".into(),
                        field: None,
                    },
                }
            }
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Inner {
                code: self.code,
                field: self.field.as_deref(),
                message: Messages {
                    zh: &self.zh,
                    en: &self.en,
                },
            },
        };
        (self.status, Json(body)).into_response()
    }
}
