use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

fn yuanjiang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yuanjiang"))
        .args(args)
        .env("YUANJIANG_LOG", "warn")
        .output()
        .expect("run yuanjiang")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A plain HTTP/1.1 GET over loopback; returns the status line and body.
fn http_get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_lists_every_command() {
    let out = yuanjiang(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "migrate", "demo", "check"] {
        assert!(text.contains(cmd), "{cmd} missing from --help: {text}");
    }
    let out = yuanjiang(&["demo", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--scale"));
}

#[test]
fn serve_demo_answers_and_check_catches_a_broken_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("yj.db");
    let db = format!("sqlite://{}", db_path.display());
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_yuanjiang"))
        .args(["serve", "--demo", "--db", &db, "--listen", &listen])
        .env("YUANJIANG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let server = Server(child);
    let started = Instant::now();
    let health = loop {
        if let Some(answer) = http_get(port, "/healthz") {
            break answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(health.0, "HTTP/1.1 200 OK");
    let (status, body) = http_get(port, "/api/v1/projects?limit=5").expect("projects");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("\"next_cursor\""), "{body}");
    let (status, _) =
        http_get(port, "/api/v1/stats/funds?by=supporter,category,year").expect("stats");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (status, body) = http_get(port, "/api/v1/projects?year=abc").expect("bad year");
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(body.contains("\"field\":\"year\""), "{body}");
    drop(server);

    let out = yuanjiang(&["check", "--db", &db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("fund-chain breaks: 0"));

    // Behind the application's back, make one payment larger than its allocation.
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let mut conn = sqlx::SqliteConnection::connect(&db).await.expect("connect");
            let changed = sqlx::query(
                "UPDATE fund_transactions SET amount = amount + 100000000000 \
             WHERE id = (SELECT MIN(id) FROM fund_transactions WHERE fund_type = 'payment')",
            )
            .execute(&mut conn)
            .await
            .expect("tamper")
            .rows_affected();
            assert_eq!(changed, 1);
        });
    let out = yuanjiang(&["check", "--db", &db]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("fund-chain breaks: 1"), "{text}");
    assert!(text.contains("支付") && text.contains("payment"), "{text}");
}

#[test]
fn demo_refuses_a_database_with_projects_and_a_bad_url() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("d.db").display());
    let first = yuanjiang(&[
        "demo",
        "--db",
        &db,
        "--scale",
        "small",
        "--seed",
        "3",
        "--as-of",
        "2026-11-29",
    ]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = yuanjiang(&["demo", "--db", &db, "--scale", "small"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty database"));
    // The same file given as a plain path is the same database.
    let path = dir.path().join("d.db").display().to_string();
    let by_path = yuanjiang(&["demo", "--db", &path, "--scale", "small"]);
    assert!(!by_path.status.success());
    assert!(String::from_utf8_lossy(&by_path.stderr).contains("empty database"));
    let bad = yuanjiang(&["migrate", "--db", "mysql://root:hunter2@localhost/x"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password must not be printed: {err}"
    );
}

#[test]
fn evaluate_prints_json_and_refuses_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let units = dir.path().join("units.csv");
    std::fs::write(
        &units,
        "unit,funds,jobs,beds\n疏附县,100,30,20\n伽师县,80,35,10\n莎车县,120,20,40\n",
    )
    .expect("write");
    let path = units.to_str().expect("utf-8 path");
    let out = yuanjiang(&[
        "evaluate",
        "--method",
        "entropy-topsis",
        "--input",
        path,
        "--cost",
        "funds",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["method"], "entropy-topsis");
    let total: f64 = ["funds", "jobs", "beds"]
        .iter()
        .map(|k| json["weights"][k].as_f64().expect("weight"))
        .sum();
    assert!((total - 1.0).abs() < 1e-9);
    assert_eq!(json["units"].as_array().expect("units").len(), 3);

    let out = yuanjiang(&[
        "evaluate",
        "--method",
        "dea-ccr",
        "--input",
        path,
        "--inputs",
        "funds",
        "--outputs",
        "jobs,beds",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        json["units"]
            .as_array()
            .expect("units")
            .iter()
            .any(|u| u["ccr"] == 1.0)
    );

    std::fs::write(&units, "unit,funds,jobs\nA,1,x\nB,2,3\n").expect("write");
    let out = yuanjiang(&["evaluate", "--method", "entropy", "--input", path]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("jobs") && err.contains('x'), "{err}");
}

#[test]
fn evaluate_from_the_database_saves_and_reruns_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("e.db").display());
    let demo = yuanjiang(&[
        "demo",
        "--db",
        &db,
        "--scale",
        "small",
        "--seed",
        "5",
        "--as-of",
        "2026-11-29",
    ]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let out = yuanjiang(&[
        "evaluate",
        "--db",
        &db,
        "--year",
        "2024",
        "--unit",
        "supporter",
        "--method",
        "entropy-topsis",
        "--cost",
        "funds_arrived_wan",
        "--save",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(first["units"].as_array().expect("units").len() >= 3);
    let err = String::from_utf8_lossy(&out.stderr);
    let id = err
        .split("saved as run ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .expect("run id")
        .trim()
        .to_owned();
    // New data after the run must not change its reproduction.
    let more = yuanjiang(&["evaluate", "--db", &db, "--rerun", &id, "--json"]);
    assert!(
        more.status.success(),
        "{}",
        String::from_utf8_lossy(&more.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(&more.stdout).expect("json");
    assert_eq!(first, again);
    assert!(String::from_utf8_lossy(&more.stderr).contains("reproduced exactly"));
    let missing = yuanjiang(&["evaluate", "--db", &db, "--rerun", "999"]);
    assert!(!missing.status.success());
}

#[test]
fn report_writes_the_bulletin_with_figures_that_match_the_api_layer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let demo = yuanjiang(&[
        "demo",
        "--db",
        &db,
        "--scale",
        "small",
        "--seed",
        "9",
        "--as-of",
        "2026-11-29",
    ]);
    assert!(demo.status.success());
    let xlsx = dir.path().join("m.xlsx");
    let out = yuanjiang(&[
        "report",
        "--db",
        &db,
        "--kind",
        "monthly",
        "--as-of",
        "2025-06-30",
        "-o",
        xlsx.to_str().expect("path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&xlsx).expect("xlsx");
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip");
    let html = dir.path().join("a.html");
    let out = yuanjiang(&[
        "report",
        "--db",
        &db,
        "--kind",
        "annual",
        "--as-of",
        "2025-12-31",
        "--supporter",
        "31",
        "-o",
        html.to_str().expect("path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).expect("html");
    assert!(
        page.contains("对口援疆工作年报") && page.contains("<svg"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "no external asset"
    );
    let bad = yuanjiang(&[
        "report",
        "--db",
        &db,
        "--kind",
        "monthly",
        "--as-of",
        "2025-06-30",
        "-o",
        "x.pdf",
    ]);
    assert!(!bad.status.success());
}

#[test]
fn backup_while_writing_and_restore_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("live.db").display());
    assert!(
        yuanjiang(&[
            "demo",
            "--db",
            &db,
            "--scale",
            "small",
            "--seed",
            "4",
            "--as-of",
            "2026-11-29"
        ])
        .status
        .success()
    );
    // Writes continue during the backup: a writer keeps committing.
    let writer_db = db.clone();
    let writer = std::thread::spawn(move || {
        tokio::runtime::Runtime::new().expect("rt").block_on(async {
            let mut conn = sqlx::SqliteConnection::connect(&writer_db)
                .await
                .expect("connect");
            for i in 0..200 {
                sqlx::query("UPDATE data_version SET version = version + 1 WHERE id = 1")
                    .execute(&mut conn)
                    .await
                    .map(|_| ())
                    .unwrap_or_else(|e| panic!("write {i}: {e}"));
            }
        });
    });
    let backup = dir.path().join("backup.db");
    let out = yuanjiang(&["backup", "--db", &db, backup.to_str().expect("path")]);
    writer.join().expect("writer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = yuanjiang(&["backup", "--db", &db, backup.to_str().expect("path")]);
    assert!(!again.status.success(), "never overwrites a backup");

    // Restore into a new database and compare with the backup, table by table.
    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let out = yuanjiang(&["restore", "--db", &restored, backup.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = |url: String| {
        tokio::runtime::Runtime::new().expect("rt").block_on(async move {
            let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("connect");
            let mut out = Vec::new();
            for table in ["projects", "fund_transactions", "project_states", "assignments", "audit_log", "fund_rollup_year"] {
                let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST({table}.rowid AS TEXT))), 0) FROM {table}")))
                    .fetch_all(&mut conn)
                    .await
                    .expect("dump");
                out.push((table, rows));
            }
            let money: i64 = sqlx::query_scalar("SELECT SUM(amount) FROM fund_transactions").fetch_one(&mut conn).await.expect("sum");
            (out, money)
        })
    };
    let backup_url = format!("sqlite://{}", backup.display());
    assert_eq!(dump(backup_url), dump(restored.clone()));
    let check = yuanjiang(&["check", "--db", &restored]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"not a database").expect("write");
    let bad = yuanjiang(&[
        "restore",
        "--db",
        &restored,
        garbage.to_str().expect("path"),
    ]);
    assert!(!bad.status.success(), "a broken backup is refused");
    assert!(
        yuanjiang(&["check", "--db", &restored]).status.success(),
        "and nothing was replaced"
    );
}

/// Runs `yuanjiang` with `args` and returns its stdout, failing on an error exit.
fn stdout_of(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_yuanjiang"))
        .args(args)
        .env("YUANJIANG_LOG", "warn")
        // A PostgreSQL store would otherwise write its key file here.
        .env(
            yuanjiang_store::KEY_ENV,
            yuanjiang_store::testing::TEST_FIELD_KEY,
        )
        .output()
        .expect("run yuanjiang");
    assert!(
        out.status.success(),
        "yuanjiang {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn evaluation_and_bulletin_are_identical_on_postgresql() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let Some(pg) = runtime
        .block_on(yuanjiang_store::testing::postgres_url(
            "evaluation_and_bulletin_on_postgresql",
        ))
        .expect("create the PostgreSQL database")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("e.db").display());
    let mut answers = Vec::new();
    for (i, db) in [&sqlite, &pg].into_iter().enumerate() {
        let db = db.as_str();
        stdout_of(&[
            "demo",
            "--db",
            db,
            "--scale",
            "small",
            "--seed",
            "5",
            "--as-of",
            "2026-11-29",
        ]);
        let evaluate = |method: &str| {
            stdout_of(&[
                "evaluate",
                "--db",
                db,
                "--year",
                "2024",
                "--unit",
                "supporter",
                "--method",
                method,
                "--json",
            ])
        };
        let topsis: serde_json::Value =
            serde_json::from_slice(&evaluate("entropy-topsis")).expect("json");
        let entropy: serde_json::Value =
            serde_json::from_slice(&evaluate("entropy")).expect("json");
        assert!(topsis["units"].as_array().expect("units").len() >= 3);
        // A saved run reproduces exactly on this backend too.
        let saved = Command::new(env!("CARGO_BIN_EXE_yuanjiang"))
            .args([
                "evaluate",
                "--db",
                db,
                "--year",
                "2024",
                "--unit",
                "prefecture",
                "--method",
                "entropy-topsis",
                "--save",
                "--json",
            ])
            .env("YUANJIANG_LOG", "warn")
            .env(
                yuanjiang_store::KEY_ENV,
                yuanjiang_store::testing::TEST_FIELD_KEY,
            )
            .output()
            .expect("run");
        assert!(
            saved.status.success(),
            "{}",
            String::from_utf8_lossy(&saved.stderr)
        );
        let err = String::from_utf8_lossy(&saved.stderr);
        let id = err
            .split("saved as run ")
            .nth(1)
            .and_then(|s| s.split(';').next())
            .expect("run id")
            .trim()
            .to_owned();
        let first: serde_json::Value = serde_json::from_slice(&saved.stdout).expect("json");
        let again: serde_json::Value = serde_json::from_slice(&stdout_of(&[
            "evaluate", "--db", db, "--rerun", &id, "--json",
        ]))
        .expect("json");
        assert_eq!(first, again, "rerun on backend {i}");
        let html = dir.path().join(format!("monthly-{i}.html"));
        stdout_of(&[
            "report",
            "--db",
            db,
            "--kind",
            "monthly",
            "--as-of",
            "2025-06-30",
            "-o",
            html.to_str().expect("path"),
        ]);
        let page = std::fs::read_to_string(&html).expect("html");
        assert!(page.contains("<svg"), "the bulletin has its charts");
        answers.push((topsis, entropy, first, page));
    }
    let (sqlite_answer, pg_answer) = (&answers[0], &answers[1]);
    assert_eq!(
        sqlite_answer.0, pg_answer.0,
        "entropy-TOPSIS differs between backends"
    );
    assert_eq!(
        sqlite_answer.1, pg_answer.1,
        "entropy weights differ between backends"
    );
    assert_eq!(
        sqlite_answer.2, pg_answer.2,
        "prefecture evaluation differs between backends"
    );
    assert_eq!(
        sqlite_answer.3, pg_answer.3,
        "the bulletin differs between backends"
    );
}
