//! Personal data at rest: never stored in clear, read back in clear only by
//! the sending front command and the region, masked for everyone else; the
//! key file is private and the key never shows.

use chrono::NaiveDate;
use yuanjiang_domain::codes::id_number_check_char;
use yuanjiang_domain::{Assignment, AssignmentCategory, AssignmentMode, Principal, Role, Viewer};
use yuanjiang_store::testing::sqlite_store;
use yuanjiang_store::{
    AssignmentFilter, AssignmentRow, AuditFilter, CryptoError, DbSettings, FieldKey, KEY_FILE,
    PersonalData, Store, StoreError,
};

use crate::audit::{Fixture, Raw, fixtures};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// A valid GB 11643 ID number from its first 17 digits.
fn id_number(first17: &str) -> String {
    let check = id_number_check_char(first17).expect("digits");
    format!("{first17}{check}")
}

fn viewer(role: Role, scope: Option<&str>) -> Viewer {
    Viewer::User(Principal {
        name: format!("{}-user", role.key()),
        role,
        scope: scope.map(str::to_owned),
    })
}

/// Three people: Shanghai's in Shache (Kashgar), Shenzhen's in Kashgar city,
/// Guangdong's in Hotan county.
fn people() -> Vec<Assignment> {
    let person =
        |supporter: &str, batch, name: &str, id17: &str, phone: &str, recipient: &str| Assignment {
            supporter_code: supporter.into(),
            batch_number: Some(batch),
            person_name: name.into(),
            id_number: Some(id_number(id17)),
            phone: Some(phone.into()),
            category: AssignmentCategory::Doctor,
            mode: AssignmentMode::LongTerm,
            recipient_code: recipient.into(),
            host_unit: "县人民医院".into(),
            post: "副院长".into(),
            arrival_date: d("2023-02-01"),
            return_date: d("2026-01-31"),
            appraisal: None,
        };
    vec![
        person(
            "31",
            11,
            "张医生",
            "31010419800315123",
            "13812345678",
            "653125",
        ),
        person(
            "4403",
            10,
            "李老师",
            "44030519850620234",
            "13923456789",
            "653101",
        ),
        person(
            "44",
            10,
            "王工",
            "44010619900101345",
            "13734567890",
            "653221",
        ),
    ]
}

async fn load(store: &Store) -> Vec<Assignment> {
    let people = people();
    let mut bulk = store.bulk().await.expect("bulk");
    bulk.insert_assignments(&people).await.expect("assignments");
    bulk.commit().await.expect("commit");
    people
}

async fn rows(store: &Store, filter: &AssignmentFilter, v: &Viewer) -> Vec<AssignmentRow> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .assignments(filter, v, cursor, 2)
            .await
            .expect("assignments");
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c.parse().expect("cursor")),
            None => return out,
        }
    }
}

/// Every column of `assignments` as text, on either backend.
async fn column_names(raw: &Raw) -> Vec<String> {
    let sql = match raw {
        Raw::Sqlite(_) => "SELECT group_concat(name, ',') FROM pragma_table_info('assignments')",
        Raw::Postgres(_) => {
            "SELECT string_agg(column_name, ',') FROM information_schema.columns \
             WHERE table_name = 'assignments'"
        }
    };
    let joined: String = match raw {
        Raw::Sqlite(url) => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .expect("columns")
        }
        Raw::Postgres(url) => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
            sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .expect("columns")
        }
    };
    joined.split(',').map(str::to_owned).collect()
}

