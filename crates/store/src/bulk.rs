//! Bulk writes in one database transaction: the demo generator and imports
//! write through here. Each record is checked against the domain rules
//! before it is written; nothing is visible until [`Bulk::commit`].

use std::collections::HashMap;

use sqlx::QueryBuilder;
use yuanjiang_domain::{
    Assignment, Batch, DomainError, FrontCommand, FundChain, Pairing, Plan, ProjectBundle,
    Supporter,
};

use crate::audit::BulkSummary;
use crate::crypto::FieldKey;
use crate::exchange::FundRow;
use crate::rollup::{Parts, RollupDelta};
use crate::{Result, Store, StoreError, Tx, on_pool, on_tx};

/// Inserts fund transactions, each with its project's row id; the bulk
/// loader and imports share it. The caller keeps the roll-ups in step.
///
/// On SQLite, multi-row INSERTs of bound values ([`fund_values`]); on
/// PostgreSQL, one statement a batch reading column arrays by `UNNEST`.
/// (SQLite read a JSON array per batch until perf of a million-row import
/// showed SQLite's JSON functions taking two fifths of the insert.)
pub(crate) async fn insert_fund_rows(
    tx: &mut Tx,
    rows: &[(i64, &yuanjiang_domain::FundTransaction)],
) -> std::result::Result<(), sqlx::Error> {
    use chrono::Datelike;
    for chunk in rows.chunks(ROWS_PER_BATCH) {
        match tx {
            Tx::Sqlite(t) => {
                let values = fund_values(chunk.iter().map(|(id, txn)| FundRow::of(*id, txn)))?;
                insert_fund_values(t, values, OnStoredKey::Fail).await?;
            }
            Tx::Postgres(t) => {
                sqlx::query(
                    "INSERT INTO fund_transactions \
                     (project_id, fund_type, amount, date, year, month, document_no, note) \
                     SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[], $4::DATE[], \
                     $5::INTEGER[], $6::INTEGER[], $7::TEXT[], $8::TEXT[])",
                )
                .bind(chunk.iter().map(|(id, _)| *id).collect::<Vec<i64>>())
                .bind(
                    chunk
                        .iter()
                        .map(|(_, t)| t.fund_type.key())
                        .collect::<Vec<&str>>(),
                )
                .bind(chunk.iter().map(|(_, t)| t.amount.0).collect::<Vec<i64>>())
                .bind(
                    chunk
                        .iter()
                        .map(|(_, t)| t.date)
                        .collect::<Vec<chrono::NaiveDate>>(),
                )
                .bind(
                    chunk
                        .iter()
                        .map(|(_, t)| t.date.year())
                        .collect::<Vec<i32>>(),
                )
                .bind(
                    chunk
                        .iter()
                        .map(|(_, t)| i32::try_from(t.date.month()).unwrap_or(0))
                        .collect::<Vec<i32>>(),
                )
                .bind(
                    chunk
                        .iter()
                        .map(|(_, t)| t.document_no.as_str())
                        .collect::<Vec<&str>>(),
                )
                .bind(
                    chunk
                        .iter()
                        .map(|(_, t)| t.note.as_str())
                        .collect::<Vec<&str>>(),
                )
                .execute(&mut **t)
                .await?;
            }
        }
    }
    Ok(())
}

/// Fund transactions bound as the parameters of SQLite multi-row INSERTs,
/// [`FUND_ROWS_PER_INSERT`] rows a statement: built on whichever thread
/// has the rows (an import's reading thread), executed by
/// [`insert_fund_values`]. Dates and fund types are shared between rows
/// instead of copied for each.
#[derive(Debug, Default)]
pub(crate) struct FundValues(Vec<(usize, sqlx::sqlite::SqliteArguments)>);

/// Rows per multi-row INSERT of fund transactions on SQLite: eight
/// parameters a row, well under SQLite's limit of 32,766.
const FUND_ROWS_PER_INSERT: usize = 1_000;

