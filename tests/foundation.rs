//! Foundation against a real throwaway PostgreSQL: connection errors, the capabilities probe,
//! the harness's clean-up and the demo.

mod common;

use std::time::Duration;

use common::{dbdoctor, fresh_db, server};
use dbdoctor::collect::capabilities;
use dbdoctor::db::{connect, ConnectSettings, SessionMode};
use predicates::prelude::*;

fn settings(url: &str) -> ConnectSettings {
    ConnectSettings::resolve(Some(url), Duration::from_secs(5), Duration::from_secs(30)).unwrap()
}

#[tokio::test]
async fn refused_port_is_exit_3_naming_host_and_port() {
    // A port nobody listens on: bind one and close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://app:sekrit-pw@127.0.0.1:{port}/shop");
    dbdoctor()
        .args(["snapshot", "--out", "-", "--database-url", &url])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("sekrit-pw").not());
    let err = connect(&settings(&url), SessionMode::ReadOnly)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("refused"), "{msg}");
    assert!(!msg.contains("sekrit-pw"), "{msg}");
}

#[tokio::test]
async fn wrong_password_and_unknown_database_are_exit_3() {
    let db = fresh_db().await;
    let role = format!("app_{}", db.name);
    db.exec(&format!("CREATE ROLE {role} LOGIN PASSWORD 'right-pw'"))
        .await;
    let bad = db.url_as(&role, "wrong-pw-123");
    let err = connect(&settings(&bad), SessionMode::ReadOnly)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    let msg = err.to_string();
    assert!(msg.contains("password authentication failed"), "{msg}");
    assert!(msg.contains("127.0.0.1"), "{msg}");
    assert!(!msg.contains("wrong-pw-123"), "{msg}");

    let (host, port) = server().host_port();
    let pw = server()
        .cluster()
        .map(|c| c.password().to_string())
        .unwrap_or_default();
    let missing = format!("postgres://postgres:{pw}@{host}:{port}/no_such_db_here");
    let err = connect(&settings(&missing), SessionMode::ReadOnly)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("no_such_db_here"), "{err}");
    assert!(pw.is_empty() || !err.to_string().contains(&pw), "{err}");
}

#[tokio::test]
async fn capabilities_report_pg_stat_statements_present_and_absent() {
    let db = fresh_db().await;
    let c = connect(&settings(&db.url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let caps = capabilities::probe(&c.pool).await.unwrap();
    assert!(caps.server_version_num >= 130000);
    assert!(caps.superuser);
    assert!(!caps.is_replica);
    assert_eq!(caps.database, db.name);
    let pgss = caps
        .pg_stat_statements()
        .expect("pg_stat_statements installed");
    assert_eq!(pgss.schema.as_deref(), Some("public"));
    assert!(caps.pg_stat_statements_loaded);
    assert_eq!(caps.pg_stat_statements_preloaded(), Some(true));
    assert!(caps.track_io_timing);

    let other = fresh_db().await;
    other.exec("DROP EXTENSION pg_stat_statements").await;
    let c = connect(&settings(&other.url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let caps = capabilities::probe(&c.pool).await.unwrap();
    assert!(caps.pg_stat_statements().is_none());
    // Still available to install, and the library is still loaded.
    assert!(caps.extension("pg_stat_statements").is_some());
    assert!(caps.pg_stat_statements_loaded);
}

#[tokio::test]
async fn read_only_sessions_refuse_writes() {
    let db = fresh_db().await;
    let c = connect(&settings(&db.url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let err = sqlx::query("CREATE TABLE should_not_exist (id int)")
        .execute(&c.pool)
        .await
        .unwrap_err();
    let code = err
        .as_database_error()
        .and_then(|d| d.code())
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("25006"), "{err}");
    let (app, st, lt): (String, String, String) = sqlx::query_as(
        "SELECT current_setting('application_name'), current_setting('statement_timeout'), current_setting('lock_timeout')",
    )
    .fetch_one(&c.pool)
    .await
    .unwrap();
    assert_eq!(app, "dbdoctor");
    assert_eq!(st, "30s");
    assert_eq!(lt, "1s");
}

#[test]
fn demo_runs_end_to_end_and_leaves_nothing_behind() {
    let out = dbdoctor()
        .args(["-v", "demo", "--meals", "5000"])
        .timeout(Duration::from_secs(240))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {stderr}\nstdout: {stdout}"
    );
    assert!(stderr.contains("[6/6]"), "{stderr}");
    assert!(stdout.contains("=== dbdoctor doctor"), "{stdout}");
    // The port the demo used: nothing may listen there any more.
    let port: u16 = stderr
        .split("(port ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .and_then(|p| p.parse().ok())
        .expect("demo prints its port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the demo's server still listens on {port}"
    );
}

#[test]
fn missing_server_binaries_are_a_one_line_exit_2_error() {
    dbdoctor()
        .args(["demo"])
        .env("PG_BINDIR", "/nonexistent/postgresql/bin")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("PG_BINDIR"))
        .stderr(predicate::function(|s: &str| {
            s.lines()
                .filter(|l| l.starts_with("dbdoctor: error:"))
                .count()
                == 1
        }));
}

/// Run by `harness_cleans_up_after_the_process_ends` in a child process: start a cluster, report
/// where it lives, and exit without dropping it (as a test binary does with its static cluster).
#[test]
#[ignore = "child half of harness_cleans_up_after_the_process_ends"]
fn child_starts_a_cluster_and_exits_abruptly() {
    if std::env::var_os("DBDOCTOR_CHILD").is_none() {
        return;
    }
    let c = dbdoctor::db::ephemeral::EphemeralCluster::start(&Default::default()).unwrap();
    println!("CLUSTER {} {}", c.port(), c.root().display());
    std::process::exit(0);
}

#[test]
fn harness_cleans_up_after_the_process_ends() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_starts_a_cluster_and_exits_abruptly",
            "--ignored",
            "--nocapture",
        ])
        .env("DBDOCTOR_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CLUSTER "))
        .unwrap_or_else(|| panic!("child did not start a cluster: {stdout}"));
    let mut parts = line.split_whitespace();
    let port: u16 = parts.next().unwrap().parse().unwrap();
    let root = std::path::PathBuf::from(parts.next().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (root.exists() || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!root.exists(), "{} was not removed", root.display());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "a server still listens on {port}"
    );
}

#[tokio::test]
async fn the_socket_url_a_kept_demo_prints_connects() {
    let Some(cluster) = common::own_cluster("the_socket_url_a_kept_demo_prints_connects") else {
        return;
    };
    let db = fresh_db().await;
    let url = cluster.socket_url(&db.name);
    assert!(!url.contains(cluster.password()));
    let c = connect(&settings(&url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let caps = capabilities::probe(&c.pool).await.unwrap();
    assert_eq!(caps.database, db.name);
    assert!(
        c.settings.display.contains("host=/"),
        "{}",
        c.settings.display
    );
}
