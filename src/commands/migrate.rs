//! `dbdoctor migrate status|validate|apply|revert|plan`.

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use anyhow::Context;
use sqlx::Connection;

use crate::cli::{
    Format, MigrateApplyArgs, MigrateCommand, MigratePlanArgs, MigrateRevertArgs,
    MigrateStatusArgs, MigrateValidateArgs,
};
use crate::db::{ConnectSettings, SessionMode};
use crate::error::Error;
use crate::migrate::apply::{self, Options, Report};
use crate::migrate::lint::{self, Diagnostic, Severity};
use crate::migrate::source::{self, Source};
use crate::migrate::split;
use crate::migrate::sqlx_config::MigrateConfig;
use crate::migrate::status::Status;
use crate::migrate::tracking::{self, State, TrackingTable};
use crate::render::{migrate_plan, migrate_run, migrate_status, migrate_validate};
use crate::settings::Ctx;
use crate::util::parse_duration;

/// Run one `migrate` subcommand; `cfg` is sqlx.toml's `[migrate]` (defaults when absent).
pub async fn run(
    ctx: &Ctx,
    command: MigrateCommand,
    cfg: &MigrateConfig,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    match command {
        MigrateCommand::Status(a) => status(ctx, &a, cfg, out).await,
        MigrateCommand::Apply(a) => apply_cmd(ctx, &a, cfg, out).await,
        MigrateCommand::Revert(a) => revert_cmd(ctx, &a, cfg, out).await,
        MigrateCommand::Validate(a) => validate(ctx, &a, cfg, out).await,
        MigrateCommand::Plan(a) => plan(ctx, &a, out).await,
    }
}

// ---------------------------------------------------------------- status

async fn read_only_state(
    settings: &ConnectSettings,
    table: &TrackingTable,
) -> Result<State, Error> {
    let db = crate::db::connect(settings, SessionMode::ReadOnly).await?;
    let mut conn = db.pool.acquire().await.context("acquire a connection")?;
    let st = tracking::read_state(&mut conn, table).await?;
    drop(conn);
    db.pool.close().await;
    Ok(st)
}

async fn status(
    ctx: &Ctx,
    a: &MigrateStatusArgs,
    cfg: &MigrateConfig,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    trackable(&a.source, "status", &cfg.tracking)?;
    let source = source::load(&a.source.source)?;
    let state = read_only_state(&ctx.connect_settings()?, &cfg.tracking).await?;
    let report = Status::new(&source, &state);
    match ctx.format {
        Format::Json => migrate_status::json(&report, out),
        _ => migrate_status::table(&report, out),
    }
    .context("write")?;
    Ok(0)
}

// ---------------------------------------------------------------- apply / revert

/// Run an apply/revert future; on Ctrl-C, end our own backend so the server rolls back and
/// releases the advisory lock, then exit 130.
async fn with_interrupt<F>(
    settings: &ConnectSettings,
    pid: Arc<AtomicI32>,
    fut: F,
) -> Result<Option<Report>, Error>
where
    F: std::future::Future<Output = Result<Report, Error>>,
{
    tokio::select! {
        r = fut => r.map(Some),
        _ = tokio::signal::ctrl_c() => {
            let p = pid.load(Ordering::SeqCst);
            if p != 0 {
                if let Ok(mut c) = sqlx::PgConnection::connect_with(&settings.options).await {
                    let _ = sqlx::query("/* dbdoctor */ SELECT /* dbdoctor */ pg_terminate_backend($1)").bind(p).execute(&mut c).await;
                    let _ = c.close().await;
                }
            }
            eprintln!("interrupted: the running migration was rolled back and the migration lock released");
            Ok(None)
        }
    }
}

fn options_from(
    ctx: &Ctx,
    cfg: &MigrateConfig,
    dry_run: bool,
    lock_timeout: &str,
    lock_wait: &str,
) -> Result<Options, Error> {
    Ok(Options {
        target: None,
        lock_timeout: parse_duration("--lock-timeout", lock_timeout)?,
        lock_wait: parse_duration("--lock-wait", lock_wait)?,
        lock_retries: 3,
        backup_dir: "backups".into(),
        no_backup: false,
        dry_run,
        mark_applied: None,
        quiet: ctx.quiet,
        tracking: cfg.tracking.clone(),
        create_schemas: cfg.schemas_to_create.clone(),
    })
}

