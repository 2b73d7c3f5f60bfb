//! The version matrix: the collector, doctor, budget and migrate against every PostgreSQL major
//! 13–18 whose server binaries are available, asserting on contents.
//!
//! Binaries come from DBDOCTOR_MATRIX_BINDIRS (colon separated; `scripts/dev test` fetches and
//! sets them), else from the cache folder `scripts/dev` uses. The machine's own server is always
//! covered by the rest of the suite.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use dbdoctor::collect::{capabilities, statements};
use dbdoctor::db::{connect, ConnectSettings, SessionMode};
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};

fn settings(url: &str) -> ConnectSettings {
    ConnectSettings::resolve(Some(url), Duration::from_secs(10), Duration::from_secs(60)).unwrap()
}

/// pg_stat_statements version each major ships by default.
fn expected_pgss_version(major: i32) -> &'static str {
    match major {
        13 => "1.8",
        14 => "1.9",
        15 | 16 => "1.10",
        17 => "1.11",
        _ => "1.12",
    }
}

const SCHEMA: &str = "
CREATE TABLE parent (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES parent (id), note text NOT NULL);
INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 2000) g;
INSERT INTO child SELECT g, 1 + g % 2000, 'n' || (g % 97) FROM generate_series(1, 30000) g;
CREATE INDEX child_note_a ON child (note);
CREATE INDEX child_note_b ON child (note);
CREATE TABLE no_pk (a int, b text);
ANALYZE;
";

