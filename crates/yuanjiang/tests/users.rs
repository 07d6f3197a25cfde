//! `yuanjiang user …` and `yuanjiang token …` as an operator runs them.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs the binary with `stdin` as its standard input.
fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuanjiang"))
        .args(args)
        .env("YUANJIANG_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yuanjiang");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    child.wait_with_output().expect("output")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn accounts_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("users.db").display());
    let db = db.as_str();

    let add = [
        "user",
        "add",
        "sh-officer",
        "--role",
        "supporter",
        "--scope",
        "31",
        "--password-stdin",
        "--db",
        db,
    ];
    let out = run(&add, "Shanghai-31-ok\n");
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Refusals explain themselves in both languages.
    let mut weak = add;
    weak[2] = "weak";
    let out = run(&weak, "password\n");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("密码强度不足") && err.contains("too weak") && err.contains("weak_password"),
        "{err}"
    );
    let out = run(&add, "Shanghai-31-ok\n");
    assert!(text(&out.stderr).contains("user_exists"));
    let out = run(
        &["user", "add", "x1", "--role", "admin", "--db", db],
        "Admin-pass-1\n",
    );
    assert!(!out.status.success(), "--password-stdin is required");
    assert!(text(&out.stderr).contains("--password-stdin"));

    let out = run(&["user", "list", "--db", db, "--json"], "");
    let users: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(users[0]["name"], "sh-officer");
    assert_eq!(users[0]["role"], "supporter");
    assert_eq!(users[0]["scope"], "31");
    assert!(
        !text(&out.stdout).contains("argon2"),
        "no password hash listed"
    );

    let out = run(
        &[
            "token",
            "create",
            "--user",
            "sh-officer",
            "--expires",
            "30",
            "--label",
            "ERP",
            "--db",
            db,
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert!(token.starts_with("yj_") && token.len() == 67, "{token}");
    assert!(text(&out.stderr).contains("仅显示这一次"));

    let out = run(&["token", "list", "--user", "sh-officer", "--db", db], "");
    let listed = text(&out.stdout);
    assert!(
        listed.contains("ERP") && !listed.contains(&token[3..]),
        "{listed}"
    );
    let out = run(&["token", "revoke", "--id", "1", "--db", db], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &[
            "token",
            "list",
            "--user",
            "sh-officer",
            "--db",
            db,
            "--json",
        ],
        "",
    );
    let tokens: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(tokens[0]["revoked_at"].is_string(), "{tokens}");
    let out = run(&["token", "revoke", "--id", "99", "--db", db], "");
    assert!(text(&out.stderr).contains("token_not_found"));

    let out = run(&["user", "disable", "sh-officer", "--db", db], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["user", "list", "--db", db], "");
    let table = text(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("sh-officer") && l.contains("disabled")),
        "{table}"
    );
}

#[test]
fn serve_demo_prints_the_demo_accounts() {
    use std::io::BufRead;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_yuanjiang"))
        .args(["serve", "--demo", "--db", &db, "--listen", "127.0.0.1:0"])
        .env("YUANJIANG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let stderr = child.stderr.take().expect("stderr");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = receive.recv_timeout(Duration::from_secs(120)) {
        let serving = line.contains("is serving at");
        lines.push(line);
        if serving {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let printed = lines.join("\n");
    assert!(printed.contains("Yuanjiang@2010"), "{printed}");
    for (name, role, scope) in [
        ("admin", "admin", ""),
        ("region", "region", ""),
        ("auditor", "auditor", ""),
        ("sh-officer", "supporter", "31"),
        ("gd-officer", "supporter", "44"),
        ("kashgar-office", "prefecture", "6531"),
        ("hotan-office", "prefecture", "6532"),
    ] {
        assert!(
            lines.iter().any(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.first() == Some(&name)
                    && words.get(1) == Some(&role)
                    && (scope.is_empty() || words.get(2) == Some(&scope))
            }),
            "{name} in {printed}"
        );
    }
}
