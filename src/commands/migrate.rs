//! `dbdoctor migrate status|validate|apply|revert|plan`.

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use anyhow::Context;
use serde::Serialize;
use sqlx::Connection;

use crate::cli::{
    Format, MigrateApplyArgs, MigrateCommand, MigratePlanArgs, MigrateRevertArgs,
    MigrateStatusArgs, MigrateValidateArgs,
};
use crate::db::{ConnectSettings, SessionMode};
use crate::error::Error;
use crate::migrate::apply::{self, Options, Report};
use crate::migrate::lint::{self, Diagnostic, Severity};
use crate::migrate::source::{self, hex, Source};
use crate::migrate::split;
use crate::migrate::tracking::{self, State};
use crate::render::migrate_validate as render;
use crate::settings::Ctx;
use crate::util::parse_duration;

/// Version of the JSON documents written by `migrate`.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub async fn run(ctx: &Ctx, command: MigrateCommand, out: &mut dyn Write) -> Result<i32, Error> {
    match command {
        MigrateCommand::Status(a) => status(ctx, &a, out).await,
        MigrateCommand::Apply(a) => apply_cmd(ctx, &a, out).await,
        MigrateCommand::Revert(a) => revert_cmd(ctx, &a, out).await,
        MigrateCommand::Validate(a) => validate(ctx, &a, out).await,
        MigrateCommand::Plan(a) => plan(ctx, &a, out).await,
    }
}

// ---------------------------------------------------------------- status

/// One line of `migrate status`.
#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub version: i64,
    pub description: String,
    /// applied, pending, changed, missing, partial, failed
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_db: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statements: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Join what the folder holds with what the database recorded (pure).
pub fn status_rows(source: &Source, state: &State) -> Vec<StatusRow> {
    let mut versions: Vec<i64> = source.migrations.iter().map(|m| m.version).collect();
    versions.extend(state.applied.keys());
    versions.extend(state.extras.keys());
    versions.sort_unstable();
    versions.dedup();
    let partial: std::collections::BTreeMap<i64, String> = state.partial().into_iter().collect();
    versions
        .into_iter()
        .map(|v| {
            let m = source.get(v);
            let a = state.applied.get(&v);
            let e = state.extras.get(&v);
            let state_name = match (m, a) {
                _ if partial.contains_key(&v) => "partial",
                (Some(m), Some(a)) if m.checksum != a.checksum => "changed",
                (Some(_), Some(_)) => "applied",
                (None, Some(_)) => "missing",
                (Some(_), None) if e.is_some_and(|e| e.error.is_some()) => "failed",
                (Some(_), None) => "pending",
                (None, None) => "missing",
            };
            let detail = match state_name {
                "partial" => partial.get(&v).cloned(),
                "changed" => Some("the file changed after it was applied (checksum drift)".into()),
                "missing" => Some("recorded in the database but no file in the folder".into()),
                "failed" => e.and_then(|e| e.error.clone()),
                _ => e
                    .filter(|e| e.marked_applied)
                    .map(|_| "marked applied without running (--mark-applied)".into()),
            };
            StatusRow {
                version: v,
                description: m
                    .map(|m| m.description.clone())
                    .or_else(|| a.map(|a| a.description.clone()))
                    .unwrap_or_default(),
                state: state_name,
                installed_on: a.map(|a| a.installed_on.to_rfc3339()),
                execution_ms: a
                    .filter(|a| a.execution_time_ns >= 0)
                    .map(|a| a.execution_time_ns as f64 / 1e6),
                checksum_file: m.map(|m| hex(&m.checksum)),
                checksum_db: a.map(|a| hex(&a.checksum)),
                statements: e.map(|e| format!("{}/{}", e.statements_applied, e.statements_total)),
                backup: e.and_then(|e| e.backup_location.clone()),
                detail,
            }
        })
        .collect()
}

async fn read_only_state(settings: &ConnectSettings) -> Result<State, Error> {
    let db = crate::db::connect(settings, SessionMode::ReadOnly).await?;
    let mut conn = db.pool.acquire().await.context("acquire a connection")?;
    let st = tracking::read_state(&mut conn).await?;
    drop(conn);
    db.pool.close().await;
    Ok(st)
}