/// Encodes rows as [`FundValues`].
pub(crate) fn fund_values<'a>(
    rows: impl Iterator<Item = FundRow<'a>>,
) -> std::result::Result<FundValues, sqlx::Error> {
    use chrono::Datelike;
    use sqlx::Arguments;
    use std::sync::Arc;
    let mut dates: foldhash::HashMap<chrono::NaiveDate, Arc<str>> = Default::default();
    let mut types: foldhash::HashMap<&'static str, Arc<str>> = Default::default();
    let empty: Arc<str> = Arc::from("");
    let mut statements = Vec::new();
    let mut args = sqlx::sqlite::SqliteArguments::default();
    let mut n = 0;
    let encode = |e| sqlx::Error::Encode(e);
    for r in rows {
        if n == FUND_ROWS_PER_INSERT {
            statements.push((n, std::mem::take(&mut args)));
            n = 0;
        }
        if n == 0 {
            args.reserve(8 * FUND_ROWS_PER_INSERT, 0);
        }
        let date = dates
            .entry(r.date)
            .or_insert_with(|| Arc::from(iso_date(r.date)))
            .clone();
        let key = r.fund_type.key();
        let fund_type = types.entry(key).or_insert_with(|| Arc::from(key)).clone();
        let note = if r.note.is_empty() {
            empty.clone()
        } else {
            Arc::from(r.note)
        };
        args.add(r.project_id).map_err(encode)?;
        args.add(fund_type).map_err(encode)?;
        args.add(r.amount.0).map_err(encode)?;
        args.add(date).map_err(encode)?;
        args.add(r.date.year()).map_err(encode)?;
        args.add(r.date.month()).map_err(encode)?;
        args.add(Arc::<str>::from(r.document_no)).map_err(encode)?;
        args.add(note).map_err(encode)?;
        n += 1;
    }
    if n > 0 {
        statements.push((n, args));
    }
    Ok(FundValues(statements))
}

/// `YYYY-MM-DD`, as chrono writes it, without its format machinery: a
/// large import meets a new date every few rows.
fn iso_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return d.format("%Y-%m-%d").to_string();
    }
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let y = y.unsigned_abs();
    let mut s = String::with_capacity(10);
    s.extend([y / 1000, y / 100, y / 10, y].map(digit));
    s.push('-');
    s.extend([d.month() / 10, d.month()].map(digit));
    s.push('-');
    s.extend([d.day() / 10, d.day()].map(digit));
    s
}

/// What [`insert_fund_values`] does with a row whose natural key is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnStoredKey {
    /// Fails the statement (and the caller's write).
    Fail,
    /// Skips the row: the statement is tried plain first, so that a
    /// constraint other than a stored key is never skipped silently on new
    /// rows, and again with `OR IGNORE` if it fails on a constraint.
    Skip,
}

/// Executes [`fund_values`]' statements; returns the rows inserted.
pub(crate) async fn insert_fund_values(
    conn: &mut sqlx::SqliteConnection,
    values: FundValues,
    on_stored: OnStoredKey,
) -> std::result::Result<u64, sqlx::Error> {
    let mut inserted = 0;
    for (rows, args) in values.0 {
        // Only placeholders vary in the text: the values are bound. The
        // full-size statement stays prepared on the connection; a batch's
        // shorter tail is not kept (each import's tail has its own length,
        // and each would hold a cache slot of the size of its text).
        let keep = rows == FUND_ROWS_PER_INSERT;
        let sql = fund_insert_sql("", rows);
        let retry = (on_stored == OnStoredKey::Skip).then(|| args.clone());
        let done = match (
            sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args)
                .persistent(keep)
                .execute(&mut *conn)
                .await,
            retry,
        ) {
            (Ok(done), _) => done,
            (Err(e), Some(args)) if crate::exchange::is_constraint(&e) => {
                let sql = fund_insert_sql("OR IGNORE ", rows);
                sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args)
                    .persistent(keep)
                    .execute(&mut *conn)
                    .await?
            }
            (Err(e), _) => return Err(e),
        };
        inserted += done.rows_affected();
    }
    Ok(inserted)
}

fn fund_insert_sql(or: &str, rows: usize) -> String {
    const ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?)";
    let mut sql = format!(
        "INSERT {or}INTO fund_transactions \
         (project_id, fund_type, amount, date, year, month, document_no, note) VALUES "
    );
    sql.reserve(rows * (ROW.len() + 1));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(ROW);
    }
    sql
}

/// Rows per batch of fund transactions: large enough that the statement's
/// fixed cost vanishes, small enough to keep its text a few megabytes.
const ROWS_PER_BATCH: usize = 5_000;

