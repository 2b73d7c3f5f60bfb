//! Index advisor accuracy: a labelled workload on a throwaway cluster, scored for precision and
//! recall with HypoPG and in heuristic mode; each true positive is then built for real and the
//! statement's measured time before and after is printed. Not a pass/fail test.
//!
//! Run: `cargo bench --bench advisor_accuracy` (PG_BINDIR picks the server; HypoPG must be
//! installed for that server for the verified half).

use std::collections::BTreeSet;
use std::time::Instant;

use dbdoctor::advisor::{self, AdvisorOptions, AdvisorReport, StatementInput};
use dbdoctor::collect::capabilities;
use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool, Row};

const SEED: &str = "
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
INSERT INTO countries SELECT 'c' || g, 'Country ' || g FROM generate_series(1, 200) g;

CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    org_id int NOT NULL,
    status text NOT NULL,
    country text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO users
SELECT g, 'user' || g || '@example.com', g % 500,
       CASE WHEN g % 10 = 0 THEN 'inactive' ELSE 'active' END,
       'c' || (g % 200 + 1),
       timestamptz '2025-01-01' + g * interval '2 minutes'
FROM generate_series(1, 200000) g;

CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    status text NOT NULL,
    total numeric(10,2) NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO orders
SELECT g, (g::bigint * 7919) % 200000 + 1,
       CASE WHEN g % 10 < 7 THEN 'paid' WHEN g % 10 < 9 THEN 'shipped' ELSE 'refunded' END,
       (g % 10000) / 100.0,
       timestamptz '2025-01-01' + g * interval '1 minute'
FROM generate_series(1, 600000) g;
CREATE INDEX orders_created_at ON orders (created_at);

CREATE TABLE products (
    id bigint PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    category_id int NOT NULL,
    price numeric(10,2) NOT NULL
);
INSERT INTO products SELECT g, 'SKU-' || g, g % 400, (g % 5000) / 10.0
FROM generate_series(1, 100000) g;

CREATE TABLE events (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL
);
INSERT INTO events
SELECT g, (g::bigint * 104729) % 200000 + 1, 'k' || (g % 8),
       timestamptz '2025-01-01' + g * interval '30 seconds'
FROM generate_series(1, 400000) g;
";

#[derive(Clone)]
enum P {
    I(i64),
    T(String),
    Ts(chrono::DateTime<chrono::Utc>),
}

struct Template {
    name: &'static str,
    sql: &'static str,
    params: fn(u64) -> Vec<P>,
    /// Acceptable indexes (table, columns); empty = this statement needs no index.
    needs: &'static [(&'static str, &'static [&'static str])],
    why_none: &'static str,
}

fn ts(minutes: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::minutes(minutes)
}

/// A small deterministic generator, so every run binds the same values.
fn rnd(i: u64, salt: u64) -> u64 {
    let mut x = i
        .wrapping_mul(6364136223846793005)
        .wrapping_add(salt.wrapping_mul(1442695040888963407));
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51afd7ed558ccd);
    x ^ (x >> 29)
}