async fn apply_cmd(
    ctx: &Ctx,
    a: &MigrateApplyArgs,
    cfg: &MigrateConfig,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    trackable(&a.source, "apply", &cfg.tracking)?;
    let source = source::load(&a.source.source)?;
    let settings = ctx.connect_settings()?;
    let mut opts = options_from(ctx, cfg, a.dry_run, &a.lock_timeout, &a.lock_wait)?;
    opts.target = a.target;
    opts.lock_retries = a.lock_retries;
    opts.backup_dir = a.backup_dir.clone();
    opts.no_backup = a.no_backup;
    opts.mark_applied = a.mark_applied;
    let pid = Arc::new(AtomicI32::new(0));
    let report = with_interrupt(
        &settings,
        pid.clone(),
        apply::apply(&settings, &source, &opts, pid),
    )
    .await?;
    let Some(report) = report else {
        return Ok(crate::exit::INTERRUPTED);
    };
    write_report(ctx, "apply", &report, opts.mark_applied, out)?;
    Ok(0)
}

async fn revert_cmd(
    ctx: &Ctx,
    a: &MigrateRevertArgs,
    cfg: &MigrateConfig,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    trackable(&a.source, "revert", &cfg.tracking)?;
    let source = source::load(&a.source.source)?;
    let settings = ctx.connect_settings()?;
    let mut opts = options_from(ctx, cfg, a.dry_run, &a.lock_timeout, &a.lock_wait)?;
    opts.target = a.target;
    let pid = Arc::new(AtomicI32::new(0));
    let report = with_interrupt(
        &settings,
        pid.clone(),
        apply::revert(&settings, &source, &opts, pid),
    )
    .await?;
    let Some(report) = report else {
        return Ok(crate::exit::INTERRUPTED);
    };
    write_report(ctx, "revert", &report, None, out)?;
    Ok(0)
}

fn write_report(
    ctx: &Ctx,
    command: &str,
    report: &Report,
    marked: Option<i64>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    for w in &report.warnings {
        ctx.progress(format!("warning: {w}"));
    }
    match ctx.format {
        Format::Json => migrate_run::json(command, report, out),
        _ => migrate_run::text(command, report, marked, out),
    }
    .context("write")?;
    Ok(())
}

// ---------------------------------------------------------------- validate / plan

/// Tracking commands read and write sqlx's bookkeeping only: refuse other layouts in one line.
fn trackable(
    src: &crate::cli::SourceArg,
    command: &str,
    table: &TrackingTable,
) -> Result<(), Error> {
    let layout = src
        .layout
        .unwrap_or_else(|| crate::migrate::layout::detect(&src.source));
    crate::migrate::layout::require_trackable(layout, command, table)
}

