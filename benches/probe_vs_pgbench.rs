//! Is dbdoctor's probe load generator the bottleneck? Runs the same prepared primary-key lookup
//! with `pgbench -M prepared` and with a dbdoctor probe at concurrency 1, 4 and 16 against one
//! throwaway cluster, and prints the probe's throughput as a share of pgbench's (target >= 90 %).
//!
//! `cargo bench --bench probe_vs_pgbench`; BENCH_SECONDS sets each run's length (default 10),
//! BENCH_ROUNDS how many times each pair runs (default 3; the best of each side is kept). pgbench
//! gets the same number of client threads (`-j`) as the probe.

use std::process::Command;
use std::time::Duration;

use dbdoctor::budget::config::{ParamGen, Probe, Stop};
use dbdoctor::budget::probe::{self, RunOptions};
use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use sqlx::{Connection, Executor};

const ROWS: i64 = 100_000;
const SQL: &str = "SELECT v FROM bench_items WHERE id = $1";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// pgbench's tps (excluding connection time) for the same statement.
fn pgbench(cluster: &EphemeralCluster, url: &url::Url, clients: u32, seconds: u64) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("lookup.sql");
    std::fs::write(
        &script,
        format!("\\set id random(1, {ROWS})\nSELECT v FROM bench_items WHERE id = :id;\n"),
    )
    .expect("write pgbench script");
    let bin = cluster.bindir().join("pgbench");
    let bin = if bin.exists() { bin } else { "pgbench".into() };
    // The same number of client threads as the probe uses at this concurrency.
    let threads = probe::client_threads(clients);
    let out = Command::new(bin)
        .args(["-n", "-M", "prepared"])
        .args(["-c", &clients.to_string(), "-j", &threads.to_string()])
        .args(["-T", &seconds.to_string()])
        .arg("-f")
        .arg(&script)
        .args(["-h", url.host_str().unwrap_or("127.0.0.1")])
        .args(["-p", &url.port().unwrap_or(5432).to_string()])
        .args(["-U", url.username()])
        .arg(url.path().trim_start_matches('/'))
        .env("PGPASSWORD", cluster.password())
        .output()
        .expect("run pgbench (is it on PATH?)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench output:\n{text}"))
}

async fn probe_qps(url: &str, clients: u32, seconds: u64) -> f64 {
    let settings = dbdoctor::db::ConnectSettings::resolve(
        Some(url),
        Duration::from_secs(10),
        Duration::from_secs(60),
    )
    .expect("settings");
    let p = Probe {
        name: format!("lookup_c{clients}"),
        sql: SQL.to_string(),
        class: None,
        workload: None,
        concurrency: clients,
        stop: Stop::Duration(Duration::from_secs(seconds)),
        warmup: None,
        allow_writes: false,
        params: vec![ParamGen::Int { min: 1, max: ROWS }],
    };
    let r = probe::run(
        &settings,
        &p,
        RunOptions {
            progress: false,
            seed: 7,
        },
    )
    .await
    .expect("probe run");
    r.qps
}

fn main() {
    let seconds = env_u64("BENCH_SECONDS", 10);
    let rounds = env_u64("BENCH_ROUNDS", 3).max(1);
    let cluster = EphemeralCluster::start(&EphemeralOptions {
        extra_conf: vec!["max_connections = 100".into()],
        ..Default::default()
    })
    .expect("start a throwaway PostgreSQL");
    // Same runtime shape as the dbdoctor binary.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let url = cluster.url("bench");
    rt.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
            .await
            .expect("connect");
        admin
            .execute("CREATE DATABASE bench")
            .await
            .expect("create db");
        admin.close().await.ok();
        let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
        c.execute(
            format!(
                "CREATE TABLE bench_items (id int PRIMARY KEY, v int NOT NULL);
                 INSERT INTO bench_items SELECT g, g FROM generate_series(1, {ROWS}) g;"
            )
            .as_str(),
        )
        .await
        .expect("seed");
        // VACUUM cannot share a multi-statement (implicitly transactional) query string.
        c.execute("VACUUM ANALYZE bench_items")
            .await
            .expect("vacuum");
        c.close().await.ok();
    });
    let parsed = url::Url::parse(&url).expect("cluster url");
    println!(
        "statement: {SQL} (random id in 1..{ROWS}), {seconds}s per run, best of {rounds}, {} CPUs",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:>11} {:>12} {:>12} {:>7}",
        "concurrency", "pgbench tps", "probe qps", "ratio"
    );
    let mut worst: f64 = f64::INFINITY;
    for clients in [1u32, 4, 16] {
        let (mut pg, mut pr) = (0f64, 0f64);
        for _ in 0..rounds {
            pg = pg.max(pgbench(&cluster, &parsed, clients, seconds));
            pr = pr.max(rt.block_on(probe_qps(&url, clients, seconds)));
        }
        let ratio = pr / pg * 100.0;
        worst = worst.min(ratio);
        println!("{clients:>11} {pg:>12.0} {pr:>12.0} {ratio:>6.1}%");
    }
    println!(
        "worst ratio {worst:.1}% (target >= 90%): {}",
        if worst >= 90.0 { "met" } else { "NOT met" }
    );
}
