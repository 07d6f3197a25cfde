//! Accounts, sign-in, lock-out, sessions and API tokens, on both backends.
//! Time is passed in, so time-outs are tested by moving the clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use yuanjiang_domain::{Principal, Role};
use yuanjiang_store::testing::{postgres_url, sqlite_store};
use yuanjiang_store::{AuditFilter, Login, Secret, Store, StoreError, User};

const PASSWORD: &str = "Kashi-2024-ok";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("time")
}

fn principal(name: &str, role: Role, scope: Option<&str>) -> Principal {
    Principal {
        name: name.into(),
        role,
        scope: scope.map(str::to_owned),
    }
}

/// Creates an account with [`PASSWORD`].
async fn account(store: &Store, name: &str, role: Role, scope: Option<&str>) -> User {
    store
        .create_user(&principal(name, role, scope), &Secret::new(PASSWORD))
        .await
        .expect("user")
}

fn code(e: StoreError) -> &'static str {
    match e {
        StoreError::Rule(rule) => rule.code,
        other => panic!("expected a rule error, got {other}"),
    }
}

/// Runs a story on SQLite, and on PostgreSQL when configured. The story
/// gets the database URL too, to look at what is stored behind the API.
async fn on_both<F, Fut>(name: &str, story: F)
where
    F: Fn(Store, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    story(sqlite_store(dir.path()).await.expect("sqlite store"), url).await;
    if let Some(url) = postgres_url(name).await.expect("postgres") {
        // Not `Store::open`: that would write a key file into the source tree.
        let store = yuanjiang_store::testing::open_postgres(&url)
            .await
            .expect("postgres store");
        story(store, url).await;
    }
}

/// Every text value of one column, read straight from the database.
async fn column(url: &str, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        let v = sqlx::query_scalar(sql)
            .fetch_all(&pool)
            .await
            .expect("query");
        pool.close().await;
        v
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        let v = sqlx::query_scalar(sql)
            .fetch_all(&pool)
            .await
            .expect("query");
        pool.close().await;
        v
    }
}

async fn sign_in(store: &Store, name: &str, password: &str, now: DateTime<Utc>) -> Login {
    store
        .verify_login(name, &Secret::new(password), now)
        .await
        .expect("verify")
}