fn templates() -> Vec<Template> {
    vec![
        Template {
            name: "user by email",
            sql: "SELECT id, org_id FROM users WHERE email = $1",
            params: |i| vec![P::T(format!("user{}@example.com", rnd(i, 1) % 200000 + 1))],
            needs: &[("users", &["email"])],
            why_none: "",
        },
        Template {
            name: "orders of a user",
            sql: "SELECT id, total FROM orders WHERE user_id = $1",
            params: |i| vec![P::I((rnd(i, 2) % 200000 + 1) as i64)],
            needs: &[
                ("orders", &["user_id"]),
                ("orders", &["user_id", "created_at"]),
            ],
            why_none: "",
        },
        Template {
            name: "latest orders of a user",
            sql: "SELECT id, total, created_at FROM orders WHERE user_id = $1 \
                  ORDER BY created_at DESC LIMIT 10",
            params: |i| vec![P::I((rnd(i, 3) % 200000 + 1) as i64)],
            needs: &[
                ("orders", &["user_id"]),
                ("orders", &["user_id", "created_at"]),
            ],
            why_none: "",
        },
        Template {
            name: "active members of an org",
            sql: "SELECT id, email FROM users WHERE org_id = $1 AND status = $2",
            params: |i| vec![P::I((rnd(i, 4) % 500) as i64), P::T("active".into())],
            needs: &[("users", &["org_id"]), ("users", &["org_id", "status"])],
            why_none: "",
        },
        Template {
            name: "user events in a window",
            sql: "SELECT count(*) FROM events WHERE user_id = $1 AND at BETWEEN $2 AND $3",
            params: |i| {
                let start = (rnd(i, 5) % 100000) as i64;
                vec![
                    P::I((rnd(i, 6) % 200000 + 1) as i64),
                    P::Ts(ts(start)),
                    P::Ts(ts(start + 60 * 24 * 30)),
                ]
            },
            needs: &[("events", &["user_id"]), ("events", &["user_id", "at"])],
            why_none: "",
        },
        Template {
            name: "products of a category",
            sql: "SELECT p.id, p.price FROM products p WHERE p.category_id = $1 \
                  ORDER BY p.price LIMIT 20",
            params: |i| vec![P::I((rnd(i, 7) % 400) as i64)],
            needs: &[
                ("products", &["category_id"]),
                ("products", &["category_id", "price"]),
            ],
            why_none: "",
        },
        Template {
            name: "events in the last hour",
            sql: "SELECT id, kind FROM events WHERE at BETWEEN $1 AND $2",
            params: |i| {
                let s = (rnd(i, 13) % 100000) as i64;
                vec![P::Ts(ts(s)), P::Ts(ts(s + 60))]
            },
            needs: &[("events", &["at"])],
            why_none: "",
        },
        Template {
            name: "orders of a user by email",
            sql: "SELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id \
                  WHERE u.email = $1",
            params: |i| vec![P::T(format!("user{}@example.com", rnd(i, 14) % 200000 + 1))],
            needs: &[
                ("users", &["email"]),
                ("orders", &["user_id"]),
                ("orders", &["user_id", "created_at"]),
            ],
            why_none: "",
        },
        Template {
            name: "count of events of a kind",
            sql: "SELECT count(*) FROM events WHERE kind = $1",
            params: |i| vec![P::T(format!("k{}", i % 8))],
            needs: &[("events", &["kind"])],
            why_none: "",
        },
        Template {
            name: "events of a kind",
            sql: "SELECT id, user_id, at FROM events WHERE kind = $1",
            params: |i| vec![P::T(format!("k{}", i % 8))],
            needs: &[],
            why_none: "1 row in 8, fetched whole: a scan is as cheap",
        },
        Template {
            name: "users by status",
            sql: "SELECT count(*) FROM users WHERE status = $1",
            params: |i| vec![P::T(if i % 2 == 0 { "active" } else { "inactive" }.into())],
            needs: &[],
            why_none: "low selectivity: 90% of users are active",
        },
        Template {
            name: "orders by status",
            sql: "SELECT count(*) FROM orders WHERE status = $1",
            params: |_| vec![P::T("paid".into())],
            needs: &[],
            why_none: "low selectivity: 70% of orders are paid",
        },
        Template {
            name: "country by name",
            sql: "SELECT code FROM countries WHERE name = $1",
            params: |i| vec![P::T(format!("Country {}", rnd(i, 8) % 200 + 1))],
            needs: &[],
            why_none: "tiny table (200 rows)",
        },
        Template {
            name: "product by sku",
            sql: "SELECT id, price FROM products WHERE sku = $1",
            params: |i| vec![P::T(format!("SKU-{}", rnd(i, 9) % 100000 + 1))],
            needs: &[],
            why_none: "already indexed (unique constraint)",
        },
        Template {
            name: "orders in a time range",
            sql: "SELECT count(*) FROM orders WHERE created_at >= $1 AND created_at < $2",
            params: |i| {
                let s = (rnd(i, 10) % 500000) as i64;
                vec![P::Ts(ts(s)), P::Ts(ts(s + 60))]
            },
            needs: &[],
            why_none: "already indexed (orders_created_at)",
        },
        Template {
            name: "user by id",
            sql: "SELECT email FROM users WHERE id = $1",
            params: |i| vec![P::I((rnd(i, 11) % 200000 + 1) as i64)],
            needs: &[],
            why_none: "primary key",
        },
        Template {
            name: "user by lower(email)",
            sql: "SELECT id FROM users WHERE lower(email) = $1",
            params: |i| vec![P::T(format!("user{}@example.com", rnd(i, 12) % 200000 + 1))],
            needs: &[],
            why_none: "needs an expression index (out of scope for a plain btree suggestion)",
        },
    ]
}

