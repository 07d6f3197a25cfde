//! The audit trail on both backends: the chain verifies, every kind of
//! tampering by someone who bypasses the triggers is found at the right
//! entry, the triggers refuse changes, and concurrent writers form one chain.

use serde_json::json;
use sqlx::{Connection, Executor};
use tempfile::TempDir;
use yuanjiang_store::testing::{open_postgres, postgres_url, sqlite_store};
use yuanjiang_store::{
    AuditBreak, AuditEntry, AuditFilter, AuditRecord, AuditVerdict, BreakReason, GENESIS_HASH,
    Store,
};

/// A store plus a raw connection string for SQL the store would never run.
pub struct Fixture {
    pub store: Store,
    pub raw: Raw,
    /// Keeps a SQLite store's directory alive.
    pub dir: Option<TempDir>,
}

/// Direct access to the database, as an attacker with its password has.
pub enum Raw {
    Sqlite(String),
    Postgres(String),
}

impl Raw {
    /// Runs one statement on a fresh connection.
    pub async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        Ok(match self {
            Raw::Sqlite(url) => {
                let mut c = sqlx::SqliteConnection::connect(url).await?;
                c.execute(sqlx::query(sql)).await?.rows_affected()
            }
            Raw::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await?;
                c.execute(sqlx::query(sql)).await?.rows_affected()
            }
        })
    }

    /// A count from one query.
    pub async fn count(&self, sql: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Raw::Sqlite(url) => {
                let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_one(&mut c)
                    .await
                    .expect("count")
            }
            Raw::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
                sqlx::query_scalar(sql)
                    .fetch_one(&mut c)
                    .await
                    .expect("count")
            }
        }
    }

    /// Drops the append-only triggers, as an attacker would first.
    async fn drop_triggers(&self) {
        let statements: &[&str] = match self {
            Raw::Sqlite(_) => &[
                "DROP TRIGGER audit_log_no_update",
                "DROP TRIGGER audit_log_no_delete",
            ],
            Raw::Postgres(_) => &["DROP TRIGGER audit_log_no_change ON audit_log"],
        };
        for s in statements {
            self.execute(s).await.expect("drop trigger");
        }
    }

    /// Inserts an entry behind the store's back.
    async fn insert(&self, r: &AuditRecord) {
        let sql = "INSERT INTO audit_log (id, at, actor, action, entity, entity_key, \
                   before_json, after_json, prev_hash, hash) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        macro_rules! insert {
            ($conn:expr) => {
                sqlx::query(sql)
                    .bind(r.id)
                    .bind(&r.at)
                    .bind(&r.actor)
                    .bind(&r.action)
                    .bind(&r.entity)
                    .bind(&r.entity_key)
                    .bind(&r.before_json)
                    .bind(&r.after_json)
                    .bind(&r.prev_hash)
                    .bind(&r.hash)
                    .execute(&mut $conn)
                    .await
                    .expect("forged insert")
            };
        }
        match self {
            Raw::Sqlite(url) => {
                let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
                insert!(c);
            }
            Raw::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
                insert!(c);
            }
        }
    }
}

/// A fresh SQLite fixture, and a fresh PostgreSQL one when configured.
pub async fn fixtures(test: &str) -> Vec<Fixture> {
    let dir = TempDir::new().expect("temp dir");
    let store = sqlite_store(dir.path()).await.expect("sqlite store");
    let raw = Raw::Sqlite(format!("sqlite://{}", dir.path().join("test.db").display()));
    let mut out = vec![Fixture {
        store,
        raw,
        dir: Some(dir),
    }];
    if let Some(url) = postgres_url(test).await.expect("postgres") {
        let store = open_postgres(&url).await.expect("postgres store");
        out.push(Fixture {
            store,
            raw: Raw::Postgres(url),
            dir: None,
        });
    }
    out
}

/// Appends entry `n` of a small history.
async fn append(store: &Store, n: usize) {
    let after = json!({"amount": n * 100, "note": format!("第{n}次修改")});
    let actor = if n.is_multiple_of(2) {
        "sh-officer"
    } else {
        "kashgar-office"
    };
    store
        .record_audit(&AuditEntry {
            actor,
            action: "update",
            entity: "project",
            entity_key: &format!("P-{}", n % 3),
            before: None,
            after: Some(&after),
        })
        .await
        .expect("append");
}

