//! Progress of a run on stderr: one line per migration, and the phase and blocks of a
//! concurrent index build while it runs.

use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use super::session::Session;

/// How often the index build progress is read.
const INDEX_PROGRESS_POLL_MS: u64 = 1000;

/// Progress lines on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub quiet: bool,
}

impl Progress {
    pub fn line(&self, s: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", s.as_ref());
        }
    }
}

/// Print the phase and blocks of our own index build every second (pg_stat_progress_create_index).
pub(super) fn spawn_index_monitor(sess: &Session) -> tokio::task::JoinHandle<()> {
    let opts = sess.settings.options.clone();
    let pid = sess.pid;
    let progress = sess.progress;
    let started = Instant::now();
    tokio::spawn(async move {
        let Ok(mut c) = PgConnection::connect_with(&opts).await else {
            return;
        };
        let mut last = String::new();
        loop {
            tokio::time::sleep(Duration::from_millis(INDEX_PROGRESS_POLL_MS)).await;
            let row: Option<(String, i64, i64)> =
                sqlx::query_as(include_str!("../../sql/migrate_index_progress.sql"))
                    .bind(pid)
                    .fetch_optional(&mut c)
                    .await
                    .ok()
                    .flatten();
            if let Some((phase, done, total)) = row {
                let line = if total > 0 {
                    format!(
                        "  progress: {phase}, {done}/{total} blocks ({:.0}%)",
                        100.0 * done as f64 / total as f64
                    )
                } else {
                    format!("  progress: {phase}")
                };
                if line != last {
                    progress.line(format!("{line} [{:.0}s]", started.elapsed().as_secs_f64()));
                    last = line;
                }
            }
        }
    })
}
