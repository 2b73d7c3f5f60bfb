//! The index collector spells a plain index's definition itself instead of calling
//! pg_get_indexdef for each of 30,000 indexes: on every server of the matrix, each index of a
//! varied schema (quoted and keyword names, operator classes, collations, DESC, INCLUDE,
//! partial, expression, other methods, partitioned tables, exclusion constraints, storage
//! options) must carry exactly the text pg_get_indexdef gives, and the key facts and sizes
//! must match the catalog.

mod common;

use dbdoctor::collect::schema;
use sqlx::{Connection, Executor, PgConnection, PgPool};

const SCHEMA: &str = r#"
CREATE SCHEMA "Odd Schema";
CREATE TABLE plain (id bigint PRIMARY KEY, a int, b text, c varchar(20), d timestamptz,
                    "user" int, "Mixed" int, "int" int, "order" text, name text, x$y int,
                    tags int[], flag boolean);
CREATE INDEX plain_a ON plain (a);
CREATE INDEX plain_a_b ON plain (a, b);
CREATE INDEX plain_keywords ON plain ("user", "int", "order", name);
CREATE INDEX "Plain_Mixed" ON plain ("Mixed");
CREATE INDEX plain_dollar ON plain (x$y);
CREATE INDEX plain_varchar ON plain (c);
CREATE INDEX plain_desc ON plain (a DESC);
CREATE INDEX plain_nulls_first ON plain (a NULLS FIRST);
CREATE INDEX plain_pattern ON plain (b text_pattern_ops);
CREATE INDEX plain_collate ON plain (b COLLATE "C");
CREATE INDEX plain_include ON plain (a) INCLUDE (b);
CREATE INDEX plain_partial ON plain (a) WHERE a > 0;
CREATE INDEX plain_expr ON plain (lower(b));
CREATE INDEX plain_expr_mixed ON plain (a, lower(b));
CREATE INDEX plain_hash ON plain USING hash (b);
CREATE INDEX plain_gin ON plain USING gin (tags);
CREATE INDEX plain_brin ON plain USING brin (d);
CREATE INDEX plain_fillfactor ON plain (a) WITH (fillfactor = 70);
CREATE UNIQUE INDEX plain_unique ON plain (b);
CREATE INDEX plain_bool ON plain (flag);
CREATE TABLE "Odd Schema"."Odd Table" ("Id" int PRIMARY KEY, "select" int, v text);
CREATE INDEX "odd index" ON "Odd Schema"."Odd Table" ("select");
CREATE INDEX odd_v ON "Odd Schema"."Odd Table" (v);
CREATE TABLE parted (id int, at date, k int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE parted_2026 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX parted_k ON parted (k);
CREATE INDEX parted_2026_only ON parted_2026 (at);
CREATE TABLE booking (room int, during tstzrange, EXCLUDE USING gist (during WITH &&));
CREATE UNIQUE INDEX booking_room_key ON booking (room) WHERE room > 100;
INSERT INTO plain (id, a, b, c) SELECT g, g, 'b' || g, 'c' || g FROM generate_series(1, 3000) g;
ANALYZE;
"#;

async fn check(pool: &PgPool, label: &str) {
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(pool)
        .await
        .unwrap();
    if version >= 150000 {
        sqlx::query("CREATE UNIQUE INDEX plain_nnd ON plain (c) NULLS NOT DISTINCT")
            .execute(pool)
            .await
            .unwrap();
    }
    let (mut indexes, cols) = schema::indexes(pool, &[], version).await.unwrap();
    schema::exact_index_sizes(pool, &mut indexes).await.unwrap();
    assert!(indexes.len() >= 30, "{label}: {} indexes", indexes.len());
    assert_eq!(cols.len(), indexes.len(), "{label}");
    for ix in &indexes {
        let (def, bytes, attached, nkey): (String, i64, bool, i32) = sqlx::query_as(
            "SELECT pg_get_indexdef($1::oid),
                    CASE WHEN c.relkind = 'I' THEN 0 ELSE pg_relation_size($1::oid) END,
                    EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = $1::oid),
                    i.indnkeyatts::int4
               FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE c.oid = $1::oid",
        )
        .bind(ix.oid)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(ix.definition, def, "{label}: {}", ix.name);
        // Fewer indexes than the exact-size limit: every size is exact.
        assert_eq!(ix.bytes, bytes, "{label}: size of {}", ix.name);
        assert_eq!(ix.attached_to_parent, attached, "{label}: {}", ix.name);
        let c = cols.iter().find(|c| c.oid == ix.oid).expect("key facts");
        assert_eq!(c.key_types.len(), nkey as usize, "{label}: {}", ix.name);
        assert_eq!(c.key_not_null.len(), nkey as usize, "{label}: {}", ix.name);
    }
    let by_name = |n: &str| indexes.iter().find(|i| i.name == n).unwrap();
    assert_eq!(by_name("plain_keywords").columns.len(), 4, "{label}");
    assert_eq!(
        by_name("plain_expr_mixed").columns[..],
        [Some("a".into()), None],
        "{label}"
    );
    let cat = cols
        .iter()
        .find(|c| c.oid == by_name("plain_gin").oid)
        .unwrap();
    assert_eq!(cat.key_categories[..], ["A"], "{label}");
    let part = cols
        .iter()
        .find(|c| c.oid == by_name("plain_partial").oid)
        .unwrap();
    assert_eq!(
        part.table_not_null_columns.as_deref(),
        Some(&["id".into()][..]),
        "{label}"
    );
    // Sorted by schema, table and name, byte-wise.
    let keys: Vec<(&str, &str, &str)> = indexes
        .iter()
        .map(|i| (i.schema.as_str(), i.table.as_str(), i.name.as_str()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "{label}");
    eprintln!("{label}: {} indexes, definitions match", indexes.len());
}

async fn load(url: &str) -> PgPool {
    let mut c = PgConnection::connect(url).await.unwrap();
    c.execute(SCHEMA).await.unwrap();
    c.close().await.ok();
    PgPool::connect(url).await.unwrap()
}

#[tokio::test]
async fn index_definitions_match_pg_get_indexdef() {
    let db = common::fresh_db().await;
    let pool = load(&db.url).await;
    check(&pool, "PATH server").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn index_definitions_match_on_every_matrix_server() {
    for b in common::matrix_bindirs_or_skip("index_definitions_match_on_every_matrix_server") {
        let label = b.display().to_string();
        let (_cluster, url) = common::start_matrix_server(b, false, "defs").await;
        let pool = load(&url).await;
        check(&pool, &label).await;
        pool.close().await;
    }
}
