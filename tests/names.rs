//! Hostile object names: quotes, spaces, unicode, reserved words and 63-byte names. Every fix
//! and rollback statement doctor generates for them is executed for real.

mod common;

use common::{dbdoctor, fresh_db};
use serde_json::Value;
use sqlx::Executor;

/// 63 bytes: the longest identifier PostgreSQL keeps.
const LONG: &str = "a_very_long_table_name_that_uses_every_one_of_the_63_bytes_xyz1";

#[tokio::test]
async fn generated_fix_and_rollback_sql_runs_on_hostile_names() {
    assert_eq!(LONG.len(), 63);
    let db = fresh_db().await;
    let tables = [
        ("my schema", "Weird \"Name\""),
        ("public", "select"),
        ("public", "ümlaut täble"),
        ("public", LONG),
    ];
    let mut setup = String::from("CREATE SCHEMA \"my schema\";\n");
    for (i, (schema, table)) in tables.iter().enumerate() {
        let qs = format!("\"{}\"", schema.replace('"', "\"\""));
        let qt = format!("\"{}\"", table.replace('"', "\"\""));
        setup.push_str(&format!(
            "CREATE TABLE {qs}.\"Parent {i}\" (id bigint PRIMARY KEY);
             INSERT INTO {qs}.\"Parent {i}\" SELECT g FROM generate_series(1, 100) g;
             CREATE TABLE {qs}.{qt} (id bigint PRIMARY KEY, \"Parent Id\" bigint REFERENCES {qs}.\"Parent {i}\" (id), \"order\" int);
             INSERT INTO {qs}.{qt} SELECT g, 1 + g % 100, g FROM generate_series(1, 2000) g;
             CREATE INDEX \"dup \"\"a\"\" {i}\" ON {qs}.{qt} (\"order\");
             CREATE INDEX \"dup \"\"b\"\" {i}\" ON {qs}.{qt} (\"order\");
             ANALYZE {qs}.{qt};\n"
        ));
    }
    db.exec(&setup).await;

    let out = dbdoctor()
        .args(["--database-url", &db.url, "doctor", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["check"].as_str(),
                Some("fk_without_index" | "duplicate_index")
            )
        })
        .collect();
    // One foreign key and one duplicate per table.
    assert_eq!(findings.len(), 2 * tables.len(), "{findings:#?}");

    let mut c = db.connect().await;
    for f in &findings {
        let fix = f["fix_sql"].as_str().expect("fix_sql");
        let rollback = f["rollback_sql"].as_str().expect("rollback_sql");
        let before: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE schemaname <> 'pg_catalog'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        c.execute(fix)
            .await
            .unwrap_or_else(|e| panic!("fix failed: {e}\n{fix}"));
        let after_fix: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE schemaname <> 'pg_catalog'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_ne!(before, after_fix, "the fix changed nothing: {fix}");
        c.execute(rollback)
            .await
            .unwrap_or_else(|e| panic!("rollback failed: {e}\n{rollback}"));
        let after_rollback: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE schemaname <> 'pg_catalog'")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!(
            before, after_rollback,
            "the rollback did not undo the fix: {rollback}"
        );
        let invalid: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(invalid, 0);
    }
}
