//! `yuanjiang audit verify` and `list` on a real SQLite file: exit 0 with
//! the count when intact, exit 1 naming the first bad entry after
//! tampering; and the field key taken from `YUANJIANG_FIELD_KEY`.

use std::process::{Command, Output};

use serde_json::json;
use sqlx::Connection;
use yuanjiang_store::testing::sqlite_store;
use yuanjiang_store::{AuditEntry, KEY_FILE};

fn yuanjiang(args: &[&str], key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yuanjiang"));
    cmd.args(args).env("YUANJIANG_LOG", "warn");
    match key {
        Some(k) => cmd.env("YUANJIANG_FIELD_KEY", k),
        None => cmd.env_remove("YUANJIANG_FIELD_KEY"),
    };
    cmd.env_remove("YUANJIANG_DATA_DIR")
        .output()
        .expect("run yuanjiang")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn verify_exits_one_naming_the_first_bad_entry() {
    let dir = tempfile::TempDir::new().expect("dir");
    let store = sqlite_store(dir.path()).await.expect("store");
    for n in 1..=3 {
        let after = json!({"n": n});
        store
            .record_audit(&AuditEntry {
                actor: "sh",
                action: "update",
                entity: "project",
                entity_key: &format!("P-{n}"),
                before: None,
                after: Some(&after),
            })
            .await
            .expect("append");
    }
    store.close().await;
    let url = format!("sqlite://{}", dir.path().join("test.db").display());

    let out = yuanjiang(&["audit", "verify", "--db", &url], None);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("audit trail intact: 3 entries"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("审计日志完整：3 条记录"));

    let out = yuanjiang(
        &[
            "audit", "list", "--db", &url, "--entity", "project", "--limit", "2",
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["entity_key"], "P-2");
    assert_eq!(lines[1]["prev_hash"], lines[0]["hash"]);

    // An attacker with the file drops the trigger and edits entry 2.
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&mut conn)
        .await
        .expect("drop");
    sqlx::query(r#"UPDATE audit_log SET after_json = '{"n":20}' WHERE id = 2"#)
        .execute(&mut conn)
        .await
        .expect("update");
    conn.close().await.expect("close");

    let out = yuanjiang(&["audit", "verify", "--db", &url], None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("audit entry 2 does not match its hash: it was changed"),
        "{text}"
    );
    assert!(
        text.contains("第 2 条审计记录的内容与其哈希值不符"),
        "{text}"
    );
    assert!(
        text.contains("first bad entry: 2 (audit_entry_changed)"),
        "{text}"
    );

    let out = yuanjiang(&["audit", "verify", "--db", &url, "--json"], None);
    assert_eq!(out.status.code(), Some(1));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(verdict["status"], "broken");
    assert_eq!(verdict["id"], 2);
    assert_eq!(verdict["reason"]["kind"], "changed");
}

#[test]
fn the_field_key_can_come_from_the_environment() {
    let dir = tempfile::TempDir::new().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("env.db").display());
    let key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

    let out = yuanjiang(&["migrate", "--db", &url], Some(key));
    assert!(out.status.success(), "{out:?}");
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "no key file with the variable set"
    );
    let out = yuanjiang(&["audit", "verify", "--db", &url], Some(key));
    assert!(out.status.success(), "{out:?}");

    // Another key, or none (a new key file), is refused, and never printed.
    for other in [Some("ffeeddccbbaa99887766554433221100"), None] {
        let out = yuanjiang(&["audit", "verify", "--db", &url], other);
        assert!(!out.status.success(), "{other:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("does not match"), "{err}");
        assert!(!err.contains(key) && !err.contains("ffeeddcc"), "{err}");
    }
    let out = yuanjiang(&["audit", "verify", "--db", &url], Some("not-hex"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 hex digits"));
}
