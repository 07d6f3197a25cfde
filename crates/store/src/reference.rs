//! Loads the embedded reference data (provinces, Xinjiang's divisions, XPCC
//! divisions, pairings) into a new database, in one transaction.

use yuanjiang_domain::{RecipientLevel, Reference};

use crate::{Result, Store, on_pool};

impl Store {
    /// Loads reference data if the database has none yet; returns whether it did.
    pub async fn load_reference_data(&self) -> Result<bool> {
        let loaded: i64 = on_pool!(self, p => {
            sqlx::query_scalar("SELECT COUNT(*) FROM supporters").fetch_one(p).await?
        });
        if loaded > 0 {
            return Ok(false);
        }
        let reference = Reference::load()?;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for s in &reference.supporters {
                sqlx::query(
                    "INSERT INTO supporters (code, name, name_en, kind, parent_code) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&s.code)
                .bind(&s.name)
                .bind(&s.name_en)
                .bind(s.kind.key())
                .bind(&s.parent_code)
                .execute(&mut *tx)
                .await?;
            }
            // Parents come before children in the files; insert in that order
            // so the foreign key on parent_code holds at every row.
            for r in &reference.recipients {
                let prefecture = reference
                    .prefecture_of(&r.code)
                    .filter(|u| u.level != RecipientLevel::Region)
                    .map(|u| u.code.clone());
                sqlx::query(
                    "INSERT INTO recipients (code, name, level, parent_code, prefecture_code, southern_four, is_xpcc) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&r.code)
                .bind(&r.name)
                .bind(r.level.key())
                .bind(&r.parent_code)
                .bind(prefecture)
                .bind(r.in_southern_four())
                .bind(r.level.is_xpcc())
                .execute(&mut *tx)
                .await?;
            }
            for pr in &reference.pairings {
                sqlx::query(
                    "INSERT INTO pairings (supporter_code, recipient_code, scope, valid_from, valid_to, confidence) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&pr.supporter_code)
                .bind(&pr.recipient_code)
                .bind(pr.scope.key())
                .bind(pr.valid_from)
                .bind(pr.valid_to)
                .bind(&pr.confidence)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(true)
    }
}
