//! `apply` under the lock: pending migrations chosen and refused early when they would certainly
//! fail, the backup (schema and the data they remove), then each migration in turn.

use std::time::Instant;

use sqlx::Connection;

use super::session::{applied_by, pg_message, session_settings, Session};
use super::statements::{plan_file, Planned};
use super::stream::sql_literal_bytes;
use super::tx::run_one;
use super::{ensure_tables, Direction, Done, FileRun, Options, Report};
use crate::error::Error;
use crate::migrate::backup::{DataLoss, SavedData};
use crate::migrate::source::{Migration, Source};
use crate::migrate::tracking::{self, ExtraRow, State};
use crate::util::quote_ident;

pub(super) async fn apply_locked(
    sess: &mut Session,
    source: &Source,
    opts: &Options,
    state: &State,
    mut report: Report,
) -> Result<Report, Error> {
    let by = applied_by(sess).await;

    if let Some(v) = opts.mark_applied {
        let m = source.get(v).ok_or_else(|| {
            Error::Usage(format!(
                "--mark-applied {v}: no migration with that version in {}",
                source.dir.display()
            ))
        })?;
        if state.applied.contains_key(&v) {
            return Err(Error::Usage(format!(
                "--mark-applied {v}: it is already recorded as applied"
            )));
        }
        ensure_tables(sess, state, &opts.create_schemas).await?;
        let total = plan_file(&m.up).len() as i32;
        let table = sess.table.clone();
        sess.record(
            "tracking",
            Some(v),
            format!(
                "INSERT INTO {table} (version, description, success, checksum, execution_time) VALUES ({v}, {}, TRUE, {}, 0)",
                crate::util::quote_literal(&m.description),
                sql_literal_bytes(&m.checksum)
            ),
        )
        .note = Some("recorded as applied without running it (--mark-applied)".into());
        if !opts.dry_run {
            let mut tx = sess
                .conn
                .begin()
                .await
                .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
            tracking::record_sqlx(&mut tx, &table, v, &m.description, &m.checksum, 0)
                .await
                .map_err(|e| Error::MigrationFailed(format!("record {v}: {}", pg_message(&e))))?;
            tracking::upsert_extra(
                &mut tx,
                &table,
                &ExtraRow {
                    marked: true,
                    ..ExtraRow::progress(v, &m.description, (0, total), true, None, &by)
                },
            )
            .await
            .map_err(|e| Error::MigrationFailed(format!("record {v}: {}", pg_message(&e))))?;
            tx.commit()
                .await
                .map_err(|e| Error::MigrationFailed(pg_message(&e)))?;
        }
        report.planned.push(v);
        return Ok(report);
    }

    let max_applied = state.applied.keys().max().copied();
    let pending: Vec<&Migration> = source
        .migrations
        .iter()
        .filter(|m| !state.applied.contains_key(&m.version))
        .filter(|m| opts.target.is_none_or(|t| m.version <= t))
        .collect();
    if let Some(max) = max_applied {
        let old: Vec<String> = pending
            .iter()
            .filter(|m| m.version < max)
            .map(|m| m.version.to_string())
            .collect();
        if !old.is_empty() {
            report.warnings.push(format!(
                "pending migration {} is older than the newest applied one ({max}); it will run now, out of order",
                old.join(", ")
            ));
        }
    }
    report.planned = pending.iter().map(|m| m.version).collect();
    if pending.is_empty() {
        return Ok(report);
    }
    // What would fail for certain (a syntax error, CONCURRENTLY inside a transaction) is refused
    // before the backup and before any change.
    let errors: Vec<String> = pending
        .iter()
        .flat_map(|m| crate::migrate::lint::lint_file(&m.up, &m.up.path.display().to_string()))
        .filter(|d| d.severity == crate::migrate::lint::Severity::Error)
        .map(|d| {
            format!(
                "{}:{}:{}: {}: {}",
                d.file, d.line, d.column, d.rule, d.message
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::MigrationInvalid(format!(
            "pending migrations fail validation, nothing was changed: {} (see `dbdoctor migrate validate`)",
            errors.join("; ")
        )));
    }
    let plans: Vec<Vec<Planned>> = pending.iter().map(|m| plan_file(&m.up)).collect();

    // Session settings first, each as its own statement.
    session_settings(sess, opts).await?;

    // Backup before the first change.
    let losses: Vec<(i64, DataLoss)> = {
        let mut seen = Vec::new();
        for (m, plan) in pending.iter().zip(plans.iter()) {
            for l in plan.iter().flat_map(|p| p.data_loss.iter()) {
                if !seen.iter().any(|(_, x)| x == l) {
                    seen.push((m.version, l.clone()));
                }
            }
        }
        seen
    };
    let mut saved: Vec<(i64, SavedData)> = Vec::new();
    let backup = if opts.no_backup {
        sess.progress
            .line("WARNING: --no-backup: no schema backup is taken before these migrations");
        report.warnings.push("no backup taken (--no-backup)".into());
        if !losses.is_empty() {
            let list: Vec<String> = losses
                .iter()
                .map(|(v, l)| format!("{} (migration {v})", describe_loss(l)))
                .collect();
            let msg = format!(
                "--no-backup: the data of {} is NOT saved and cannot be restored by `migrate revert`",
                list.join(", ")
            );
            sess.progress.line(format!("WARNING: {msg}"));
            report.warnings.push(msg);
        }
        None
    } else {
        let file = crate::migrate::backup::backup_path(&opts.backup_dir, &sess.database);
        let dropped: Vec<String> = plans
            .iter()
            .flatten()
            .flat_map(|p| p.drops_indexes.iter().cloned())
            .collect();
        let mut note =
            crate::migrate::backup::describe_command(&sess.settings, &file, opts.lock_timeout);
        if !dropped.is_empty() {
            note.push_str(&format!(
                ", then append pg_get_indexdef() of {}",
                dropped.join(", ")
            ));
        }
        sess.record("backup", None, format!("-- {note}")).note = Some(file.display().to_string());
        for (v, l) in &losses {
            sess.record(
                "backup",
                Some(*v),
                format!(
                    "-- save the data of {} (migration {v}) beside it: {}",
                    describe_loss(l),
                    match l {
                        DataLoss::Table { .. } => "pg_dump --data-only -t <table>",
                        DataLoss::Column { .. } =>
                            "COPY (SELECT <primary key>, <column> FROM <table>) TO STDOUT (csv) and a restore script",
                    }
                ),
            );
        }
        if !opts.dry_run {
            let major = (sess.server_version_num / 10_000) as u32;
            sess.progress
                .line(format!("backing up the schema to {}", file.display()));
            let settings = sess.settings.clone();
            crate::migrate::backup::take(
                &mut sess.conn,
                &settings,
                major,
                &file,
                &dropped,
                opts.lock_timeout,
            )
            .await?;
            for (v, l) in &losses {
                if let Some(d) = crate::migrate::backup::save_data(
                    &mut sess.conn,
                    &settings,
                    major,
                    &file,
                    l,
                    opts.lock_timeout,
                )
                .await?
                {
                    sess.progress.line(format!(
                        "saved the data of {} to {}",
                        d.what,
                        d.data_files.first().unwrap_or(&d.restore_file).display()
                    ));
                    report.data_saved.push(d.restore_file.display().to_string());
                    saved.push((*v, d));
                }
            }
        }
        Some(file.display().to_string())
    };
    report.backup = backup.clone();

    ensure_tables(sess, state, &opts.create_schemas).await?;
    if !saved.is_empty() {
        let table = sess.table.clone();
        sess.send("tracking", None, &tracking::add_data_backup_column(&table))
            .await
            .map_err(|e| {
                Error::MigrationFailed(format!("extend {}: {}", table.extra(), pg_message(&e)))
            })?;
    }

    for (i, (m, plan)) in pending.iter().zip(plans.iter()).enumerate() {
        let started = Instant::now();
        let mode = if m.up.no_tx { ", no transaction" } else { "" };
        if !opts.dry_run {
            sess.progress.line(format!(
                "applying {} {} ({} statements{mode}) ...",
                m.version,
                m.description,
                plan.len()
            ));
        }
        let run = FileRun {
            m,
            file: &m.up,
            plan,
            dir: Direction::Up,
            backup: backup.as_deref(),
            by: &by,
        };
        let res = run_one(sess, run, opts).await;
        match res {
            Ok(()) => {
                let d = Done::of(m, plan.len(), started);
                if !opts.dry_run {
                    sess.progress
                        .line(format!("  ok {} in {:.0} ms", m.version, d.elapsed_ms));
                    let mine: Vec<String> = saved
                        .iter()
                        .filter(|(v, _)| *v == m.version)
                        .map(|(_, d)| format!("{}: {}", d.what, d.restore_file.display()))
                        .collect();
                    if !mine.is_empty() {
                        sqlx::query(&tracking::set_data_backup(&sess.table))
                            .bind(m.version)
                            .bind(mine.join("\n"))
                            .execute(&mut sess.conn)
                            .await
                            .map_err(|e| {
                                Error::MigrationFailed(format!(
                                    "migration {} was applied, but recording where its data was saved failed: {}",
                                    m.version,
                                    pg_message(&e)
                                ))
                            })?;
                    }
                }
                report.done.push(d);
            }
            Err(why) => {
                let earlier: Vec<String> =
                    report.done.iter().map(|d| d.version.to_string()).collect();
                let later: Vec<String> = pending[i + 1..]
                    .iter()
                    .map(|m| m.version.to_string())
                    .collect();
                let kept = if m.up.no_tx {
                    format!("it ran without a transaction (-- no-transaction), so the statements named above stay applied and it is recorded as partial in {}", sess.table.extra())
                } else {
                    "it was rolled back and is not recorded".to_string()
                };
                return Err(Error::MigrationFailed(format!(
                    "migration {} ({}) failed: {why}; {kept}; applied in this run: {}; not attempted: {}",
                    m.version,
                    m.description,
                    if earlier.is_empty() { "none".to_string() } else { earlier.join(", ") },
                    if later.is_empty() { "none".to_string() } else { later.join(", ") },
                )));
            }
        }
    }
    Ok(report)
}

/// `table public.meals` / `column kcal of meals`.
pub(super) fn describe_loss(l: &DataLoss) -> String {
    match l {
        DataLoss::Table { table } => format!("table {table}"),
        DataLoss::Column { table, column } => {
            format!("column {} of {table}", quote_ident(column))
        }
    }
}
