//! Reads of the parties: supporters, recipient units and pairings.

use chrono::NaiveDate;
use sqlx::FromRow;
use yuanjiang_domain::{
    Pairing, PairingScope, RecipientLevel, RecipientUnit, Supporter, SupporterKind,
};

use crate::{Result, Store, StoreError, on_pool};

#[derive(FromRow)]
struct SupporterRecord {
    code: String,
    name: String,
    name_en: String,
    kind: String,
    parent_code: Option<String>,
}

#[derive(FromRow)]
struct RecipientRecord {
    code: String,
    name: String,
    level: String,
    parent_code: Option<String>,
}

#[derive(FromRow)]
struct PairingRecord {
    supporter_code: String,
    recipient_code: String,
    scope: String,
    valid_from: NaiveDate,
    valid_to: Option<NaiveDate>,
    confidence: String,
}

/// Reads a stored vocabulary key back, naming the column if it is corrupt.
pub(crate) fn key<T>(
    column: &'static str,
    value: &str,
    parse: fn(&str) -> Result<T, yuanjiang_domain::DomainError>,
) -> Result<T> {
    parse(value).map_err(|_| StoreError::Corrupt {
        column,
        value: value.to_owned(),
    })
}

impl Store {
    /// All supporters, by code.
    pub async fn supporters(&self) -> Result<Vec<Supporter>> {
        let rows: Vec<SupporterRecord> = on_pool!(self, p => {
            sqlx::query_as("SELECT code, name, name_en, kind, parent_code FROM supporters ORDER BY code")
                .fetch_all(p)
                .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(Supporter {
                    kind: key("supporters.kind", &r.kind, SupporterKind::parse)?,
                    code: r.code,
                    name: r.name,
                    name_en: r.name_en,
                    parent_code: r.parent_code,
                })
            })
            .collect()
    }

    /// The parent of a supporter (Guangdong for Shenzhen), if any.
    pub async fn supporter_parent(&self, code: &str) -> Result<Option<String>> {
        let parent: Option<Option<String>> = on_pool!(self, p => {
            sqlx::query_scalar("SELECT parent_code FROM supporters WHERE code = $1")
                .bind(code)
                .fetch_optional(p)
                .await?
        });
        Ok(parent.flatten())
    }

    /// All recipient units, by code; townships only when `with_townships`.
    pub async fn recipients(&self, with_townships: bool) -> Result<Vec<RecipientUnit>> {
        let rows: Vec<RecipientRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT code, name, level, parent_code FROM recipients \
                 WHERE level <> 'township' OR $1 ORDER BY code",
            )
            .bind(with_townships)
            .fetch_all(p)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(RecipientUnit {
                    level: key("recipients.level", &r.level, RecipientLevel::parse)?,
                    code: r.code,
                    name: r.name,
                    parent_code: r.parent_code,
                })
            })
            .collect()
    }

    /// All pairings, by supporter, recipient and start.
    pub async fn pairings(&self) -> Result<Vec<Pairing>> {
        let rows: Vec<PairingRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT supporter_code, recipient_code, scope, valid_from, valid_to, confidence \
                 FROM pairings ORDER BY supporter_code, recipient_code, valid_from",
            )
            .fetch_all(p)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(Pairing {
                    scope: key("pairings.scope", &r.scope, PairingScope::parse)?,
                    supporter_code: r.supporter_code,
                    recipient_code: r.recipient_code,
                    valid_from: r.valid_from,
                    valid_to: r.valid_to,
                    confidence: r.confidence,
                })
            })
            .collect()
    }
}