/// Rows per multi-row INSERT: well under both backends' parameter limits.
const ROWS_PER_INSERT: usize = 500;

/// An open bulk-write transaction.
pub struct Bulk {
    tx: Tx,
    /// Recipient code → the prefecture or XPCC division it rolls up to.
    prefectures: HashMap<String, String>,
    /// Encrypts personal data (`crypto.rs`).
    key: FieldKey,
    /// Rows written, for the one audit entry at commit.
    summary: BulkSummary,
}

impl Store {
    /// Starts a bulk write.
    pub async fn bulk(&self) -> Result<Bulk> {
        let rows: Vec<(String, Option<String>)> = on_pool!(self, p => {
            sqlx::query_as("SELECT code, prefecture_code FROM recipients").fetch_all(p).await?
        });
        let prefectures = rows
            .into_iter()
            .filter_map(|(code, pref)| pref.map(|p| (code, p)))
            .collect();
        let tx = self.begin().await?;
        Ok(Bulk {
            tx,
            prefectures,
            key: self.field_key.clone(),
            summary: BulkSummary::default(),
        })
    }
}

impl Bulk {
    /// Makes everything written visible at once, with one `bulk_load`
    /// audit entry counting the rows written.
    pub async fn commit(mut self) -> Result<()> {
        self.summary.append_to(&mut self.tx).await?;
        self.tx.commit().await
    }

