//! `yuanjiang audit`: verify the hash chain of the audit trail, or list its
//! entries. `verify` exits 0 when the chain is intact and 1 naming the first
//! bad entry, so it can run from cron or a monitoring check.

use std::process::ExitCode;

use clap::Subcommand;
use yuanjiang_store::{AuditFilter, AuditVerdict};

use crate::{DbArg, open};

/// What to do with the audit trail.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check every entry's SM3 hash and link; exit 1 naming the first bad entry.
    Verify {
        #[command(flatten)]
        db: DbArg,
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List entries in chain order, one JSON object per line.
    List {
        #[command(flatten)]
        db: DbArg,
        /// Only entries about this kind of record, e.g. `project`.
        #[arg(long)]
        entity: Option<String>,
        /// Only entries about this record key (with --entity).
        #[arg(long)]
        key: Option<String>,
        /// Only entries by this user.
        #[arg(long)]
        actor: Option<String>,
        /// Start after this entry id.
        #[arg(long)]
        after: Option<i64>,
        /// How many entries (at most 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
}

/// Runs an audit command.
pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { db, json } => {
            let store = open(&db).await?;
            let verdict = store.verify_audit().await;
            store.close().await;
            let verdict = verdict?;
            if json {
                println!("{}", serde_json::to_string_pretty(&verdict)?);
            }
            Ok(match verdict {
                AuditVerdict::Intact { entries, head } => {
                    if !json {
                        println!("审计日志完整：{entries} 条记录，末条哈希 {head}");
                        println!("audit trail intact: {entries} entries, head hash {head}");
                    }
                    ExitCode::SUCCESS
                }
                AuditVerdict::Broken(b) => {
                    if !json {
                        println!("审计日志被篡改：{}", b.zh());
                        println!("audit trail tampered with: {}", b.en());
                        println!("first bad entry: {} ({})", b.id, b.code());
                    }
                    ExitCode::FAILURE
                }
            })
        }
        AuditCommand::List {
            db,
            entity,
            key,
            actor,
            after,
            limit,
        } => {
            let store = open(&db).await?;
            let filter = AuditFilter {
                entity,
                entity_key: key,
                actor,
            };
            let page = store.audit_entries(&filter, after, limit).await;
            store.close().await;
            for entry in page?.items {
                println!("{}", serde_json::to_string(&entry)?);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
