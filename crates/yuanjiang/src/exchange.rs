//! `yuanjiang import`, `template` and `export`: parse the options, show
//! progress, print the report, and hand over to `yuanjiang_exchange`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use yuanjiang_domain::Viewer;
use yuanjiang_exchange::{
    ExportFormat, ExportOptions, ImportOptions, Kind, Limits, PeopleExport, PersonalDataExport,
    Progress, import, parse_assignment_filter, parse_filter, template, write_error_workbook,
};
use yuanjiang_store::{Scope, Store};

/// Options of `yuanjiang import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: crate::DbArg,
    /// The file: xlsx, xls, ods or CSV (UTF-8, UTF-8 with BOM, GBK or GB18030).
    file: PathBuf,
    /// What the file holds; `all` imports every recognised sheet of a
    /// workbook in one go (projects first, so transactions may refer to them).
    /// Assignments are keyed by supporter, batch and ID number; their ID
    /// numbers and phones are stored encrypted and reported masked.
    #[arg(long, value_parser = ["projects", "transactions", "indicators", "assignments", "all"])]
    kind: String,
    /// Check everything and report, but write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import as this user: their scope applies to every row, and the
    /// history and audit trail name them. Without it the import runs as `cli`.
    #[arg(long = "as", value_name = "USER")]
    as_user: Option<String>,
    /// Also write the error report as an xlsx with the bad cells marked.
    #[arg(long, value_name = "FILE")]
    errors_xlsx: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Largest file accepted, in MB.
    #[arg(long, default_value_t = 256)]
    max_mb: u64,
    /// Most data rows accepted.
    #[arg(long, default_value_t = 2_000_000)]
    max_rows: u64,
}

/// Options of `yuanjiang template`.
#[derive(clap::Args)]
pub struct TemplateArgs {
    /// Which template.
    #[arg(long, value_parser = ["projects", "transactions", "indicators", "assignments"])]
    kind: String,
    /// Where to write it (.xlsx).
    #[arg(short, long)]
    output: PathBuf,
}

/// Options of `yuanjiang export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    db: crate::DbArg,
    /// Which list.
    #[arg(long, value_parser = ["projects", "transactions", "indicators", "pairings", "assignments"],
          required_unless_present = "open_data")]
    what: Option<String>,
    /// Assignments: ID numbers and phones `masked` (the default) or `full`.
    /// `full` (needed to import the file back) requires `--as` a user who may
    /// see personal data: the region, or the sending front command.
    #[arg(long, value_parser = ["masked", "full"], default_value = "masked", value_name = "HOW")]
    personal_data: String,
    /// File format; by default taken from the output file's extension.
    #[arg(long, value_parser = ["csv", "xlsx", "json"])]
    format: Option<String>,
    /// A filter as in the API, e.g. `supporter=31`, `year=2024`, `xpcc=false`
    /// (repeatable); assignments take `supporter`, `recipient` and `batch`.
    #[arg(long = "filter", value_name = "NAME=VALUE")]
    filters: Vec<String>,
    /// Where to write the file.
    #[arg(short, long, required_unless_present = "open_data")]
    output: Option<PathBuf>,
    /// English headers and vocabulary keys instead of Chinese.
    #[arg(long)]
    english: bool,
    /// Export only what this user may see.
    #[arg(long = "as", value_name = "USER")]
    as_user: Option<String>,
    /// Write the open-data package (published records only, no personal
    /// data, with datapackage.json) into this directory instead.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["what", "format", "output", "filters", "as_user"])]
    open_data: Option<PathBuf>,
}

/// Looks the user up and returns who they are to the rules.
async fn viewer(store: &Store, name: &str) -> anyhow::Result<Viewer> {
    let Some(user) = store.user(name).await? else {
        bail!("no user named {name:?} / 用户“{name}”不存在");
    };
    if user.disabled {
        bail!("user {name:?} is disabled / 用户“{name}”已停用");
    }
    Ok(Viewer::User(user.principal))
}

