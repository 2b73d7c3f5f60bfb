//! The transactional path: a migration file and its tracking rows in one transaction, retried
//! as a whole after a lock timeout.

use std::time::Instant;

use sqlx::{Connection, Executor};

use super::no_tx::run_no_tx;
use super::session::{backoff, is_lock_timeout, pg_message, Session};
use super::statements::position;
use super::stream::{stmt_step, tracking_steps};
use super::{Direction, FileRun, Options, Step};
use crate::migrate::tracking::{self, ExtraRow};

/// Run one migration file (up or down), with retries on lock timeouts.
pub(super) async fn run_one(
    sess: &mut Session,
    run: FileRun<'_>,
    opts: &Options,
) -> Result<(), String> {
    if run.file.no_tx {
        return run_no_tx(sess, run, opts).await;
    }
    let (file, plan) = (run.file, run.plan);
    let mut attempt = 0u32;
    loop {
        match run_tx_once(sess, run).await {
            Ok(()) => return Ok(()),
            Err((idx, e)) => {
                let at = idx
                    .map(|i| format!(" at {}", position(file, &plan[i].stmt)))
                    .unwrap_or_default();
                if is_lock_timeout(&e) {
                    let lock = idx.and_then(|i| plan[i].lock.clone());
                    if attempt < opts.lock_retries {
                        attempt += 1;
                        let wait = backoff(attempt - 1);
                        sess.progress.line(format!(
                            "  lock timeout{at}{}; retry {attempt}/{} in {:.1}s",
                            lock.as_ref()
                                .map(|l| format!(" waiting for {}", l.describe()))
                                .unwrap_or_default(),
                            opts.lock_retries,
                            wait.as_secs_f64()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let who = match &lock {
                        Some(l) => sess.blockers(&l.relation).await,
                        None => String::new(),
                    };
                    return Err(format!(
                        "{}{at}: could not take {} within lock_timeout {} ms ({} attempts){who}",
                        pg_message(&e),
                        lock.map(|l| l.describe())
                            .unwrap_or_else(|| "its lock".into()),
                        opts.lock_timeout.as_millis(),
                        attempt + 1
                    ));
                }
                return Err(format!("{}{at}", pg_message(&e)));
            }
        }
    }
}

pub(super) async fn run_tx_once(
    sess: &mut Session,
    run: FileRun<'_>,
) -> Result<(), (Option<usize>, sqlx::Error)> {
    let (m, file, plan, dir) = (run.m, run.file, run.plan, run.dir);
    let (backup, by) = (run.backup, run.by);
    let v = m.version;
    sess.record("begin", Some(v), "BEGIN").note =
        Some(format!("migration {v} {} ({})", m.description, file.name));
    let started = Instant::now();
    if sess.dry_run {
        for p in plan {
            stmt_step(sess, v, p);
        }
        tracking_steps(sess, m, dir, plan.len(), backup);
        sess.record("commit", Some(v), "COMMIT");
        return Ok(());
    }
    let table = sess.table.clone();
    let mut tx = sess.conn.begin().await.map_err(|e| (None, e))?;
    for (i, p) in plan.iter().enumerate() {
        sess.steps.push(Step {
            kind: "statement",
            version: Some(v),
            sql: crate::db::redact::redact_sql_secrets(&p.stmt.text),
            lock: p.lock.as_ref().map(|l| l.describe()),
            note: None,
        });
        if let Err(e) = tx.execute(p.stmt.text.as_str()).await {
            let _ = tx.rollback().await;
            return Err((Some(i), e));
        }
    }
    let total = plan.len() as i32;
    let res = async {
        match dir {
            Direction::Up => {
                let ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
                tracking::record_sqlx(&mut tx, &table, v, &m.description, &m.checksum, ns).await?;
                tracking::upsert_extra(
                    &mut tx,
                    &table,
                    &ExtraRow::progress(v, &m.description, (total, total), true, backup, by),
                )
                .await?;
            }
            Direction::Down => {
                sqlx::query(&tracking::delete_sqlx(&table))
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&tracking::delete_dbdoctor(&table))
                    .bind(v)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if let Err(e) = res {
        let _ = tx.rollback().await;
        return Err((None, e));
    }
    tx.commit().await.map_err(|e| (None, e))?;
    Ok(())
}
