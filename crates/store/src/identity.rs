//! Accounts, sign-in, sessions and API tokens (MLPS 2.0: password policy,
//! lock-out after failed sign-ins, session time-outs).
//!
//! Nothing secret is stored in the clear. Passwords are argon2id PHC
//! strings; session ids and API tokens are random 32-byte values stored as
//! their SM3 hash, so a copy of the database signs nobody in. Secrets travel
//! in [`Secret`], whose `Debug` never shows them.
//!
//! Every time-dependent call takes `now`, so the rules (lock-out, idle and
//! absolute time-outs, token expiry) are tested by moving the clock rather
//! than by waiting.
//!
//! Account changes and sign-in events go to the audit trail (MLPS 2.0 asks
//! for security events to be audited): account and token changes in the
//! same transaction as the change, with `system` as the actor (they are
//! made by the operator on the server), and sign-ins, failures and locks
//! with the user as the actor. Failures for unknown names are not recorded:
//! people type their password into the name field often enough.

use std::fmt;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sm3::{Digest, Sm3};
use sqlx::FromRow;
use yuanjiang_domain::{DomainError, Principal, Role};

use crate::audit::AuditEntry;
use crate::parties::key;
use crate::{Result, Store, StoreError, on_pool, on_tx};

/// Consecutive failed sign-ins that lock an account.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a lock-out lasts.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// A session unused for this long is over.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
/// A session is over this long after sign-in, however busy.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);
/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in characters (bounds the work per attempt).
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest API token lifetime, in days.
pub const MAX_TOKEN_DAYS: u32 = 3650;
/// Prefix of every API token, so a leaked one is easy to recognise in a scan.
pub const TOKEN_PREFIX: &str = "yj_";

/// `last_seen_at` is written at most this often per session: writing it on
/// every request would turn every read into a write, which SQLite serialises.
/// A minute is small against the 30-minute idle time-out.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// The password shared by the demo accounts of `serve --demo`.
pub const DEMO_PASSWORD: &str = "Yuanjiang@2010";

/// A secret string: a password, a session id, an API or CSRF token. Its
/// `Debug` is redacted and it has no `Display`, so it cannot reach a log by
/// accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// A fresh random secret: 32 bytes from the CSPRNG, in hex.
    pub fn random() -> Secret {
        Secret(random_secret())
    }

    /// The secret itself, to send to its owner or to check.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with `other` in time independent of where they differ.
    pub fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A stored account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Name, role and scope.
    #[serde(flatten)]
    pub principal: Principal,
    /// Disabled accounts cannot sign in and their sessions and tokens stop working.
    pub disabled: bool,
    /// Consecutive failed sign-ins since the last success or lock.
    pub failed_logins: i32,
    /// Sign-in is refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// Name and password match an active account.
    Success(User),
    /// Unknown name or wrong password (the two are not told apart).
    Refused,
    /// Too many failures: refused, even with the right password, until `until`.
    Locked {
        /// When sign-in is possible again.
        until: DateTime<Utc>,
    },
    /// The password was right but the account is disabled.
    Disabled,
}

/// A session just created: the id goes into the cookie, once.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session id for the cookie; only its hash is stored.
    pub id: Secret,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: Secret,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The signed-in user's row id.
    pub user_id: i64,
    /// Who is signed in.
    pub principal: Principal,
    /// The session's CSRF token.
    pub csrf_token: Secret,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// Last request seen (to the minute).
    pub last_seen_at: DateTime<Utc>,
}