/// A rule's refusal as the command line prints it: both languages and the code.
fn bilingual(e: yuanjiang_domain::DomainError) -> anyhow::Error {
    anyhow::anyhow!("{} / {} [{}]", e.zh, e.en, e.code)
}

/// An export's failure, a refusal by the rules printed in both languages.
fn export_error(e: yuanjiang_exchange::ExchangeError) -> anyhow::Error {
    match e {
        yuanjiang_exchange::ExchangeError::Invalid(d) => bilingual(d),
        other => other.into(),
    }
}

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// Runs `yuanjiang import`.
pub async fn run_import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        max_bytes: args.max_mb.saturating_mul(1024 * 1024),
        max_rows: args.max_rows,
        ..Limits::default()
    };
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    // Refused before it is read into memory.
    if let Err(issue) = limits.check_size(size) {
        println!("{issue}");
        return Ok(ExitCode::FAILURE);
    }
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    // Shared, not copied, with the thread that reads a large import.
    let bytes = yuanjiang_exchange::Bytes::from(bytes);
    let store = crate::open_for_import(&args.db).await?;
    let (viewer, actor) = match &args.as_user {
        Some(name) => (Some(viewer(&store, name).await?), name.clone()),
        None => (None, "cli".to_owned()),
    };
    let kinds = if args.kind == "all" {
        Kind::IMPORTABLE.to_vec()
    } else {
        vec![Kind::parse(&args.kind)?]
    };
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options = ImportOptions {
        kinds,
        dry_run: args.dry_run,
        viewer,
        actor,
        file_name,
        limits,
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(bar_style("{spinner} {msg} {pos} rows {elapsed_precise}"));
    bar.set_message("reading / 读取");
    let started = std::time::Instant::now();
    // When checking and writing began: the phases' times go with the result.
    let (mut checking, mut writing) = (None, None);
    let report = import(&store, bytes.clone(), &options, &mut |p| match p {
        Progress::Reading { rows } => bar.set_position(rows),
        Progress::Checking => {
            checking = Some(started.elapsed());
            bar.set_message("checking / 校验");
        }
        Progress::Writing { done, total } => {
            writing.get_or_insert_with(|| started.elapsed());
            if bar.length() != Some(total) {
                bar.set_style(bar_style(
                    "{spinner} writing / 写入 {pos}/{len} [{bar:40}] {percent}% {elapsed_precise}",
                ));
                bar.set_length(total);
            }
            bar.set_position(done);
        }
    })
    .await?;
    bar.finish_and_clear();
    store.close().await;
    let elapsed = started.elapsed().as_secs_f64();
    let phases = phase_times(checking, writing, elapsed);

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for issue in &report.issues {
            println!("{issue}");
        }
        if report.suppressed > 0 {
            println!(
                "……另有 {0} 个问题未列出 / … and {0} more problems not listed",
                report.suppressed
            );
        }
        println!(
            "file / 文件: {} ({} bytes, {}, SM3 {})",
            report.file_name,
            report.file_bytes,
            report.format.as_deref().unwrap_or("?"),
            report.file_sm3
        );
        for s in &report.sheets {
            println!("sheet / 工作表 {:?}: {} ({} rows)", s.name, s.kind, s.rows);
        }
        for (kind, c) in &report.counts {
            println!(
                "{kind}: inserted / 新增 {}, updated / 更新 {}, unchanged / 未变 {}",
                c.inserted, c.updated, c.unchanged
            );
        }
    }
    if !report.is_ok() {
        if let Some(path) = &args.errors_xlsx {
            write_error_workbook(&bytes, &report, &options.limits, path)?;
            eprintln!(
                "error report written to {} / 错误报告已写入",
                path.display()
            );
        }
        eprintln!(
            "{} problem(s) found; nothing was written / 发现 {} 个问题，未写入任何数据",
            report.issues.len() as u64 + report.suppressed,
            report.issues.len() as u64 + report.suppressed
        );
        return Ok(ExitCode::FAILURE);
    }
    let rows: u64 = report.sheets.iter().map(|s| s.rows).sum();
    if report.dry_run {
        eprintln!("dry run: the file is valid; nothing was written / 试运行：文件无误，未写入数据");
    } else {
        eprintln!(
            "imported {rows} rows in {elapsed:.1} s ({:.0} rows/s; {phases}); history #{} / 导入完成",
            rows as f64 / elapsed.max(1e-9),
            report.import_id.unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// "read 1.2 s, check 0.4 s, write 2.0 s": where an import's time went.
fn phase_times(
    checking: Option<std::time::Duration>,
    writing: Option<std::time::Duration>,
    total: f64,
) -> String {
    let check = checking.map_or(total, |d| d.as_secs_f64());
    let write = writing.map_or(total, |d| d.as_secs_f64()).max(check);
    format!(
        "read {check:.1} s, check {:.1} s, write {:.1} s",
        write - check,
        total - write
    )
}

/// Runs `yuanjiang template`.
pub fn run_template(args: &TemplateArgs) -> anyhow::Result<ExitCode> {
    let mut wb = template(Kind::parse(&args.kind)?)?;
    wb.save(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("template written to {} / 模板已写入", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs `yuanjiang export`.
pub async fn run_export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = crate::open(&args.db).await?;
    let started = std::time::Instant::now();
    if let Some(dir) = &args.open_data {
        let bar = ProgressBar::new_spinner();
        bar.set_style(bar_style("{spinner} {msg} {pos} rows {elapsed_precise}"));
        let summary = yuanjiang_exchange::open_data(&store, dir, &mut |file, rows| {
            bar.set_message(file.to_owned());
            bar.set_position(rows);
        })
        .await?;
        bar.finish_and_clear();
        store.close().await;
        for (file, rows) in &summary.files {
            println!("{file}: {rows}");
        }
        eprintln!(
            "open-data package written to {} in {:.1} s / 公开数据包已写入",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(what), Some(output)) = (&args.what, &args.output) else {
        bail!("--what and --output are required");
    };
    let what = Kind::parse(what)?;
    let format = match &args.format {
        Some(f) => ExportFormat::parse(f)?,
        None => ExportFormat::parse(
            output
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .as_deref()
                .unwrap_or("csv"),
        )?,
    };
    let personal_data = PersonalDataExport::parse(&args.personal_data).map_err(bilingual)?;
    if personal_data == PersonalDataExport::Full && what != Kind::Assignments {
        bail!(
            "--personal-data applies to --what assignments only / --personal-data 只适用于 --what assignments"
        );
    }
    let (mut filter, mut people) = if what == Kind::Assignments {
        let people = PeopleExport {
            filter: parse_assignment_filter(&args.filters).map_err(bilingual)?,
            personal_data,
            viewer: None,
        };
        (yuanjiang_store::ProjectFilter::default(), people)
    } else {
        (
            parse_filter(what, &args.filters).map_err(bilingual)?,
            PeopleExport::default(),
        )
    };
    if let Some(name) = &args.as_user {
        let viewer = viewer(&store, name).await?;
        filter.published_only = viewer == Viewer::Public;
        filter.scope = Scope::of(&viewer);
        people.viewer = Some(viewer);
    }
    let options = ExportOptions {
        what,
        format,
        filter,
        english: args.english,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(bar_style(
        "{spinner} export {pos}/{len} [{bar:40}] {percent}% {elapsed_precise} eta {eta}",
    ));
    let mut on_page = |done: u64, total: u64| {
        bar.set_length(total.max(done));
        bar.set_position(done);
    };
    let rows = if what == Kind::Assignments {
        yuanjiang_exchange::export_assignments(&store, &options, &people, output, &mut on_page)
            .await
            .map_err(export_error)?
    } else {
        yuanjiang_exchange::export(&store, &options, output, &mut on_page)
            .await
            .map_err(export_error)?
    };
    bar.finish_and_clear();
    store.close().await;
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "exported {rows} rows to {} in {elapsed:.1} s ({:.0} rows/s) / 导出完成",
        output.display(),
        rows as f64 / elapsed.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
