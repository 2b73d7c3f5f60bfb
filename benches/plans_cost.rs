//! What do plans add to `dbdoctor doctor`? On a throwaway cluster with 100 tables and 150
//! distinct statements in pg_stat_statements, times `dbdoctor doctor --format json` end to end
//! (process start to exit) with `--plans 0`, `--plans 20` and `--plans 100`, and the plan
//! collection alone (in process) for 20 and 100 statements, and prints the ratios.
//!
//! `cargo bench --bench plans_cost`; BENCH_ROUNDS (default 5; the median is kept).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbdoctor::collect::{capabilities, plans, statements};
use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use dbdoctor::db::{connect, ConnectSettings, SessionMode};
use sqlx::{Connection, Executor};

const TABLES: usize = 100;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn doctor_ms(url: &str, plans: usize) -> f64 {
    let t = Instant::now();
    let st = Command::new(env!("CARGO_BIN_EXE_dbdoctor"))
        .args([
            "--database-url",
            url,
            "--format",
            "json",
            "doctor",
            "--plans",
        ])
        .arg(plans.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run dbdoctor");
    assert!(st.success(), "dbdoctor doctor --plans {plans} failed");
    t.elapsed().as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let cluster = EphemeralCluster::start(&EphemeralOptions {
        pg_stat_statements_in_template: true,
        ..Default::default()
    })
    .expect("throwaway cluster");
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    admin.execute("CREATE DATABASE bench").await.unwrap();
    let url = cluster.url("bench");
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    for i in 0..TABLES {
        c.execute(
            format!(
                "CREATE TABLE t{i} (id int PRIMARY KEY, a int NOT NULL, b text NOT NULL);
                 INSERT INTO t{i} SELECT g, g % 100, 'b' || g FROM generate_series(1, 2000) g;
                 ANALYZE t{i};"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    c.execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();
    for i in 0..TABLES {
        c.execute(format!("SELECT * FROM t{i} WHERE a = 5").as_str())
            .await
            .unwrap();
    }
    for i in 0..TABLES / 2 {
        let j = i + 1;
        c.execute(
            format!(
                "SELECT x.id, y.b FROM t{i} x JOIN t{j} y USING (id) WHERE x.b = 'b7' ORDER BY y.b"
            )
            .as_str(),
        )
        .await
        .unwrap();
    }
    c.close().await.ok();

    // In process: plan collection alone.
    let settings =
        ConnectSettings::resolve(Some(&url), Duration::from_secs(10), Duration::from_secs(60))
            .unwrap();
    let db = connect(&settings, SessionMode::ReadOnly).await.unwrap();
    let caps = capabilities::probe(&db.pool).await.unwrap();
    let snap = statements::collect(&db.pool, &caps, &Default::default())
        .await
        .unwrap();
    let mut collect_ms = Vec::new();
    for n in [20usize, 100] {
        let targets = plans::targets(&snap, n, &[]);
        assert_eq!(targets.len(), n);
        let mut v = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            let p = plans::collect(&db.pool, &caps, &targets, false)
                .await
                .unwrap();
            v.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(p.statements.iter().all(|s| s.plan.is_some()));
        }
        collect_ms.push((n, median(v)));
    }
    db.pool.close().await;

    // End to end.
    let mut e2e = Vec::new();
    for n in [0usize, 20, 100] {
        doctor_ms(&url, n); // warm-up
        let v: Vec<f64> = (0..rounds).map(|_| doctor_ms(&url, n)).collect();
        e2e.push((n, median(v)));
    }
    let base = e2e[0].1;
    println!(
        "plans_cost: PostgreSQL {}, {TABLES} tables, {} statements, median of {rounds}",
        caps.server_version,
        snap.statements.len()
    );
    for (n, ms) in &collect_ms {
        println!(
            "plan collection alone, {n:>3} statements: {ms:8.1} ms ({:.2} ms per statement)",
            ms / *n as f64
        );
    }
    for (n, ms) in &e2e {
        println!(
            "doctor --plans {n:<3} end to end:           {ms:8.1} ms (x{:.2} of --plans 0, +{:.1} ms)",
            ms / base,
            ms - base
        );
    }
}
