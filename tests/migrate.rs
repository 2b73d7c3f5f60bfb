//! `dbdoctor migrate` against a real throwaway PostgreSQL: apply, failure and rollback, locks,
//! dry-run, interrupted index builds, sqlx interoperability, validate and its rule corpus.

mod common;

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor, Row};

fn write_migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write migration");
    }
    dir
}

fn migrate(url: &str, args: &[&str], source: &Path) -> std::process::Output {
    let mut cmd = common::dbdoctor();
    cmd.arg("--database-url").arg(url).arg("migrate");
    cmd.args(args).arg("--source").arg(source);
    cmd.output().expect("run dbdoctor")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn applied_versions(db: &common::TestDb) -> Vec<i64> {
    let mut c = db.connect().await;
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut c)
        .await
        .unwrap();
    if !exists {
        return vec![];
    }
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut c)
        .await
        .unwrap()
}

async fn table_exists(db: &common::TestDb, name: &str) -> bool {
    let mut c = db.connect().await;
    sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(name)
        .fetch_one(&mut c)
        .await
        .unwrap()
}

fn five(third: &str) -> Vec<(&'static str, String)> {
    vec![
        ("1_one.up.sql", "CREATE TABLE t1 (id bigint);".into()),
        ("1_one.down.sql", "DROP TABLE t1;".into()),
        ("2_two.up.sql", "CREATE TABLE t2 (id bigint);".into()),
        ("2_two.down.sql", "DROP TABLE t2;".into()),
        ("3_three.up.sql", third.to_string()),
        ("3_three.down.sql", "DROP TABLE t3;".into()),
        ("4_four.up.sql", "CREATE TABLE t4 (id bigint);".into()),
        ("4_four.down.sql", "DROP TABLE t4;".into()),
        ("5_five.up.sql", "CREATE TABLE t5 (id bigint);".into()),
        ("5_five.down.sql", "DROP TABLE t5;".into()),
    ]
}

