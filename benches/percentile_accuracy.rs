//! Accuracy of the estimated workload P95/P99: a controlled workload runs against a throwaway
//! cluster while the client times every execution (the truth); then the estimate built from
//! pg_stat_statements' aggregates, and the naive histogram of per-statement means, are compared
//! with it. Prints the relative errors; it measures, it does not pass or fail.
//!
//! Run: `cargo bench --bench percentile_accuracy` (options: `-- --seed N --scale F --workers N`).

use std::time::Instant;

use dbdoctor::analyze::workload::{moments, statement_latency, workload_latency};
use dbdoctor::collect::capabilities;
use dbdoctor::collect::statements::{collect, StatementsOptions};
use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use dbdoctor::stats::{naive_workload, LatencyRecorder, LatencySummary, Moments};
use sqlx::postgres::PgPoolOptions;
use sqlx::Executor;

/// Deterministic generator (no randomness crate needed).
struct SplitMix(u64);
impl SplitMix {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.next_f64(), self.next_f64());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }
}

/// One statement shape of the workload: its SQL (one float8 or int parameter) and how its
/// parameter is drawn.
struct Shape {
    name: &'static str,
    sql: &'static str,
    /// A substring that finds it among pg_stat_statements' normalized texts (constants become $n).
    key: &'static str,
    /// Executions at scale 1.
    count: usize,
    param: fn(&mut SplitMix) -> Param,
}

#[derive(Clone, Copy)]
enum Param {
    Secs(f64),
    Int(i32),
}

fn shapes() -> Vec<Shape> {
    vec![
        // Real queries.
        Shape {
            name: "point lookup",
            sql: "SELECT payload FROM items WHERE id = $1",
            key: "WHERE id = $1",
            count: 3000,
            param: |r| Param::Int((r.next_f64() * 200_000.0) as i32 + 1),
        },
        Shape {
            name: "range sum, lognormal width",
            sql: "SELECT sum(length(payload)) FROM items WHERE id BETWEEN 1000 AND 1000 + $1",
            key: "sum(length(payload))",
            count: 1500,
            param: |r| Param::Int(r.lognormal(2_000.0, 1.0).min(190_000.0) as i32),
        },
        Shape {
            name: "seq scan aggregate",
            sql: "SELECT cat, count(*) FROM items WHERE cat = $1 GROUP BY cat",
            key: "GROUP BY cat",
            count: 120,
            param: |r| Param::Int((r.next_f64() * 50.0) as i32),
        },
        // pg_sleep shapes with known, skewed distributions.
        Shape {
            name: "sleep lognormal 2ms s=0.6",
            sql: "SELECT pg_sleep($1)",
            key: "SELECT pg_sleep($1)",
            count: 800,
            param: |r| Param::Secs(r.lognormal(2.0, 0.6) / 1000.0),
        },
        Shape {
            name: "sleep lognormal 8ms s=1.0",
            sql: "SELECT 1 AS one FROM pg_sleep($1)",
            key: "AS one",
            count: 300,
            param: |r| Param::Secs(r.lognormal(8.0, 1.0).min(400.0) / 1000.0),
        },
        Shape {
            name: "sleep bimodal 90% 1ms / 10% 30ms",
            sql: "SELECT 2 AS b, pg_sleep($1) AS a",
            key: "AS b, pg_sleep",
            count: 300,
            param: |r| {
                let ms = if r.next_f64() < 0.9 {
                    1.0 + 0.2 * r.next_f64()
                } else {
                    30.0 + 5.0 * r.next_f64()
                };
                Param::Secs(ms / 1000.0)
            },
        },
        Shape {
            name: "sleep 5ms + exponential(5ms)",
            sql: "SELECT count(*) AS slept FROM pg_sleep($1)",
            key: "AS slept",
            count: 200,
            param: |r| Param::Secs((5.0 - 5.0 * r.next_f64().ln()) / 1000.0),
        },
    ]
}

