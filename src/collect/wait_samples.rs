//! Samples pg_stat_activity about ten times a second during `doctor --window`: what each
//! running session waits on and which statement it runs (an active-session history).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::collect::statements::tag;
use crate::collect::{decode, CollectError};

const N: &str = "wait_sample";

/// Time between two samples.
pub const WAIT_SAMPLE_INTERVAL_MS: u64 = 100;
/// At most this many samples per window: a longer window samples less often.
pub const WAIT_SAMPLES_MAX: u64 = 6000;
/// At most this many sessions read per sample.
pub const WAIT_SAMPLE_ROWS_MAX: i64 = 200;
/// Statement texts kept for the report are cut to this many characters.
const TEXT_CHARS_MAX: usize = 300;

/// One row of the sampling query.
#[derive(sqlx::FromRow)]
struct WaitRow {
    wait_event_type: Option<String>,
    wait_event: Option<String>,
    queryid: Option<i64>,
    query: Option<String>,
}

/// One running session in one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveSession {
    /// `None`: the session is not waiting (on CPU, or in a wait PostgreSQL does not report).
    #[serde(default)]
    pub wait_event_type: Option<String>,
    #[serde(default)]
    pub wait_event: Option<String>,
    /// Key of `WaitSamples::statements`: the query id when known, else the masked text.
    pub statement: String,
}

/// One reading of pg_stat_activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitSample {
    /// Milliseconds since the first sample.
    pub at_ms: u64,
    pub sessions: Vec<ActiveSession>,
}

/// What one statement key stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampledStatement {
    #[serde(default)]
    pub queryid: Option<i64>,
    /// Masked like every statement text dbdoctor shows, cut to 300 characters.
    pub query: String,
}

/// Every sample of one window.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WaitSamples {
    pub interval_ms: u64,
    pub samples: Vec<WaitSample>,
    /// Samples that hit the row cap (more running sessions than were read).
    pub capped_samples: u64,
    pub statements: BTreeMap<String, SampledStatement>,
    /// Time spent running the sampling query (the sampler's own cost on the server).
    pub sampling_ms: f64,
    /// Length of the sampled period.
    pub window_ms: f64,
}

/// The interval that keeps a window under `WAIT_SAMPLES_MAX` samples.
pub fn interval_for(window: Duration) -> Duration {
    let floor = Duration::from_millis(WAIT_SAMPLE_INTERVAL_MS);
    let spread = Duration::from_millis(window.as_millis() as u64 / WAIT_SAMPLES_MAX);
    floor.max(spread)
}

/// Sample for `window` on one connection of `pool` (`server_version_num` picks the query).
pub async fn sample(
    pool: &PgPool,
    server_version_num: i32,
    window: Duration,
) -> Result<WaitSamples, CollectError> {
    let sql = tag(if server_version_num >= 140_000 {
        include_str!("../sql/wait_sample.sql")
    } else {
        include_str!("../sql/wait_sample_13.sql")
    });
    let q = |e| CollectError::query(N, e);
    let mut conn = pool.acquire().await.map_err(q)?;
    let every = interval_for(window);
    let mut out = WaitSamples {
        interval_ms: every.as_millis() as u64,
        ..Default::default()
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let started = Instant::now();
    while started.elapsed() < window && (out.samples.len() as u64) < WAIT_SAMPLES_MAX {
        tick.tick().await;
        let at = started.elapsed();
        let rows = sqlx::query(&sql)
            .bind(WAIT_SAMPLE_ROWS_MAX)
            .fetch_all(&mut *conn)
            .await
            .map_err(q)?;
        out.sampling_ms += (started.elapsed() - at).as_secs_f64() * 1000.0;
        if rows.len() as i64 >= WAIT_SAMPLE_ROWS_MAX {
            out.capped_samples += 1;
        }
        let mut sessions = Vec::with_capacity(rows.len());
        for r in rows {
            let row: WaitRow = decode(N, &r)?;
            let queryid = row.queryid;
            let masked = crate::db::redact::redact_sql_secrets(row.query.as_deref().unwrap_or(""));
            let masked: String = masked.chars().take(TEXT_CHARS_MAX).collect();
            // A query id of 0 means none was computed for the statement.
            let key = match queryid.filter(|q| *q != 0) {
                Some(q) => q.to_string(),
                None => masked.clone(),
            };
            out.statements
                .entry(key.clone())
                .or_insert_with(|| SampledStatement {
                    queryid: queryid.filter(|q| *q != 0),
                    query: masked,
                });
            sessions.push(ActiveSession {
                wait_event_type: row.wait_event_type,
                wait_event: row.wait_event,
                statement: key,
            });
        }
        out.samples.push(WaitSample {
            at_ms: at.as_millis() as u64,
            sessions,
        });
    }
    out.window_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_windows_sample_less_often() {
        assert_eq!(interval_for(Duration::from_secs(5)).as_millis(), 100);
        // One hour at 10/s would be 36,000 samples: spread to 6,000.
        assert_eq!(interval_for(Duration::from_secs(3600)).as_millis(), 600);
    }
}