#[tokio::test]
async fn accounts_are_checked_on_creation() {
    on_both(
        "accounts_are_checked_on_creation",
        |store, url| async move {
            let pw = Secret::new(PASSWORD);
            let sh = store
                .create_user(&principal("sh-officer", Role::Supporter, Some("31")), &pw)
                .await
                .expect("supporter");
            assert_eq!(sh.principal.scope.as_deref(), Some("31"));
            store
                .create_user(&principal("kashgar", Role::Prefecture, Some("6531")), &pw)
                .await
                .expect("prefecture");
            store
                .create_user(&principal("admin", Role::Admin, None), &pw)
                .await
                .expect("admin");

            let refused = [
                (
                    principal("weak", Role::Admin, None),
                    "short1A",
                    "weak_password",
                ),
                (
                    principal("weak", Role::Admin, None),
                    "onlylowercase",
                    "weak_password",
                ),
                (
                    principal("sh-officer", Role::Region, None),
                    PASSWORD,
                    "user_exists",
                ),
                (
                    principal("nobody", Role::Supporter, Some("99")),
                    PASSWORD,
                    "unknown_scope",
                ),
                // A supporter code is not a recipient, and the other way round.
                (
                    principal("x1", Role::Prefecture, Some("31")),
                    PASSWORD,
                    "unknown_scope",
                ),
                (
                    principal("x2", Role::Supporter, Some("6531")),
                    PASSWORD,
                    "unknown_scope",
                ),
                (
                    principal("x3", Role::Supporter, None),
                    PASSWORD,
                    "invalid_scope",
                ),
                (
                    principal("x4", Role::Region, Some("65")),
                    PASSWORD,
                    "invalid_scope",
                ),
                (
                    principal("<script>", Role::Admin, None),
                    PASSWORD,
                    "invalid_user_name",
                ),
            ];
            for (p, password, want) in refused {
                let e = store
                    .create_user(&p, &Secret::new(password))
                    .await
                    .expect_err(&p.name);
                assert_eq!(code(e), want, "{}", p.name);
            }

            let users = store.users().await.expect("users");
            let names: Vec<&str> = users.iter().map(|u| u.principal.name.as_str()).collect();
            assert_eq!(names, ["admin", "kashgar", "sh-officer"]);
            assert!(users.iter().all(|u| !u.disabled && u.failed_logins == 0));

            // Passwords are stored as argon2id PHC strings, never as given.
            let hashes = column(&url, "SELECT password_hash FROM users").await;
            assert_eq!(hashes.len(), 3);
            for h in &hashes {
                assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
                assert!(!h.contains(PASSWORD));
            }
            assert_ne!(hashes[0], hashes[1], "salted");
        },
    )
    .await;
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    on_both("five_failures_lock_the_account", |store, _| async move {
        account(&store, "hotan", Role::Prefecture, Some("6532")).await;
        let t = t0();

        // A success resets the count: three failures, a success, four more
        // failures do not lock.
        for _ in 0..3 {
            assert_eq!(sign_in(&store, "hotan", "wrong", t).await, Login::Refused);
        }
        assert!(matches!(
            sign_in(&store, "hotan", PASSWORD, t).await,
            Login::Success(_)
        ));
        for i in 1..=4 {
            assert_eq!(sign_in(&store, "hotan", "wrong", t).await, Login::Refused);
            let user = store.user("hotan").await.expect("read").expect("user");
            assert_eq!(user.failed_logins, i);
        }
        // The fifth in a row locks.
        let until = t + Duration::minutes(15);
        assert_eq!(
            sign_in(&store, "hotan", "wrong", t).await,
            Login::Locked { until }
        );
        let user = store.user("hotan").await.expect("read").expect("user");
        assert_eq!(user.locked_until, Some(until));
        // The sixth, with the right password, is still refused.
        assert_eq!(
            sign_in(&store, "hotan", PASSWORD, t + Duration::minutes(1)).await,
            Login::Locked { until }
        );
        assert_eq!(
            sign_in(&store, "hotan", PASSWORD, until - Duration::seconds(1)).await,
            Login::Locked { until }
        );
        // After fifteen minutes the right password works and clears the lock.
        let Login::Success(user) = sign_in(&store, "hotan", PASSWORD, until).await else {
            panic!("unlocked after 15 minutes");
        };
        assert_eq!(user.principal.name, "hotan");
        let stored = store.user("hotan").await.expect("read").expect("user");
        assert_eq!((stored.failed_logins, stored.locked_until), (0, None));

        // An unknown name is refused like a wrong password.
        assert_eq!(sign_in(&store, "nobody", PASSWORD, t).await, Login::Refused);

        // The trail has every event, and nothing about the unknown name
        // (which might be a password typed into the wrong field).
        let filter = AuditFilter {
            entity: Some("user".into()),
            ..AuditFilter::default()
        };
        let trail = store
            .audit_entries(&filter, None, 100)
            .await
            .expect("trail");
        let actions: Vec<(&str, &str)> = trail
            .items
            .iter()
            .map(|e| (e.actor.as_str(), e.action.as_str()))
            .collect();
        let mut want = vec![("system", "create")];
        want.extend([("hotan", "sign_in_failed"); 3]);
        want.push(("hotan", "sign_in"));
        want.extend([("hotan", "sign_in_failed"); 5]);
        want.extend([("hotan", "lock"), ("hotan", "sign_in")]);
        assert_eq!(actions, want);
        assert!(trail.items.iter().all(|e| e.entity_key == "hotan"));
        let created = trail.items[0].after_json.as_deref().unwrap_or_default();
        assert!(
            !created.contains(PASSWORD) && !created.contains("argon2"),
            "{created}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_disabled_account_is_refused_everywhere() {
    on_both("a_disabled_account_is_refused", |store, _| async move {
        let user = account(&store, "gd-officer", Role::Supporter, Some("44")).await;
        let t = t0();
        let session = store.create_session(user.id, t).await.expect("session");
        let token = store
            .create_token("gd-officer", "system", None, t)
            .await
            .expect("token");
        assert!(
            store
                .token_principal(token.token.expose(), t)
                .await
                .expect("lookup")
                .is_some()
        );

        store.disable_user("gd-officer").await.expect("disable");
        assert_eq!(
            sign_in(&store, "gd-officer", PASSWORD, t).await,
            Login::Disabled
        );
        // A wrong password tells nothing about the account.
        assert_eq!(
            sign_in(&store, "gd-officer", "wrong", t).await,
            Login::Refused
        );
        assert!(
            store
                .session(session.id.expose(), t)
                .await
                .expect("lookup")
                .is_none()
        );
        assert!(
            store
                .token_principal(token.token.expose(), t)
                .await
                .expect("lookup")
                .is_none()
        );
        assert!(
            store
                .user("gd-officer")
                .await
                .expect("read")
                .expect("user")
                .disabled
        );
        assert_eq!(
            code(store.disable_user("nobody").await.expect_err("unknown")),
            "user_not_found"
        );
    })
    .await;
}

#[tokio::test]
async fn sessions_end_after_idle_and_absolute_time_outs() {
    on_both("sessions_time_out", |store, url| async move {
        let user = account(&store, "region", Role::Region, None).await;
        let t = t0();

        // Idle: each use restarts the 30 minutes.
        let s = store.create_session(user.id, t).await.expect("session");
        let id = s.id.expose();
        let live = store
            .session(id, t + Duration::minutes(29))
            .await
            .expect("lookup");
        let live = live.expect("29 idle minutes");
        assert_eq!(live.principal, principal("region", Role::Region, None));
        assert!(live.csrf_token.matches(s.csrf_token.expose()));
        assert_eq!(live.last_seen_at, t + Duration::minutes(29));
        assert!(
            store
                .session(id, t + Duration::minutes(58))
                .await
                .expect("lookup")
                .is_some()
        );
        assert!(
            store
                .session(id, t + Duration::minutes(88))
                .await
                .expect("lookup")
                .is_none(),
            "30 idle minutes"
        );
        // …and the expired session is gone, not just refused.
        assert!(
            store
                .session(id, t + Duration::minutes(60))
                .await
                .expect("lookup")
                .is_none()
        );
        assert_eq!(column(&url, "SELECT id_hash FROM sessions").await.len(), 0);

        // Absolute: 12 hours after sign-in, however busy.
        let s = store.create_session(user.id, t).await.expect("session");
        let id = s.id.expose();
        let mut now = t;
        while now < t + Duration::hours(12) - Duration::minutes(20) {
            now += Duration::minutes(20);
            assert!(
                store.session(id, now).await.expect("lookup").is_some(),
                "{now}"
            );
        }
        assert!(
            store
                .session(id, t + Duration::hours(12))
                .await
                .expect("lookup")
                .is_none()
        );

        // Sign-out ends a session at once.
        let s = store.create_session(user.id, t).await.expect("session");
        store.delete_session(s.id.expose()).await.expect("delete");
        assert!(
            store
                .session(s.id.expose(), t)
                .await
                .expect("lookup")
                .is_none()
        );
        assert!(
            store
                .session("not-a-session", t)
                .await
                .expect("lookup")
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn tokens_are_created_looked_up_revoked_and_expire() {
    on_both("tokens_lifecycle", |store, _| async move {
        account(&store, "auditor", Role::Auditor, None).await;
        let t = t0();
        let forever = store
            .create_token("auditor", "审计系统", None, t)
            .await
            .expect("token");
        assert!(forever.token.expose().starts_with("yj_"));
        assert_eq!(forever.token.expose().len(), 67);
        assert_eq!(forever.expires_at, None);
        let found = store
            .token_principal(forever.token.expose(), t + Duration::days(4000))
            .await
            .expect("lookup");
        assert_eq!(found, Some(principal("auditor", Role::Auditor, None)));

        let week = store
            .create_token("auditor", "", Some(7), t)
            .await
            .expect("token");
        assert_eq!(week.expires_at, Some(t + Duration::days(7)));
        let at = |d: Duration| store.token_principal(week.token.expose(), t + d);
        assert!(
            at(Duration::days(7) - Duration::seconds(1))
                .await
                .expect("lookup")
                .is_some()
        );
        assert!(
            at(Duration::days(7)).await.expect("lookup").is_none(),
            "expired"
        );

        let listed = store.tokens("auditor").await.expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].id, week.id, "newest first");
        assert_eq!(listed[1].label, "审计系统");
        assert_eq!(listed[1].revoked_at, None);

        store.revoke_token(forever.id, t).await.expect("revoke");
        store
            .revoke_token(forever.id, t + Duration::days(1))
            .await
            .expect("again");
        assert!(
            store
                .token_principal(forever.token.expose(), t)
                .await
                .expect("lookup")
                .is_none()
        );
        let listed = store.tokens("auditor").await.expect("list");
        assert_eq!(listed[1].revoked_at, Some(t), "first revocation kept");

        assert_eq!(
            code(store.revoke_token(9999, t).await.expect_err("unknown")),
            "token_not_found"
        );
        let filter = AuditFilter {
            entity: Some("api_token".into()),
            ..AuditFilter::default()
        };
        let trail = store
            .audit_entries(&filter, None, 100)
            .await
            .expect("trail");
        let actions: Vec<(&str, &str)> = trail
            .items
            .iter()
            .map(|e| (e.action.as_str(), e.entity_key.as_str()))
            .collect();
        let (f, w) = (forever.id.to_string(), week.id.to_string());
        assert_eq!(
            actions,
            [
                ("create", f.as_str()),
                ("create", w.as_str()),
                ("revoke", f.as_str()),
                ("revoke", f.as_str())
            ]
        );
        for e in &trail.items {
            let text = e.after_json.as_deref().unwrap_or_default();
            assert!(!text.contains(forever.token.expose()) && !text.contains(week.token.expose()));
        }
        for days in [0, 3651] {
            let e = store
                .create_token("auditor", "", Some(days), t)
                .await
                .expect_err("expiry");
            assert_eq!(code(e), "invalid_expiry");
        }
        assert_eq!(
            code(
                store
                    .create_token("nobody", "", None, t)
                    .await
                    .expect_err("user")
            ),
            "user_not_found"
        );
        for bad in ["", "yj_", "nonsense", &forever.token.expose()[3..]] {
            assert!(
                store
                    .token_principal(bad, t)
                    .await
                    .expect("lookup")
                    .is_none(),
                "{bad}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn secrets_are_stored_hashed() {
    on_both("secrets_are_stored_hashed", |store, url| async move {
        let user = account(&store, "admin", Role::Admin, None).await;
        let t = t0();
        let session = store.create_session(user.id, t).await.expect("session");
        let token = store
            .create_token("admin", "cli", None, t)
            .await
            .expect("token");
        let sid = session.id.expose();
        let raw = token.token.expose();

        let session_hashes = column(&url, "SELECT id_hash FROM sessions").await;
        let token_hashes = column(&url, "SELECT token_hash FROM api_tokens").await;
        assert_eq!(session_hashes.len(), 1);
        assert_eq!(token_hashes.len(), 1);
        for h in session_hashes.iter().chain(&token_hashes) {
            assert_eq!(h.len(), 64, "SM3 in hex: {h}");
            assert!(!h.contains(sid) && !h.contains(raw));
        }
        assert_ne!(session_hashes[0], sid);
        let every_text = column(
            &url,
            "SELECT id_hash || csrf_token FROM sessions UNION ALL \
             SELECT token_hash || label FROM api_tokens UNION ALL \
             SELECT name || role || password_hash FROM users",
        )
        .await;
        for text in &every_text {
            assert!(!text.contains(sid), "session id stored in the clear");
            assert!(
                !text.contains(raw) && !text.contains(&raw[3..]),
                "token stored in the clear"
            );
            assert!(!text.contains(PASSWORD), "password stored in the clear");
        }
        // On SQLite, not a byte of any secret anywhere in the files.
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut bytes = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(b);
                }
            }
            assert!(bytes.len() > 10_000, "read the database files");
            for secret in [sid, raw, PASSWORD] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "a secret is in the database file"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn demo_accounts_are_created_once() {
    on_both("demo_accounts_are_created_once", |store, _| async move {
        let first = store.ensure_demo_accounts().await.expect("demo accounts");
        assert!(first.iter().all(|(_, created)| *created));
        let names: Vec<&str> = first.iter().map(|(p, _)| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "admin",
                "region",
                "auditor",
                "sh-officer",
                "gd-officer",
                "kashgar-office",
                "hotan-office"
            ]
        );
        let second = store.ensure_demo_accounts().await.expect("again");
        assert!(second.iter().all(|(_, created)| !*created));
        let Login::Success(user) = sign_in(
            &store,
            "kashgar-office",
            yuanjiang_store::DEMO_PASSWORD,
            t0(),
        )
        .await
        else {
            panic!("demo password signs in");
        };
        assert_eq!(user.principal.role, Role::Prefecture);
        assert_eq!(user.principal.scope.as_deref(), Some("6531"));
    })
    .await;
}