/// pg_stat_statements replaces constants (`LIMIT 10` becomes `LIMIT $2`): compare fingerprints.
fn same_statement(a: &str, b: &str) -> bool {
    match (pg_query::fingerprint(a), pg_query::fingerprint(b)) {
        (Ok(x), Ok(y)) => x.value == y.value,
        _ => false,
    }
}

async fn run_once(pool: &PgPool, t: &Template, i: u64) {
    let mut q = sqlx::query(t.sql);
    for p in (t.params)(i) {
        q = match p {
            P::I(v) => q.bind(v),
            P::T(v) => q.bind(v),
            P::Ts(v) => q.bind(v),
        };
    }
    q.fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
}

/// Mean milliseconds per call over `n` calls (after one warm-up call).
async fn measure(pool: &PgPool, t: &Template, n: u64) -> f64 {
    run_once(pool, t, 10_000).await;
    let start = Instant::now();
    for i in 0..n {
        run_once(pool, t, 20_000 + i).await;
    }
    start.elapsed().as_secs_f64() * 1000.0 / n as f64
}

struct Score {
    suggested: usize,
    correct: usize,
    needs: usize,
    satisfied: usize,
    hard_negative_hits: usize,
}

fn score(report: &AdvisorReport, tpl: &[Template], ids: &[(i64, usize)]) -> Score {
    let template_of = |qid: i64| ids.iter().find(|(q, _)| *q == qid).map(|(_, t)| *t);
    let acceptable: BTreeSet<(String, Vec<String>)> = tpl
        .iter()
        .flat_map(|t| t.needs.iter())
        .map(|(tb, cols)| (tb.to_string(), cols.iter().map(|c| c.to_string()).collect()))
        .collect();
    let mut s = Score {
        suggested: report.suggestions.len(),
        correct: 0,
        needs: tpl.iter().filter(|t| !t.needs.is_empty()).count(),
        satisfied: 0,
        hard_negative_hits: 0,
    };
    for sug in &report.suggestions {
        if acceptable.contains(&(sug.table.clone(), sug.columns.clone())) {
            s.correct += 1;
        }
        for h in &sug.statements {
            if let Some(t) = template_of(h.queryid) {
                if tpl[t].needs.is_empty() {
                    s.hard_negative_hits += 1;
                }
            }
        }
    }
    for t in tpl.iter().filter(|t| !t.needs.is_empty()) {
        let ok = report.suggestions.iter().any(|sug| {
            t.needs.iter().any(|(tb, cols)| {
                sug.table == *tb
                    && sug
                        .columns
                        .iter()
                        .map(|c| c.as_str())
                        .eq(cols.iter().copied())
            })
        });
        if ok {
            s.satisfied += 1;
        }
    }
    s
}

