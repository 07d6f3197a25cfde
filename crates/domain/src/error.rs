//! The domain's error type: every rule violation has a stable snake_case
//! code and a message in zh-CN and in English, so that the UI, the API and
//! import reports can all say the same thing in the user's language.

use thiserror::Error;

/// A broken domain rule.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{code}: {en}")]
pub struct DomainError {
    /// Stable machine-readable code, e.g. `invalid_division_code`.
    pub code: &'static str,
    /// Message in Simplified Chinese.
    pub zh: String,
    /// Message in English.
    pub en: String,
}

impl DomainError {
    /// Builds an error from its code and its two messages.
    pub fn new(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }
}