#[tokio::test]
async fn stored_encrypted_and_shown_by_role() {
    for Fixture { store, raw, dir } in fixtures("personal_data_roles").await {
        let people = load(&store).await;
        let [shanghai, shenzhen, guangdong] = [&people[0], &people[1], &people[2]];

        // The raw table: plaintext columns empty, no column holds a value.
        assert_eq!(
            raw.count(
                "SELECT COUNT(*) FROM assignments WHERE id_number IS NOT NULL OR phone IS NOT NULL"
            )
            .await,
            0
        );
        assert_eq!(
            raw.count("SELECT COUNT(*) FROM assignments WHERE id_number_enc LIKE 'v1:%' AND phone_enc LIKE 'v1:%'")
                .await,
            3
        );
        let columns = column_names(&raw).await;
        assert!(
            columns.len() >= 15 && columns.iter().any(|c| c == "id_number_enc"),
            "{columns:?}"
        );
        for p in &people {
            for secret in [
                p.id_number.as_deref().expect("id"),
                p.phone.as_deref().expect("phone"),
            ] {
                for column in &columns {
                    // The middle digits, so a masked form would not match either.
                    let needle = &secret[3..10];
                    let n = raw
                        .count(&format!(
                            "SELECT COUNT(*) FROM assignments WHERE CAST({column} AS TEXT) LIKE '%{needle}%'"
                        ))
                        .await;
                    assert_eq!(n, 0, "{column} holds personal data");
                }
                let in_trail = raw
                    .count(&format!(
                        "SELECT COUNT(*) FROM audit_log WHERE after_json LIKE '%{}%'",
                        &secret[3..10]
                    ))
                    .await;
                assert_eq!(in_trail, 0);
            }
        }

        // Who sees what.
        let all = AssignmentFilter::default();
        let clear = |r: &AssignmentRow, p: &Assignment| {
            assert_eq!(r.personal_data, PersonalData::Clear);
            assert_eq!(r.assignment, *p);
        };
        let masked = |r: &AssignmentRow, p: &Assignment| {
            let id = p.id_number.as_deref().expect("id");
            let phone = p.phone.as_deref().expect("phone");
            assert_eq!(r.personal_data, PersonalData::Masked);
            assert_eq!(
                r.assignment.id_number.as_deref(),
                Some(format!("{}**********{}", &id[..4], &id[14..]).as_str())
            );
            assert_eq!(
                r.assignment.phone.as_deref(),
                Some(format!("{}****{}", &phone[..3], &phone[7..]).as_str())
            );
            assert_eq!(r.assignment.person_name, p.person_name);
        };

        let region = rows(&store, &all, &viewer(Role::Region, None)).await;
        assert_eq!(region.len(), 3);
        for (r, p) in region.iter().zip(&people) {
            clear(r, p);
        }
        for role in [Role::Auditor, Role::Admin] {
            let seen = rows(&store, &all, &viewer(role, None)).await;
            assert_eq!(seen.len(), 3, "{role:?}");
            for (r, p) in seen.iter().zip(&people) {
                masked(r, p);
            }
        }
        let sh = rows(&store, &all, &viewer(Role::Supporter, Some("31"))).await;
        assert_eq!(sh.len(), 1);
        clear(&sh[0], shanghai);
        let gd = rows(&store, &all, &viewer(Role::Supporter, Some("44"))).await;
        assert_eq!(gd.len(), 2, "Guangdong sees its own and Shenzhen's");
        clear(&gd[0], shenzhen);
        clear(&gd[1], guangdong);
        let sz = rows(&store, &all, &viewer(Role::Supporter, Some("4403"))).await;
        assert_eq!(sz.len(), 1);
        clear(&sz[0], shenzhen);
        let kashgar = rows(&store, &all, &viewer(Role::Prefecture, Some("6531"))).await;
        assert_eq!(kashgar.len(), 2, "the people posted in Kashgar");
        masked(&kashgar[0], shanghai);
        masked(&kashgar[1], shenzhen);
        assert!(rows(&store, &all, &Viewer::Public).await.is_empty());
        let unscoped = Viewer::User(Principal {
            name: "broken".into(),
            role: Role::Supporter,
            scope: None,
        });
        assert!(
            rows(&store, &all, &unscoped).await.is_empty(),
            "no scope sees nothing"
        );

        // Filters, ANDed with the scope.
        let region_v = viewer(Role::Region, None);
        let by = |supporter: Option<&str>, recipient: Option<&str>, batch: Option<u32>| {
            AssignmentFilter {
                supporter: supporter.map(str::to_owned),
                recipient: recipient.map(str::to_owned),
                batch,
            }
        };
        let names = |rows: Vec<AssignmentRow>| {
            rows.into_iter()
                .map(|r| r.assignment.person_name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(rows(&store, &by(Some("44"), None, None), &region_v).await),
            ["李老师", "王工"]
        );
        assert_eq!(
            names(rows(&store, &by(None, Some("6532"), None), &region_v).await),
            ["王工"]
        );
        assert_eq!(
            names(rows(&store, &by(None, None, Some(11)), &region_v).await),
            ["张医生"]
        );
        assert!(
            rows(
                &store,
                &by(Some("31"), None, None),
                &viewer(Role::Supporter, Some("44"))
            )
            .await
            .is_empty()
        );

        // Debug never shows the clear values.
        let debug = format!("{:?}", region[0]);
        assert!(
            !debug.contains(shanghai.id_number.as_deref().expect("id")),
            "{debug}"
        );
        assert!(
            !debug.contains(shanghai.phone.as_deref().expect("phone")),
            "{debug}"
        );

        // The SQLite file itself holds no clear value.
        if let Some(dir) = dir {
            store.close().await;
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(dir.path()).expect("dir") {
                let path = entry.expect("entry").path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("test.db"))
                {
                    bytes.extend(std::fs::read(&path).expect("read"));
                }
            }
            assert!(bytes.len() > 100_000, "the database files were read");
            for p in &people {
                for secret in [
                    p.id_number.as_deref().expect("id"),
                    p.phone.as_deref().expect("phone"),
                ] {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "the database file holds a clear value"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn key_file_is_private_and_the_key_is_checked() {
    let dir = tempfile::TempDir::new().expect("dir");
    let store = sqlite_store(dir.path()).await.expect("store");
    let people = load(&store).await;
    store.close().await;

    let key_path = dir.path().join(KEY_FILE);
    let text = std::fs::read_to_string(&key_path).expect("key file");
    assert_eq!(text.len(), 33, "32 hex digits and a newline");
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "mode {:o}", mode & 0o777);
    }

    // Reopening finds the same key and reads the data back.
    let store = sqlite_store(dir.path()).await.expect("reopen");
    let region = rows(
        &store,
        &AssignmentFilter::default(),
        &viewer(Role::Region, None),
    )
    .await;
    assert_eq!(region[0].assignment, people[0]);
    store.close().await;

    // Another key is refused at open, without a panic and without the key in the message.
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let settings = DbSettings::from_url(&url).expect("url");
    let other = FieldKey::from_hex("00112233445566778899aabbccddeeff", "test").expect("key");
    let Err(e) = Store::open_with_key(&settings, other).await else {
        panic!("a wrong key must be refused");
    };
    assert!(
        matches!(e, StoreError::FieldCrypto(CryptoError::WrongKey { .. })),
        "{e}"
    );
    let message = e.to_string();
    assert!(message.contains("does not match"), "{message}");
    assert!(
        !message.contains("00112233") && !message.contains(text.trim()),
        "{message}"
    );
    let right = FieldKey::from_hex(&text, "file").expect("key");
    assert_eq!(format!("{right:?}"), "FieldKey(***)");
    assert!(
        message.contains(&right.fingerprint()),
        "names the expected fingerprint"
    );
}

#[tokio::test]
async fn the_key_never_reaches_the_log() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let dir = tempfile::TempDir::new().expect("dir");
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        let store = sqlite_store(dir.path()).await.expect("store");
        load(&store).await;
        store.close().await;
        let store = sqlite_store(dir.path()).await.expect("reopen");
        store.close().await;
    }
    let log = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf-8");
    let key = std::fs::read_to_string(dir.path().join(KEY_FILE)).expect("key");
    assert!(log.contains("field key loaded"), "{log}");
    assert!(log.contains(&FieldKey::from_hex(&key, "file").expect("key").fingerprint()));
    assert!(!log.contains(key.trim()), "the key is in the log");
    for p in people() {
        assert!(!log.contains(p.id_number.as_deref().expect("id")));
    }
}

#[tokio::test]
async fn plaintext_left_by_older_versions_is_encrypted_on_open() {
    for Fixture { store, raw, dir } in fixtures("personal_data_legacy").await {
        let legacy_id = id_number("65010219700101123");
        raw.execute(&format!(
            "INSERT INTO assignments (supporter_code, batch_number, person_name, id_number, phone, \
             category, mode, recipient_code, host_unit, post, arrival_date, return_date) VALUES \
             ('31', 9, '赵干部', '{legacy_id}', '13600001111', 'cadre', 'long-term', '653125', \
             '莎车县人民政府', '副县长', '2017-02-01', '2020-01-31')"
        ))
        .await
        .expect("legacy row");
        store.close().await;
        let (raw_ref, dir_ref) = (&raw, &dir);
        let reopen = move || async move {
            match (raw_ref, dir_ref) {
                (Raw::Sqlite(_), Some(dir)) => sqlite_store(dir.path()).await.expect("reopen"),
                (Raw::Postgres(url), _) => yuanjiang_store::testing::open_postgres(url)
                    .await
                    .expect("reopen"),
                _ => unreachable!("a SQLite fixture has its directory"),
            }
        };
        let store = reopen().await;
        assert_eq!(
            raw.count(
                "SELECT COUNT(*) FROM assignments WHERE id_number IS NOT NULL OR phone IS NOT NULL"
            )
            .await,
            0
        );
        let seen = rows(
            &store,
            &AssignmentFilter::default(),
            &viewer(Role::Supporter, Some("31")),
        )
        .await;
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].assignment.id_number.as_deref(),
            Some(legacy_id.as_str())
        );
        assert_eq!(seen[0].assignment.phone.as_deref(), Some("13600001111"));
        let trail = |store: Store| async move {
            store
                .audit_entries(&AuditFilter::default(), None, 100)
                .await
                .expect("trail")
                .items
        };
        let entries = trail(store.clone()).await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].action, "encrypt_personal_data");
        assert_eq!(
            entries[0].after_json.as_deref(),
            Some(r#"{"encrypted_rows":1,"first_id":1,"last_id":1}"#)
        );
        store.close().await;
        // Idempotent: nothing left to do on the next open.
        let store = reopen().await;
        assert_eq!(trail(store.clone()).await.len(), 1);
        store.close().await;
    }
}