fn print_report(label: &str, report: &AdvisorReport, s: &Score) {
    let precision = if s.suggested == 0 {
        1.0
    } else {
        s.correct as f64 / s.suggested as f64
    };
    let recall = s.satisfied as f64 / s.needs as f64;
    println!("\n== {label} ==");
    for sug in &report.suggestions {
        let costs: Vec<String> = sug
            .statements
            .iter()
            .map(|h| match (h.cost_before, h.cost_after) {
                (Some(b), Some(a)) => format!("{b:.0}->{a:.0}"),
                _ => "unverified".into(),
            })
            .collect();
        println!(
            "  {}.{} ({})  statements={} calls={} cost[{}] size~{}",
            sug.schema,
            sug.table,
            sug.columns.join(", "),
            sug.statements.len(),
            sug.calls,
            costs.join(" "),
            sug.estimated_size_bytes
                .map(dbdoctor::util::human_bytes)
                .unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "  suggestions={} correct={} precision={precision:.2} recall={recall:.2} ({}/{}) \
         needs-none hits={}",
        s.suggested, s.correct, s.satisfied, s.needs, s.hard_negative_hits
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(bench());
}

async fn bench() {
    let bindir = match std::env::var_os("PG_BINDIR") {
        Some(_) => None,
        None => Some(std::path::PathBuf::from("/usr/lib/postgresql/15/bin")).filter(|p| p.exists()),
    };
    let cluster = EphemeralCluster::start(&EphemeralOptions {
        bindir,
        pg_stat_statements_in_template: true,
        extra_conf: vec!["pg_stat_statements.max = 5000".into()],
        ..Default::default()
    })
    .expect("start a throwaway PostgreSQL");
    let url = cluster.url("postgres");
    let admin = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("connect");
    admin
        .execute("CREATE DATABASE advisor_bench")
        .await
        .expect("create database");
    let url = cluster.url("advisor_bench");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .expect("connect");
    let t0 = Instant::now();
    sqlx::raw_sql(SEED).execute(&pool).await.expect("seed");
    pool.execute("VACUUM ANALYZE")
        .await
        .expect("vacuum analyze");
    println!("seeded in {:.1}s", t0.elapsed().as_secs_f64());
    let hypopg = pool
        .execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        .await
        .is_ok();
    pool.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .expect("pg_stat_statements");
    pool.execute("SELECT pg_stat_statements_reset()")
        .await
        .expect("reset");

    let tpl = templates();
    let t0 = Instant::now();
    for t in &tpl {
        for i in 0..25 {
            run_once(&pool, t, i).await;
        }
    }
    println!("workload ran in {:.1}s", t0.elapsed().as_secs_f64());
    // Index-only scans are costed from the visibility map. The first VACUUM may not mark pages
    // all-visible while an autovacuum ANALYZE started during the seed still holds its snapshot;
    // a settled database has it mostly set, so vacuum again and print what it covers.
    pool.execute("VACUUM").await.expect("vacuum");
    let vis: Vec<(String, f64)> = sqlx::query_as(
        "SELECT relname::text, CASE WHEN relpages > 0 THEN relallvisible::float8 / relpages \
         ELSE 1 END FROM pg_class WHERE relname IN ('users', 'orders', 'events', 'products') \
         ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .expect("visibility");
    let vis: Vec<String> = vis
        .iter()
        .map(|(t, f)| format!("{t} {:.0}%", f * 100.0))
        .collect();
    println!("all-visible pages: {}", vis.join(", "));

    let rows = sqlx::query(
        "SELECT queryid, query, calls, total_exec_time FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(&pool)
    .await
    .expect("pg_stat_statements");
    let stmts: Vec<StatementInput> = rows
        .iter()
        .map(|r| StatementInput {
            queryid: r.get("queryid"),
            query: r.get("query"),
            calls: r.get("calls"),
            total_time_ms: r.get("total_exec_time"),
        })
        .collect();
    let ids: Vec<(i64, usize)> = stmts
        .iter()
        .filter_map(|s| {
            tpl.iter()
                .position(|t| same_statement(t.sql, &s.query))
                .map(|i| (s.queryid, i))
        })
        .collect();
    for t in &tpl {
        assert!(
            stmts.iter().any(|s| same_statement(t.sql, &s.query)),
            "template {:?} not in pg_stat_statements: {:?}",
            t.sql,
            stmts.iter().map(|s| &s.query).collect::<Vec<_>>()
        );
    }

    let ro = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(
            url.parse::<PgConnectOptions>()
                .unwrap()
                .options([("default_transaction_read_only", "on")]),
        )
        .await
        .expect("read-only pool");
    let caps = capabilities::probe(&ro).await.expect("capabilities");

    let mut verified_report = None;
    if hypopg {
        let t0 = Instant::now();
        let r = advisor::advise(&ro, &caps, &stmts, &AdvisorOptions::default())
            .await
            .expect("advise with HypoPG");
        let s = score(&r, &tpl, &ids);
        print_report(
            &format!(
                "HypoPG {} ({:.1}s)",
                r.hypopg_version.clone().unwrap_or_default(),
                t0.elapsed().as_secs_f64()
            ),
            &r,
            &s,
        );
        verified_report = Some(r);
    } else {
        println!("\nHypoPG is not available for this server: verified mode not measured");
    }
    let t0 = Instant::now();
    let heuristic = advisor::advise(
        &ro,
        &caps,
        &stmts,
        &AdvisorOptions {
            use_hypopg: false,
            ..Default::default()
        },
    )
    .await
    .expect("advise heuristic");
    let s = score(&heuristic, &tpl, &ids);
    print_report(
        &format!("heuristic ({:.1}s)", t0.elapsed().as_secs_f64()),
        &heuristic,
        &s,
    );

    // Per-statement reasons for the needs-none set.
    let main_report = verified_report.as_ref().unwrap_or(&heuristic);
    println!("\n== every template: label and the advisor's verdict ==");
    for (qid, ti) in &ids {
        let t = &tpl[*ti];
        let o = main_report.statements.iter().find(|o| o.queryid == *qid);
        println!(
            "  {:<28} label: {:<52} advisor: {}",
            t.name,
            if t.needs.is_empty() {
                format!("none: {}", t.why_none)
            } else {
                let n: Vec<String> = t
                    .needs
                    .iter()
                    .map(|(tb, c)| format!("{tb}({})", c.join(",")))
                    .collect();
                n.join(" | ")
            },
            o.map(|o| format!("{} ({})", o.outcome, o.detail))
                .unwrap_or_else(|| "-".into())
        );
    }

    // Ground truth: build every suggestion for real (together, as they would be deployed) and
    // time each statement they help, before and after.
    println!("\n== suggestions built for real (mean of 20 calls per statement) ==");
    let mut helped: Vec<usize> = main_report
        .suggestions
        .iter()
        .flat_map(|sug| &sug.statements)
        .filter_map(|h| ids.iter().find(|(q, _)| *q == h.queryid).map(|(_, t)| *t))
        .collect();
    helped.sort();
    helped.dedup();
    let mut before = Vec::new();
    for &t in &helped {
        before.push(measure(&pool, &tpl[t], 20).await);
    }
    for sug in &main_report.suggestions {
        pool.execute(sug.create_sql.replace(" CONCURRENTLY", "").as_str())
            .await
            .expect("create index");
    }
    pool.execute("ANALYZE").await.expect("analyze");
    for (k, &t) in helped.iter().enumerate() {
        let after = measure(&pool, &tpl[t], 20).await;
        let by: Vec<String> = main_report
            .suggestions
            .iter()
            .filter(|sug| {
                sug.statements
                    .iter()
                    .any(|h| ids.iter().any(|(q, ti)| *q == h.queryid && *ti == t))
            })
            .map(|sug| format!("{}({})", sug.table, sug.columns.join(",")))
            .collect();
        println!(
            "  {:<4} {:<28} {:>8.3} ms -> {:>7.3} ms  ({:>5.1}x)  {}",
            if tpl[t].needs.is_empty() { "FP" } else { "TP" },
            tpl[t].name,
            before[k],
            after,
            before[k] / after.max(1e-6),
            by.join(" + ")
        );
    }
    for sug in &main_report.suggestions {
        pool.execute(sug.drop_sql.replace(" CONCURRENTLY", "").as_str())
            .await
            .expect("drop index");
    }
    drop(cluster);
}
