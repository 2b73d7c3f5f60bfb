//! What does sampling pg_stat_activity ten times a second cost? On a throwaway cluster, with
//! BENCH_SESSIONS (default 20) sessions running a CPU-bound statement in a loop, this runs the
//! workload for BENCH_SECONDS (default 5) without the sampler, then with it, and prints:
//!
//! - the sampler's own time per sample (mean and max) and its share of the window,
//! - the workload's statements per second without and with the sampler, and the difference.
//!
//! `cargo bench --bench wait_sampling`. Numbers depend on the machine and its load: run it on
//! an otherwise idle machine and repeat.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dbdoctor::collect::wait_samples;
use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::Connection;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Run the workload for `secs`; statements completed.
async fn workload(url: &str, sessions: u64, secs: u64) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..sessions {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        let (stop, done) = (stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                sqlx::query("SELECT count(*) FROM generate_series(1, 20000)")
                    .execute(&mut c)
                    .await
                    .expect("workload statement");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("workload task");
    }
    done.load(Ordering::Relaxed)
}

fn main() {
    let sessions = env_u64("BENCH_SESSIONS", 20);
    let secs = env_u64("BENCH_SECONDS", 5);
    let cluster = EphemeralCluster::start(&EphemeralOptions::default()).expect("start cluster");
    let url = cluster.url("postgres");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("pool");
        let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
            .fetch_one(&pool)
            .await
            .expect("version");
        let without = workload(&url, sessions, secs).await;
        let sampler = {
            let pool = pool.clone();
            tokio::spawn(async move {
                wait_samples::sample(&pool, version, Duration::from_secs(secs)).await
            })
        };
        let with = workload(&url, sessions, secs).await;
        let s = sampler.await.expect("sampler task").expect("sampling");
        let n = s.samples.len().max(1) as f64;
        let rows: usize = s.samples.iter().map(|x| x.sessions.len()).sum();
        println!(
            "wait sampling: {} samples every {} ms over {:.1} s, {:.1} sessions per sample",
            s.samples.len(),
            s.interval_ms,
            s.window_ms / 1000.0,
            rows as f64 / n
        );
        println!(
            "  sampler time: {:.2} ms per sample, {:.2}% of the window",
            s.sampling_ms / n,
            s.sampling_ms / s.window_ms * 100.0
        );
        let rate = |x: u64| x as f64 / secs as f64;
        println!(
            "  workload ({sessions} sessions): {:.0} statements/s without, {:.0} with the sampler ({:+.1}%)",
            rate(without),
            rate(with),
            (rate(with) / rate(without).max(1e-9) - 1.0) * 100.0
        );
    });
    drop(cluster);
}