async fn status(ctx: &Ctx, a: &MigrateStatusArgs, out: &mut dyn Write) -> Result<i32, Error> {
    trackable(&a.source, "status")?;
    let source = source::load(&a.source.source)?;
    let state = read_only_state(&ctx.connect_settings()?).await?;
    let rows = status_rows(&source, &state);
    if ctx.format == Format::Json {
        let doc = serde_json::json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "tracking_table": if state.sqlx_table { Some("_sqlx_migrations") } else { None },
            "migrations": rows,
            "source_problems": source.problems.iter().map(|p| serde_json::json!({"file": p.file, "message": p.message, "severity": if p.is_error {"error"} else {"warning"}})).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut *out, &crate::render::SchemaFirst(&doc))
            .context("write")?;
        writeln!(out).context("write")?;
        return Ok(0);
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(vec![
        "VERSION",
        "STATE",
        "DESCRIPTION",
        "INSTALLED",
        "DETAIL",
    ]);
    for r in &rows {
        t.add_row(vec![
            r.version.to_string(),
            r.state.to_string(),
            r.description.clone(),
            r.installed_on
                .as_deref()
                .map(|s| s.get(..19).unwrap_or(s).replace('T', " "))
                .unwrap_or_default(),
            r.detail.clone().unwrap_or_default(),
        ]);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no migrations in {} and none recorded",
            a.source.source.display()
        )
        .context("write")?;
    } else {
        writeln!(out, "{t}").context("write")?;
    }
    let count = |s: &str| rows.iter().filter(|r| r.state == s).count();
    writeln!(
        out,
        "\n{} applied, {} pending, {} changed, {} missing locally, {} partial{}",
        count("applied"),
        count("pending"),
        count("changed"),
        count("missing"),
        count("partial"),
        if state.sqlx_table {
            ""
        } else {
            " (no _sqlx_migrations table yet)"
        }
    )
    .context("write")?;
    for p in &source.problems {
        writeln!(
            out,
            "{}: {}: {}",
            if p.is_error { "error" } else { "warning" },
            p.file,
            p.message
        )
        .context("write")?;
    }
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
    })
}

