//! How fast is `dbdoctor doctor` on a big catalog? Builds 10,000 tables (about 33,000 indexes,
//! 10,000 foreign keys, a duplicate index on every third table) and 5,000 distinct statements on
//! a throwaway cluster, then times, on the same database:
//!
//! - `dbdoctor doctor --format json` end to end (the release binary, process start to exit),
//! - the same SQL doctor runs, one query after another through one psql session,
//! - check_postgres's `bloat` action, when check_postgres is installed,
//!
//! and prints the ratios and doctor's peak memory (max RSS of the child process).
//!
//! `cargo bench --bench doctor_catalog`; BENCH_TABLES (default 10000), BENCH_STATEMENTS (default
//! 5000) and BENCH_ROUNDS (default 3; the median is kept) change the size. BENCH_GENERATOR, the
//! folder of the shared catalog generator (gen_ddl.py, gen_stmts.py), loads its catalog instead
//! of the built-in one. BENCH_DATABASE_URL times an already loaded database instead of starting
//! a cluster (psql and check_postgres from PATH).

use std::process::{Command, Stdio};
use std::time::Instant;

use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use sqlx::{Connection, Executor};

/// Tables created per transaction (keeps the lock table small).
const CHUNK: usize = 250;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The SQL doctor runs against this database, as text psql can run ($n replaced by the values
/// doctor binds: no schema filter, current database only, the 50 largest tables).
fn doctor_sql() -> String {
    let files = [
        include_str!("../src/sql/capabilities.sql"),
        include_str!("../src/sql/extensions.sql"),
        include_str!("../src/sql/doctor_settings.sql"),
        include_str!("../src/sql/doctor_tables.sql"),
        include_str!("../src/sql/doctor_indexes.sql"),
        include_str!("../src/sql/doctor_foreign_keys.sql"),
        include_str!("../src/sql/doctor_sequences.sql"),
        // The bench connects as a superuser, for whom doctor reads pg_statistic itself.
        include_str!("../src/sql/doctor_column_stats_superuser.sql"),
        include_str!("../src/sql/doctor_relation_names.sql"),
        include_str!("../src/sql/doctor_database.sql"),
        include_str!("../src/sql/doctor_sessions.sql"),
        include_str!("../src/sql/statements_settings.sql"),
        include_str!("../src/sql/statements_1_10.sql"),
        include_str!("../src/sql/statements_info.sql"),
        include_str!("../src/sql/health_not_valid_constraints.sql"),
        include_str!("../src/sql/health_json_columns.sql"),
        include_str!("../src/sql/health_int_primary_keys.sql"),
        include_str!("../src/sql/health_columns.sql"),
        include_str!("../src/sql/health_tables.sql"),
        include_str!("../src/sql/health_long_names.sql"),
        include_str!("../src/sql/doctor_table_sizes.sql"),
        include_str!("../src/sql/doctor_index_sizes.sql"),
    ];
    let largest = |kind: &str, n: usize| {
        format!(
            "(SELECT array_agg(oid::int8) FROM (SELECT oid FROM pg_class WHERE relkind = '{kind}' \
             ORDER BY relpages DESC LIMIT {n}) x)"
        )
    };
    let mut out = String::new();
    for f in files {
        let mut sql = f
            .replace("{pgss_info}", "public.pg_stat_statements_info")
            .replace("{pgss}", "public.pg_stat_statements");
        sql = if f.contains("pg_table_size") {
            sql.replace("$1::int8[]", &largest("r", 50))
        } else if f.contains("pg_relation_size") {
            sql.replace("$1::int8[]", &largest("i", 200))
        } else if f.contains("$1::text[]") {
            sql.replace("$1::text[]", "NULL::text[]")
        } else {
            sql.replace("$1", "false")
        };
        out.push_str(sql.trim_end().trim_end_matches(';'));
        out.push_str(";\n");
    }
    out
}

async fn build_catalog(url: &str, tables: usize, statements: usize) {
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    c.execute("CREATE SCHEMA app").await.expect("schema");
    let t = Instant::now();
    for start in (0..tables).step_by(CHUNK) {
        let end = (start + CHUNK).min(tables);
        let sql = format!(
            "DO $$
             BEGIN
               FOR i IN {start}..{last} LOOP
                 EXECUTE format('CREATE TABLE app.t%s (id int PRIMARY KEY, a int, b int, c text, parent_id int %s)',
                   i, CASE WHEN i > 0 THEN format('REFERENCES app.t%s', i - 1) ELSE '' END);
                 EXECUTE format('CREATE INDEX t%s_a ON app.t%s (a)', i, i);
                 EXECUTE format('CREATE INDEX t%s_parent_b ON app.t%s (parent_id, b)', i, i);
                 IF i % 3 = 0 THEN
                   EXECUTE format('CREATE INDEX t%s_a_dup ON app.t%s (a)', i, i);
                 END IF;
                 IF i % 10 = 0 THEN
                   EXECUTE format('INSERT INTO app.t%s SELECT g, g, g, md5(g::text), NULL FROM generate_series(1, 200) g', i);
                 END IF;
               END LOOP;
             END $$",
            last = end - 1
        );
        c.execute(sql.as_str()).await.expect("create tables");
    }
    c.execute("ANALYZE").await.expect("analyze");
    eprintln!(
        "built {tables} tables in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    c.execute("SELECT pg_stat_statements_reset()")
        .await
        .expect("reset");
    let t = Instant::now();
    let mut batch = String::new();
    for i in 0..statements {
        let table = i % tables;
        // Distinct shapes (different tables and column lists) make distinct queryids.
        batch.push_str(&format!(
            "SELECT {cols} FROM app.t{table} WHERE id = {i};\n",
            cols = ["a", "b", "a, b", "c", "*"][i % 5]
        ));
        if i % 500 == 499 {
            c.execute(batch.as_str()).await.expect("statements");
            batch.clear();
        }
    }
    if !batch.is_empty() {
        c.execute(batch.as_str()).await.expect("statements");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_statements")
        .fetch_one(&mut c)
        .await
        .expect("count statements");
    eprintln!(
        "ran {statements} statements ({n} pg_stat_statements entries) in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    c.close().await.ok();
}

/// Wall time of one run and the peak RSS of that child process, in KiB (from wait4).
// The child is reaped by wait4 (which also reports its rusage), not by Child::wait.
/// Load the shared generator's catalog (BENCH_GENERATOR names the folder holding gen_ddl.py and
/// gen_stmts.py): `gen_ddl.py N --rows 20 --big 3 --big-rows 200000`, `gen_stmts.py S --tables
/// 2000`, then ANALYZE, each piped into psql.
fn load_generated(cluster: &EphemeralCluster, dir: &str, tables: usize, statements: usize) {
    let url = url::Url::parse(&cluster.url("bench")).expect("url");
    let psql = cluster.bindir().join("psql");
    let run = |script: &str, args: &[String]| {
        let t = Instant::now();
        let mut gen = Command::new("python3")
            .arg(std::path::Path::new(dir).join(script))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the generator");
        let gen_out = gen.stdout.take().expect("generator output");
        let status = Command::new(&psql)
            .args(["-q", "-X", "-o", "/dev/null", "-h"])
            .arg(url.host_str().unwrap_or("127.0.0.1"))
            .args(["-p", &url.port().unwrap_or(5432).to_string(), "-U"])
            .arg(url.username())
            .args(["-d", "bench"])
            .env("PGPASSWORD", cluster.password())
            .stdin(gen_out)
            .status()
            .expect("psql");
        assert!(status.success(), "loading {script} failed");
        assert!(gen.wait().expect("generator").success(), "{script} failed");
        eprintln!("{script} loaded in {:.0} s", t.elapsed().as_secs_f64());
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    run(
        "gen_ddl.py",
        &s(&[
            &tables.to_string(),
            "--rows",
            "20",
            "--big",
            "3",
            "--big-rows",
            "200000",
        ]),
    );
    let sql = |q: &str| {
        let st = Command::new(&psql)
            .args(["-q", "-X", "-o", "/dev/null", "-h"])
            .arg(url.host_str().unwrap_or("127.0.0.1"))
            .args(["-p", &url.port().unwrap_or(5432).to_string(), "-U"])
            .arg(url.username())
            .args(["-d", "bench", "-c", q])
            .env("PGPASSWORD", cluster.password())
            .status()
            .expect("psql");
        assert!(st.success(), "{q} failed");
    };
    sql("ANALYZE");
    sql("SELECT pg_stat_statements_reset()");
    run(
        "gen_stmts.py",
        &s(&[&statements.to_string(), "--tables", "2000"]),
    );
}

#[allow(clippy::zombie_processes)]
fn timed(cmd: &mut Command) -> (f64, i64) {
    let t = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut status: libc::c_int = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r, pid, "wait4");
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let out = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).output();
        panic!("{cmd:?} failed: {out:?}");
    }
    (secs, ru.ru_maxrss)
}

/// Start a throwaway cluster and load the built-in catalog, or the shared generator's one.
fn start_and_load(tables: usize, statements: usize) -> EphemeralCluster {
    let cluster = EphemeralCluster::start(&EphemeralOptions {
        pg_stat_statements_in_template: true,
        extra_conf: vec![
            "max_locks_per_transaction = 256".into(),
            "pg_stat_statements.max = 10000".into(),
        ],
        ..Default::default()
    })
    .expect("start a throwaway PostgreSQL");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
            .await
            .expect("connect");
        admin
            .execute("CREATE DATABASE bench")
            .await
            .expect("create database");
        admin.close().await.ok();
        match std::env::var("BENCH_GENERATOR")
            .ok()
            .filter(|d| !d.is_empty())
        {
            Some(dir) => load_generated(&cluster, &dir, tables, statements),
            None => build_catalog(&cluster.url("bench"), tables, statements).await,
        }
    });
    cluster
}