/// An API token just created: shown to its owner once, then only its hash remains.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Row id, to revoke it by.
    pub id: i64,
    /// The token for the `Authorization: Bearer` header.
    pub token: Secret,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An API token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct TokenInfo {
    /// Row id.
    pub id: i64,
    /// Its owner.
    pub user_name: String,
    /// What it is for, e.g. the system that uses it.
    pub label: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct UserRecord {
    id: i64,
    name: String,
    role: String,
    scope: Option<String>,
    disabled: bool,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl UserRecord {
    fn into_user(self) -> Result<User> {
        Ok(User {
            id: self.id,
            principal: Principal {
                role: key("users.role", &self.role, Role::parse)?,
                name: self.name,
                scope: self.scope,
            },
            disabled: self.disabled,
            failed_logins: self.failed_logins,
            locked_until: self.locked_until,
            created_at: self.created_at,
        })
    }
}

#[derive(FromRow)]
struct CredentialRecord {
    password_hash: String,
    #[sqlx(flatten)]
    user: UserRecord,
}

#[derive(FromRow)]
struct SessionRecord {
    user_id: i64,
    csrf_token: String,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    name: String,
    role: String,
    scope: Option<String>,
    disabled: bool,
}

#[derive(FromRow)]
struct TokenRecord {
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    name: String,
    role: String,
    scope: Option<String>,
    disabled: bool,
}

const USER_COLUMNS: &str =
    "id, name, role, scope, disabled, failed_logins, locked_until, created_at";

/// Checks a user name: 2 to 64 characters of ASCII letters, digits and
/// `. _ - @`, starting with a letter or digit. Names show up in the trail,
/// in logs and in URLs, so they are kept plain.
pub fn validate_user_name(name: &str) -> Result<(), DomainError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    let ok = (2..=64).contains(&name.len())
        && name.chars().all(ok_char)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            "invalid_user_name",
            format!("用户名“{name}”无效：应为 2–64 个英文字母、数字或 . _ - @，并以字母或数字开头"),
            format!(
                "user name \"{name}\" is invalid: use 2–64 ASCII letters, digits or . _ - @, starting with a letter or digit"
            ),
        ))
    }
}