async fn run_matrix_case(bindir: PathBuf) {
    let (_cluster, url) = common::start_matrix_server(bindir, true, "matrix").await;
    let mut c = PgConnection::connect(&url).await.unwrap();
    c.execute(SCHEMA).await.unwrap();
    for i in 0..50i64 {
        sqlx::query("SELECT id, note FROM child WHERE parent_id = $1")
            .bind(1 + i)
            .fetch_all(&mut c)
            .await
            .unwrap();
    }

    // Collector: the extension version this major ships, and the workload read back exactly.
    let db = connect(&settings(&url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let caps = capabilities::probe(&db.pool).await.unwrap();
    let major = caps.major();
    let label = format!("PostgreSQL {}", caps.server_version);
    let ext = caps
        .pg_stat_statements()
        .expect("pg_stat_statements installed");
    assert_eq!(
        ext.installed_version.as_deref(),
        Some(expected_pgss_version(major)),
        "{label}"
    );
    let snap = statements::collect(&db.pool, &caps, &Default::default())
        .await
        .unwrap();
    let st = snap
        .statements
        .iter()
        .find(|s| {
            s.query
                .as_deref()
                .is_some_and(|q| q.contains("FROM child WHERE parent_id"))
        })
        .unwrap_or_else(|| panic!("{label}: workload statement not collected"));
    assert_eq!(st.calls, 50, "{label}");
    assert_eq!(st.rows, 50 * 15, "{label}");
    assert!(snap.statements.iter().all(|s| !s
        .query
        .as_deref()
        .unwrap_or("")
        .starts_with("/* dbdoctor */")));

    // doctor: the planted defects, as JSON.
    let out = common::dbdoctor()
        .args(["--database-url", &url, "doctor", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(0),
        "{label}: doctor exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let checks: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["check"].as_str().unwrap_or("").to_string(),
                f["object"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (check, object) in [
        ("fk_without_index", "child"),
        ("duplicate_index", "child_note_"),
        ("table_without_pk", "no_pk"),
    ] {
        assert!(
            checks.iter().any(|(c, o)| c == check && o.contains(object)),
            "{label}: no {check} on {object} in {checks:?}"
        );
    }

    // budget from pg_stat_statements: runs, and its JSON is the documented document.
    let budgets = Path::new(env!("CARGO_MANIFEST_DIR")).join("budgets.toml");
    let out = common::dbdoctor()
        .args([
            "--database-url",
            &url,
            "budget",
            "--no-probes",
            "--format",
            "json",
            "--budgets",
        ])
        .arg(&budgets)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{label}: budget: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let budget: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(budget["schema_version"].is_number(), "{label}");

    // None of dbdoctor's own statements (doctor's and budget's catalog queries) may count as
    // workload, whatever the server does with leading comments (PostgreSQL 18 drops them).
    let db = connect(&settings(&url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let snap = statements::collect(&db.pool, &caps, &Default::default())
        .await
        .unwrap();
    for s in &snap.statements {
        let q = s.query.as_deref().unwrap_or("");
        assert!(
            !(q.contains("pg_class")
                || q.contains("pg_stat_")
                || q.contains("pg_index")
                || q.contains("pg_settings")),
            "{label}: dbdoctor's own statement counted as workload: {q}"
        );
    }

    // migrate apply, then revert everything.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_t.up.sql"),
        "CREATE TABLE IF NOT EXISTS m1 (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("1_t.down.sql"),
        "DROP TABLE IF EXISTS m1;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2_c.up.sql"),
        "ALTER TABLE m1 ADD COLUMN IF NOT EXISTS note text;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2_c.down.sql"),
        "ALTER TABLE m1 DROP COLUMN IF EXISTS note;\n",
    )
    .unwrap();
    let src = dir.path().to_str().unwrap();
    let out = common::dbdoctor()
        .args([
            "--database-url",
            &url,
            "migrate",
            "apply",
            "--no-backup",
            "--source",
            src,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{label}: apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(applied, 2, "{label}");
    let out = common::dbdoctor()
        .args([
            "--database-url",
            &url,
            "migrate",
            "revert",
            "--target",
            "0",
            "--source",
            src,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{label}: revert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(left, 0, "{label}");
    let m1: Option<String> = sqlx::query_scalar("SELECT to_regclass('m1')::text")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(m1, None, "{label}");

    // An upgraded server whose extension was not updated: the 1.8 column set still works.
    if major >= 14 {
        c.execute(
            "DROP EXTENSION pg_stat_statements; CREATE EXTENSION pg_stat_statements VERSION '1.8'",
        )
        .await
        .unwrap();
        sqlx::query("SELECT count(*) FROM child WHERE note = $1")
            .bind("n1")
            .fetch_one(&mut c)
            .await
            .unwrap();
        let db = connect(&settings(&url), SessionMode::ReadOnly)
            .await
            .unwrap();
        let caps = capabilities::probe(&db.pool).await.unwrap();
        assert_eq!(
            caps.pg_stat_statements()
                .unwrap()
                .installed_version
                .as_deref(),
            Some("1.8")
        );
        let snap = statements::collect(&db.pool, &caps, &Default::default())
            .await
            .unwrap();
        assert!(
            snap.statements.iter().any(|s| s
                .query
                .as_deref()
                .is_some_and(|q| q.contains("WHERE note ="))),
            "{label}: 1.8 extension on a newer server"
        );
    }
    eprintln!("matrix: {label} ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_available_major_passes_the_matrix_suite() {
    for dir in common::matrix_bindirs_or_skip("every_available_major_passes_the_matrix_suite") {
        run_matrix_case(dir).await;
    }
}

#[tokio::test]
async fn old_extension_version_on_the_default_server() {
    let db = common::fresh_db().await;
    db.exec("DROP EXTENSION pg_stat_statements; CREATE EXTENSION pg_stat_statements VERSION '1.8'")
        .await;
    let mut c = db.connect().await;
    c.execute("CREATE TABLE upgraded_probe (id int)")
        .await
        .unwrap();
    for _ in 0..3 {
        c.execute("SELECT count(*) FROM upgraded_probe")
            .await
            .unwrap();
    }
    let conn = connect(&settings(&db.url), SessionMode::ReadOnly)
        .await
        .unwrap();
    let caps = capabilities::probe(&conn.pool).await.unwrap();
    let snap = statements::collect(&conn.pool, &caps, &Default::default())
        .await
        .unwrap();
    assert_eq!(snap.extension_version, "1.8");
    let s = snap
        .statements
        .iter()
        .find(|s| {
            s.query
                .as_deref()
                .is_some_and(|q| q.contains("FROM upgraded_probe"))
        })
        .expect("statement collected through the 1.8 column set");
    assert_eq!(s.calls, 3);
}