    /// Adds supporters (central departments and SOEs; provinces come with the reference data).
    pub async fn insert_supporters(&mut self, supporters: &[Supporter]) -> Result<()> {
        for s in supporters {
            s.validate()?;
        }
        self.summary.add("supporters", supporters.len());
        for chunk in supporters.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO supporters (code, name, name_en, kind, parent_code) ",
                );
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(s.code.clone())
                        .push_bind(s.name.clone())
                        .push_bind(s.name_en.clone())
                        .push_bind(s.kind.key())
                        .push_bind(s.parent_code.clone());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(())
    }

    /// Adds pairings (those of central bodies; the provinces' come with the reference data).
    pub async fn insert_pairings(&mut self, pairings: &[Pairing]) -> Result<()> {
        for p in pairings {
            p.validate()?;
        }
        self.summary.add("pairings", pairings.len());
        for chunk in pairings.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO pairings (supporter_code, recipient_code, scope, valid_from, valid_to, confidence) ",
                );
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.supporter_code.clone())
                        .push_bind(p.recipient_code.clone())
                        .push_bind(p.scope.key())
                        .push_bind(p.valid_from)
                        .push_bind(p.valid_to)
                        .push_bind(p.confidence.clone());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(())
    }

    /// Adds front commands.
    pub async fn insert_front_commands(&mut self, commands: &[FrontCommand]) -> Result<()> {
        self.summary.add("front_commands", commands.len());
        for chunk in commands.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO front_commands (supporter_code, level, recipient_code, name) ",
                );
                qb.push_values(chunk, |mut b, c| {
                    b.push_bind(c.supporter_code.clone())
                        .push_bind(c.level.key())
                        .push_bind(c.recipient_code.clone())
                        .push_bind(c.name.clone());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(())
    }

    /// Adds plan versions.
    pub async fn insert_plans(&mut self, plans: &[Plan]) -> Result<()> {
        for p in plans {
            p.validate()?;
        }
        self.summary.add("plans", plans.len());
        for chunk in plans.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO plans (kind, supporter_code, recipient_code, start_year, end_year, version, \
                     amount, grassroots_amount, livelihood_amount, note) ",
                );
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.kind.key())
                        .push_bind(p.supporter_code.clone())
                        .push_bind(p.recipient_code.clone())
                        .push_bind(p.start_year)
                        .push_bind(p.end_year)
                        .push_bind(i32::try_from(p.version).unwrap_or(i32::MAX))
                        .push_bind(p.amount.0)
                        .push_bind(p.grassroots_amount.0)
                        .push_bind(p.livelihood_amount.0)
                        .push_bind(p.note.clone());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(())
    }

    /// Adds rotation batches.
    pub async fn insert_batches(&mut self, batches: &[Batch]) -> Result<()> {
        for b in batches {
            b.validate()?;
        }
        self.summary.add("batches", batches.len());
        for chunk in batches.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO batches (supporter_code, number, start_date, end_date) ",
                );
                qb.push_values(chunk, |mut b, batch| {
                    b.push_bind(batch.supporter_code.clone())
                        .push_bind(i32::try_from(batch.number).unwrap_or(i32::MAX))
                        .push_bind(batch.start_date)
                        .push_bind(batch.end_date);
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(())
    }

    /// Adds assignments of cadres and professionals.
    pub async fn insert_assignments(&mut self, assignments: &[Assignment]) -> Result<()> {
        for a in assignments {
            a.validate()?;
        }
        // Personal data is stored encrypted only; the plaintext columns stay NULL.
        let sealed = assignments
            .iter()
            .map(|a| crate::personnel::seal(&self.key, a))
            .collect::<Result<Vec<_>, _>>()?;
        let rows: Vec<_> = assignments.iter().zip(sealed).collect();
        self.summary.add("assignments", assignments.len());
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO assignments (supporter_code, batch_number, person_name, id_number_enc, phone_enc, \
                     category, mode, recipient_code, host_unit, post, arrival_date, return_date, appraisal) ",
                );
                qb.push_values(chunk, |mut b, (a, (id_number_enc, phone_enc))| {
                    b.push_bind(a.supporter_code.clone())
                        .push_bind(a.batch_number.and_then(|n| i32::try_from(n).ok()))
                        .push_bind(a.person_name.clone())
                        .push_bind(id_number_enc.clone())
                        .push_bind(phone_enc.clone())
                        .push_bind(a.category.key())
                        .push_bind(a.mode.key())
                        .push_bind(a.recipient_code.clone())
                        .push_bind(a.host_unit.clone())
                        .push_bind(a.post.clone())
                        .push_bind(a.arrival_date)
                        .push_bind(a.return_date)
                        .push_bind(a.appraisal.clone());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        Ok(())
    }

    /// Adds projects with their history, transactions and indicators, after
    /// checking each against the domain rules and the fund chain.
    pub async fn insert_bundles(&mut self, bundles: &[ProjectBundle]) -> Result<()> {
        let mut prefecture_of = Vec::with_capacity(bundles.len());
        for b in bundles {
            b.project.validate()?;
            for t in &b.transactions {
                t.validate()?;
            }
            FundChain::replay(&b.transactions, b.project.aid_funds).map_err(|(_, e)| e)?;
            for (i, values) in &b.indicators {
                i.validate()?;
                for v in values {
                    v.validate()?;
                }
            }
            let prefecture = self
                .prefectures
                .get(&b.project.recipient_code)
                .cloned()
                .ok_or_else(|| {
                    DomainError::new(
                        "unknown_recipient",
                        format!("受援地“{}”不存在", b.project.recipient_code),
                        format!("recipient \"{}\" does not exist", b.project.recipient_code),
                    )
                })?;
            prefecture_of.push(prefecture);
        }
        self.summary.add("projects", bundles.len());

        let mut ids: HashMap<String, i64> = HashMap::with_capacity(bundles.len());
        let rows: Vec<(&ProjectBundle, &String)> = bundles.iter().zip(&prefecture_of).collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let returned: Vec<(i64, String)> = on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO projects (code, name, category, delivery_mode, kind, year, in_plan, continued, \
                     grassroots, livelihood, supporter_code, recipient_code, location_code, prefecture_code, \
                     planned_investment, aid_funds, matching_funds, start_date, end_date, state, published, description) ",
                );
                qb.push_values(chunk, |mut b, (bundle, prefecture)| {
                    let p = &bundle.project;
                    b.push_bind(p.code.clone())
                        .push_bind(p.name.clone())
                        .push_bind(p.category.key())
                        .push_bind(p.delivery_mode.key())
                        .push_bind(p.kind.key())
                        .push_bind(p.year)
                        .push_bind(p.in_plan)
                        .push_bind(p.continued)
                        .push_bind(p.grassroots)
                        .push_bind(p.livelihood)
                        .push_bind(p.supporter_code.clone())
                        .push_bind(p.recipient_code.clone())
                        .push_bind(p.location_code.clone())
                        .push_bind((*prefecture).clone())
                        .push_bind(p.planned_investment.0)
                        .push_bind(p.aid_funds.0)
                        .push_bind(p.matching_funds.0)
                        .push_bind(p.start_date)
                        .push_bind(p.end_date)
                        .push_bind(p.state.key())
                        .push_bind(p.published)
                        .push_bind(p.description.clone());
                });
                qb.push(" RETURNING id, code");
                qb.build_query_as().fetch_all(&mut **tx).await?
            });
            ids.extend(returned.into_iter().map(|(id, code)| (code, id)));
        }
        let id_of = |code: &str| {
            ids.get(code).copied().ok_or_else(|| StoreError::Corrupt {
                column: "projects.code",
                value: code.to_owned(),
            })
        };

        let mut history = Vec::new();
        let mut transactions = Vec::new();
        let mut indicators = Vec::new();
        for b in bundles {
            let id = id_of(&b.project.code)?;
            history.extend(b.history.iter().map(|h| (id, h)));
            transactions.extend(b.transactions.iter().map(|t| (id, t)));
            indicators.extend(b.indicators.iter().map(|(i, v)| (id, i, v)));
        }
        self.summary.add("project_states", history.len());
        self.summary.add("fund_transactions", transactions.len());
        self.summary.add("indicators", indicators.len());
        for chunk in history.chunks(ROWS_PER_INSERT) {
            on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO project_states (project_id, from_state, to_state, changed_at, changed_by, reason) ",
                );
                qb.push_values(chunk, |mut b, (id, h)| {
                    b.push_bind(*id)
                        .push_bind(h.from.map(|s| s.key()))
                        .push_bind(h.to.key())
                        .push_bind(h.at)
                        .push_bind(h.by.clone())
                        .push_bind(h.reason.clone());
                });
                qb.build().execute(&mut **tx).await?;
            });
        }
        insert_fund_rows(&mut self.tx, &transactions).await?;
        let mut delta = RollupDelta::default();
        for (b, prefecture) in bundles.iter().zip(&prefecture_of) {
            let parts = Parts::of(&b.project, prefecture);
            for t in &b.transactions {
                delta.add(&parts, t, 1);
            }
        }
        delta.apply(&mut self.tx).await?;
        for chunk in indicators.chunks(ROWS_PER_INSERT) {
            let returned: Vec<(i64, i64, String)> = on_tx!(self.tx, tx, Db => {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO indicators (project_id, name, unit, baseline, target) ",
                );
                qb.push_values(chunk, |mut b, (id, i, _)| {
                    b.push_bind(*id)
                        .push_bind(i.name.clone())
                        .push_bind(i.unit.clone())
                        .push_bind(i.baseline)
                        .push_bind(i.target);
                });
                qb.push(" RETURNING id, project_id, name");
                qb.build_query_as().fetch_all(&mut **tx).await?
            });
            let indicator_ids: HashMap<(i64, String), i64> = returned
                .into_iter()
                .map(|(id, project_id, name)| ((project_id, name), id))
                .collect();
            let mut values = Vec::new();
            for (project_id, i, vals) in chunk {
                let Some(indicator_id) = indicator_ids.get(&(*project_id, i.name.clone())) else {
                    continue;
                };
                values.extend(vals.iter().map(|v| (*indicator_id, v)));
            }
            self.summary.add("indicator_values", values.len());
            for vchunk in values.chunks(ROWS_PER_INSERT) {
                on_tx!(self.tx, tx, Db => {
                    let mut qb = QueryBuilder::<Db>::new(
                        "INSERT INTO indicator_values (indicator_id, period, actual) ",
                    );
                    qb.push_values(vchunk, |mut b, (id, v)| {
                        b.push_bind(*id).push_bind(v.period.clone()).push_bind(v.actual);
                    });
                    qb.build().execute(&mut **tx).await?;
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::iso_date;
    use chrono::{Days, NaiveDate};

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut d = NaiveDate::from_ymd_opt(1999, 12, 25).expect("a date");
        for _ in 0..12_000 {
            assert_eq!(iso_date(d), d.format("%Y-%m-%d").to_string());
            d = d + Days::new(1);
        }
        for (y, m, day) in [
            (1, 1, 1),
            (999, 9, 9),
            (9999, 12, 31),
            (10_000, 1, 1),
            (-5, 3, 4),
        ] {
            let d = NaiveDate::from_ymd_opt(y, m, day).expect("a date");
            assert_eq!(iso_date(d), d.format("%Y-%m-%d").to_string());
        }
    }
}
