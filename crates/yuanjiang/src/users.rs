//! `yuanjiang user …` and `yuanjiang token …`: accounts and API tokens from
//! the server's command line, plus the demo accounts of `serve --demo`.
//! Passwords come from standard input, never from arguments, which other
//! users of the machine can read in the process list.

use std::io::BufRead;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use yuanjiang_domain::{Principal, Role};
use yuanjiang_store::{DEMO_PASSWORD, Secret, Store, StoreError};

use crate::{DbArg, open};

/// `yuanjiang user …`.
#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        /// User name: 2–64 ASCII letters, digits or . _ - @.
        name: String,
        /// Role: admin, region, prefecture, supporter or auditor.
        #[arg(long)]
        role: String,
        /// Scope: a supporter code for `supporter` (e.g. 31), a recipient
        /// code for `prefecture` (e.g. 6531); none for the other roles.
        #[arg(long)]
        scope: Option<String>,
        /// Read the password from the first line of standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the accounts.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable an account: it can no longer sign in, and its sessions and tokens stop working.
    Disable {
        /// User name.
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
}

/// `yuanjiang token …`.
#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; it is printed once and stored only as a hash.
    Create {
        /// The user the token acts as.
        #[arg(long)]
        user: String,
        /// Days until it expires (1–3650); without it, valid until revoked.
        #[arg(long)]
        expires: Option<u32>,
        /// What it is for, e.g. the system that uses it.
        #[arg(long, default_value = "")]
        label: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// List a user's tokens (without the secrets).
    List {
        /// User name.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        db: DbArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (see `token list`).
    Revoke {
        /// Token id.
        #[arg(long)]
        id: i64,
        #[command(flatten)]
        db: DbArg,
    },
}

/// A store error for the terminal: a broken rule in both languages.
fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Rule(rule) => anyhow!("{} / {} [{}]", rule.zh, rule.en, rule.code),
        other => anyhow::Error::new(other),
    }
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> anyhow::Result<Secret> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!("no password on standard input / 标准输入中没有密码");
    }
    Ok(Secret::new(password))
}

fn time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// Runs `yuanjiang user …`.
pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            scope,
            password_stdin: _,
            db,
        } => {
            let role = Role::parse(&role).map_err(|e| anyhow!("{} / {}", e.zh, e.en))?;
            let password = password_from_stdin()?;
            let store = open(&db).await?;
            let principal = Principal { name, role, scope };
            let created = store.create_user(&principal, &password).await;
            store.close().await;
            let user = created.map_err(explain)?;
            eprintln!(
                "account {} created ({}{}) / 已创建账号 {}",
                user.principal.name,
                user.principal.role,
                user.principal
                    .scope
                    .as_deref()
                    .map_or_else(String::new, |s| format!(", scope {s}")),
                user.principal.name
            );
        }
        UserCommand::List { db, json } => {
            let store = open(&db).await?;
            let users = store.users().await;
            store.close().await;
            let users = users.map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
                return Ok(());
            }
            println!(
                "{:<24} {:<11} {:<8} {:<28} created",
                "name", "role", "scope", "state"
            );
            let now = Utc::now();
            for u in users {
                let state = match u.locked_until {
                    _ if u.disabled => "disabled".to_owned(),
                    Some(until) if until > now => format!("locked until {}", time(Some(until))),
                    _ => "active".to_owned(),
                };
                println!(
                    "{:<24} {:<11} {:<8} {:<28} {}",
                    u.principal.name,
                    u.principal.role.key(),
                    u.principal.scope.as_deref().unwrap_or("-"),
                    state,
                    time(Some(u.created_at))
                );
            }
        }
        UserCommand::Disable { name, db } => {
            let store = open(&db).await?;
            let done = store.disable_user(&name).await;
            store.close().await;
            done.map_err(explain)?;
            eprintln!("account {name} disabled / 已停用账号 {name}");
        }
    }
    Ok(())
}

/// Runs `yuanjiang token …`.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            user,
            expires,
            label,
            db,
        } => {
            let store = open(&db).await?;
            let created = store.create_token(&user, &label, expires, Utc::now()).await;
            store.close().await;
            let token = created.map_err(explain)?;
            // The token alone on standard output, so that scripts can take it.
            println!("{}", token.token.expose());
            eprintln!(
                "token {} for {user}, expires {}. It is shown only now: store it safely. \
                 / 令牌仅显示这一次，请妥善保存。",
                token.id,
                time(token.expires_at)
            );
        }
        TokenCommand::List { user, db, json } => {
            let store = open(&db).await?;
            let tokens = store.tokens(&user).await;
            store.close().await;
            let tokens = tokens.map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
                return Ok(());
            }
            println!(
                "{:>5} {:<20} {:<20} {:<20} {:<20}",
                "id", "created", "expires", "revoked", "label"
            );
            for t in tokens {
                println!(
                    "{:>5} {:<20} {:<20} {:<20} {}",
                    t.id,
                    time(Some(t.created_at)),
                    time(t.expires_at),
                    time(t.revoked_at),
                    t.label
                );
            }
        }
        TokenCommand::Revoke { id, db } => {
            let store = open(&db).await?;
            let done = store.revoke_token(id, Utc::now()).await;
            store.close().await;
            done.map_err(explain)?;
            eprintln!("token {id} revoked / 令牌 {id} 已吊销");
        }
    }
    Ok(())
}

/// Creates the demo accounts that are missing and prints them all, with
/// the shared demo password, for `serve --demo`.
pub async fn demo_accounts(store: &Store) -> anyhow::Result<()> {
    let accounts = store.ensure_demo_accounts().await.map_err(explain)?;
    eprintln!("demo accounts / 演示账号 (password / 密码: {DEMO_PASSWORD}):");
    for (p, created) in accounts {
        eprintln!(
            "  {:<16} {:<11} {:<6}{}",
            p.name,
            p.role.key(),
            p.scope.as_deref().unwrap_or(""),
            if created { "  (new)" } else { "" }
        );
    }
    Ok(())
}