async fn apply_cmd(ctx: &Ctx, a: &MigrateApplyArgs, out: &mut dyn Write) -> Result<i32, Error> {
    trackable(&a.source, "apply")?;
    let source = source::load(&a.source.source)?;
    let settings = ctx.connect_settings()?;
    let mut opts = options_from(ctx, a.dry_run, &a.lock_timeout, &a.lock_wait)?;
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

async fn revert_cmd(ctx: &Ctx, a: &MigrateRevertArgs, out: &mut dyn Write) -> Result<i32, Error> {
    trackable(&a.source, "revert")?;
    let source = source::load(&a.source.source)?;
    let settings = ctx.connect_settings()?;
    let mut opts = options_from(ctx, a.dry_run, &a.lock_timeout, &a.lock_wait)?;
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
    if ctx.format == Format::Json {
        let doc = serde_json::json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "command": format!("migrate {command}"),
            "dry_run": report.dry_run,
            "planned": report.planned,
            "done": report.done,
            "backup": report.backup,
            "data_saved": report.data_saved,
            "restore": report.restore,
            "warnings": report.warnings,
            "steps": report.steps,
        });
        serde_json::to_writer_pretty(&mut *out, &crate::render::SchemaFirst(&doc))
            .context("write")?;
        writeln!(out).context("write")?;
        return Ok(());
    }
    if report.dry_run {
        write_stream(command, report, out)?;
        return Ok(());
    }
    let verb = if command == "apply" {
        "applied"
    } else {
        "reverted"
    };
    if let Some(v) = marked {
        writeln!(out, "marked {v} as applied (not run)").context("write")?;
    } else if report.done.is_empty() {
        writeln!(out, "nothing to {command}: the database is up to date").context("write")?;
    } else {
        let total: f64 = report.done.iter().map(|d| d.elapsed_ms).sum();
        writeln!(
            out,
            "{verb} {} migration{} in {:.0} ms: {}",
            report.done.len(),
            if report.done.len() == 1 { "" } else { "s" },
            total,
            report
                .done
                .iter()
                .map(|d| d.version.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .context("write")?;
        if let Some(b) = &report.backup {
            writeln!(out, "schema backup: {b}").context("write")?;
        }
        for d in &report.data_saved {
            writeln!(out, "data saved (restore script): {d}").context("write")?;
        }
        for r in &report.restore {
            writeln!(out, "{r}").context("write")?;
        }
    }
    Ok(())
}

/// The dry-run stream as an SQL script a DBA can read (and run by hand).
fn write_stream(command: &str, report: &Report, out: &mut dyn Write) -> Result<(), Error> {
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").context("write");
    w(
        out,
        format!("-- dbdoctor migrate {command} --dry-run: nothing below has been run"),
    )?;
    if report.planned.is_empty() {
        w(
            out,
            format!("-- nothing to {command}: the database is up to date"),
        )?;
    } else {
        let list: Vec<String> = report.planned.iter().map(|v| v.to_string()).collect();
        w(out, format!("-- would {command}: {}", list.join(", ")))?;
    }
    for s in &report.steps {
        if s.kind == "begin" {
            w(out, String::new())?;
        }
        if let Some(n) = &s.note {
            if s.kind == "backup" {
                w(out, format!("-- backup to {n}:"))?;
            } else {
                w(out, format!("-- {n}"))?;
            }
        }
        if let Some(l) = &s.lock {
            w(out, format!("-- lock: {l}"))?;
        }
        if s.sql.starts_with("--") {
            w(out, s.sql.clone())?;
        } else {
            w(out, format!("{};", s.sql.trim_end_matches(';')))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- validate / plan

/// Tracking commands read and write sqlx's bookkeeping only: refuse other layouts in one line.
fn trackable(src: &crate::cli::SourceArg, command: &str) -> Result<(), Error> {
    let layout = src
        .layout
        .unwrap_or_else(|| crate::migrate::layout::detect(&src.source));
    crate::migrate::layout::require_trackable(layout, command)
}

async fn validate(ctx: &Ctx, a: &MigrateValidateArgs, out: &mut dyn Write) -> Result<i32, Error> {
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
        let (run, db) = database_diagnostics(&settings, &source).await?;
        let mut d = lint::lint_run(&source, &run, separately);
        d.extend(db);
        d
    } else {
        lint::lint_source_with(&source, separately)
    };
    if a.replay {
        diags.extend(replay(ctx, &source).await?);
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
        Format::Json => render::json(&diags, out),
        Format::Github => render::github(&diags, show_style, out),
        _ => render::text(&diags, files, show_style, out),
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
) -> Result<(lint::RunContext, Vec<Diagnostic>), Error> {
    let db = crate::db::connect(settings, SessionMode::ReadOnly).await?;
    let mut conn = db.pool.acquire().await.context("acquire a connection")?;
    let state = tracking::read_state(&mut conn).await?;
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
async fn replay(ctx: &Ctx, source: &Source) -> Result<Vec<Diagnostic>, Error> {
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
    let mut opts = options_from(ctx, false, "5s", "5s")?;
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
    if ctx.format == Format::Json {
        write!(out, "{}", plan.json()).context("write")?;
        return Ok(0);
    }
    if plan.migrations.is_empty() {
        writeln!(out, "nothing to plan: doctor found no index change to make").context("write")?;
    }
    for m in &plan.migrations {
        writeln!(
            out,
            "[{}] {}{}\n    {}\n    lock: {}{}\n    why: {}",
            format!("{:?}", m.priority).to_lowercase(),
            m.up_file,
            if m.already_in_folder {
                " (already in the folder)"
            } else {
                ""
            },
            m.sql,
            m.expected_lock.as_deref().unwrap_or("none"),
            m.estimated_build_seconds
                .map(|s| format!(", estimated build {s:.1}s"))
                .unwrap_or_default(),
            m.rationale
        )
        .context("write")?;
    }
    for l in &plan.left_out {
        writeln!(out, "left out: {} {}: {}", l.check, l.object, l.reason).context("write")?;
    }
    let verb = if a.dry_run { "would write" } else { "wrote" };
    writeln!(
        out,
        "\n{verb} {} new migration{} to {}{}",
        fresh.len(),
        if fresh.len() == 1 { "" } else { "s" },
        dir.display(),
        if plan.migrations.is_empty() {
            ""
        } else {
            " (with migration-plan.json)"
        }
    )
    .context("write")?;
    Ok(0)
}
