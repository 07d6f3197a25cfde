//! `yuanjiang`: the command line of 援疆通. It parses arguments, opens the
//! store and hands over to the library crates; no domain logic lives here.

#![forbid(unsafe_code)]

mod audit;
mod demo;
mod evaluate;
mod exchange;
mod report;
mod users;

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

// glibc's allocator spent a third of an import's time on its free lists
// (perf: _int_malloc, malloc_consolidate, unlink_chunk); mimalloc keeps
// per-thread pages for the many short strings of rows and answers. Its
// `override` feature makes it C's `malloc` too, for SQLite: sqlx binds each
// text value as a copy, one `malloc` and one `free` inside SQLite.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};
use yuanjiang_store::{DEFAULT_DATABASE_URL, DbSettings, Store};

/// 援疆通 Yuanjiang: the platform for paired assistance to Xinjiang.
#[derive(Parser)]
#[command(name = "yuanjiang", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct DbArg {
    /// Database URL: sqlite://PATH (embedded, the default), a plain file path (SQLite) or postgres://USER@HOST/DB.
    #[arg(long, env = "YUANJIANG_DB", default_value = DEFAULT_DATABASE_URL)]
    db: String,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application and the API.
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on.
        #[arg(long, env = "YUANJIANG_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the `small` demo data first if the database holds no
        /// projects, and create the demo accounts (printed at start).
        #[arg(long)]
        demo: bool,
        /// Always mark cookies Secure (otherwise only when X-Forwarded-Proto is https).
        #[arg(long, env = "YUANJIANG_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Behind a proxy: take the client address from X-Forwarded-For for
        /// the login rate limit.
        #[arg(long, env = "YUANJIANG_TRUST_PROXY")]
        trust_proxy: bool,
        /// Directory of attachment files (default: beside the SQLite file,
        /// or ./attachments under the data directory for PostgreSQL).
        #[arg(long, env = "YUANJIANG_ATTACHMENTS_DIR")]
        attachments_dir: Option<std::path::PathBuf>,
    },
    /// Apply database migrations and load reference data, then exit.
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Generate deterministic demo data into the database.
    Demo {
        #[command(flatten)]
        db: DbArg,
        /// How much data: small (a few hundred projects), xinjiang (~40,000
        /// projects, ~1M transactions) or national (ten times xinjiang).
        #[arg(long, default_value = "small", value_parser = ["small", "xinjiang", "national"])]
        scale: String,
        /// Seed; the same seed always gives the same data.
        #[arg(long, default_value_t = 2010)]
        seed: u64,
        /// Last day of the generated history (YYYY-MM-DD); defaults to today.
        /// Fix it to get byte-identical data on different days.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Write an online, consistent backup of the SQLite database to FILE.
    Backup {
        #[command(flatten)]
        db: DbArg,
        /// The backup file to create.
        file: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup (stop the server first).
    Restore {
        #[command(flatten)]
        db: DbArg,
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// Build the monthly bulletin (月报) or annual report (年报) as xlsx or HTML.
    Report(report::ReportArgs),
    /// Evaluate comprehensive benefit (综合效益评价) of units in a CSV or in the database.
    Evaluate(evaluate::EvaluateArgs),
    /// Verify or list the audit trail (审计日志).
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Import projects, transactions, indicators or assignments from xlsx, xls, ods or CSV (all or nothing).
    Import(exchange::ImportArgs),
    /// Write an xlsx import template with drop-down lists and instructions.
    Template(exchange::TemplateArgs),
    /// Export a list as CSV, xlsx or JSON, or the open-data package.
    Export(exchange::ExportArgs),
    /// Manage accounts: add, list, disable.
    User {
        #[command(subcommand)]
        command: users::UserCommand,
    },
    /// Manage API tokens: create, list, revoke.
    Token {
        #[command(subcommand)]
        command: users::TokenCommand,
    },
    /// Check integrity and data quality; exits non-zero if a rule is broken.
    Check {
        #[command(flatten)]
        db: DbArg,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

async fn open(db: &DbArg) -> anyhow::Result<Store> {
    let settings = DbSettings::from_url(&db.db)?;
    tracing::info!(db = %settings.redacted(), "opening database");
    Store::open(&settings)
        .await
        .with_context(|| format!("cannot open database {}", settings.redacted()))
}

/// Opens the database for `yuanjiang import`: as its only user when no
/// other process has it open (a SQLite file then takes the load through a
/// rollback journal, see [`DbSettings::for_bulk_load`]), else as usual.
async fn open_for_import(db: &DbArg) -> anyhow::Result<Store> {
    let settings = DbSettings::from_url(&db.db)?;
    match Store::open(&settings.clone().for_bulk_load()).await {
        Err(yuanjiang_store::StoreError::InUse) => {
            tracing::info!(db = %settings.redacted(), "database open elsewhere: importing through the WAL");
            open(db).await
        }
        opened => opened.with_context(|| format!("cannot open database {}", settings.redacted())),
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("YUANJIANG_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    if std::env::var("YUANJIANG_LOG_FORMAT").as_deref() == Ok("json") {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            db,
            listen,
            demo,
            secure_cookies,
            trust_proxy,
            attachments_dir,
        } => {
            let mut store = open(&db).await?;
            if let Some(dir) = attachments_dir {
                store = store.with_attachment_dir(dir);
            }
            tracing::info!(dir = %store.attachment_dir().display(), "attachment files");
            if demo {
                demo::load_if_empty(&store).await?;
                users::demo_accounts(&store).await?;
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            tracing::info!(%listen, "serving; open http://{listen}/");
            eprintln!("援疆通 Yuanjiang is serving at http://{listen}/");
            let state = yuanjiang_server::AppState::new(store.clone());
            // The search index builds in the background; until it is ready
            // the registry says so instead of searching.
            let (search, index_store) = (state.search.clone(), store.clone());
            tokio::spawn(async move {
                if let Err(e) = search.rebuild(&index_store).await {
                    tracing::error!(error = %e, "search index not built");
                }
            });
            let auth = yuanjiang_server::auth::AuthConfig {
                secure_cookies,
                trust_forwarded_for: trust_proxy,
                ..Default::default()
            };
            let app = yuanjiang_server::app_with(state, auth);
            // Header, body and connection limits; the peer address it
            // attaches feeds the login rate limit.
            yuanjiang_server::listen::serve(listener, app, shutdown_signal()).await?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            let store = open(&db).await?;
            store.close().await;
            eprintln!("migrations applied; reference data loaded");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            db,
            scale,
            seed,
            as_of,
        } => {
            let store = open(&db).await?;
            let started = std::time::Instant::now();
            demo::generate(
                &store,
                &scale,
                seed,
                as_of.unwrap_or_else(demo::today),
                true,
            )
            .await?;
            eprintln!(
                "demo data ({scale}, seed {seed}) written in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { db, file } => {
            let store = open(&db).await?;
            store.backup_to(&file).await?;
            store.close().await;
            eprintln!("backup written to {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { db, file } => {
            let settings = DbSettings::from_url(&db.db)?;
            yuanjiang_store::restore_sqlite(&settings, &file).await?;
            eprintln!("restored {} from {}", settings.redacted(), file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            report::run(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Evaluate(args) => Ok(if evaluate::run(&args).await? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Command::Audit { command } => audit::run(command).await,
        Command::Import(args) => exchange::run_import(args).await,
        Command::Template(args) => exchange::run_template(&args),
        Command::Export(args) => exchange::run_export(args).await,
        Command::User { command } => {
            users::user(command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => {
            users::token(command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { db, json } => {
            let store = open(&db).await?;
            let report = store.check().await?;
            store.close().await;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "projects: {}\ntransactions: {}\ntotal amount (fen): {}\nintegrity: {}\nfund-chain breaks: {}\nstate mismatches: {}\nroll-up mismatches: {}",
                    report.projects,
                    report.transactions,
                    report.total_amount,
                    report.integrity,
                    report.chain_breaks.len(),
                    report.state_mismatches.len(),
                    report.rollup_mismatches
                );
                for b in report.chain_breaks.iter().take(50) {
                    println!("  {}: {} / {}", b.project_code, b.zh, b.en);
                }
                for code in report.state_mismatches.iter().take(50) {
                    println!("  {code}: state does not match its history / 状态与历史记录不符");
                }
            }
            Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining requests in flight");
}
