//! Replicas: doctor says it is one, reports replay lag and labels primary-only advice;
//! migrate apply refuses to run there.

use std::time::Duration;

use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};

fn dbdoctor() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("dbdoctor").unwrap();
    cmd.env_remove("DATABASE_URL")
        .timeout(Duration::from_secs(120));
    cmd
}

#[tokio::test]
async fn doctor_and_migrate_on_a_streaming_replica() {
    let primary = tokio::task::spawn_blocking(|| {
        EphemeralCluster::start(&EphemeralOptions {
            pg_stat_statements_in_template: true,
            ..Default::default()
        })
        .unwrap()
    })
    .await
    .unwrap();
    let mut admin = PgConnection::connect(&primary.url("postgres"))
        .await
        .unwrap();
    admin.execute("CREATE DATABASE app").await.unwrap();
    let mut c = PgConnection::connect(&primary.url("app")).await.unwrap();
    c.execute(
        "CREATE TABLE t (id bigint PRIMARY KEY, v text);
         INSERT INTO t SELECT g, 'x' FROM generate_series(1, 5000) g;
         CREATE INDEX t_v_unused ON t (v);",
    )
    .await
    .unwrap();
    let replica = tokio::task::spawn_blocking(move || {
        let r = primary.start_replica().unwrap();
        (primary, r)
    })
    .await
    .unwrap();
    let (primary, replica) = replica;
    // Wait until the replica has replayed the schema.
    let mut r = PgConnection::connect(&replica.url("app")).await.unwrap();
    for _ in 0..100 {
        let seen: Option<String> = sqlx::query_scalar("SELECT to_regclass('t')::text")
            .fetch_one(&mut r)
            .await
            .unwrap();
        if seen.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let out = dbdoctor()
        .args([
            "--database-url",
            &replica.url("app"),
            "doctor",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["capabilities"]["is_replica"], true);
    assert_eq!(report["connection"]["is_replica"], true);
    let text = report.to_string();
    assert!(
        text.contains("replay"),
        "the replica report must show replay lag"
    );
    for f in report["findings"].as_array().unwrap() {
        if f["check"] == "unused_index" {
            let msg = f["message"].as_str().unwrap_or("");
            assert!(
                msg.contains("replica"),
                "unused-index verdicts on a replica must say so: {msg}"
            );
        }
    }

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_x.up.sql"),
        "CREATE TABLE IF NOT EXISTS x (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("1_x.down.sql"), "DROP TABLE IF EXISTS x;\n").unwrap();
    let out = dbdoctor()
        .args([
            "--database-url",
            &replica.url("app"),
            "migrate",
            "apply",
            "--no-backup",
            "--source",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("replica"), "{stderr}");
    drop(primary);
}