fn rel_err(est: f64, truth: f64) -> f64 {
    (est - truth) / truth
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(42);
    let scale: f64 = arg("--scale").and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let cluster = EphemeralCluster::start(&EphemeralOptions {
        pg_stat_statements_in_template: true,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("cannot start a throwaway PostgreSQL: {e}"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let workers: usize = arg("--workers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2)
        .max(1);
    rt.block_on(run(&cluster, seed, scale, workers));
}

async fn run(cluster: &EphemeralCluster, seed: u64, scale: f64, workers: usize) {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&cluster.url("postgres"))
        .await
        .expect("connect");
    pool.execute(
        "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
         CREATE TABLE items (id int PRIMARY KEY, cat int, payload text);
         INSERT INTO items SELECT g, g % 50, repeat(md5(g::text), 1 + g % 4) FROM generate_series(1, 200000) g;
",
    )
    .await
    .expect("setup");
    pool.execute("VACUUM ANALYZE items").await.expect("vacuum");

    // The schedule: every execution of every shape, shuffled.
    let shapes = shapes();
    let mut rng = SplitMix(seed);
    let mut plan: Vec<(usize, Param)> = Vec::new();
    for (i, s) in shapes.iter().enumerate() {
        let n = ((s.count as f64) * scale).round().max(1.0) as usize;
        for _ in 0..n {
            plan.push((i, (s.param)(&mut rng)));
        }
    }
    for i in (1..plan.len()).rev() {
        let j = (rng.next_f64() * (i + 1) as f64) as usize;
        plan.swap(i, j);
    }
    // Warm every connection's prepared statements before the reset, so the measured run has the
    // same steady state on both sides.
    for s in &shapes {
        for _ in 0..4 {
            let q = sqlx::query(s.sql);
            let q = match (s.param)(&mut rng) {
                Param::Secs(_) => q.bind(0.0f64),
                Param::Int(v) => q.bind(v),
            };
            q.execute(&pool).await.expect("warm-up");
        }
    }
    pool.execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();

    let started = Instant::now();
    let chunks: Vec<Vec<(usize, Param)>> = (0..workers)
        .map(|w| plan.iter().skip(w).step_by(workers).cloned().collect())
        .collect();
    let mut handles = Vec::new();
    for chunk in chunks {
        let pool = pool.clone();
        let sqls: Vec<&'static str> = shapes.iter().map(|s| s.sql).collect();
        handles.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await.unwrap();
            let mut recs: Vec<LatencyRecorder> =
                sqls.iter().map(|_| LatencyRecorder::new()).collect();
            for (i, p) in chunk {
                let q = sqlx::query(sqls[i]);
                let q = match p {
                    Param::Secs(v) => q.bind(v),
                    Param::Int(v) => q.bind(v),
                };
                let t = Instant::now();
                q.execute(&mut *conn).await.expect("workload statement");
                recs[i].record_duration(t.elapsed());
            }
            recs
        }));
    }
    let mut per_shape: Vec<LatencyRecorder> =
        shapes.iter().map(|_| LatencyRecorder::new()).collect();
    for h in handles {
        for (i, r) in h.await.unwrap().into_iter().enumerate() {
            per_shape[i].merge(&r);
        }
    }
    let wall = started.elapsed();
    let mut truth = LatencyRecorder::new();
    for r in &per_shape {
        truth.merge(r);
    }
    let truth = truth.summarize();

    let caps = capabilities::probe(&pool).await.expect("capabilities");
    let snap = collect(&pool, &caps, &StatementsOptions::default())
        .await
        .expect("collect");
    let est = workload_latency(&snap);
    let m: Vec<Moments> = snap.workload().map(moments).collect();
    let naive = naive_workload(&m);

    println!(
        "PostgreSQL {}, pg_stat_statements {}, seed {seed}, scale {scale}, {workers} client connections",
        caps.server_version, snap.extension_version
    );
    println!(
        "{} executions timed by the client in {:.1}s; pg_stat_statements counted {} calls in {} statements",
        truth.count,
        wall.as_secs_f64(),
        snap.total_calls(),
        snap.workload().count()
    );
    println!();
    println!("workload           p50 ms    p95 ms    p99 ms   p95 err   p99 err");
    let line = |name: &str, s: &LatencySummary| {
        println!(
            "{name:<16} {:>8.3}  {:>8.3}  {:>8.3}  {:>+7.1}%  {:>+7.1}%",
            s.p50_ms,
            s.p95_ms,
            s.p99_ms,
            100.0 * rel_err(s.p95_ms, truth.p95_ms),
            100.0 * rel_err(s.p99_ms, truth.p99_ms)
        )
    };
    line("truth (client)", &truth);
    line("estimated", &est);
    line("naive (means)", &naive);

    println!();
    println!("per statement (estimated vs client truth; naive = the statement's mean)");
    println!(
        "{:<34} {:>6}  {:>9} {:>9} {:>7} {:>7}  {:>9} {:>9} {:>7} {:>7}",
        "shape",
        "calls",
        "p95 true",
        "p95 est",
        "err",
        "naive",
        "p99 true",
        "p99 est",
        "err",
        "naive"
    );
    let workload: Vec<_> = snap.workload().collect();
    for (i, shape) in shapes.iter().enumerate() {
        let t = per_shape[i].summarize();
        let found: Vec<_> = workload
            .iter()
            .filter(|s| s.query.as_deref().is_some_and(|q| q.contains(shape.key)))
            .collect();
        let [st] = found.as_slice() else {
            println!(
                "{:<34} {} matches in pg_stat_statements",
                shape.name,
                found.len()
            );
            continue;
        };
        let e = statement_latency(st);
        println!(
            "{:<34} {:>6}  {:>9.3} {:>9.3} {:>+6.1}% {:>+6.1}%  {:>9.3} {:>9.3} {:>+6.1}% {:>+6.1}%",
            shape.name,
            e.count,
            t.p95_ms,
            e.p95_ms,
            100.0 * rel_err(e.p95_ms, t.p95_ms),
            100.0 * rel_err(st.mean_exec_time_ms, t.p95_ms),
            t.p99_ms,
            e.p99_ms,
            100.0 * rel_err(e.p99_ms, t.p99_ms),
            100.0 * rel_err(st.mean_exec_time_ms, t.p99_ms)
        );
    }
    println!();
    println!(
        "client truth includes the network round trip and client overhead (~{:.2} ms at p50 for the point lookup); pg_stat_statements times execution only",
        per_shape[0].summarize().p50_ms
    );
    pool.close().await;
}
