//! The no-transaction path (`-- no-transaction`): statement by statement, progress recorded
//! after each, an invalid index from an interrupted concurrent build dropped before a retry.

use std::time::Instant;

use sqlx::{Connection, Executor};

use super::progress::spawn_index_monitor;
use super::session::{backoff, is_lock_timeout, pg_message, Session};
use super::statements::{position, summary};
use super::stream::{stmt_step, tracking_steps_record_only};
use super::{Direction, FileRun, Options};
use crate::migrate::tracking::{self, ExtraRow};

/// A `-- no-transaction` file: statement by statement, progress recorded after each.
pub(super) async fn run_no_tx(
    sess: &mut Session,
    run: FileRun<'_>,
    opts: &Options,
) -> Result<(), String> {
    let (m, file, plan, dir) = (run.m, run.file, run.plan, run.dir);
    let (backup, by) = (run.backup, run.by);
    let v = m.version;
    let total = plan.len() as i32;
    let started = Instant::now();
    let extra = |applied: i32, success: bool| {
        ExtraRow::progress(v, &m.description, (applied, total), success, backup, by)
    };
    let table = sess.table.clone();
    let progress_sql = tracking::progress_dbdoctor(&table);
    if dir == Direction::Up {
        sess.record(
            "tracking",
            Some(v),
            format!("INSERT INTO {} (version, statements_applied, statements_total, success, ...) VALUES ({v}, 0, {total}, FALSE, ...) ON CONFLICT (version) DO UPDATE ...", table.extra()),
        )
        .note = Some(format!("migration {v} {} ({}) runs without a transaction", m.description, file.name));
        if !sess.dry_run {
            tracking::upsert_extra(&mut sess.conn, &table, &extra(0, false))
                .await
                .map_err(|e| pg_message(&e))?;
        }
    }
    for (i, p) in plan.iter().enumerate() {
        if let Some(idx) = &p.concurrent_index {
            // A killed or failed earlier run may have left this index INVALID; IF NOT EXISTS would
            // then silently keep the broken index.
            sess.drop_invalid_index(v, idx)
                .await
                .map_err(|e| pg_message(&e))?;
        }
        stmt_step(sess, v, p);
        if sess.dry_run {
            continue;
        }
        let mut attempt = 0u32;
        loop {
            let monitor = p
                .concurrent_index
                .as_ref()
                .map(|_| spawn_index_monitor(sess));
            let res = sess.conn.execute(p.stmt.text.as_str()).await;
            if let Some(h) = monitor {
                h.abort();
            }
            match res {
                Ok(_) => break,
                Err(e) => {
                    if let Some(idx) = &p.concurrent_index {
                        let _ = sess.drop_invalid_index(v, idx).await;
                    }
                    let at = position(file, &p.stmt);
                    if is_lock_timeout(&e) && attempt < opts.lock_retries {
                        attempt += 1;
                        let wait = backoff(attempt - 1);
                        sess.progress.line(format!(
                            "  lock timeout at {at}; retry {attempt}/{} in {:.1}s",
                            opts.lock_retries,
                            wait.as_secs_f64()
                        ));
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    let mut msg = format!("{} at {at}", pg_message(&e));
                    if is_lock_timeout(&e) {
                        if let Some(l) = &p.lock {
                            let who = sess.blockers(&l.relation).await;
                            msg = format!(
                                "{msg}: could not take {} within lock_timeout {} ms ({} attempts){who}",
                                l.describe(),
                                opts.lock_timeout.as_millis(),
                                attempt + 1
                            );
                        }
                    }
                    if dir == Direction::Up {
                        let _ = sqlx::query(&progress_sql)
                            .bind(v)
                            .bind(i as i32)
                            .bind(&msg)
                            .bind(crate::db::redact::redact_sql_secrets(&p.stmt.text))
                            .execute(&mut sess.conn)
                            .await;
                    }
                    let stayed = if i == 0 {
                        "none of its statements had completed".to_string()
                    } else {
                        let list: Vec<String> = plan[..i]
                            .iter()
                            .map(|q| format!("line {} `{}`", q.stmt.line, summary(&q.stmt.text)))
                            .collect();
                        format!(
                            "{i} of its {} statements stayed applied: {}",
                            plan.len(),
                            list.join(", ")
                        )
                    };
                    return Err(format!("{msg}; {stayed}"));
                }
            }
        }
        if dir == Direction::Up {
            sqlx::query(&progress_sql)
                .bind(v)
                .bind(i as i32 + 1)
                .bind(None::<String>)
                .bind(None::<String>)
                .execute(&mut sess.conn)
                .await
                .map_err(|e| pg_message(&e))?;
        }
    }
    if sess.dry_run {
        tracking_steps_record_only(sess, m, dir, plan.len(), backup);
        return Ok(());
    }
    let ns = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
    let res = async {
        let mut tx = sess.conn.begin().await?;
        match dir {
            Direction::Up => {
                tracking::record_sqlx(&mut tx, &table, v, &m.description, &m.checksum, ns).await?;
                tracking::upsert_extra(&mut tx, &table, &extra(total, true)).await?;
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
        tx.commit().await
    }
    .await;
    tracking_steps_record_only(sess, m, dir, plan.len(), backup);
    res.map_err(|e| format!("record the migration: {}", pg_message(&e)))
}