/// Checks a new password against the policy: at least
/// [`MIN_PASSWORD_CHARS`] characters from at least three of the four classes
/// (lower-case, upper-case, digit, other), and not containing the user name.
pub fn check_password_policy(password: &str, user_name: &str) -> Result<(), DomainError> {
    let chars = password.chars().count();
    if chars > MAX_PASSWORD_CHARS {
        return Err(DomainError::new(
            "weak_password",
            format!("密码过长：最多 {MAX_PASSWORD_CHARS} 个字符"),
            format!("the password is too long: at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|&b| b)
    .count();
    if chars < MIN_PASSWORD_CHARS || classes < 3 {
        return Err(DomainError::new(
            "weak_password",
            format!(
                "密码强度不足：至少 {MIN_PASSWORD_CHARS} 个字符，且包含小写字母、大写字母、数字、其他符号中的至少三类"
            ),
            format!(
                "the password is too weak: it needs at least {MIN_PASSWORD_CHARS} characters from at least three of lower-case letters, upper-case letters, digits and other symbols"
            ),
        ));
    }
    if user_name.len() >= 3 && password.to_lowercase().contains(&user_name.to_lowercase()) {
        return Err(DomainError::new(
            "weak_password",
            "密码不能包含用户名",
            "the password must not contain the user name",
        ));
    }
    Ok(())
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// 32 random bytes in hex, from the thread's CSPRNG (ChaCha, seeded and
/// reseeded from the operating system).
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// The SM3 hash of a secret, as stored. The secrets are 256-bit random
/// values, so a fast unsalted hash is enough: there is nothing to guess.
fn secret_hash(secret: &str) -> String {
    hex(&Sm3::digest(secret.as_bytes()))
}

/// Turns a failure of the hashing thread into a store error.
fn crypto_error(e: impl fmt::Display) -> StoreError {
    StoreError::Crypto(e.to_string())
}

/// Hashes a password with argon2id (OWASP parameters: 19 MiB, 2 passes) on
/// a blocking thread, so that the async workers keep serving meanwhile.
async fn hash_password(password: &Secret) -> Result<String> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(crypto_error)?
    .map_err(crypto_error)
}

/// A hash to verify against when the user does not exist, so that an
/// unknown name takes as long to refuse as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"no such user")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Verifies a password against a stored PHC string on a blocking thread.
/// `None` stands for an unknown user: the work is done all the same.
async fn verify_password(password: &Secret, stored: Option<String>) -> Result<bool> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let hash = stored.as_deref().unwrap_or(&DUMMY_HASH);
        let ok = Argon2::default()
            .verify_password(password.expose().as_bytes(), hash)
            .is_ok();
        ok && stored.is_some()
    })
    .await
    .map_err(crypto_error)
}

fn user_not_found(name: &str) -> StoreError {
    StoreError::Rule(DomainError::new(
        "user_not_found",
        format!("用户“{name}”不存在"),
        format!("user \"{name}\" does not exist"),
    ))
}

/// The demo accounts of `serve --demo`: one per role, and scoped ones for
/// two supporters (Shanghai, Guangdong) and two prefectures (Kashgar, Hotan).
pub fn demo_accounts() -> Vec<Principal> {
    let p = |name: &str, role, scope: Option<&str>| Principal {
        name: name.to_owned(),
        role,
        scope: scope.map(str::to_owned),
    };
    vec![
        p("admin", Role::Admin, None),
        p("region", Role::Region, None),
        p("auditor", Role::Auditor, None),
        p("sh-officer", Role::Supporter, Some("31")),
        p("gd-officer", Role::Supporter, Some("44")),
        p("kashgar-office", Role::Prefecture, Some("6531")),
        p("hotan-office", Role::Prefecture, Some("6532")),
    ]
}

impl Store {
    /// Creates an account after checking the name, that the scope fits the
    /// role and exists (a supporter code for `supporter`, a recipient code
    /// for `prefecture`), and the password policy.
    pub async fn create_user(&self, principal: &Principal, password: &Secret) -> Result<User> {
        validate_user_name(&principal.name)?;
        principal.validate()?;
        check_password_policy(password.expose(), &principal.name)?;
        if let Some(scope) = &principal.scope {
            let table_sql = match principal.role {
                Role::Supporter => "SELECT COUNT(*) FROM supporters WHERE code = $1",
                _ => "SELECT COUNT(*) FROM recipients WHERE code = $1",
            };
            let n: i64 = on_pool!(self, p => {
                sqlx::query_scalar(table_sql).bind(scope).fetch_one(p).await?
            });
            if n == 0 {
                let (zh, en) = match principal.role {
                    Role::Supporter => ("支援方", "supporter"),
                    _ => ("受援地", "recipient"),
                };
                return Err(StoreError::Rule(DomainError::new(
                    "unknown_scope",
                    format!("范围代码“{scope}”不是已登记的{zh}"),
                    format!("scope code \"{scope}\" is not a known {en}"),
                )));
            }
        }
        if self.user(&principal.name).await?.is_some() {
            return Err(StoreError::Rule(DomainError::new(
                "user_exists",
                format!("用户“{}”已存在", principal.name),
                format!("user \"{}\" exists already", principal.name),
            )));
        }
        let hash = hash_password(password).await?;
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO users (name, role, scope, password_hash, disabled, failed_logins, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
            )
            .bind(&principal.name)
            .bind(principal.role.key())
            .bind(&principal.scope)
            .bind(hash)
            .bind(false)
            .bind(now)
            .fetch_one(&mut **t)
            .await?
        });
        let after =
            json!({"name": principal.name, "role": principal.role, "scope": principal.scope});
        tx.append_audit(&AuditEntry {
            actor: "system",
            action: "create",
            entity: "user",
            entity_key: &principal.name,
            before: None,
            after: Some(&after),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user = ?principal.name, role = %principal.role, "account created");
        Ok(User {
            id,
            principal: principal.clone(),
            disabled: false,
            failed_logins: 0,
            locked_until: None,
            created_at: now,
        })
    }

    /// All accounts, by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        let rows: Vec<UserRecord> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await?
        });
        rows.into_iter().map(UserRecord::into_user).collect()
    }

    /// One account by name.
    pub async fn user(&self, name: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        let row: Option<UserRecord> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(name).fetch_optional(p).await?
        });
        row.map(UserRecord::into_user).transpose()
    }

    /// Disables an account and ends its sessions; its API tokens stop
    /// working too (they are refused while the account is disabled).
    pub async fn disable_user(&self, name: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        let id: Option<i64> = on_tx!(tx, t, Db => {
            sqlx::query_scalar("UPDATE users SET disabled = $2 WHERE name = $1 RETURNING id")
                .bind(name)
                .bind(true)
                .fetch_optional(&mut **t)
                .await?
        });
        let id = id.ok_or_else(|| user_not_found(name))?;
        on_tx!(tx, t, Db => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut **t)
                .await?;
        });
        tx.append_audit(&AuditEntry {
            actor: "system",
            action: "disable",
            entity: "user",
            entity_key: name,
            before: None,
            after: Some(&json!({"disabled": true})),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user = ?name, "account disabled");
        Ok(())
    }

    /// Checks a sign-in. A failure counts towards the lock-out; the
    /// [`MAX_FAILED_LOGINS`]th in a row locks the account for [`LOCKOUT`].
    /// A locked account is refused without looking at the password, and a
    /// disabled one is refused even with the right password. Success resets
    /// the count.
    pub async fn verify_login(
        &self,
        name: &str,
        password: &Secret,
        now: DateTime<Utc>,
    ) -> Result<Login> {
        let sql = format!("SELECT password_hash, {USER_COLUMNS} FROM users WHERE name = $1");
        let record: Option<CredentialRecord> = on_pool!(self, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(name).fetch_optional(p).await?
        });
        let Some(record) = record else {
            verify_password(password, None).await?;
            return Ok(Login::Refused);
        };
        if let Some(until) = record.user.locked_until.filter(|&t| t > now) {
            return Ok(Login::Locked { until });
        }
        let user = record.user.into_user()?;
        if !verify_password(password, Some(record.password_hash)).await? {
            return self.count_failure(&user, now).await;
        }
        if user.disabled {
            self.audit_sign_in(name, "sign_in_failed", json!({"reason": "disabled"}))
                .await?;
            return Ok(Login::Disabled);
        }
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user.id)
                .execute(p)
                .await?;
        });
        self.audit_sign_in(name, "sign_in", json!({})).await?;
        Ok(Login::Success(User {
            failed_logins: 0,
            locked_until: None,
            ..user
        }))
    }

    /// Records a failed sign-in, locking the account on the last one allowed.
    async fn count_failure(&self, user: &User, now: DateTime<Utc>) -> Result<Login> {
        // One atomic increment, so that parallel attempts all count.
        let failures: i32 = on_pool!(self, p => {
            sqlx::query_scalar(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins",
            )
            .bind(user.id)
            .fetch_one(p)
            .await?
        });
        tracing::warn!(user = ?user.principal.name, failures, "failed sign-in");
        let name = &user.principal.name;
        self.audit_sign_in(name, "sign_in_failed", json!({"failures": failures}))
            .await?;
        if failures < MAX_FAILED_LOGINS {
            return Ok(Login::Refused);
        }
        // The count starts again after the lock, so each lock-out needs
        // another full run of failures.
        let until = now + LOCKOUT;
        on_pool!(self, p => {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $2 WHERE id = $1")
                .bind(user.id)
                .bind(until)
                .execute(p)
                .await?;
        });
        tracing::warn!(user = ?user.principal.name, %until, "account locked");
        self.audit_sign_in(name, "lock", json!({"locked_until": until}))
            .await?;
        Ok(Login::Locked { until })
    }

    /// Records a sign-in event of `name` in the audit trail.
    async fn audit_sign_in(
        &self,
        name: &str,
        action: &str,
        after: serde_json::Value,
    ) -> Result<()> {
        self.record_audit(&AuditEntry {
            actor: name,
            action,
            entity: "user",
            entity_key: name,
            before: None,
            after: Some(&after),
        })
        .await
    }

    /// Starts a session for a user; also clears out sessions that have run out.
    pub async fn create_session(&self, user_id: i64, now: DateTime<Utc>) -> Result<NewSession> {
        // Both backends compare these as times: PostgreSQL natively, SQLite
        // as RFC 3339 text in UTC, which sorts in time order. The check in
        // `session` is the one that counts; this is housekeeping.
        on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                .bind(now - SESSION_IDLE)
                .bind(now - SESSION_ABSOLUTE)
                .execute(p)
                .await?;
        });
        let id = random_secret();
        let csrf_token = random_secret();
        on_pool!(self, p => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(secret_hash(&id))
            .bind(user_id)
            .bind(&csrf_token)
            .bind(now)
            .execute(p)
            .await?;
        });
        Ok(NewSession {
            id: Secret(id),
            csrf_token: Secret(csrf_token),
        })
    }

    /// The live session with this id, marked as seen now. `None` if there
    /// is none, or it has been idle for [`SESSION_IDLE`], or is older than
    /// [`SESSION_ABSOLUTE`], or its user is disabled; such a session is deleted.
    pub async fn session(&self, id: &str, now: DateTime<Utc>) -> Result<Option<Session>> {
        let id_hash = secret_hash(id);
        let record: Option<SessionRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, \
                 u.name, u.role, u.scope, u.disabled \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            )
            .bind(&id_hash)
            .fetch_optional(p)
            .await?
        });
        let Some(r) = record else {
            return Ok(None);
        };
        if r.disabled
            || now - r.last_seen_at >= SESSION_IDLE
            || now - r.created_at >= SESSION_ABSOLUTE
        {
            self.delete_session(id).await?;
            return Ok(None);
        }
        let mut last_seen_at = r.last_seen_at;
        if now - r.last_seen_at >= TOUCH_INTERVAL {
            self.touch_session(id, now).await?;
            last_seen_at = now;
        }
        Ok(Some(Session {
            user_id: r.user_id,
            principal: Principal {
                role: key("users.role", &r.role, Role::parse)?,
                name: r.name,
                scope: r.scope,
            },
            csrf_token: Secret(r.csrf_token),
            created_at: r.created_at,
            last_seen_at,
        }))
    }

    /// Marks a session as used at `now` (restarting its idle time-out).
    pub async fn touch_session(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                .bind(secret_hash(id))
                .bind(now)
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Ends a session (signing out); no error if it is already gone.
    pub async fn delete_session(&self, id: &str) -> Result<()> {
        on_pool!(self, p => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(secret_hash(id))
                .execute(p)
                .await?;
        });
        Ok(())
    }

    /// Creates an API token for a user, valid for `expires_in_days` days
    /// (1 to [`MAX_TOKEN_DAYS`]) or until revoked. The token is in the
    /// answer and nowhere else: only its hash is stored.
    pub async fn create_token(
        &self,
        user_name: &str,
        label: &str,
        expires_in_days: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<NewToken> {
        let user = self
            .user(user_name)
            .await?
            .ok_or_else(|| user_not_found(user_name))?;
        let expires_at = match expires_in_days {
            None => None,
            Some(days @ 1..=MAX_TOKEN_DAYS) => Some(now + Duration::days(i64::from(days))),
            Some(days) => {
                return Err(StoreError::Rule(DomainError::new(
                    "invalid_expiry",
                    format!("有效期 {days} 天无效：应为 1–{MAX_TOKEN_DAYS} 天"),
                    format!("an expiry of {days} days is invalid: use 1 to {MAX_TOKEN_DAYS} days"),
                )));
            }
        };
        let token = format!("{TOKEN_PREFIX}{}", random_secret());
        let mut tx = self.begin().await?;
        let id: i64 = on_tx!(tx, t, Db => {
            sqlx::query_scalar(
                "INSERT INTO api_tokens (token_hash, user_id, label, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(secret_hash(&token))
            .bind(user.id)
            .bind(label)
            .bind(now)
            .bind(expires_at)
            .fetch_one(&mut **t)
            .await?
        });
        let after = json!({"user": user_name, "label": label, "expires_at": expires_at});
        tx.append_audit(&AuditEntry {
            actor: "system",
            action: "create",
            entity: "api_token",
            entity_key: &id.to_string(),
            before: None,
            after: Some(&after),
        })
        .await?;
        tx.commit().await?;
        tracing::info!(user = ?user_name, token_id = id, "API token created");
        Ok(NewToken {
            id,
            token: Secret(token),
            expires_at,
        })
    }

    /// A user's API tokens, newest first, without their secrets.
    pub async fn tokens(&self, user_name: &str) -> Result<Vec<TokenInfo>> {
        if self.user(user_name).await?.is_none() {
            return Err(user_not_found(user_name));
        }
        let rows: Vec<TokenInfo> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT t.id, u.name AS user_name, t.label, t.created_at, t.expires_at, t.revoked_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.name = $1 ORDER BY t.id DESC",
            )
            .bind(user_name)
            .fetch_all(p)
            .await?
        });
        Ok(rows)
    }

    /// Revokes an API token by id; revoking it again changes nothing.
    pub async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin().await?;
        let found: Option<i64> = on_tx!(tx, t, Db => {
            sqlx::query_scalar(
                "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING id",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut **t)
            .await?
        });
        if found.is_some() {
            tx.append_audit(&AuditEntry {
                actor: "system",
                action: "revoke",
                entity: "api_token",
                entity_key: &id.to_string(),
                before: None,
                after: Some(&json!({"revoked_at": now})),
            })
            .await?;
            tx.commit().await?;
        }
        if found.is_none() {
            return Err(StoreError::Rule(DomainError::new(
                "token_not_found",
                format!("令牌 {id} 不存在"),
                format!("token {id} does not exist"),
            )));
        }
        tracing::info!(token_id = id, "API token revoked");
        Ok(())
    }

    /// Whom an API token signs in: `None` if it is unknown, revoked,
    /// expired, or its user is disabled.
    pub async fn token_principal(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Principal>> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let record: Option<TokenRecord> = on_pool!(self, p => {
            sqlx::query_as(
                "SELECT t.expires_at, t.revoked_at, u.name, u.role, u.scope, u.disabled \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            )
            .bind(secret_hash(token))
            .fetch_optional(p)
            .await?
        });
        let Some(r) = record else {
            return Ok(None);
        };
        if r.disabled || r.revoked_at.is_some() || r.expires_at.is_some_and(|t| t <= now) {
            return Ok(None);
        }
        Ok(Some(Principal {
            role: key("users.role", &r.role, Role::parse)?,
            name: r.name,
            scope: r.scope,
        }))
    }

    /// Creates the [`demo_accounts`] that do not exist yet, all with
    /// [`DEMO_PASSWORD`]. Returns every demo account and whether it was
    /// created now.
    pub async fn ensure_demo_accounts(&self) -> Result<Vec<(Principal, bool)>> {
        let password = Secret::new(DEMO_PASSWORD);
        let mut out = Vec::new();
        for principal in demo_accounts() {
            let created = if self.user(&principal.name).await?.is_none() {
                self.create_user(&principal, &password).await?;
                true
            } else {
                false
            };
            out.push((principal, created));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        let code = |p: &str| check_password_policy(p, "sh-officer").err().map(|e| e.code);
        assert_eq!(code("Short1!"), Some("weak_password"), "too short");
        assert_eq!(code("alllowercase12"), Some("weak_password"), "two classes");
        assert_eq!(code("ALLUPPER-CASE"), Some("weak_password"), "two classes");
        assert_eq!(code("lower-and-123"), None, "lower, digit, other");
        assert_eq!(code("Lower and Upper"), None, "lower, upper, other");
        assert_eq!(code("Abcdefghi1"), None, "exactly ten, three classes");
        assert_eq!(code("Abcdefgh1"), Some("weak_password"), "nine characters");
        assert_eq!(code("援疆通援疆通援疆Ab1"), None, "Chinese counts as other");
        assert_eq!(
            code("my-SH-Officer-1"),
            Some("weak_password"),
            "contains the name"
        );
        assert_eq!(code(&"Aa1-".repeat(65)), Some("weak_password"), "too long");
        assert!(check_password_policy(DEMO_PASSWORD, "admin").is_ok());
        let e = check_password_policy("short", "x")
            .err()
            .map(|e| (e.zh, e.en));
        let (zh, en) = e.unwrap_or_default();
        assert!(zh.contains("至少 10 个字符"), "{zh}");
        assert!(en.contains("at least 10 characters"), "{en}");
    }

    #[test]
    fn user_names() {
        for ok in ["admin", "sh-officer", "li.ming@31", "a1"] {
            assert!(validate_user_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "-lead",
            "<script>",
            "张三",
            "with space",
            &"x".repeat(65),
        ] {
            assert_eq!(
                validate_user_name(bad).err().map(|e| e.code),
                Some("invalid_user_name"),
                "{bad}"
            );
        }
    }

    #[test]
    fn secrets_do_not_show_and_compare_exactly() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        let session = NewSession {
            id: s.clone(),
            csrf_token: Secret::new("csrf-value"),
        };
        let shown = format!("{session:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("csrf-value"),
            "{shown}"
        );
        assert!(s.matches("hunter2-hunter2"));
        assert!(!s.matches("hunter2-hunter3"));
        assert!(!s.matches("hunter2"));
    }

    #[test]
    fn random_secrets_and_hashes() {
        let a = random_secret();
        let b = random_secret();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        // GB/T 32905-2016 example 1: SM3("abc").
        assert_eq!(
            secret_hash("abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }
}
