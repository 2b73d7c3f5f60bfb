//! A superuser's column statistics come from pg_statistic directly instead of pg_stats: on every
//! server of the matrix both queries must give the same rows for a superuser (dropped columns,
//! inheritance and partition parents, quoted names, the schema filter), and a role that is not
//! a superuser must get pg_stats' rows (only the columns it may read).

mod common;

use dbdoctor::collect::schema::{self, ColumnStats};
use sqlx::{Connection, Executor, PgConnection, PgPool};

const SCHEMA: &str = r#"
CREATE SCHEMA "Odd Schema";
CREATE TABLE plain (id bigint PRIMARY KEY, a int, b text, gone int, c text);
ALTER TABLE plain DROP COLUMN gone;
INSERT INTO plain SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE g END, repeat('x', g % 40), 'c'
  FROM generate_series(1, 2000) g;
CREATE TABLE "Odd Schema"."Odd Table" ("Id" int, "select" text);
INSERT INTO "Odd Schema"."Odd Table" SELECT g, 's' || g FROM generate_series(1, 500) g;
CREATE TABLE parent (id int, v text);
CREATE TABLE child (extra int) INHERITS (parent);
INSERT INTO child SELECT g, 'v', g FROM generate_series(1, 300) g;
CREATE TABLE parted (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE parted_2026 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO parted SELECT g, date '2026-01-01' + (g % 300) FROM generate_series(1, 1000) g;
ANALYZE;
"#;

fn sorted(mut rows: Vec<ColumnStats>) -> Vec<(String, String, String, u64, i32)> {
    rows.sort_by(|a, b| (&a.schema, &a.table, &a.column).cmp(&(&b.schema, &b.table, &b.column)));
    rows.into_iter()
        .map(|r| {
            (
                r.schema.to_string(),
                r.table.to_string(),
                r.column.to_string(),
                r.null_frac.to_bits(),
                r.avg_width,
            )
        })
        .collect()
}

async fn check(url: &str, label: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    c.execute(SCHEMA).await.unwrap();
    c.close().await.ok();
    let pool = PgPool::connect(url).await.unwrap();
    for schemas in [vec![], vec!["Odd Schema".to_string()]] {
        let direct = sorted(schema::column_stats(&pool, &schemas, true).await.unwrap());
        let view = sorted(schema::column_stats(&pool, &schemas, false).await.unwrap());
        assert_eq!(direct, view, "{label}: schemas {schemas:?}");
        assert!(!direct.is_empty(), "{label}: no statistics");
        assert!(
            !direct.iter().any(|r| r.2.contains("dropped")),
            "{label}: a dropped column came back"
        );
        if schemas.is_empty() {
            // Dropped column left out, NULL fraction read, inheritance parents once.
            let a = direct
                .iter()
                .find(|r| r.1 == "plain" && r.2 == "a")
                .expect("plain.a");
            let frac = f64::from_bits(a.3);
            assert!((0.2..0.45).contains(&frac), "{label}: null_frac {frac}");
            assert_eq!(
                direct
                    .iter()
                    .filter(|r| r.1 == "parent" && r.2 == "id")
                    .count(),
                0,
                "{label}: only inherited statistics exist for an empty parent"
            );
            assert!(direct
                .iter()
                .any(|r| r.0 == "Odd Schema" && r.2 == "select"));
        } else {
            assert!(direct.iter().all(|r| r.0 == "Odd Schema"), "{label}");
        }
    }
    // A role that is not a superuser reads pg_stats, which shows only the columns it may read.
    // Roles belong to the cluster: one name per database, so runs on a shared server never clash.
    let mut c = PgConnection::connect(url).await.unwrap();
    let db: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let role = format!("reader_{db}");
    c.execute(
        format!(
            "CREATE ROLE \"{role}\" LOGIN PASSWORD 'reader-pw';
             GRANT SELECT (id, a) ON plain TO \"{role}\";"
        )
        .as_str(),
    )
    .await
    .unwrap();
    c.close().await.ok();
    let mut u = url::Url::parse(url).unwrap();
    u.set_username(&role).unwrap();
    u.set_password(Some("reader-pw")).unwrap();
    let reader = PgPool::connect(u.as_str()).await.unwrap();
    let seen = sorted(schema::column_stats(&reader, &[], false).await.unwrap());
    let cols: Vec<&str> = seen
        .iter()
        .filter(|r| r.1 == "plain")
        .map(|r| r.2.as_str())
        .collect();
    assert_eq!(cols, ["a", "id"], "{label}");
    assert!(
        schema::column_stats(&reader, &[], true).await.is_err(),
        "{label}: pg_statistic must be refused to a role that is not a superuser"
    );
    reader.close().await;
    pool.close().await;
}

#[tokio::test]
async fn superuser_statistics_match_pg_stats() {
    let db = common::fresh_db().await;
    check(&db.url, "PATH server").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn superuser_statistics_match_pg_stats_on_every_matrix_server() {
    for b in
        common::matrix_bindirs_or_skip("superuser_statistics_match_pg_stats_on_every_matrix_server")
    {
        let label = b.display().to_string();
        let (_cluster, url) = common::start_matrix_server(b, false, "colstats").await;
        check(&url, &label).await;
    }
}
