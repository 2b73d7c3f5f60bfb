//! Faults: the server vanishes in the middle of doctor, of a budget probe run and of
//! migrate apply. Each gives a one-line error and a documented exit code, never a hang, and
//! nothing is half-recorded.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use sqlx::{Connection, Executor, PgConnection};

fn start() -> EphemeralCluster {
    EphemeralCluster::start(&EphemeralOptions {
        pg_stat_statements_in_template: true,
        // A crash must not lose commits that happened before it (the default throwaway
        // cluster trades that away for speed).
        extra_conf: vec!["synchronous_commit = on".to_string()],
        ..Default::default()
    })
    .expect("throwaway cluster")
}

/// A database created after start, so it has pg_stat_statements (from template1).
async fn database(cluster: &EphemeralCluster) -> String {
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    admin.execute("CREATE DATABASE faults").await.unwrap();
    cluster.url("faults")
}

fn spawn(args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("dbdoctor"))
        .args(args)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Wait for the child with a hard limit; a hang fails the test.
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stderr).to_string();
            return (status.code(), text);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("dbdoctor hung after the server went away");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_one_line_error(stderr: &str) {
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("dbdoctor: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "expected one error line, got: {stderr}");
}

#[tokio::test]
async fn server_stops_during_doctor() {
    let mut cluster = start();
    let url = database(&cluster).await;
    // A window keeps doctor busy long enough to pull the server out from under it.
    let child = spawn(&["--database-url", &url, "doctor", "--window", "4s"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.kill_server();
    let (code, stderr) = finish(child, Duration::from_secs(60));
    assert_eq!(code, Some(3), "stderr: {stderr}");
    assert_one_line_error(&stderr);
    assert!(!stderr.contains(cluster.password()));
}

#[tokio::test]
async fn server_stops_during_a_budget_probe() {
    let mut cluster = start();
    let url = database(&cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let budgets = dir.path().join("budgets.toml");
    std::fs::write(
        &budgets,
        "version = 1\n[[probes]]\nname = \"spin\"\nsql = \"SELECT pg_sleep(0.01)\"\nconcurrency = 2\nduration = \"20s\"\n",
    )
    .unwrap();
    let child = spawn(&[
        "--database-url",
        &url,
        "budget",
        "--budgets",
        budgets.to_str().unwrap(),
    ]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    cluster.kill_server();
    let (code, stderr) = finish(child, Duration::from_secs(60));
    assert_eq!(code, Some(3), "{stderr}");
    assert_one_line_error(&stderr);
}

#[tokio::test]
async fn server_stops_during_migrate_apply() {
    let mut cluster = start();
    let url = database(&cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path();
    std::fs::write(
        m.join("1_first.up.sql"),
        "CREATE TABLE IF NOT EXISTS first_t (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        m.join("1_first.down.sql"),
        "DROP TABLE IF EXISTS first_t;\n",
    )
    .unwrap();
    std::fs::write(
        m.join("2_slow.up.sql"),
        "CREATE TABLE IF NOT EXISTS slow_t (id bigint PRIMARY KEY);\nSELECT pg_sleep(20);\n",
    )
    .unwrap();
    std::fs::write(m.join("2_slow.down.sql"), "DROP TABLE IF EXISTS slow_t;\n").unwrap();
    let child = spawn(&[
        "--database-url",
        &url,
        "migrate",
        "apply",
        "--no-backup",
        "--source",
        m.to_str().unwrap(),
    ]);
    // Wait until migration 2 is running, then take the server away.
    let mut admin = PgConnection::connect(&url).await.unwrap();
    let started = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap();
        if n > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "migration 2 never started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(admin);
    cluster.kill_server();
    let (code, stderr) = finish(child, Duration::from_secs(60));
    assert!(matches!(code, Some(3) | Some(5)), "exit {code:?}: {stderr}");
    assert_one_line_error(&stderr);

    // After a restart: migration 1 applied, migration 2 neither applied nor recorded.
    tokio::task::spawn_blocking(move || {
        cluster.restart().unwrap();
        cluster
    })
    .await
    .map(|cluster| async move {
        let mut c = PgConnection::connect(&cluster.url("faults")).await.unwrap();
        let versions: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut c)
                .await
                .unwrap();
        assert_eq!(versions, vec![1]);
        let slow: Option<String> = sqlx::query_scalar("SELECT to_regclass('slow_t')::text")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(slow, None, "the failed migration left a table behind");
        let held: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(held, 0);
        c.execute("SELECT 1").await.unwrap();
    })
    .unwrap()
    .await;
}

#[tokio::test]
async fn a_statement_timeout_in_one_collector_query_skips_only_that_part() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE locked_big (id bigint PRIMARY KEY, v text);
         INSERT INTO locked_big SELECT g, 'x' FROM generate_series(1, 1000) g;
         CREATE TABLE no_key (a int);
         ANALYZE;",
    )
    .await;
    // Another session holds ACCESS EXCLUSIVE: the exact-size query waits on it until our
    // statement_timeout (shorter than our 1 s lock_timeout here) cancels it.
    let mut holder = db.connect().await;
    holder
        .execute("BEGIN; LOCK TABLE locked_big IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let out = common::dbdoctor()
        .args([
            "--statement-timeout",
            "0.4",
            "--database-url",
            &db.url,
            "doctor",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    holder.execute("ROLLBACK").await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["reason"].as_str().unwrap_or("").contains("timed out")),
        "no part was marked timed out: {skipped:?}"
    );
    // The rest is intact: the other parts were read and reported.
    assert!(
        !skipped.iter().any(|s| s["what"] == "tables"),
        "{skipped:?}"
    );
    assert!(
        report["tables"].to_string().contains("no_key"),
        "tables section lost"
    );
    assert!(report["resources"].is_object(), "resources section lost");
    assert!(report["connection"]["round_trip_ms"].is_number());
}
