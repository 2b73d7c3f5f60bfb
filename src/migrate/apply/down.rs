//! `revert` under the lock: the newest migration (or all above `--target`) run with its down
//! file, and how to restore the data it had removed.

use std::time::Instant;

use super::session::{session_settings, Session};
use super::statements::plan_file;
use super::tx::run_one;
use super::{Direction, Done, FileRun, Options, Report};
use crate::error::Error;
use crate::migrate::source::Source;
use crate::migrate::tracking::State;

pub(super) async fn revert_locked(
    sess: &mut Session,
    source: &Source,
    opts: &Options,
    state: &State,
    mut report: Report,
) -> Result<Report, Error> {
    let mut applied: Vec<i64> = state.applied.keys().copied().collect();
    applied.sort_unstable_by(|a, b| b.cmp(a));
    let chosen: Vec<i64> = match opts.target {
        None => applied.into_iter().take(1).collect(),
        Some(t) => applied.into_iter().filter(|v| *v > t).collect(),
    };
    report.planned = chosen.clone();
    if chosen.is_empty() {
        return Ok(report);
    }
    let mut work = Vec::new();
    for v in &chosen {
        let m = source.get(*v).ok_or_else(|| {
            Error::MigrationInvalid(format!(
                "cannot revert {v}: its files are not in {}",
                source.dir.display()
            ))
        })?;
        let down = m.down.as_ref().ok_or_else(|| {
            Error::MigrationInvalid(format!("cannot revert {v}: {} has no .down.sql", m.up.name))
        })?;
        work.push((m, down, plan_file(down)));
    }
    session_settings(sess, opts).await?;
    for (i, (m, down, plan)) in work.iter().enumerate() {
        let started = Instant::now();
        if !opts.dry_run {
            sess.progress
                .line(format!("reverting {} {} ...", m.version, m.description));
        }
        match run_one(
            sess,
            FileRun {
                m,
                file: down,
                plan,
                dir: Direction::Down,
                backup: None,
                by: "",
            },
            opts,
        )
        .await
        {
            Ok(()) => {
                let d = Done::of(m, plan.len(), started);
                if !opts.dry_run {
                    sess.progress.line(format!(
                        "  reverted {} in {:.0} ms",
                        m.version, d.elapsed_ms
                    ));
                }
                if let Some(saved) = state
                    .extras
                    .get(&m.version)
                    .and_then(|e| e.data_backup.as_deref())
                {
                    for line in saved.lines().filter(|l| !l.trim().is_empty()) {
                        let (what, file) = line.rsplit_once(": ").unwrap_or(("data", line));
                        let hint = format!(
                            "migration {} had removed the data of {what}; put it back with: psql \"{}\" -v ON_ERROR_STOP=1 -f {}",
                            m.version,
                            sess.settings.display,
                            shell_quote(file)
                        );
                        sess.progress.line(format!("  {hint}"));
                        report.restore.push(hint);
                    }
                }
                report.done.push(d);
            }
            Err(why) => {
                let later: Vec<String> = work[i + 1..]
                    .iter()
                    .map(|(m, _, _)| m.version.to_string())
                    .collect();
                return Err(Error::MigrationFailed(format!(
                    "reverting migration {} ({}) failed: {why}; it stays applied; reverted in this run: {}; not attempted: {}",
                    m.version,
                    m.description,
                    if report.done.is_empty() {
                        "none".to_string()
                    } else {
                        report.done.iter().map(|d| d.version.to_string()).collect::<Vec<_>>().join(", ")
                    },
                    if later.is_empty() { "none".to_string() } else { later.join(", ") }
                )));
            }
        }
    }
    Ok(report)
}

/// A file name as one shell word.
pub(super) fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