fn write_owned(files: &[(&'static str, String)]) -> tempfile::TempDir {
    let v: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    write_migrations(&v)
}

#[tokio::test]
async fn third_of_five_fails_then_a_fixed_rerun_applies_the_rest() {
    let db = common::fresh_db().await;
    // Statement 1 of migration 3 succeeds, statement 2 fails: the whole migration must roll back.
    let dir = write_owned(&five(
        "CREATE TABLE t3 (id bigint);\nINSERT INTO t3 VALUES (1);\nSELECT 1/0;",
    ));
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("migration 3 (three) failed"), "{err}");
    assert!(err.contains("division by zero"), "{err}");
    assert!(err.contains("3_three.up.sql:3:1"), "{err}");
    assert!(err.contains("applied in this run: 1, 2"), "{err}");
    assert!(err.contains("not attempted: 4, 5"), "{err}");
    assert_eq!(applied_versions(&db).await, vec![1, 2]);
    assert!(table_exists(&db, "t2").await);
    assert!(
        !table_exists(&db, "t3").await,
        "migration 3 was not rolled back"
    );
    assert!(!table_exists(&db, "t4").await);

    // Fix the file and rerun: 3, 4 and 5 are applied.
    std::fs::write(
        dir.path().join("3_three.up.sql"),
        "CREATE TABLE t3 (id bigint);",
    )
    .unwrap();
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("applied 3 migrations"),
        "{}",
        text(&o)
    );
    assert_eq!(applied_versions(&db).await, vec![1, 2, 3, 4, 5]);

    // status shows them all applied; dbdoctor's extra record is beside sqlx's table.
    let o = migrate(&db.url, &["status", "--format", "json"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let states: Vec<&str> = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["applied"; 5]);
    assert_eq!(doc["migrations"][0]["statements"], "1/1");

    // Revert one, then down to 2.
    let o = migrate(&db.url, &["revert"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(applied_versions(&db).await, vec![1, 2, 3, 4]);
    assert!(!table_exists(&db, "t5").await);
    let o = migrate(&db.url, &["revert", "--target", "2"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(applied_versions(&db).await, vec![1, 2]);
    assert!(!table_exists(&db, "t3").await);
}

#[tokio::test]
async fn drift_and_target_and_mark_applied() {
    let db = common::fresh_db().await;
    let dir = write_owned(&five("CREATE TABLE t3 (id bigint);"));
    let o = migrate(
        &db.url,
        &["apply", "--no-backup", "--target", "2"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(applied_versions(&db).await, vec![1, 2]);

    // Baseline 3 without running it.
    let o = migrate(&db.url, &["apply", "--mark-applied", "3"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(applied_versions(&db).await, vec![1, 2, 3]);
    assert!(!table_exists(&db, "t3").await);

    // An applied file edited afterwards: refuse, naming the version.
    std::fs::write(
        dir.path().join("2_two.up.sql"),
        "CREATE TABLE t2 (id bigint); -- edited",
    )
    .unwrap();
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("checksum drift: migration 2"),
        "{}",
        text(&o)
    );
    assert_eq!(applied_versions(&db).await, vec![1, 2, 3]);
    let o = migrate(&db.url, &["status"], dir.path());
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("changed"), "{out}");
    assert!(out.contains("2 pending"), "{out}");
}

#[tokio::test]
async fn backup_is_taken_and_recorded() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE keep (id bigint); CREATE INDEX keep_id ON keep (id);")
        .await;
    let dir = write_migrations(&[
        ("1_drop.up.sql", "DROP INDEX keep_id;"),
        ("1_drop.down.sql", "CREATE INDEX keep_id ON keep (id);"),
    ]);
    let backups = tempfile::tempdir().unwrap();
    let mut cmd = common::dbdoctor();
    cmd.arg("--database-url")
        .arg(&db.url)
        .args(["migrate", "apply", "--source"]);
    cmd.arg(dir.path()).arg("--backup-dir").arg(backups.path());
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let files: Vec<PathBuf> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let dump = std::fs::read_to_string(&files[0]).unwrap();
    assert!(dump.contains("CREATE TABLE public.keep"), "{dump}");
    assert!(
        dump.contains("CREATE INDEX keep_id ON public.keep USING btree (id);"),
        "{dump}"
    );
    let mut c = db.connect().await;
    let loc: String =
        sqlx::query_scalar("SELECT backup_location FROM _dbdoctor_migrations WHERE version = 1")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(PathBuf::from(loc), files[0]);
}

fn pg_dump(db: &common::TestDb) -> String {
    let srv = common::server();
    let bindir = srv
        .cluster()
        .map(|c| c.bindir().to_path_buf())
        .unwrap_or_else(|| dbdoctor::db::ephemeral::find_bindir().unwrap());
    let out = std::process::Command::new(bindir.join("pg_dump"))
        .arg("--dbname")
        .arg(&db.url)
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // pg_dump 15.14+ writes a random \restrict key on each run.
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn dry_run_changes_nothing_and_prints_the_stream() {
    let db = common::fresh_db().await;
    let dir = write_migrations(&[
        ("1_t.up.sql", "CREATE TABLE meals (id bigint, user_id bigint);"),
        ("1_t.down.sql", "DROP TABLE meals;"),
        ("2_idx.up.sql", "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS meals_user_id ON meals (user_id);"),
        ("2_idx.down.sql", "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS meals_user_id;"),
        ("3_col.up.sql", "ALTER TABLE meals ADD COLUMN note text;"),
        ("3_col.down.sql", "ALTER TABLE meals DROP COLUMN note;"),
    ]);
    // First from an empty database: not even the tracking table may appear.
    let before = pg_dump(&db);
    let o = migrate(&db.url, &["apply", "--dry-run"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(before, pg_dump(&db), "dry-run changed the database");
    assert!(!table_exists(&db, "_sqlx_migrations").await);
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    for needle in [
        "SET lock_timeout = '5000ms';",
        "pg_try_advisory_lock(",
        "pg_dump --schema-only",
        "CREATE TABLE IF NOT EXISTS _sqlx_migrations",
        "BEGIN;",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS meals_user_id ON meals (user_id);",
        "-- lock: SHARE UPDATE EXCLUSIVE on meals",
        "-- lock: ACCESS EXCLUSIVE on meals",
        "INSERT INTO _sqlx_migrations",
        "COMMIT;",
        "pg_advisory_unlock(",
    ] {
        assert!(s.contains(needle), "missing {needle:?} in:\n{s}");
    }
    // lock_timeout comes before the first migration statement.
    assert!(s.find("SET lock_timeout").unwrap() < s.find("CREATE TABLE meals").unwrap());

    // Then with some applied: the tracking table content must not change either.
    let o = migrate(
        &db.url,
        &["apply", "--no-backup", "--target", "1"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = pg_dump(&db);
    let o = migrate(
        &db.url,
        &["--format", "json", "apply", "--dry-run"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(before, pg_dump(&db), "dry-run changed the database");
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["planned"], serde_json::json!([2, 3]));
    let kinds: Vec<&str> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"statement") && kinds.contains(&"tracking") && kinds.contains(&"backup"),
        "{kinds:?}"
    );
    // Revert dry-run too.
    let o = migrate(&db.url, &["revert", "--dry-run"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("DROP TABLE meals;"),
        "{}",
        text(&o)
    );
    assert_eq!(before, pg_dump(&db));
}

#[tokio::test]
async fn conflicting_lock_fails_fast_naming_the_table() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE meals (id bigint)").await;
    let dir = write_migrations(&[
        ("1_col.up.sql", "ALTER TABLE meals ADD COLUMN note text;"),
        ("1_col.down.sql", "ALTER TABLE meals DROP COLUMN note;"),
    ]);
    let mut holder = db.connect().await;
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE meals IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let o = migrate(
        &db.url,
        &[
            "apply",
            "--no-backup",
            "--lock-timeout",
            "100ms",
            "--lock-retries",
            "1",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("lock timeout"), "{err}");
    assert!(err.contains("ACCESS EXCLUSIVE on meals"), "{err}");
    assert!(err.contains("2 attempts"), "{err}");
    assert!(err.contains("held by pid"), "{err}");
    holder.execute("ROLLBACK").await.unwrap();
    assert_eq!(applied_versions(&db).await, Vec::<i64>::new());
    // With the lock gone the same run succeeds.
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test]
async fn two_concurrent_applies_apply_each_migration_once() {
    let db = common::fresh_db().await;
    // Each migration appends to a log table: a second application would add a second row.
    let mut files = vec![(
        "1_log.up.sql".to_string(),
        "CREATE TABLE applied_log (version int, at timestamptz DEFAULT clock_timestamp());"
            .to_string(),
    )];
    files.push(("1_log.down.sql".into(), "DROP TABLE applied_log;".into()));
    for v in 2..=6 {
        files.push((
            format!("{v}_step.up.sql"),
            format!("INSERT INTO applied_log (version) VALUES ({v}); SELECT pg_sleep(0.2);"),
        ));
        files.push((
            format!("{v}_step.down.sql"),
            format!("DELETE FROM applied_log WHERE version = {v};"),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = write_migrations(&refs);
    let bin = assert_cmd::cargo::cargo_bin("dbdoctor");
    let spawn = || {
        std::process::Command::new(&bin)
            .arg("--database-url")
            .arg(&db.url)
            .args([
                "migrate",
                "apply",
                "--no-backup",
                "--lock-wait",
                "60s",
                "--source",
            ])
            .arg(dir.path())
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(oa.status.code(), Some(0), "{}", text(&oa));
    assert_eq!(ob.status.code(), Some(0), "{}", text(&ob));
    let mut c = db.connect().await;
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT version, count(*) FROM applied_log GROUP BY version ORDER BY version",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(rows, (2..=6).map(|v| (v, 1)).collect::<Vec<_>>());
    assert_eq!(applied_versions(&db).await, vec![1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn killed_concurrent_index_build_is_cleaned_up_by_the_next_run() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE big (id bigint, v bigint); INSERT INTO big SELECT g, g % 1000 FROM generate_series(1, 200000) g;",
    )
    .await;
    let dir = write_migrations(&[
        (
            "1_idx.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS big_v ON big (v);",
        ),
        (
            "1_idx.down.sql",
            "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS big_v;",
        ),
    ]);
    // An open transaction that the concurrent build must wait for: the build stays in progress.
    let mut blocker = db.connect().await;
    blocker
        .execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .await
        .unwrap();
    blocker.execute("SELECT count(*) FROM big").await.unwrap();
    let bin = assert_cmd::cargo::cargo_bin("dbdoctor");
    let mut child = std::process::Command::new(&bin)
        .arg("--database-url")
        .arg(&db.url)
        .args([
            "migrate",
            "apply",
            "--no-backup",
            "--lock-timeout",
            "60s",
            "--source",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the index exists (invalid, build in progress).
    let mut c = db.connect().await;
    let mut seen = false;
    for _ in 0..600 {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('big_v') AND NOT indisvalid")
            .fetch_one(&mut c)
            .await
            .unwrap();
        if n == 1 {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the concurrent build never started");
    // Kill the apply process hard (no chance to clean up), then end its server session as a
    // crashed client's session would end.
    child.kill().unwrap();
    child.wait().unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dbdoctor'")
        .execute(&mut c)
        .await
        .unwrap();
    blocker.execute("ROLLBACK").await.unwrap();
    // The invalid index is left behind and nothing is recorded.
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dbdoctor'")
            .fetch_one(&mut c).await.unwrap();
        if n == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let invalid: bool = sqlx::query_scalar(
        "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass('big_v')",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(invalid);
    assert_eq!(applied_versions(&db).await, Vec::<i64>::new());
    // The next run drops the invalid index and builds it again.
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("dropping the invalid index big_v"),
        "{}",
        text(&o)
    );
    let valid: bool = sqlx::query_scalar(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('big_v')",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert!(valid);
    assert_eq!(applied_versions(&db).await, vec![1]);
}

#[tokio::test]
async fn sqlx_and_dbdoctor_agree_both_ways() {
    // dbdoctor first, then sqlx's own Migrator: it sees everything applied and runs the rest.
    let db = common::fresh_db().await;
    let dir = write_migrations(&[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);\n"),
        ("1_a.down.sql", "DROP TABLE a;\n"),
        (
            "2_b.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
        ),
        (
            "2_b.down.sql",
            "-- no-transaction\nDROP INDEX CONCURRENTLY a_id;\n",
        ),
    ]);
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(
        dir.path().join("3_c.up.sql"),
        "CREATE TABLE c (id bigint);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("3_c.down.sql"), "DROP TABLE c;\n").unwrap();
    let pool = db.pool().await;
    let migrator = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    migrator
        .run(&pool)
        .await
        .expect("sqlx accepts what dbdoctor recorded");
    assert_eq!(applied_versions(&db).await, vec![1, 2, 3]);
    assert!(table_exists(&db, "c").await);
    // dbdoctor then sees sqlx's row as applied, not changed.
    let o = migrate(&db.url, &["status", "--format", "json"], dir.path());
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let states: Vec<&str> = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["applied"; 3], "{doc}");
    // dbdoctor reverts what sqlx applied.
    let o = migrate(&db.url, &["revert"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!table_exists(&db, "c").await);
    pool.close().await;

    // sqlx first, then dbdoctor: nothing is re-applied, the new one is.
    let db2 = common::fresh_db().await;
    let dir2 = write_migrations(&[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);\n"),
        ("1_a.down.sql", "DROP TABLE a;\n"),
    ]);
    let pool = db2.pool().await;
    sqlx::migrate::Migrator::new(dir2.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    std::fs::write(
        dir2.path().join("2_b.up.sql"),
        "CREATE TABLE b (id bigint);\n",
    )
    .unwrap();
    std::fs::write(dir2.path().join("2_b.down.sql"), "DROP TABLE b;\n").unwrap();
    let o = migrate(&db2.url, &["apply", "--no-backup"], dir2.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("applied 1 migration"),
        "{}",
        text(&o)
    );
    assert_eq!(applied_versions(&db2).await, vec![1, 2]);
    // The checksums dbdoctor wrote are the ones sqlx computes.
    let mut c = db2.connect().await;
    let row = sqlx::query("SELECT checksum FROM _sqlx_migrations WHERE version = 2")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let sum: Vec<u8> = row.get(0);
    let m = sqlx::migrate::Migrator::new(dir2.path()).await.unwrap();
    let theirs = m
        .iter()
        .find(|m| m.version == 2 && m.migration_type.is_up_migration())
        .unwrap();
    assert_eq!(sum, theirs.checksum.to_vec());
    c.close().await.ok();
    pool.close().await;
}

#[tokio::test]
async fn refuses_a_replica() {
    let Some(cluster) = common::own_cluster("refuses_a_replica") else {
        return;
    };
    let replica = match cluster.start_replica() {
        Ok(r) => r,
        Err(e) => panic!("start a replica: {e}"),
    };
    let dir = write_migrations(&[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);"),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]);
    let o = migrate(
        &replica.url("postgres"),
        &["apply", "--no-backup"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("replica"),
        "{}",
        text(&o)
    );
}

/// (rules the unsafe statement must raise, unsafe file, its safe twin). A file starting with
/// `-- no-transaction` runs outside a transaction.
const CORPUS: &[(&[&str], &str, &str)] = &[
    (
        &["require-concurrent-index-creation"],
        "CREATE INDEX idx_orders_customer_id ON orders (customer_id);",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer_id ON orders (customer_id);",
    ),
    (
        &["require-concurrent-index-deletion"],
        "DROP INDEX IF EXISTS idx_orders_customer_id;",
        "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS idx_orders_customer_id;",
    ),
    (
        &["ban-concurrent-index-creation-in-transaction"],
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON orders (a);",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON orders (a);",
    ),
    (
        &["no-transaction-single-statement"],
        "-- no-transaction\nSET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON orders (a);",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON orders (a);",
    ),
    (
        &["adding-required-field"],
        "ALTER TABLE orders ADD COLUMN region text NOT NULL;",
        "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';",
    ),
    (
        &["adding-field-with-default"],
        "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
        "ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();",
    ),
    (
        &["changing-column-type"],
        "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;",
        "ALTER TABLE orders ADD COLUMN amount_v2 bigint;",
    ),
    (
        &["adding-not-nullable-field"],
        "ALTER TABLE orders ALTER COLUMN status SET NOT NULL;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_status_nn;\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;",
    ),
    (
        &["adding-foreign-key-constraint", "constraint-missing-not-valid"],
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
    ),
    (
        &["constraint-missing-not-valid"],
        "ALTER TABLE orders ADD CONSTRAINT orders_status_nn CHECK (status IS NOT NULL);",
        "ALTER TABLE orders ADD CONSTRAINT orders_status_nn CHECK (status IS NOT NULL) NOT VALID;",
    ),
    (
        &["disallowed-unique-constraint"],
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;",
    ),
    (
        &["adding-serial-primary-key-field"],
        "ALTER TABLE events ADD PRIMARY KEY (id);",
        "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;",
    ),
    (
        &["ban-drop-column"],
        "ALTER TABLE orders DROP COLUMN legacy_flag;",
        "-- dbdoctor:allow ban-drop-column\nALTER TABLE orders DROP COLUMN legacy_flag;",
    ),
    (
        &["ban-drop-table"],
        "DROP TABLE orders;",
        "-- dbdoctor:allow ban-drop-table\nDROP TABLE orders;",
    ),
    (
        &["ban-drop-database"],
        "-- no-transaction\nDROP DATABASE IF EXISTS shop;",
        "-- no-transaction\n-- dbdoctor:allow ban-drop-database\nDROP DATABASE IF EXISTS shop;",
    ),
    (
        &["renaming-column"],
        "ALTER TABLE orders RENAME COLUMN amount TO total_amount;",
        "ALTER TABLE orders ADD COLUMN total_amount numeric;",
    ),
    (
        &["renaming-table"],
        "ALTER TABLE orders RENAME TO purchases;",
        "CREATE VIEW purchases AS SELECT * FROM orders;",
    ),
    (
        &["prefer-bigint-over-int"],
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n integer);",
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n bigint);",
    ),
    (
        &["prefer-identity"],
        "CREATE TABLE events (id bigserial PRIMARY KEY);",
        "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);",
    ),
    (
        // Not CREATE INDEX CONCURRENTLY: IF NOT EXISTS would keep an invalid index after a
        // failed build, so a concurrent build in its own file is not asked for it.
        &["prefer-robust-stmts"],
        "-- no-transaction\nDROP INDEX CONCURRENTLY idx_a;",
        "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS idx_a;",
    ),
    (
        &["transaction-nesting"],
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;",
        "ALTER TABLE orders ADD COLUMN note text;",
    ),
    (
        &["syntax-error"],
        "CREATE INDEX idx_broken ON orders (customer_id,;",
        "CREATE INDEX idx_broken ON orders (customer_id);\n-- dbdoctor:allow require-concurrent-index-creation",
    ),
];

#[test]
fn rule_corpus_unsafe_flagged_safe_twin_silent() {
    let mut files: Vec<(String, String)> = Vec::new();
    for (i, (_, unsafe_sql, safe_sql)) in CORPUS.iter().enumerate() {
        let v = 100 + i * 2;
        files.push((format!("{v}_unsafe.up.sql"), unsafe_sql.to_string()));
        files.push((format!("{v}_unsafe.down.sql"), "SELECT 1;".into()));
        files.push((format!("{}_safe.up.sql", v + 1), safe_sql.to_string()));
        files.push((format!("{}_safe.down.sql", v + 1), "SELECT 1;".into()));
    }
    // The syntax-error twin needs its allow comment before the statement.
    let last = files.len() - 2;
    files[last].1 = "-- dbdoctor:allow require-concurrent-index-creation\nCREATE INDEX idx_broken ON orders (customer_id);".into();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = write_migrations(&refs);
    let o = common::dbdoctor()
        .args(["--format", "json", "migrate", "validate", "--source"])
        .arg(dir.path())
        .output()
        .unwrap();
    // Errors present (syntax, CONCURRENTLY in a transaction): exit 4.
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    // An object whose first key is schema_version; the diagnostics are one of its keys.
    let raw = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        raw.trim_start().starts_with("{\n  \"schema_version\": 1,"),
        "{raw}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let diags: Vec<serde_json::Value> = doc["diagnostics"].as_array().unwrap().clone();
    assert_eq!(
        doc["errors"].as_u64().unwrap() as usize,
        diags.iter().filter(|d| d["severity"] == "error").count()
    );
    for (i, (rules, unsafe_sql, _)) in CORPUS.iter().enumerate() {
        let v = 100 + i * 2;
        let of = |name: &str| -> Vec<String> {
            diags
                .iter()
                .filter(|d| d["file"].as_str().unwrap().ends_with(name))
                .map(|d| d["rule"].as_str().unwrap().to_string())
                .collect()
        };
        let flagged = of(&format!("/{v}_unsafe.up.sql"));
        for r in *rules {
            assert!(
                flagged.iter().any(|f| f == r),
                "{r} not raised on {unsafe_sql:?}: {flagged:?}"
            );
        }
        // The style notes of the timeout rules (on every DDL file without SETs) and of
        // require-table-schema (on every unqualified table) are no verdict on the twin;
        // anything else is.
        let twin: Vec<String> = of(&format!("/{}_safe.up.sql", v + 1))
            .into_iter()
            .filter(|r| !r.ends_with("-timeout") && r != "require-table-schema")
            .collect();
        assert!(twin.is_empty(), "safe twin of {rules:?} raised {twin:?}");
    }
    // Every diagnostic has the documented fields, positions 1-based.
    for d in &diags {
        for k in [
            "file", "line", "column", "rule", "severity", "message", "help",
        ] {
            assert!(d.get(k).is_some(), "{k} missing in {d}");
        }
        assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
    }
    let syntax = diags.iter().find(|d| d["rule"] == "syntax-error").unwrap();
    assert_eq!(
        (syntax["line"].as_u64(), syntax["column"].as_u64()),
        (Some(1), Some(48)),
        "{syntax}"
    );
}

#[test]
fn validate_text_github_strict_and_exit_codes() {
    let dir = write_migrations(&[
        ("1_a.up.sql", "ALTER TABLE orders DROP COLUMN legacy;\n"),
        (
            "1_a.down.sql",
            "ALTER TABLE orders ADD COLUMN legacy text;\n",
        ),
    ]);
    let o = common::dbdoctor()
        .args(["migrate", "validate", "--source"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "warnings alone exit 0: {}",
        text(&o)
    );
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        s.contains("1_a.up.sql:1:1: warning[ban-drop-column]: dropping column orders.legacy"),
        "{s}"
    );
    assert!(s.contains("  = help: "), "{s}");
    let o = common::dbdoctor()
        .args(["migrate", "validate", "--strict", "--source"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let o = common::dbdoctor()
        .args(["--format", "github", "migrate", "validate", "--source"])
        .arg(dir.path())
        .output()
        .unwrap();
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(s.starts_with("::warning file="), "{s}");
    assert!(s.contains(",line=1,col=1,title=ban-drop-column::"), "{s}");
    // A bad file name is an error.
    std::fs::write(dir.path().join("x_bad.sql"), "SELECT 1;").unwrap();
    let o = common::dbdoctor()
        .args(["migrate", "validate", "--source"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("error[migration-files]"),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn validate_with_a_database_names_locks_drift_and_replay_catches_runtime_errors() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE meals (id bigint, note text); INSERT INTO meals SELECT g FROM generate_series(1, 1000) g; ANALYZE meals;").await;
    let dir = write_migrations(&[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        ("2_b.up.sql", "ALTER TABLE meals ADD COLUMN extra text;"),
        ("2_b.down.sql", "ALTER TABLE meals DROP COLUMN extra;"),
    ]);
    let o = migrate(
        &db.url,
        &["apply", "--no-backup", "--target", "1"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = migrate(&db.url, &["validate"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(s.contains("note[lock]: ALTER TABLE meals ADD COLUMN extra text takes ACCESS EXCLUSIVE on meals (1000 rows"), "{s}");
    assert!(s.contains("writes/s)"), "{s}");
    // Drift on the applied one is an error.
    std::fs::write(
        dir.path().join("1_a.up.sql"),
        "CREATE TABLE a (id bigint, x int);",
    )
    .unwrap();
    let o = migrate(&db.url, &["validate"], dir.path());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("error[checksum-drift]"),
        "{}",
        text(&o)
    );

    // --replay catches a reference to a missing column that the parser cannot see.
    let dir2 = write_migrations(&[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);"),
        ("1_a.down.sql", "DROP TABLE a;"),
        (
            "2_b.up.sql",
            "CREATE INDEX a_missing ON a (no_such_column);",
        ),
        ("2_b.down.sql", "DROP INDEX a_missing;"),
    ]);
    let o = common::dbdoctor()
        .args(["migrate", "validate", "--replay", "--source"])
        .arg(dir2.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(s.contains("2_b.up.sql:1:1: error[replay]"), "{s}");
    assert!(s.contains("no_such_column"), "{s}");
}

fn dir_contents(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn plan_writes_deterministic_index_migrations_that_apply() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE users (id bigint PRIMARY KEY);
         CREATE TABLE meals (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id), name text);
         INSERT INTO users SELECT g FROM generate_series(1, 2000) g;
         INSERT INTO meals SELECT g, 1 + g % 2000, 'm' || g FROM generate_series(1, 20000) g;
         CREATE INDEX meals_name_a ON meals (name);
         CREATE INDEX meals_name_b ON meals (name);
         ANALYZE;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("migrations");
    // --dry-run writes nothing.
    let o = migrate(&db.url, &["plan", "--dry-run"], &src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!src.exists());
    let o = migrate(&db.url, &["plan"], &src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let first = dir_contents(&src);
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"migration-plan.json"), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.contains("fk_without_index") && n.ends_with(".up.sql")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.contains("duplicate_index") && n.ends_with(".down.sql")),
        "{names:?}"
    );
    for (n, c) in &first {
        if n.ends_with(".sql") {
            assert!(
                c.starts_with("-- no-transaction\n") || c.contains("nothing to roll back"),
                "{n}: {c}"
            );
            let stmts = c
                .lines()
                .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
                .count();
            assert!(stmts <= 1, "{n} holds more than one statement: {c}");
        }
    }
    let plan: serde_json::Value = serde_json::from_str(
        &first
            .iter()
            .find(|(n, _)| n == "migration-plan.json")
            .unwrap()
            .1,
    )
    .unwrap();
    let fk = plan["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["check"] == "fk_without_index")
        .unwrap();
    // Grouped by priority: versions rise from high to medium to low.
    let rank = |p: &str| {
        ["high", "medium", "low"]
            .iter()
            .position(|x| *x == p)
            .unwrap()
    };
    let order: Vec<usize> = plan["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| rank(m["priority"].as_str().unwrap()))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert!(
        fk["expected_lock"]
            .as_str()
            .unwrap()
            .starts_with("SHARE UPDATE EXCLUSIVE on "),
        "{fk}"
    );
    assert!(fk["table_bytes"].as_i64().unwrap() > 0, "{fk}");
    // The same plan from a snapshot file, offline.
    let snap = dir.path().join("snap.json");
    let o = common::dbdoctor()
        .arg("--database-url")
        .arg(&db.url)
        .args(["snapshot", "--out"])
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = common::dbdoctor()
        .args([
            "--format",
            "json",
            "migrate",
            "plan",
            "--dry-run",
            "--from-snapshot",
        ])
        .arg(&snap)
        .arg("--source")
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let offline: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sqls = |p: &serde_json::Value| -> Vec<String> {
        p["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["sql"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(sqls(&offline), sqls(&plan));
    // A second run on the same state writes exactly the same files.
    let o = migrate(&db.url, &["plan"], &src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("wrote 0 new migrations"),
        "{}",
        text(&o)
    );
    assert_eq!(first, dir_contents(&src));
    // The plan validates cleanly and applies; afterwards the foreign key has its index.
    let o = common::dbdoctor()
        .args(["migrate", "validate", "--strict", "--source"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = migrate(&db.url, &["apply", "--no-backup"], &src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut c = db.connect().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_index WHERE indrelid = 'meals'::regclass AND indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = 'meals'::regclass AND attname = 'user_id')")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let dups: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class WHERE relname IN ('meals_name_a', 'meals_name_b')",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    assert_eq!(dups, 1, "one of the duplicate indexes is dropped");
    // Everything planned is applied: the folder reverts cleanly too.
    let o = migrate(&db.url, &["revert", "--target", "0"], &src);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test]
async fn ctrl_c_rolls_back_and_releases_the_lock() {
    let db = common::fresh_db().await;
    let dir = write_migrations(&[
        (
            "1_slow.up.sql",
            "CREATE TABLE slow (id bigint);\nSELECT pg_sleep(60);",
        ),
        ("1_slow.down.sql", "DROP TABLE slow;"),
    ]);
    let bin = assert_cmd::cargo::cargo_bin("dbdoctor");
    let child = std::process::Command::new(&bin)
        .arg("--database-url")
        .arg(&db.url)
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
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(60)' AND state = 'active'",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        if n == 1 {
            running = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(running, "the migration never started");
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The server side is gone: no session, no advisory lock, nothing applied or recorded.
    let mut gone = false;
    for _ in 0..100 {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(&mut c)
        .await
        .unwrap();
        if n == 0 {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the advisory lock is still held");
    assert!(!table_exists(&db, "slow").await);
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(recorded, 0);
}

#[tokio::test]
async fn failed_concurrent_build_leaves_no_invalid_index() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE dup (v int); INSERT INTO dup VALUES (1), (1);")
        .await;
    let dir = write_migrations(&[
        (
            "1_uniq.up.sql",
            "-- no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v ON dup (v);",
        ),
        (
            "1_uniq.down.sql",
            "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS dup_v;",
        ),
    ]);
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1_uniq.up.sql:2:1"),
        "{}",
        text(&o)
    );
    // PostgreSQL leaves an INVALID dup_v behind after a failed concurrent build; dbdoctor drops it.
    assert!(
        !table_exists(&db, "dup_v").await,
        "invalid index left behind"
    );
    assert_eq!(applied_versions(&db).await, Vec::<i64>::new());
    // Nothing was applied, so a rerun after fixing the data is allowed.
    db.exec("DELETE FROM dup WHERE ctid = (SELECT max(ctid) FROM dup)")
        .await;
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(applied_versions(&db).await, vec![1]);
}

#[tokio::test]
async fn partially_applied_no_transaction_file_is_refused_until_marked() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE p (a int, b int);").await;
    let dir = write_migrations(&[
        (
            "1_two.up.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS p_a ON p (a);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS p_c ON p (no_such_column);",
        ),
        ("1_two.down.sql", "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS p_a;"),
        ("2_next.up.sql", "CREATE TABLE q (id bigint);"),
        ("2_next.down.sql", "DROP TABLE q;"),
    ]);
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("no_such_column") && err.contains("recorded as partial"),
        "{err}"
    );
    assert!(
        table_exists(&db, "p_a").await,
        "the first statement stays applied"
    );
    assert!(!table_exists(&db, "q").await);
    let o = migrate(&db.url, &["status"], dir.path());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("partial"),
        "{}",
        text(&o)
    );
    // A rerun refuses, naming the version, and changes nothing.
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("migration 1 is partially applied (1 of 2 statements applied"),
        "{err}"
    );
    assert!(!table_exists(&db, "q").await);
    // Finished by hand and marked: the rest applies.
    let o = migrate(&db.url, &["apply", "--mark-applied", "1"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(applied_versions(&db).await, vec![1, 2]);
}

#[tokio::test]
async fn lock_wait_is_bounded_and_names_the_holder() {
    let db = common::fresh_db().await;
    let dir = write_migrations(&[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);"),
        ("1_a.down.sql", "DROP TABLE a;"),
    ]);
    let mut holder = db.connect().await;
    let key = dbdoctor::migrate::apply::lock_key(&db.name);
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();
    let o = migrate(
        &db.url,
        &["apply", "--no-backup", "--lock-wait", "300ms"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("another migration run holds the migration lock"),
        "{err}"
    );
    assert!(err.contains(&format!("(pid {pid})")), "{err}");
    assert!(!table_exists(&db, "_sqlx_migrations").await);
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut holder)
        .await
        .unwrap();
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[tokio::test]
async fn apply_refuses_what_would_certainly_fail_before_any_change() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE t (a int)").await;
    let dir = write_migrations(&[
        ("1_ok.up.sql", "CREATE TABLE ok (id bigint);"),
        ("1_ok.down.sql", "DROP TABLE ok;"),
        ("2_cic.up.sql", "CREATE INDEX CONCURRENTLY t_a ON t (a);"),
        ("2_cic.down.sql", "DROP INDEX t_a;"),
    ]);
    let o = migrate(&db.url, &["apply", "--no-backup"], dir.path());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("2_cic.up.sql:1:1: ban-concurrent-index-creation-in-transaction"),
        "{err}"
    );
    assert!(
        !table_exists(&db, "ok").await,
        "nothing may run before the refusal"
    );
}