async fn validate(
    ctx: &Ctx,
    a: &MigrateValidateArgs,
    cfg: &MigrateConfig,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    let (mut source, layout) = crate::migrate::layout::load(&a.source.source, a.source.layout)?;
    if a.replay {
        // The replay's revert stops at a migration without a down file: name each one, even in
        // a folder that is forward-only by choice (where the loader stays quiet).
        let missing: Vec<_> = source
            .migrations
            .iter()
            .filter(|m| m.simple && m.down.is_none())
            .filter(|m| !source.problems.iter().any(|p| p.file == m.up.name))
            .map(|m| crate::migrate::source::not_reversible(&m.up.name, m.version))
            .collect();
        source.problems.extend(missing);
    }
    let separately = layout.statements_separately();
    let configured = ctx.database_url_given()
        || ["PGHOST", "PGDATABASE", "PGSERVICE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
    let mut diags = if !a.offline && configured {
        let settings = ctx.connect_settings()?;
        let (run, db) = database_diagnostics(&settings, &source, &cfg.tracking).await?;
        let mut d = lint::lint_run(&source, &run, separately);
        d.extend(db);
        d
    } else {
        lint::lint_source_with(&source, separately)
    };
    if a.replay {
        diags.extend(replay(ctx, cfg, &source).await?);
    }
    if a.trace {
        let live = if !a.offline && configured {
            Some(ctx.connect_settings()?)
        } else {
            None
        };
        let target = crate::migrate::trace_run::TraceTarget {
            database: live.as_ref(),
            rows: a.trace_rows,
            tracking: &cfg.tracking,
        };
        diags.extend(crate::migrate::trace_run::run(&source, target, &|m| ctx.progress(m)).await?);
    }
    let files = source
        .migrations
        .iter()
        .map(|m| 1 + usize::from(m.down.is_some()))
        .sum();
    let show_style = a.strict || ctx.verbose > 0;
    match ctx.format {
        Format::Json => migrate_validate::json(&diags, out),
        Format::Github => migrate_validate::github(&diags, show_style, out),
        _ => migrate_validate::text(&diags, files, show_style, out),
    }
    .context("write")?;
    let errors = diags.iter().any(|d| d.severity == Severity::Error);
    // Style never changes the exit code unless --strict.
    let flagged = diags
        .iter()
        .any(|d| matches!(d.severity, Severity::Warning | Severity::Style));
    Ok(if errors || (a.strict && flagged) {
        crate::exit::MIGRATION_INVALID
    } else {
        crate::exit::OK
    })
}

fn db_diag(
    file: String,
    rule: &str,
    severity: Severity,
    message: String,
    help: &str,
) -> Diagnostic {
    Diagnostic {
        file,
        line: 1,
        column: 1,
        rule: rule.into(),
        lock_queue: None,
        severity,
        message,
        help: Some(help.into()),
    }
}

/// With a database: drift, missing files, out-of-order versions, and what the pending files run
/// against: the applied versions and, for each table they touch that exists, its size, write
/// rate and columns (the lint pass then writes one lock note per pending statement).
async fn database_diagnostics(
    settings: &ConnectSettings,
    source: &Source,
    table: &TrackingTable,
) -> Result<(lint::RunContext, Vec<Diagnostic>), Error> {
    let db = crate::db::connect(settings, SessionMode::ReadOnly).await?;
    let mut conn = db.pool.acquire().await.context("acquire a connection")?;
    let state = tracking::read_state(&mut conn, table).await?;
    let mut out = Vec::new();
    for a in state.applied.values() {
        match source.get(a.version) {
            Some(m) if m.checksum != a.checksum => out.push(db_diag(
                m.up.path.display().to_string(),
                "checksum-drift",
                Severity::Error,
                format!("migration {} was applied but its file has changed since (checksum drift)", a.version),
                "restore the file as it was applied (see git history) and put the change in a new migration",
            )),
            Some(_) => {}
            None => out.push(db_diag(
                source.dir.display().to_string(),
                "missing-migration",
                Severity::Error,
                format!("migration {} ({}) is applied but its file is missing", a.version, a.description),
                "restore the file: sqlx refuses to run while an applied migration has no file",
            )),
        }
    }
    let max_applied = state.applied.keys().max().copied();
    let mut live = std::collections::HashMap::new();
    for m in source
        .migrations
        .iter()
        .filter(|m| !state.applied.contains_key(&m.version))
    {
        if let Some(max) = max_applied.filter(|max| m.version < *max) {
            out.push(db_diag(
                m.up.path.display().to_string(),
                "out-of-order",
                Severity::Warning,
                format!("pending migration {} is older than the newest applied one ({max})", m.version),
                "give it a version newer than every applied migration, so every environment runs migrations in the same order",
            ));
        }
        for st in split::split(&m.up.sql) {
            let Some(lock) = crate::migrate::locks::lock_of_sql(&st.text) else {
                continue;
            };
            let relation = lock
                .relation
                .split(", ")
                .next()
                .unwrap_or(&lock.relation)
                .to_string();
            let key = relation
                .strip_prefix("public.")
                .unwrap_or(&relation)
                .to_string();
            if live.contains_key(&key) {
                continue;
            }
            let stats: Option<(i64, i64, i64, f64)> =
                sqlx::query_as(include_str!("../sql/migrate_table_stats.sql"))
                    .bind(&relation)
                    .fetch_optional(&mut *conn)
                    .await
                    .ok()
                    .flatten();
            let Some((rows, bytes, writes, secs)) = stats else {
                continue;
            };
            let columns: Vec<(String, String, bool, bool)> =
                sqlx::query_as(include_str!("../sql/migrate_table_columns.sql"))
                    .bind(&relation)
                    .fetch_all(&mut *conn)
                    .await
                    .context("read the columns of a table a pending migration changes")?;
            live.insert(
                key,
                lint::LiveTable {
                    rows,
                    bytes,
                    writes_per_sec: if secs > 0.0 {
                        writes as f64 / secs
                    } else {
                        0.0
                    },
                    columns,
                },
            );
        }
    }
    drop(conn);
    db.pool.close().await;
    let run = lint::RunContext {
        applied: state.applied.keys().copied().collect(),
        live: Some(live),
    };
    Ok((run, out))
}

/// Apply every migration on a throwaway cluster, then revert them all with the down files.
async fn replay(ctx: &Ctx, cfg: &MigrateConfig, source: &Source) -> Result<Vec<Diagnostic>, Error> {
    use crate::db::ephemeral::{EphemeralCluster, EphemeralOptions};
    ctx.progress("replay: starting a throwaway PostgreSQL ...");
    let cluster =
        tokio::task::spawn_blocking(|| EphemeralCluster::start(&EphemeralOptions::default()))
            .await
            .context("cluster start task")??;
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
        .await
        .context("connect to the throwaway cluster")?;
    sqlx::Executor::execute(&mut admin, "CREATE DATABASE replay")
        .await
        .context("create the replay database")?;
    let _ = admin.close().await;
    let settings = ctx.connect_settings_for(&cluster.url("replay"))?;
    let mut opts = options_from(ctx, cfg, false, "5s", "5s")?;
    opts.no_backup = true;
    opts.quiet = true;
    let mut out = Vec::new();
    let to_diag = |phase: &str, e: Error| {
        let msg = e.to_string();
        let re = regex::Regex::new(r" at (.+?):(\d+):(\d+)").expect("valid regex");
        let (file, line, column) = match re.captures(&msg) {
            Some(c) => (
                c[1].to_string(),
                c[2].parse().unwrap_or(1),
                c[3].parse().unwrap_or(1),
            ),
            None => (source.dir.display().to_string(), 1, 1),
        };
        Diagnostic {
            file,
            line,
            column,
            rule: "replay".into(),
            lock_queue: None,
            severity: Severity::Error,
            message: format!("{phase} on a fresh database failed: {msg}"),
            help: Some("the statement parses but PostgreSQL rejects it when run in order (a missing table or column, a wrong type)".into()),
        }
    };
    let pid = Arc::new(AtomicI32::new(0));
    // Only the migrations above the newest one without a down file can be reverted; the folder
    // check already warns once per such file that it is not reversible.
    let floor = source
        .migrations
        .iter()
        .filter(|m| m.down.is_none())
        .map(|m| m.version)
        .max();
    match apply::apply(&settings, source, &opts, pid.clone()).await {
        Err(e) => out.push(to_diag("apply", e)),
        Ok(r) => {
            ctx.progress(format!("replay: applied {} migrations", r.done.len()));
            let newest = source.migrations.iter().map(|m| m.version).max();
            if floor.is_some() && floor == newest {
                ctx.progress("replay: nothing to revert (the newest migration has no .down.sql)");
            } else {
                opts.target = Some(floor.unwrap_or(0));
                match apply::revert(&settings, source, &opts, pid).await {
                    Err(e) => out.push(to_diag("revert", e)),
                    Ok(r) => ctx.progress(format!(
                        "replay: reverted {} migrations{}",
                        r.done.len(),
                        floor
                            .map(|v| format!(" (down to {v}, which has no .down.sql)"))
                            .unwrap_or_default()
                    )),
                }
            }
        }
    }
    drop(cluster);
    Ok(out)
}

async fn plan(ctx: &Ctx, a: &MigratePlanArgs, out: &mut dyn Write) -> Result<i32, Error> {
    use crate::commands::snapshot::{collect_snapshot, load, CollectOptions};
    use crate::migrate::plan::{self as planner, TableSize};
    let dir = &a.source.source;
    let existing = if dir.exists() {
        source::load(dir)?
    } else {
        Source {
            dir: dir.clone(),
            ..Default::default()
        }
    };
    // The same budgets.toml discovery as doctor, so the plan drops what doctor advises.
    let th = match crate::budget::config::discover_here(a.budgets.as_deref()) {
        Some(p) => crate::analyze::thresholds::Thresholds::load(&p)?,
        None => crate::analyze::thresholds::Thresholds::default(),
    };
    let snap = match &a.from_snapshot {
        Some(p) => load(p)?,
        None => {
            let db = crate::db::connect(&ctx.connect_settings()?, SessionMode::ReadOnly).await?;
            let opts = CollectOptions {
                schemas: Vec::new(),
                window: None,
                all_databases: false,
                host: false,
                ..CollectOptions::default()
            };
            let snap = collect_snapshot(ctx, &db, &opts).await?;
            db.pool.close().await;
            snap
        }
    };
    let findings = crate::analyze::doctor::findings(&snap, &th);
    let tables: std::collections::BTreeMap<String, TableSize> = snap
        .schema
        .tables
        .iter()
        .flatten()
        .map(|t| {
            (
                crate::util::qualified(&t.schema, &t.name),
                TableSize {
                    bytes: t.table_bytes,
                    rows: t.reltuples,
                },
            )
        })
        .collect();
    let plan = planner::plan(
        &findings,
        &existing,
        &tables,
        snap.capabilities.server_version_num,
    )?;
    let fresh: Vec<&planner::Planned> = plan
        .migrations
        .iter()
        .filter(|m| !m.already_in_folder)
        .collect();
    if !a.dry_run {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        for m in &fresh {
            for (name, contents) in [
                (&m.up_file, &m.up_contents),
                (&m.down_file, &m.down_contents),
            ] {
                let path = dir.join(name);
                std::fs::write(&path, contents)
                    .with_context(|| format!("write {}", path.display()))?;
            }
        }
        if !plan.migrations.is_empty() {
            let path = dir.join("migration-plan.json");
            std::fs::write(&path, plan.json())
                .with_context(|| format!("write {}", path.display()))?;
        }
    }
    match ctx.format {
        Format::Json => migrate_plan::json(&plan, out),
        _ => migrate_plan::text(&plan, fresh.len(), a.dry_run, dir, out),
    }
    .context("write")?;
    Ok(0)
}