fn main() {
    let tables = env_usize("BENCH_TABLES", 10_000);
    let statements = env_usize("BENCH_STATEMENTS", 5_000);
    let rounds = env_usize("BENCH_ROUNDS", 3).max(1);
    // BENCH_DATABASE_URL times an already loaded database (for example the shared generator's
    // catalog, which takes long to load) instead of building one on a throwaway cluster.
    let external = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let cluster = match &external {
        Some(_) => None,
        None => Some(start_and_load(tables, statements)),
    };
    let url = match (&external, &cluster) {
        (Some(u), _) => u.clone(),
        (None, Some(c)) => c.url("bench"),
        (None, None) => unreachable!("a cluster is started when no URL is given"),
    };
    let parsed = url::Url::parse(&url).expect("BENCH_DATABASE_URL is not a URL");
    let host = parsed.host_str().unwrap_or("127.0.0.1").to_string();
    let port = parsed.port().unwrap_or(5432).to_string();
    let user = parsed.username().to_string();
    let dbname = parsed.path().trim_start_matches('/').to_string();
    let password = match &cluster {
        Some(c) => c.password().to_string(),
        None => parsed.password().unwrap_or_default().to_string(),
    };

    // Warm the caches once (catalog and statistics) so every side is measured warm.
    let bin = env!("CARGO_BIN_EXE_dbdoctor");
    let doctor = || {
        let mut c = Command::new(bin);
        c.args([
            "--database-url",
            &url,
            "--format",
            "json",
            "--statement-timeout",
            "120",
            "doctor",
            "--budgets",
            "/nonexistent/budgets.toml",
        ])
        .env_remove("DATABASE_URL");
        c
    };
    let (_, _) = timed(&mut doctor());
    let out = doctor().output().expect("doctor");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor JSON");
    let count = |check: &str| {
        report["findings"]
            .as_array()
            .map_or(0, |f| f.iter().filter(|x| x["check"] == check).count())
    };
    eprintln!(
        "doctor saw {} tables, {} indexes; findings: duplicate_index {}, fk_without_index {}, unused_index {}, skipped {}",
        report["tables"]["total"],
        report["indexes"]["total"],
        count("duplicate_index"),
        count("fk_without_index"),
        count("unused_index"),
        report["skipped"].as_array().map_or(0, |s| s.len())
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let sql_file = dir.path().join("doctor.sql");
    std::fs::write(&sql_file, doctor_sql()).expect("write sql");
    let psql_bin = match &cluster {
        Some(c) => c.bindir().join("psql"),
        None => std::path::PathBuf::from("psql"),
    };
    let psql = || {
        let mut c = Command::new(&psql_bin);
        c.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &host,
            "-p",
            &port,
            "-U",
            &user,
            "-d",
            &dbname,
            "-o",
            "/dev/null",
            "-f",
        ])
        .arg(&sql_file)
        .env("PGPASSWORD", &password);
        c
    };
    let check_postgres = [
        "check_postgres_bloat",
        "check_postgres",
        "check_postgres.pl",
    ]
    .iter()
    .find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let check_postgres_once = |b: &str| {
        let mut c = Command::new(b);
        if !b.ends_with("_bloat") {
            c.arg("--action=bloat");
        }
        c.args([
            "--host",
            &host,
            "--port",
            &port,
            "--dbuser",
            &user,
            "--dbname",
            &dbname,
            "--warning",
            "10G",
            "--critical",
            "20G",
            "--timeout",
            "900",
        ])
        .env("PGPASSWORD", &password);
        let t = Instant::now();
        let out = c.output().expect("check_postgres");
        let s = t.elapsed().as_secs_f64();
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "check_postgres failed: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        s
    };
    let (_, _) = timed(&mut psql());

    // Rounds interleave the three sides so load from elsewhere hits them alike.
    let mut doctor_s = Vec::new();
    let mut psql_s = Vec::new();
    let mut cp_s = Vec::new();
    let mut peak_kib = 0;
    for round in 1..=rounds {
        let (s, rss) = timed(&mut doctor());
        doctor_s.push(s);
        peak_kib = peak_kib.max(rss);
        psql_s.push(timed(&mut psql()).0);
        eprintln!(
            "round {round}: doctor {s:.2} s, psql {:.2} s",
            psql_s[psql_s.len() - 1]
        );
        if let Some(b) = check_postgres {
            cp_s.push(check_postgres_once(b));
            eprintln!(
                "round {round}: check_postgres bloat {:.2} s",
                cp_s[cp_s.len() - 1]
            );
        }
    }
    let cp_s = (!cp_s.is_empty()).then_some(cp_s);

    let d = median(doctor_s.clone());
    let p = median(psql_s.clone());
    println!("doctor_catalog: {tables} tables, {statements} statements, {rounds} rounds (median)");
    println!("  dbdoctor doctor end to end : {d:.2} s  (runs: {doctor_s:.2?})");
    println!("  its queries through psql   : {p:.2} s  (runs: {psql_s:.2?})");
    println!(
        "  ratio doctor / psql        : {:.2}  (target <= 1.20)",
        d / p
    );
    match &cp_s {
        Some(v) => {
            let c = median(v.clone());
            println!("  check_postgres bloat       : {c:.2} s  (runs: {v:.2?})");
            println!(
                "  ratio doctor / check_postgres bloat: {:.2}  (target <= 0.50)",
                d / c
            );
        }
        None => println!(
            "  check_postgres bloat       : not installed (apt-get install check-postgres)"
        ),
    }
    println!(
        "  doctor peak memory (max RSS): {:.1} MiB  (target < 100 MiB)",
        peak_kib as f64 / 1024.0
    );
}