async fn all_entries(store: &Store) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .audit_entries(&AuditFilter::default(), cursor, 1000)
            .await
            .expect("entries");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c.parse().expect("cursor")),
            None => return out,
        }
    }
}

fn broken(v: AuditVerdict) -> AuditBreak {
    match v {
        AuditVerdict::Broken(b) => b,
        AuditVerdict::Intact { entries, .. } => panic!("tampering not found ({entries} entries)"),
    }
}

#[tokio::test]
async fn chain_verifies_filters_and_pages() {
    for f in fixtures("audit_chain").await {
        let store = &f.store;
        assert_eq!(
            store.verify_audit().await.expect("verify"),
            AuditVerdict::Intact {
                entries: 0,
                head: GENESIS_HASH.into()
            }
        );
        for n in 1..=5 {
            append(store, n).await;
        }
        let entries = all_entries(store).await;
        assert_eq!(
            entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(entries[0].prev_hash, GENESIS_HASH);
        for pair in entries.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash);
        }
        for e in &entries {
            assert_eq!(e.hash, e.expected_hash());
            assert_eq!(e.hash.len(), 64);
            assert!(
                e.hash
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            // 2026-11-29T08:15:00.123456Z: fixed precision, UTC.
            assert_eq!(e.at.len(), 27, "{}", e.at);
            assert!(e.at.ends_with('Z') && e.at.as_bytes()[19] == b'.');
        }
        assert_eq!(
            entries[2].after_json.as_deref(),
            Some(r#"{"amount":300,"note":"第3次修改"}"#)
        );
        assert_eq!(
            store.verify_audit().await.expect("verify"),
            AuditVerdict::Intact {
                entries: 5,
                head: entries[4].hash.clone()
            }
        );

        let by_actor = store
            .audit_entries(
                &AuditFilter {
                    actor: Some("sh-officer".into()),
                    ..AuditFilter::default()
                },
                None,
                100,
            )
            .await
            .expect("by actor");
        assert_eq!(
            by_actor.items.iter().map(|e| e.id).collect::<Vec<_>>(),
            [2, 4]
        );
        let one_record = store
            .audit_entries(
                &AuditFilter {
                    entity: Some("project".into()),
                    entity_key: Some("P-1".into()),
                    actor: None,
                },
                None,
                100,
            )
            .await
            .expect("by record");
        assert_eq!(
            one_record.items.iter().map(|e| e.id).collect::<Vec<_>>(),
            [1, 4]
        );

        let first = store
            .audit_entries(&AuditFilter::default(), None, 2)
            .await
            .expect("page");
        assert_eq!(first.items.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(first.next_cursor.as_deref(), Some("2"));
        let last = store
            .audit_entries(&AuditFilter::default(), Some(4), 2)
            .await
            .expect("page");
        assert_eq!(last.items.iter().map(|e| e.id).collect::<Vec<_>>(), [5]);
        assert_eq!(last.next_cursor, None);
    }
}

#[tokio::test]
async fn personal_data_is_masked_in_the_trail() {
    for f in fixtures("audit_masks").await {
        let before = json!({"person_name": "张三", "id_number": "650102199001011234", "phone": "13812345678"});
        f.store
            .record_audit(&AuditEntry {
                actor: "sh-officer",
                action: "update",
                entity: "assignment",
                entity_key: "1",
                before: Some(&before),
                after: None,
            })
            .await
            .expect("append");
        let e = &all_entries(&f.store).await[0];
        let stored = e.before_json.as_deref().expect("before");
        assert!(!stored.contains("650102199001011234") && !stored.contains("13812345678"));
        assert!(stored.contains("6501**********1234") && stored.contains("138****5678"));
        assert_eq!(e.after_json, None);
    }
}

/// What an attacker does, and the first bad entry `verify` must name.
struct Tamper {
    name: &'static str,
    expected_id: i64,
    expected_reason: BreakReason,
}

async fn tamper(f: &Fixture, name: &str, entries: &[AuditRecord]) {
    let raw = &f.raw;
    match name {
        "change" => {
            raw.execute(r#"UPDATE audit_log SET after_json = '{"amount":1}' WHERE id = 3"#)
                .await
                .expect("update");
        }
        "change and rehash" => {
            // Rewrites entry 3 with a correct hash for the new content: it
            // no longer fits between 2 and 4.
            let mut forged = entries[2].clone();
            forged.after_json = Some(r#"{"amount":1}"#.into());
            forged.hash = forged.expected_hash();
            raw.execute("DELETE FROM audit_log WHERE id = 3")
                .await
                .expect("delete");
            raw.insert(&forged).await;
        }
        "delete" => {
            raw.execute("DELETE FROM audit_log WHERE id = 3")
                .await
                .expect("delete");
        }
        "delete first" => {
            raw.execute("DELETE FROM audit_log WHERE id = 1")
                .await
                .expect("delete");
        }
        "forge at end" => {
            // A new entry whose hash the forger made up.
            let mut forged = entries[4].clone();
            forged.id = 6;
            forged.prev_hash = entries[4].hash.clone();
            forged.actor = "region-admin".into();
            forged.hash = entries[4].hash.replace('0', "1");
            raw.insert(&forged).await;
        }
        "forge before first" => {
            // A well-hashed entry numbered 0, placed before the genesis entry.
            let mut forged = entries[0].clone();
            forged.id = 0;
            forged.hash = forged.expected_hash();
            raw.insert(&forged).await;
        }
        "forge branch" => {
            // A well-hashed entry that chains to entry 2 instead of 5.
            let mut forged = entries[4].clone();
            forged.id = 6;
            forged.prev_hash = entries[1].hash.clone();
            forged.hash = forged.expected_hash();
            raw.insert(&forged).await;
        }
        other => panic!("unknown tampering {other}"),
    }
}

#[tokio::test]
async fn tampering_is_found_at_the_first_bad_entry() {
    let cases = [
        Tamper {
            name: "change",
            expected_id: 3,
            expected_reason: BreakReason::Changed,
        },
        Tamper {
            name: "change and rehash",
            expected_id: 4,
            expected_reason: BreakReason::Relinked,
        },
        Tamper {
            name: "delete",
            expected_id: 3,
            expected_reason: BreakReason::Missing { next_present: 4 },
        },
        Tamper {
            name: "delete first",
            expected_id: 1,
            expected_reason: BreakReason::Missing { next_present: 2 },
        },
        Tamper {
            name: "forge at end",
            expected_id: 6,
            expected_reason: BreakReason::Changed,
        },
        Tamper {
            name: "forge before first",
            expected_id: 0,
            expected_reason: BreakReason::Inserted,
        },
        Tamper {
            name: "forge branch",
            expected_id: 6,
            expected_reason: BreakReason::Relinked,
        },
    ];
    for case in cases {
        for f in fixtures(&format!("audit_tamper_{}", case.name)).await {
            for n in 1..=5 {
                append(&f.store, n).await;
            }
            let entries = all_entries(&f.store).await;
            f.raw.drop_triggers().await;
            tamper(&f, case.name, &entries).await;
            let b = broken(f.store.verify_audit().await.expect("verify"));
            assert_eq!(
                (b.id, b.reason),
                (case.expected_id, case.expected_reason),
                "{}: {}",
                case.name,
                b.en()
            );
            let verified_before = (case.expected_id - 1).max(0) as u64;
            assert_eq!(b.verified, verified_before, "{}", case.name);
        }
    }
}

#[tokio::test]
async fn triggers_refuse_changes_through_sql() {
    for f in fixtures("audit_triggers").await {
        for n in 1..=3 {
            append(&f.store, n).await;
        }
        let head = all_entries(&f.store).await[2].hash.clone();
        let mut refused = vec![
            f.raw
                .execute(r#"UPDATE audit_log SET actor = 'someone-else' WHERE id = 2"#)
                .await,
            f.raw.execute("DELETE FROM audit_log WHERE id = 3").await,
            f.raw.execute("DELETE FROM audit_log").await,
        ];
        if let Raw::Postgres(_) = f.raw {
            refused.push(f.raw.execute("TRUNCATE audit_log").await);
        }
        for r in refused {
            let e = r.expect_err("the trigger refuses");
            assert!(e.to_string().contains("append-only"), "{e}");
        }
        assert_eq!(f.raw.count("SELECT COUNT(*) FROM audit_log").await, 3);
        assert_eq!(
            f.store.verify_audit().await.expect("verify"),
            AuditVerdict::Intact { entries: 3, head }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_form_one_chain() {
    const WRITERS: usize = 8;
    const EACH: usize = 10;
    for f in fixtures("audit_concurrent").await {
        let tasks: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = f.store.clone();
                tokio::spawn(async move {
                    for i in 0..EACH {
                        let after = json!({"writer": w, "i": i});
                        store
                            .record_audit(&AuditEntry {
                                actor: &format!("writer-{w}"),
                                action: "update",
                                entity: "project",
                                entity_key: "P-1",
                                before: None,
                                after: Some(&after),
                            })
                            .await
                            .expect("concurrent append");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        let entries = all_entries(&f.store).await;
        assert_eq!(entries.len(), WRITERS * EACH);
        assert_eq!(
            entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            (1..=(WRITERS * EACH) as i64).collect::<Vec<_>>()
        );
        for w in 0..WRITERS {
            let mine = entries
                .iter()
                .filter(|e| e.actor == format!("writer-{w}"))
                .count();
            assert_eq!(mine, EACH, "writer {w}");
        }
        assert_eq!(
            f.store.verify_audit().await.expect("verify"),
            AuditVerdict::Intact {
                entries: (WRITERS * EACH) as u64,
                head: entries[WRITERS * EACH - 1].hash.clone()
            }
        );
    }
}

#[tokio::test]
async fn each_bulk_commit_adds_one_summary_entry() {
    use yuanjiang_domain::Batch;
    for f in fixtures("audit_bulk").await {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let batches = [
            Batch {
                supporter_code: "31".into(),
                number: 11,
                start_date: d("2023-02-01"),
                end_date: d("2026-01-31"),
            },
            Batch {
                supporter_code: "44".into(),
                number: 10,
                start_date: d("2023-02-01"),
                end_date: d("2026-01-31"),
            },
        ];
        let mut bulk = f.store.bulk().await.expect("bulk");
        bulk.insert_batches(&batches).await.expect("batches");
        bulk.commit().await.expect("commit");
        // A bulk write that wrote nothing leaves no entry.
        f.store
            .bulk()
            .await
            .expect("bulk")
            .commit()
            .await
            .expect("commit");
        let entries = all_entries(&f.store).await;
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].actor.as_str(), entries[0].action.as_str()),
            ("system", "bulk_load")
        );
        assert_eq!(
            entries[0].after_json.as_deref(),
            Some(r#"{"written":{"batches":2}}"#)
        );
        assert!(matches!(
            f.store.verify_audit().await.expect("verify"),
            AuditVerdict::Intact { entries: 1, .. }
        ));
    }
}

#[tokio::test]
async fn verification_streams_past_one_page() {
    // More entries than one verification page (10,000), written straight
    // into the table with correct hashes, so that paging is exercised.
    let dir = TempDir::new().expect("temp dir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    let mut prev = GENESIS_HASH.to_owned();
    let total = 10_050i64;
    for id in 1..=total {
        let mut r = AuditRecord {
            id,
            at: "2026-11-29T08:15:00.000000Z".into(),
            actor: "system".into(),
            action: "update".into(),
            entity: "project".into(),
            entity_key: format!("P-{id}"),
            before_json: None,
            after_json: Some(format!("{{\"n\":{id}}}")),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        r.hash = r.expected_hash();
        sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, entity, entity_key, before_json, \
             after_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(r.id)
        .bind(&r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.entity)
        .bind(&r.entity_key)
        .bind(&r.before_json)
        .bind(&r.after_json)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(&mut *tx)
        .await
        .expect("insert");
        prev = r.hash;
    }
    tx.commit().await.expect("commit");
    assert_eq!(
        store.verify_audit().await.expect("verify"),
        AuditVerdict::Intact {
            entries: total as u64,
            head: prev
        }
    );
    // The store appends after them, and a change on the second page is found.
    append(&store, 1).await;
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&mut conn)
        .await
        .expect("drop");
    sqlx::query("UPDATE audit_log SET entity_key = 'P-0' WHERE id = 10020")
        .execute(&mut conn)
        .await
        .expect("update");
    let b = broken(store.verify_audit().await.expect("verify"));
    assert_eq!(
        (b.id, b.reason, b.verified),
        (10_020, BreakReason::Changed, 10_019)
    );
}
