//! One test per row of README's exit-code table, each provoking that outcome for real.

mod common;

use std::time::Duration;

use common::{dbdoctor, fresh_db};

fn code_of(out: &std::process::Output) -> Option<i32> {
    out.status.code()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).unwrap();
    }
    dir
}

#[tokio::test]
async fn exit_0_ok() {
    let db = fresh_db().await;
    let out = dbdoctor()
        .args(["doctor", "--database-url", &db.url])
        .output()
        .unwrap();
    assert_eq!(code_of(&out), Some(0), "{}", text(&out));
}

#[tokio::test]
async fn exit_1_findings_or_breach() {
    let db = fresh_db().await;
    db.exec("SELECT pg_sleep(0.05); SELECT pg_sleep(0.05);")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("budgets.toml");
    std::fs::write(&b, "version = 1\n\n[latency.simple]\np95_ms = 1\n").unwrap();
    let out = dbdoctor()
        .args(["budget", "--fail-on-breach", "--budgets"])
        .arg(&b)
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    assert_eq!(code_of(&out), Some(1), "{}", text(&out));
}

#[test]
fn exit_2_usage() {
    let out = dbdoctor()
        .args(["doctor", "--database-url", "postgres://u:pw@h:notaport/d"])
        .output()
        .unwrap();
    assert_eq!(code_of(&out), Some(2), "{}", text(&out));
    assert!(!text(&out).contains("pw@"));
}

#[tokio::test]
async fn exit_3_cannot_connect_or_privilege() {
    let db = fresh_db().await;
    let wrong = db.url_as("postgres", "definitely-wrong");
    let out = dbdoctor()
        .args(["doctor", "--database-url", &wrong])
        .output()
        .unwrap();
    assert_eq!(code_of(&out), Some(3), "{}", text(&out));
    assert!(!text(&out).contains("definitely-wrong"));
}

#[tokio::test]
async fn exit_4_migration_invalid() {
    let db = fresh_db().await;
    let dir = migrations(&[("1_bad.sql", "CREATE TABLE (;\n")]);
    let out = dbdoctor()
        .args(["migrate", "validate", "--source"])
        .arg(dir.path())
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    assert_eq!(code_of(&out), Some(4), "{}", text(&out));
}

#[tokio::test]
async fn exit_5_apply_failed_names_what_stayed_applied() {
    let db = fresh_db().await;
    // A -- no-transaction file keeps the statements before the failing one.
    let dir = migrations(&[(
        "1_partial.sql",
        "-- no-transaction\nCREATE TABLE kept_a (id int);\nCREATE TABLE kept_b (id int);\nSELECT 1 / 0;\n",
    )]);
    let out = dbdoctor()
        .args(["migrate", "apply", "--no-backup", "--source"])
        .arg(dir.path())
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(code_of(&out), Some(5), "{t}");
    assert!(t.contains("2 of its 3 statements stayed applied"), "{t}");
    assert!(
        t.contains("CREATE TABLE kept_a") && t.contains("CREATE TABLE kept_b"),
        "{t}"
    );
    let mut c = db.connect().await;
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_class WHERE relname IN ('kept_a', 'kept_b')")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(n, 2, "what the message names is really still there");
}

#[tokio::test]
async fn exit_6_unexpected_database_error() {
    let db = fresh_db().await;
    // A tracking table of the wrong shape: the server refuses the read (column does not exist).
    db.exec("CREATE TABLE _sqlx_migrations (version bigint PRIMARY KEY)")
        .await;
    let dir = migrations(&[("1_a.sql", "SELECT 1;\n")]);
    let out = dbdoctor()
        .args(["migrate", "status", "--source"])
        .arg(dir.path())
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    assert_eq!(code_of(&out), Some(6), "{}", text(&out));

    // A budget probe the server fails for a reason that is neither connection nor privilege.
    let b = dir.path().join("budgets.toml");
    std::fs::write(
        &b,
        "version = 1\n\n[[probes]]\nname = \"divide\"\nsql = \"SELECT 1 / $1\"\niterations = 3\n\n[[probes.params]]\nkind = \"int\"\nmin = 0\nmax = 0\n",
    )
    .unwrap();
    let out = dbdoctor()
        .args(["budget", "--budgets"])
        .arg(&b)
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(code_of(&out), Some(6), "{t}");
    assert!(
        t.contains("probe `divide` failed") && t.contains("division by zero"),
        "{t}"
    );
}

#[tokio::test]
async fn exit_130_interrupted() {
    let db = fresh_db().await;
    let dir = migrations(&[("1_slow.sql", "SELECT pg_sleep(60);\n")]);
    let bin = assert_cmd::cargo::cargo_bin("dbdoctor");
    let child = std::process::Command::new(bin)
        .args(["--database-url", &db.url])
        .args(["migrate", "apply", "--no-backup", "--source"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut c = db.connect().await;
    let mut running = false;
    for _ in 0..300 {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        if n == 1 {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(running, "the migration never started");
    // SAFETY: a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
}
