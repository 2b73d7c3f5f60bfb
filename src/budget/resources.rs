//! Resource figures for the resource budgets: connections from the server, and CPU, memory and
//! disk IOPS of this host sampled over a period (only meaningful when the database runs here).

use std::time::{Duration, Instant};

use crate::budget::verdict::ResourceSample;
use crate::collect::{decode, CollectError};

/// Shortest host sampling period: CPU usage over less is noise.
pub const MIN_HOST_SAMPLE_MS: u64 = 1000;

/// Read/write operations completed, summed over whole disks in /proc/diskstats.
fn disk_ops() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/diskstats").ok()?;
    let mut total = 0u64;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let name = f[2];
        // Whole devices only: partitions would count twice; loop and ram devices are not disks.
        if name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram") {
            continue;
        }
        let sys = format!("/sys/block/{name}");
        if !std::path::Path::new(&sys).exists() {
            continue;
        }
        let reads: u64 = f[3].parse().ok()?;
        let writes: u64 = f[7].parse().ok()?;
        total += reads + writes;
    }
    Some(total)
}

/// Samples the host between `start` and `finish`.
pub struct HostSampler {
    sys: sysinfo::System,
    started: Instant,
    ops: Option<u64>,
}

impl HostSampler {
    pub fn start() -> HostSampler {
        let mut sys = sysinfo::System::new();
        sys.refresh_cpu_usage();
        HostSampler {
            sys,
            started: Instant::now(),
            ops: disk_ops(),
        }
    }

    /// Finish, waiting until the minimum period has passed. Fills CPU, memory and IOPS.
    pub async fn finish(mut self, into: &mut ResourceSample) {
        let min = Duration::from_millis(MIN_HOST_SAMPLE_MS);
        let waited = self.started.elapsed();
        if waited < min {
            tokio::time::sleep(min - waited).await;
        }
        let secs = self.started.elapsed().as_secs_f64();
        self.sys.refresh_cpu_usage();
        self.sys.refresh_memory();
        into.cpu_pct = Some(f64::from(self.sys.global_cpu_usage()));
        let total = self.sys.total_memory();
        if total > 0 {
            let used = total.saturating_sub(self.sys.available_memory());
            into.memory_pct = Some(used as f64 / total as f64 * 100.0);
        }
        match (self.ops, disk_ops()) {
            (Some(a), Some(b)) if secs > 0.0 => {
                into.disk_iops = Some(b.saturating_sub(a) as f64 / secs)
            }
            _ => {
                into.host_reason =
                    Some("disk IOPS need /proc/diskstats (Linux); it could not be read".into())
            }
        }
    }
}

/// Connections in use and max_connections.
pub async fn connections(
    pool: &sqlx::PgPool,
    into: &mut ResourceSample,
) -> Result<(), CollectError> {
    const Q: &str = include_str!("../sql/budget_connections.sql");
    let row = sqlx::query(Q)
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query("budget_connections", e))?;
    let counts: ConnectionCounts = decode("budget_connections", &row)?;
    into.connections_used = Some(counts.used);
    into.max_connections = Some(counts.max_connections);
    Ok(())
}

/// The row of `budget_connections.sql`.
#[derive(sqlx::FromRow)]
struct ConnectionCounts {
    used: i64,
    max_connections: i64,
}
