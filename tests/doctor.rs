//! `dbdoctor doctor` and `dbdoctor snapshot` against a real throwaway PostgreSQL: each check with
//! its defect planted (and a healthy twin that must not be flagged), offline analysis, the
//! unprivileged path, read-only proof, and snapshot tests of the three output formats.

mod common;

use common::TestDb;
use serde_json::Value;
use sqlx::{Connection, Executor};

/// Every setup ends with this so the counters are in shared memory before doctor reads them
/// (the function exists from PostgreSQL 15; older servers report them on their own).
const FLUSH: &str = "DO $$ BEGIN IF to_regproc('pg_stat_force_next_flush') IS NOT NULL THEN PERFORM pg_stat_force_next_flush(); END IF; END $$;";

struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

/// Run `dbdoctor doctor --format json` on `db` with optional `[thresholds]` lines.
async fn doctor(db: &TestDb, thresholds: &str, extra: &[&str]) -> Run {
    let url = db.url.clone();
    let thresholds = thresholds.to_string();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let budgets = dir.path().join("budgets.toml");
        if !thresholds.is_empty() {
            std::fs::write(
                &budgets,
                format!("version = 1\n[thresholds]\n{thresholds}\n"),
            )
            .unwrap();
        }
        let out = common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "--format",
                "json",
                "doctor",
                "--budgets",
            ])
            .arg(&budgets)
            .args(&extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "doctor did not print JSON ({e}); stderr: {stderr}; stdout: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        Run {
            code: out.status.code().unwrap_or(-1),
            json,
            stderr,
        }
    })
    .await
    .unwrap()
}

fn findings<'a>(r: &'a Run, check: &str) -> Vec<&'a Value> {
    r.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

fn finding<'a>(r: &'a Run, check: &str, object: &str) -> &'a Value {
    findings(r, check)
        .into_iter()
        .find(|f| f["object"] == object)
        .unwrap_or_else(|| {
            panic!(
                "no {check} finding for {object}; findings: {:#}",
                r.json["findings"]
            )
        })
}

fn has(r: &Run, check: &str, object: &str) -> bool {
    findings(r, check).iter().any(|f| f["object"] == object)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_index_spares_constraints_flags_fk_support_and_states_stats_age() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE parent (id int PRIMARY KEY);
         INSERT INTO parent SELECT g FROM generate_series(1, 100) g;
         CREATE TABLE t (id int PRIMARY KEY, code int UNIQUE, val int, used int, parent_id int REFERENCES parent);
         INSERT INTO t SELECT g, g, g, g, 1 + g % 100 FROM generate_series(1, 60000) g;
         CREATE INDEX t_val_idx ON t (val);
         CREATE INDEX t_used_idx ON t (used);
         CREATE INDEX t_parent_idx ON t (parent_id);
         ANALYZE;
         SET enable_seqscan = off;
         SELECT count(*) FROM t WHERE used = 5;
         SELECT count(*) FROM t WHERE used = 6;
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = finding(&r, "unused_index", "public.t_val_idx");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["detail"]["idx_scan"], 0);
    assert!(f["detail"]["bytes"].as_i64().unwrap() > 1_000_000);
    // Fresh statistics: reported, with the age, and marked low-confidence.
    assert_eq!(f["confidence"], "low");
    assert!(f["detail"]["stats_age_days"].as_f64().unwrap() < 1.0);
    assert!(f["message"].as_str().unwrap().contains("statistics since"));
    assert_eq!(
        f["fix_sql"],
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_val_idx;"
    );
    assert_eq!(
        f["rollback_sql"],
        "CREATE INDEX CONCURRENTLY t_val_idx ON public.t USING btree (val);"
    );
    // The FK-supporting index is flagged as such, with no drop proposed.
    let fk = finding(&r, "unused_index", "public.t_parent_idx");
    assert_eq!(fk["severity"], "info");
    assert!(fk.get("fix_sql").is_none());
    assert_eq!(fk["detail"]["supports_foreign_keys"][0], "t_parent_id_fkey");
    // Healthy twins: the scanned index, and the PK and UNIQUE indexes (never proposed).
    assert!(!has(&r, "unused_index", "public.t_used_idx"));
    assert!(!has(&r, "unused_index", "public.t_pkey"));
    assert!(!has(&r, "unused_index", "public.t_code_key"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_redundant_indexes() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE t (id int PRIMARY KEY, a int, b int, c text);
         INSERT INTO t SELECT g, g, g, g::text FROM generate_series(1, 1000) g;
         CREATE UNIQUE INDEX t_id_again ON t (id);
         CREATE INDEX t_a ON t (a);
         CREATE INDEX t_a_copy ON t (a);
         CREATE INDEX t_a_partial ON t (a) WHERE a > 0;
         CREATE INDEX t_c ON t (c);
         CREATE INDEX t_c_pattern ON t (c text_pattern_ops);
         CREATE INDEX t_b ON t (b);
         CREATE INDEX t_b_c ON t (b, c);
         CREATE UNIQUE INDEX t_c_unique ON t (c);
         CREATE INDEX t_c_a ON t (c, a);
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "duplicate_index,redundant_index"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d = finding(&r, "duplicate_index", "public.t_a_copy");
    assert_eq!(d["detail"]["duplicate_of"], "public.t_a");
    assert_eq!(
        d["fix_sql"],
        "DROP INDEX CONCURRENTLY IF EXISTS public.t_a_copy;"
    );
    // The unique index identical to the primary key goes; the key's index stays.
    let u = finding(&r, "duplicate_index", "public.t_id_again");
    assert_eq!(u["detail"]["duplicate_of"], "public.t_pkey");
    assert!(!has(&r, "duplicate_index", "public.t_pkey"));
    // Not duplicates: a partial index and a different operator class.
    assert!(!has(&r, "duplicate_index", "public.t_a_partial"));
    assert!(!has(&r, "duplicate_index", "public.t_c_pattern"));
    // A plain index identical to a unique one goes, the unique one stays.
    let c = finding(&r, "duplicate_index", "public.t_c");
    assert_eq!(c["detail"]["duplicate_of"], "public.t_c_unique");
    // (b) is a left prefix of (b, c); a unique index never is proposed for removal.
    let red = finding(&r, "redundant_index", "public.t_b");
    assert_eq!(red["detail"]["covered_by"], "public.t_b_c");
    assert!(!has(&r, "redundant_index", "public.t_c_unique"));
    assert!(!has(&r, "redundant_index", "public.t_b_c"));
    assert_eq!(
        findings(&r, "duplicate_index").len(),
        3,
        "{:#}",
        r.json["findings"]
    );
    // A duplicate is reported once, not also as redundant.
    assert!(!has(&r, "redundant_index", "public.t_a_copy"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_index_from_a_failed_concurrent_build() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE t (id int, v int); INSERT INTO t VALUES (1, 1), (2, 1);")
        .await;
    let mut c = db.connect().await;
    let e = c
        .execute("CREATE UNIQUE INDEX CONCURRENTLY t_v_unique ON t (v)")
        .await;
    assert!(e.is_err(), "duplicate values must fail the build");
    c.execute("CREATE INDEX t_id ON t (id)").await.unwrap();
    c.close().await.unwrap();
    let r = doctor(&db, "", &["--checks", "invalid_index"]).await;
    let f = finding(&r, "invalid_index", "public.t_v_unique");
    // The table holds a duplicate key: a rebuild would fail, so none is proposed; the finding
    // says so and gives the query that lists the duplicates.
    assert!(f.get("fix_sql").is_none(), "{f:#}");
    assert_eq!(f["detail"]["duplicated_values"], 1, "{f:#}");
    assert!(
        f["message"].as_str().unwrap().contains("fails until"),
        "{f:#}"
    );
    let mut c = db.connect().await;
    c.execute("DELETE FROM t WHERE id = 2").await.unwrap();
    c.close().await.unwrap();
    let r = doctor(&db, "", &["--checks", "invalid_index"]).await;
    let f = finding(&r, "invalid_index", "public.t_v_unique");
    assert_eq!(
        f["fix_sql"],
        "REINDEX INDEX CONCURRENTLY public.t_v_unique;"
    );
    assert!(!has(&r, "invalid_index", "public.t_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fk_without_index_and_composite_keys_that_cover_it() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
         CREATE TABLE covered (parent_id int REFERENCES parent, n int, PRIMARY KEY (parent_id, n));
         CREATE TABLE second_col (n int, parent_id int REFERENCES parent, PRIMARY KEY (n, parent_id));
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "fk_without_index"]).await;
    let f = finding(&r, "fk_without_index", "public.child.child_parent_id_fkey");
    assert_eq!(f["table"], "public.child");
    assert_eq!(f["detail"]["columns"][0], "parent_id");
    assert_eq!(
        f["fix_sql"],
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS child_parent_id_idx ON public.child (parent_id);"
    );
    assert_eq!(
        f["rollback_sql"],
        "DROP INDEX CONCURRENTLY IF EXISTS public.child_parent_id_idx;"
    );
    // A composite primary key leading with the FK column covers it; one leading with another
    // column does not.
    assert!(!has(
        &r,
        "fk_without_index",
        "public.covered.covered_parent_id_fkey"
    ));
    assert!(has(
        &r,
        "fk_without_index",
        "public.second_col.second_col_parent_id_fkey"
    ));
    // The proposed fix works and clears the finding.
    db.exec(f["fix_sql"].as_str().unwrap()).await;
    let r2 = doctor(&db, "", &["--checks", "fk_without_index"]).await;
    assert!(!has(
        &r2,
        "fk_without_index",
        "public.child.child_parent_id_fkey"
    ));
    db.exec(f["rollback_sql"].as_str().unwrap()).await;
    let r3 = doctor(&db, "", &["--checks", "fk_without_index"]).await;
    assert!(has(
        &r3,
        "fk_without_index",
        "public.child.child_parent_id_fkey"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_index_on_a_table_read_by_sequential_scans() {
    let db = common::fresh_db().await;
    let mut sql = String::from(
        "CREATE TABLE scanned (id int PRIMARY KEY, v int);
         INSERT INTO scanned SELECT g, g % 500 FROM generate_series(1, 20000) g;
         CREATE TABLE indexed (id int PRIMARY KEY, v int);
         INSERT INTO indexed SELECT g, g % 500 FROM generate_series(1, 20000) g;
         CREATE INDEX indexed_v ON indexed (v);
         ANALYZE;\n",
    );
    for i in 0..60 {
        sql.push_str(&format!(
            "SELECT count(*) FROM scanned WHERE v = {i}; SELECT count(*) FROM indexed WHERE v = {i};\n"
        ));
    }
    sql.push_str(FLUSH);
    db.exec(&sql).await;
    let r = doctor(&db, "", &["--checks", "missing_index"]).await;
    // The index advisor names the column from the statement; the catalog's sequential-scan
    // evidence travels with it, at the catalog heuristic's priority.
    let f = findings(&r, "missing_index")
        .into_iter()
        .find(|f| f["table"] == "public.scanned")
        .unwrap_or_else(|| {
            panic!(
                "no missing_index for public.scanned: {:#}",
                r.json["findings"]
            )
        });
    let evidence = &f["detail"]["catalog_evidence"];
    assert!(evidence["seq_scan"].as_i64().unwrap() >= 60);
    assert_eq!(evidence["idx_scan"], 0);
    assert_eq!(evidence["rows"], 20000);
    assert_eq!(f["detail"]["columns"], serde_json::json!(["v"]));
    assert_eq!(f["priority"], "medium");
    assert!(f["fix_sql"]
        .as_str()
        .unwrap()
        .contains("CREATE INDEX CONCURRENTLY"));
    assert!(!findings(&r, "missing_index")
        .iter()
        .any(|f| f["table"] == "public.indexed" || f["object"] == "public.indexed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_advisor_feeds_doctor_and_is_verified_with_hypopg() {
    if !common::extension_available(
        "the_index_advisor_feeds_doctor_and_is_verified_with_hypopg",
        "hypopg",
    )
    .await
    {
        return;
    }
    let db = common::fresh_db().await;
    let mut sql = String::from(
        "CREATE EXTENSION hypopg;
         CREATE TABLE accounts (id bigint PRIMARY KEY);
         INSERT INTO accounts SELECT g FROM generate_series(0, 4999) g;
         CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id), kind text NOT NULL, at timestamptz NOT NULL);
         INSERT INTO events SELECT g, g % 5000, 'k' || (g % 3), now() - g * interval '1 second' FROM generate_series(1, 60000) g;
         ANALYZE events;\n",
    );
    for i in 0..40 {
        sql.push_str(&format!(
            "SELECT id, at FROM events WHERE account_id = {i} ORDER BY at DESC LIMIT 10;\n"
        ));
    }
    sql.push_str(FLUSH);
    db.exec(&sql).await;
    let r = doctor(&db, "", &[]).await;
    let f = findings(&r, "missing_index")
        .into_iter()
        .find(|f| f["table"] == "public.events")
        .unwrap_or_else(|| panic!("no advisor suggestion: {:#}", r.json["findings"]));
    assert_eq!(f["detail"]["verified"], true, "{f:#}");
    assert_eq!(f["detail"]["columns"][0], "account_id", "{f:#}");
    assert!(f.get("confidence").is_none_or(|c| c != "low"), "{f:#}");
    let before = f["detail"]["statements"][0]["cost_before"]
        .as_f64()
        .unwrap();
    let after = f["detail"]["statements"][0]["cost_after"].as_f64().unwrap();
    assert!(after <= before / 2.0, "cost {before} -> {after}");
    // The advised index leads with the foreign key's column, so the foreign-key finding points
    // at it rather than proposing a second index.
    let fk = findings(&r, "fk_without_index")
        .into_iter()
        .find(|x| x["table"] == "public.events")
        .unwrap_or_else(|| panic!("no fk_without_index: {:#}", r.json["findings"]));
    assert_eq!(fk["fix_sql"], f["fix_sql"]);
    assert_eq!(fk["detail"]["covered_by_suggestion"], f["object"]);
    // Nothing hypothetical or real was left behind by the run.
    let mut c = db.connect().await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_indexes WHERE tablename = 'events'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 1, "only the primary key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_and_index_bloat_estimates() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE bloated (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false);
         INSERT INTO bloated SELECT g, repeat('x', 60) FROM generate_series(1, 100000) g;
         CREATE TABLE tight (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false);
         INSERT INTO tight SELECT g, repeat('x', 60) FROM generate_series(1, 100000) g;
         DELETE FROM bloated WHERE id % 5 <> 0;",
    )
    .await;
    db.exec("VACUUM ANALYZE bloated").await;
    db.exec(&format!("ANALYZE tight; {FLUSH}")).await;
    // The defaults want 10 MB of bloat; this table is 9 MB, so the floor is lowered.
    let r = doctor(
        &db,
        "bloat_min_bytes = 1048576",
        &["--checks", "table_bloat,index_bloat"],
    )
    .await;
    let t = finding(&r, "table_bloat", "public.bloated");
    let pct = t["detail"]["bloat_pct"].as_f64().unwrap();
    assert!(
        (70.0..=85.0).contains(&pct),
        "80% of the rows were deleted: {pct}"
    );
    assert_eq!(t["fix_sql"], "VACUUM (FULL, ANALYZE) public.bloated;");
    let i = finding(&r, "index_bloat", "public.bloated_pkey");
    assert!(i["detail"]["bloat_pct"].as_f64().unwrap() > 60.0);
    assert_eq!(
        i["fix_sql"],
        "REINDEX INDEX CONCURRENTLY public.bloated_pkey;"
    );
    assert!(!has(&r, "table_bloat", "public.tight"));
    assert!(!has(&r, "index_bloat", "public.tight_pkey"));
    // The tables section carries the same estimate.
    let row = r.json["tables"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "public.bloated")
        .unwrap();
    assert_eq!(row["bloat_pct"], t["detail"]["bloat_pct"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_tuples_honour_per_table_autovacuum_settings() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE off (id int PRIMARY KEY) WITH (autovacuum_enabled = false);
         CREATE TABLE lenient (id int PRIMARY KEY) WITH (autovacuum_vacuum_scale_factor = 0.9);
         INSERT INTO off SELECT generate_series(1, 10000);
         INSERT INTO lenient SELECT generate_series(1, 10000);
         ANALYZE off; ANALYZE lenient;
         DELETE FROM off WHERE id <= 5000;
         DELETE FROM lenient WHERE id <= 5000;
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "dead_tuples"]).await;
    let f = finding(&r, "dead_tuples", "public.off");
    assert_eq!(f["detail"]["n_dead_tup"], 5000);
    // 50 + 0.2 x 10000 rows.
    assert_eq!(f["detail"]["autovacuum_trigger"], 2050);
    assert_eq!(f["detail"]["autovacuum_enabled"], false);
    assert_eq!(
        f["fix_sql"],
        "VACUUM (ANALYZE) public.off;\nALTER TABLE public.off RESET (autovacuum_enabled);"
    );
    // 5000 dead rows stay under this table's own trigger (50 + 0.9 x 10000).
    assert!(!has(&r, "dead_tuples", "public.lenient"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_without_primary_key() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE nokey (a int NOT NULL, b int);
         CREATE UNIQUE INDEX nokey_a ON nokey (a);
         CREATE TABLE haskey (id int PRIMARY KEY);
         CREATE TABLE parted (id int, d date, PRIMARY KEY (id, d)) PARTITION BY RANGE (d);
         CREATE TABLE parted_2026 PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "table_without_pk"]).await;
    let f = finding(&r, "table_without_pk", "public.nokey");
    assert_eq!(
        f["fix_sql"],
        "ALTER TABLE public.nokey ADD CONSTRAINT nokey_pkey PRIMARY KEY USING INDEX nokey_a;"
    );
    for ok in [
        "public.haskey",
        "public.parted",
        "public.parted_2026",
        "public.mv",
    ] {
        assert!(!has(&r, "table_without_pk", ok), "{ok} flagged");
    }
    db.exec(f["fix_sql"].as_str().unwrap()).await;
    // Statements with CONCURRENTLY run one by one, as psql would.
    for stmt in f["rollback_sql"].as_str().unwrap().split(";\n") {
        db.exec(stmt).await;
    }
    let r = doctor(&db, "", &["--checks", "table_without_pk"]).await;
    assert!(has(&r, "table_without_pk", "public.nokey"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequence_overflow_against_the_column_type_it_feeds() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE SEQUENCE big_seq AS bigint;
         CREATE TABLE narrow (id int4 DEFAULT nextval('big_seq'));
         SELECT setval('big_seq', 2000000000);
         CREATE SEQUENCE wide_seq AS bigint;
         CREATE TABLE wide (id int8 DEFAULT nextval('wide_seq'));
         SELECT setval('wide_seq', 2000000000);
         CREATE TABLE small (id smallserial);
         SELECT setval('small_id_seq', 30000);
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "sequence_overflow"]).await;
    let f = finding(&r, "sequence_overflow", "public.big_seq");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["table"], "public.narrow");
    assert_eq!(f["detail"]["last_value"], 2_000_000_000i64);
    assert_eq!(f["detail"]["sequence_type"], "bigint");
    let used = f["detail"]["used_pct"].as_f64().unwrap();
    assert!((used - 93.13).abs() < 0.01, "{used}");
    assert!(f["detail"]["limited_by"]
        .as_str()
        .unwrap()
        .contains("integer"));
    let s = finding(&r, "sequence_overflow", "public.small_id_seq");
    assert!(s["detail"]["used_pct"].as_f64().unwrap() > 91.0);
    // The same value in a bigint column is nowhere near its limit.
    assert!(!has(&r, "sequence_overflow", "public.wide_seq"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xid_wraparound_reports_the_real_age() {
    // Consuming a billion transaction IDs is not possible in a test: the threshold is lowered
    // instead, and the reported age must be the server's.
    let db = common::fresh_db().await;
    let mut c = db.connect().await;
    let age: i64 = sqlx::query_scalar(
        "SELECT age(datfrozenxid)::int8 FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.ok();
    let r = doctor(
        &db,
        "xid_age_pct = 0.0000001",
        &["--checks", "xid_wraparound"],
    )
    .await;
    let f = finding(&r, "xid_wraparound", &db.name);
    let reported = f["detail"]["age"].as_i64().unwrap();
    assert!(
        reported >= age && reported < age + 1000,
        "{reported} vs {age}"
    );
    assert_eq!(
        r.json["resources"]["database"]["xid_age"].as_i64().unwrap(),
        reported
    );
    let healthy = doctor(&db, "", &["--checks", "xid_wraparound"]).await;
    assert!(findings(&healthy, "xid_wraparound").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_running_idle_in_transaction_and_blocking_locks() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);")
        .await;
    // A: holds an ACCESS EXCLUSIVE relation lock and sits idle in its transaction.
    let mut a = db.connect().await;
    a.execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE;")
        .await
        .unwrap();
    let a_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut a)
        .await
        .unwrap();
    // B: waits for A (a relation lock, not a transaction-id lock).
    let b_url = db.url.clone();
    let b = tokio::spawn(async move {
        let mut b = sqlx::PgConnection::connect(&b_url).await.unwrap();
        let _ = b.execute("SELECT count(*) FROM t").await;
    });
    // C: a long query.
    let c_url = db.url.clone();
    let c = tokio::spawn(async move {
        let mut c = sqlx::PgConnection::connect(&c_url).await.unwrap();
        let _ = c.execute("SELECT pg_sleep(60)").await;
    });
    // Wait until B is waiting and C is running (state, not time, decides).
    let mut watch = db.connect().await;
    for _ in 0..200 {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
              AND ((wait_event_type = 'Lock' AND now() - query_start > interval '300 ms')
                OR (query LIKE 'SELECT pg_sleep%' AND now() - query_start > interval '300 ms'))",
        )
        .fetch_one(&mut watch)
        .await
        .unwrap();
        if n == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = doctor(
        &db,
        "long_running_query_ms = 200\nidle_in_transaction_ms = 200\nblocked_wait_ms = 200",
        &[
            "--checks",
            "long_running_query,idle_in_transaction,blocking_locks",
        ],
    )
    .await;
    let blk = finding(&r, "blocking_locks", &format!("pid {a_pid}"));
    let msg = blk["message"].as_str().unwrap();
    assert!(msg.contains("AccessShareLock on t"), "{msg}");
    assert!(msg.contains("idle in transaction"), "{msg}");
    assert_eq!(
        blk["fix_sql"],
        format!("SELECT pg_terminate_backend({a_pid});")
    );
    let idle = findings(&r, "idle_in_transaction");
    assert_eq!(idle.len(), 1, "{:#}", r.json["findings"]);
    assert!(idle[0]["object"]
        .as_str()
        .unwrap()
        .starts_with(&format!("pid {a_pid} ")));
    let long: Vec<&Value> = findings(&r, "long_running_query");
    assert!(
        long.iter()
            .any(|f| f["detail"]["query"] == "SELECT pg_sleep(60)"),
        "{long:#?}"
    );
    // The blocked session is long-running too (it is active), the idle one is not.
    assert!(!long.iter().any(|f| f["detail"]["pid"] == a_pid));
    // Healthy twin: the defaults (60 s) flag none of this yet.
    let calm = doctor(
        &db,
        "",
        &[
            "--checks",
            "long_running_query,idle_in_transaction,blocking_locks",
        ],
    )
    .await;
    assert!(
        calm.json["findings"].as_array().unwrap().is_empty(),
        "{:#}",
        calm.json["findings"]
    );
    a.execute("ROLLBACK").await.unwrap();
    b.await.unwrap();
    watch
        .execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'")
        .await
        .unwrap();
    c.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_usage_and_host_checks_use_measured_figures() {
    let db = common::fresh_db().await;
    let r = doctor(
        &db,
        "connections_pct = 0.001\ncpu_pct = 0\nmemory_pct = 0",
        &["--checks", "connections_usage,host_cpu,host_memory"],
    )
    .await;
    let c = finding(&r, "connections_usage", "server");
    assert_eq!(
        c["detail"]["max_connections"],
        r.json["capabilities"]["max_connections"]
    );
    assert!(c["detail"]["connections"].as_i64().unwrap() >= 1);
    // The test cluster is on this host: the host figures are the database host's.
    assert_eq!(r.json["resources"]["host"]["is_database_host"], true);
    assert_eq!(
        r.json["resources"]["host"]["label"],
        "the host dbdoctor runs on"
    );
    assert_eq!(findings(&r, "host_memory").len(), 1);
    assert_eq!(findings(&r, "host_cpu").len(), 1);
    let calm = doctor(
        &db,
        "cpu_pct = 100\nmemory_pct = 100",
        &["--checks", "connections_usage,host_cpu,host_memory"],
    )
    .await;
    assert!(
        calm.json["findings"].as_array().unwrap().is_empty(),
        "{:#}",
        calm.json["findings"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_hit_ratio_after_large_sequential_reads() {
    let db = common::fresh_db().await;
    // A table larger than a quarter of shared_buffers (128 MB) is read through a small ring
    // buffer, so its blocks come from the OS each time.
    db.exec(&format!(
        "CREATE TABLE big AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 200000) g;
         SELECT count(*) FROM big; SELECT count(*) FROM big;
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "cache_hit_ratio"]).await;
    let f = finding(&r, "cache_hit_ratio", &db.name);
    assert!(f["detail"]["hit_pct"].as_f64().unwrap() < 99.0);
    let read = f["detail"]["blks_read"].as_i64().unwrap();
    let hit = f["detail"]["blks_hit"].as_i64().unwrap();
    assert!(
        read > 1_000 && read + hit >= 10_000,
        "{read} read, {hit} hit"
    );

    let small = common::fresh_db().await;
    let mut sql = String::from(
        "CREATE TABLE s AS SELECT g FROM generate_series(1, 20000) g; SELECT count(*) FROM s;\n",
    );
    for _ in 0..200 {
        sql.push_str("SELECT count(*) FROM s;\n");
    }
    sql.push_str(FLUSH);
    small.exec(&sql).await;
    let ok = doctor(&small, "", &["--checks", "cache_hit_ratio"]).await;
    assert!(
        ok.json["resources"]["database"]["cache_hit_pct"]
            .as_f64()
            .unwrap()
            >= 99.0,
        "{:#}",
        ok.json["resources"]["database"]
    );
    assert!(findings(&ok, "cache_hit_ratio").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weird_names_are_quoted_and_the_fixes_run() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        r#"CREATE SCHEMA "my schema";
           CREATE TABLE "my schema"."Weird ""Name""" (id int PRIMARY KEY, "User Id" int REFERENCES "my schema"."Weird ""Name""");
           CREATE INDEX "Dup ""One""" ON "my schema"."Weird ""Name""" (id);
           {FLUSH}"#
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "fk_without_index,duplicate_index"]).await;
    let table = r#""my schema"."Weird ""Name""""#;
    let fk = findings(&r, "fk_without_index");
    assert_eq!(fk.len(), 1, "{:#}", r.json["findings"]);
    assert_eq!(fk[0]["table"], table);
    let fix = fk[0]["fix_sql"].as_str().unwrap();
    assert_eq!(
        fix,
        format!(
            r#"CREATE INDEX CONCURRENTLY IF NOT EXISTS "Weird ""Name""_User Id_idx" ON {table} ("User Id");"#
        )
    );
    let dup = finding(&r, "duplicate_index", r#""my schema"."Dup ""One""""#);
    assert_eq!(
        dup["fix_sql"],
        r#"DROP INDEX CONCURRENTLY IF EXISTS "my schema"."Dup ""One""";"#
    );
    // Every fix and rollback is valid SQL on this database.
    for f in [fk[0], dup] {
        db.exec(f["fix_sql"].as_str().unwrap()).await;
    }
    let after = doctor(&db, "", &["--checks", "fk_without_index,duplicate_index"]).await;
    assert!(
        after.json["findings"].as_array().unwrap().is_empty(),
        "{:#}",
        after.json["findings"]
    );
    for f in [fk[0], dup] {
        db.exec(f["rollback_sql"].as_str().unwrap()).await;
    }
    let again = doctor(&db, "", &["--checks", "fk_without_index,duplicate_index"]).await;
    assert_eq!(again.json["findings"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_schemas_are_ignored_and_schema_filter_applies() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE SCHEMA a; CREATE SCHEMA b;
         CREATE TABLE a.t (x int); CREATE TABLE b.t (x int);
         {FLUSH}"
    ))
    .await;
    let r = doctor(&db, "", &["--checks", "table_without_pk"]).await;
    let objs: Vec<&str> = findings(&r, "table_without_pk")
        .iter()
        .map(|f| f["object"].as_str().unwrap())
        .collect();
    assert_eq!(objs, vec!["a.t", "b.t"]);
    let tables = r.json["tables"]["rows"].as_array().unwrap();
    assert!(tables.iter().all(|t| {
        let n = t["table"].as_str().unwrap();
        !n.starts_with("pg_catalog.") && !n.starts_with("information_schema.")
    }));
    let only_b = doctor(&db, "", &["--checks", "table_without_pk", "--schema", "b"]).await;
    assert_eq!(findings(&only_b, "table_without_pk").len(), 1);
    assert_eq!(only_b.json["tables"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_analysis_of_a_snapshot_equals_the_live_result() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent);
         CREATE TABLE nokey (x int);
         CREATE INDEX child_id_dup ON child (id);
         {FLUSH}"
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.json");
    let url = db.url.clone();
    let f2 = file.clone();
    let out = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args(["--database-url", &url, "snapshot", "--out"])
            .arg(&f2)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Figures that change with the clock or the host between the two runs are left out.
    let checks = [
        "--skip-checks",
        "host_cpu,host_memory,connections_usage,stats_recently_reset",
    ];
    let live = doctor(&db, "", &checks).await;
    let f3 = file.clone();
    let offline: Value = tokio::task::spawn_blocking(move || {
        let out = common::dbdoctor()
            .args([
                "--format",
                "json",
                "doctor",
                "--budgets",
                "/nonexistent/budgets.toml",
                "--from-snapshot",
            ])
            .arg(&f3)
            .args(checks)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(offline["source"], "snapshot");
    assert_eq!(live.json["source"], "live");
    assert_eq!(offline["findings"], live.json["findings"]);
    assert!(!live.json["findings"].as_array().unwrap().is_empty());
    assert_eq!(offline["indexes"], live.json["indexes"]);
    assert_eq!(offline["health"], live.json["health"]);
    assert_eq!(offline["checks_run"], live.json["checks_run"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_pg_stat_statements_and_an_unprivileged_role_still_complete() {
    let db = common::fresh_db().await;
    let role = format!("plain_{}", db.name);
    db.exec(&format!(
        "DROP EXTENSION IF EXISTS pg_stat_statements;
         CREATE ROLE {role} LOGIN PASSWORD 'pw';
         CREATE TABLE t (id serial PRIMARY KEY);
         CREATE SEQUENCE private_seq;
         GRANT SELECT ON t TO {role};"
    ))
    .await;
    let url = db.url_as(&role, "pw");
    let out = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "--format",
                "json",
                "doctor",
                "--budgets",
                "/nonexistent/budgets.toml",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("pw@"), "password leaked: {stderr}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = j["skipped"].as_array().unwrap();
    let find = |what: &str| {
        skipped
            .iter()
            .find(|s| s["what"] == what)
            .unwrap_or_else(|| panic!("{what} not skipped: {skipped:#?}"))
    };
    assert_eq!(
        find("statements")["enable"],
        "CREATE EXTENSION pg_stat_statements;"
    );
    assert_eq!(
        find("slow_query")["reason"]
            .as_str()
            .unwrap()
            .split(':')
            .next(),
        Some("statements not collected")
    );
    assert_eq!(
        find("sessions of other roles")["enable"],
        format!("GRANT pg_read_all_stats TO {role};")
    );
    let seq = find("sequence_overflow");
    assert!(
        seq["enable"]
            .as_str()
            .unwrap()
            .starts_with("GRANT SELECT ON SEQUENCE "),
        "{seq}"
    );
    assert!(seq["enable"]
        .as_str()
        .unwrap()
        .contains("public.private_seq"));
    // The catalog checks ran anyway.
    assert!(j["checks_run"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "unused_index"));
    assert!(j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check"] == "pg_stat_statements_missing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_writes_nothing() {
    let db = common::fresh_db().await;
    db.exec(&format!(
        "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t SELECT g, g FROM generate_series(1, 100) g; {FLUSH}"
    ))
    .await;
    // The sessions doctor opens are read-only: a write in one fails.
    let ctx_settings = dbdoctor::db::ConnectSettings::resolve(
        Some(&db.url),
        std::time::Duration::from_secs(5),
        std::time::Duration::from_secs(30),
    )
    .unwrap();
    let ro = dbdoctor::db::connect(&ctx_settings, dbdoctor::db::SessionMode::ReadOnly)
        .await
        .unwrap();
    let e = sqlx::query("INSERT INTO t VALUES (1000, 1)")
        .execute(&ro.pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("read-only transaction"), "{e}");
    ro.pool.close().await;

    let counters = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let row: (i64, i64, i64, i64) = sqlx::query_as(
                "SELECT tup_inserted, tup_updated, tup_deleted, xact_rollback
                   FROM pg_stat_database WHERE datname = current_database()",
            )
            .fetch_one(&mut c)
            .await
            .unwrap();
            c.close().await.ok();
            row
        }
    };
    let before = counters(&db).await;
    let r = doctor(&db, "", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // doctor's sessions flush their counters when they end; wait for that (bounded), then no
    // row was written and no statement failed (a refused write would roll back).
    let mut after = counters(&db).await;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = counters(&db).await;
    }
    assert_eq!(before.0, after.0, "rows inserted");
    assert_eq!(before.1, after.1, "rows updated");
    assert_eq!(before.2, after.2, "rows deleted");
    assert_eq!(before.3, after.3, "statements rolled back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_on_and_bad_input_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.json");
    std::fs::write(
        &snap,
        serde_json::to_string(&dbdoctor::analyze::testdata::sample_snapshot()).unwrap(),
    )
    .unwrap();
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || common::dbdoctor().args(args).output().unwrap())
    };
    let s = snap.display().to_string();
    let base = |extra: &[&str]| {
        let mut v: Vec<String> = [
            "doctor",
            "--budgets",
            "/nonexistent/b.toml",
            "--from-snapshot",
            &s,
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    assert_eq!(run(base(&[])).await.unwrap().status.code(), Some(0));
    assert_eq!(
        run(base(&["--fail-on", "warning"]))
            .await
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(base(&["--fail-on", "critical"]))
            .await
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run(base(&[
            "--fail-on",
            "critical",
            "--checks",
            "table_without_pk"
        ]))
        .await
        .unwrap()
        .status
        .code(),
        Some(0)
    );
    let bad = run(base(&["--checks", "no_such_check"])).await.unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown check id 'no_such_check'"));
    let budgets = dir.path().join("budgets.toml");
    std::fs::write(&budgets, "[thresholds]\nslow_query_msec = 5\n").unwrap();
    let mut args = base(&[]);
    args[2] = budgets.display().to_string();
    let bad = run(args).await.unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("slow_query_msec"));
    let report = dir.path().join("reports/db-perf.md");
    let out = run(base(&["--report", &report.display().to_string()]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.starts_with("# Database health report"));
    let missing = run(vec![
        "doctor".into(),
        "--from-snapshot".into(),
        "/nonexistent/s.json".into(),
    ])
    .await
    .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

fn sample_report() -> dbdoctor::analyze::report::DoctorReport {
    use dbdoctor::analyze::doctor::CheckSelection;
    use dbdoctor::analyze::report::{doctor_report, ReportOptions};
    doctor_report(
        &dbdoctor::analyze::testdata::sample_snapshot(),
        &dbdoctor::analyze::thresholds::Thresholds::default(),
        &CheckSelection::default(),
        &ReportOptions {
            source: "snapshot".into(),
            ..Default::default()
        },
    )
}

#[test]
fn sample_snapshot_formats() {
    let report = sample_report();
    let mut table = Vec::new();
    dbdoctor::render::doctor_table::write(&report, &mut table, false).unwrap();
    insta::assert_snapshot!("doctor_table", String::from_utf8(table).unwrap());
    let mut json = Vec::new();
    dbdoctor::render::doctor_json::write(&report, &mut json).unwrap();
    insta::assert_snapshot!("doctor_json", String::from_utf8(json).unwrap());
    let mut md = Vec::new();
    dbdoctor::render::doctor_markdown::write(&report, &mut md).unwrap();
    insta::assert_snapshot!("doctor_markdown", String::from_utf8(md).unwrap());
}

#[test]
fn sample_snapshot_findings() {
    let r = sample_report();
    let ids: Vec<(&str, &str)> = r
        .findings
        .iter()
        .map(|f| (f.check.as_str(), f.object.as_str()))
        .collect();
    for want in [
        ("duplicate_index", "public.idx_meals_cooked_on_copy"),
        ("redundant_index", "public.idx_meals_cooked_on"),
        ("unused_index", "public.idx_users_created_at"),
        ("invalid_index", "public.idx_meals_title_broken"),
        ("fk_without_index", "public.meals.meals_user_id_fkey"),
        ("missing_index", "public.meals"),
        ("dead_tuples", "public.meals"),
        ("sequence_overflow", "public.orders_archive_id_seq"),
        ("table_without_pk", "public.orders_archive"),
        ("xid_wraparound", "shop"),
        ("idle_in_transaction", "pid 4101 (app@shop)"),
        ("blocking_locks", "pid 4101"),
        ("long_running_query", "pid 4103 (report@shop)"),
        ("host_cpu", "host"),
        ("slow_query", "queryid 101"),
        ("select_star", "queryid 101"),
        ("select_star", "queryid 103"),
        ("unbounded_result", "queryid 101"),
        ("implicit_join", "queryid 101"),
    ] {
        assert!(ids.contains(&want), "missing {want:?} in {ids:#?}");
    }
    // A statement with a LIMIT is not unbounded; a primary-key lookup is not slow.
    assert!(!ids.contains(&("unbounded_result", "queryid 103")));
    assert!(!ids.contains(&("slow_query", "queryid 102")));
    let q = r.queries.as_ref().unwrap();
    assert_eq!(q.statements_analysed, 4);
    assert_eq!(q.slow.len(), 1);
    assert_eq!(q.temp_spilling.len(), 1);
    // 114,200 calls over the hour since the reset.
    assert!((q.qps.unwrap() - 114_200.0 / 3600.0).abs() < 0.01);
    // Never proposed: the unique constraint's unused index.
    assert!(!ids.contains(&("unused_index", "public.users_email_key")));
    // The weird table's unused index is quoted.
    assert!(ids.contains(&("unused_index", r#""my schema"."Weird ""Name""_val_idx""#)));
    assert!(r.health.score < 100);
    let total: u32 = r.health.deductions.iter().map(|d| d.points).sum();
    assert_eq!(r.health.score, 100u32.saturating_sub(total));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_badly_shaped_statements_from_pg_stat_statements() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE a (id int PRIMARY KEY, v int);
         CREATE TABLE b (id int PRIMARY KEY, w int);
         INSERT INTO a SELECT g, g FROM generate_series(1, 3000) g;
         INSERT INTO b SELECT g, g FROM generate_series(1, 3000) g;
         SELECT pg_stat_statements_reset();",
    )
    .await;
    let mut sql = String::new();
    for _ in 0..3 {
        sql.push_str("SELECT *, pg_sleep(0.12) FROM a, b WHERE a.id = b.id AND a.id = 7;\n");
        sql.push_str("SELECT * FROM a;\n");
        sql.push_str("SELECT a.id FROM a JOIN b ON b.id = a.id WHERE a.v > 10 LIMIT 10;\n");
    }
    let mut c = db.connect().await;
    for stmt in sql.lines() {
        c.execute(stmt).await.unwrap();
    }
    c.close().await.ok();
    // A rate over less than a second since the reset is "no data": let a second pass so the
    // QPS figure below must be a number.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = doctor(&db, "", &["--only", "queries"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let by_query = |check: &str, prefix: &str| {
        findings(&r, check)
            .into_iter()
            .find(|f| {
                f["detail"]["query"]
                    .as_str()
                    .unwrap_or("")
                    .starts_with(prefix)
            })
            .cloned()
    };
    let slow = by_query("slow_query", "SELECT *, pg_sleep").expect("slow_query");
    assert_eq!(slow["detail"]["calls"], 3);
    assert!(slow["detail"]["mean_ms"].as_f64().unwrap() >= 120.0);
    assert_eq!(slow["detail"]["threshold_ms"], 100.0);
    assert!(by_query("implicit_join", "SELECT *, pg_sleep").is_some());
    assert!(by_query("select_star", "SELECT *, pg_sleep").is_some());
    let unbounded = by_query("unbounded_result", "SELECT * FROM a").expect("unbounded_result");
    assert_eq!(unbounded["detail"]["rows_per_call"], 3000.0);
    // The healthy twin: explicit join, named columns, LIMIT, fast.
    for check in [
        "slow_query",
        "select_star",
        "implicit_join",
        "unbounded_result",
    ] {
        assert!(
            by_query(check, "SELECT a.id FROM a JOIN b").is_none(),
            "{check}"
        );
    }
    let q = &r.json["queries"];
    assert_eq!(q["latency"]["method"], "estimated");
    assert!(q["statements"].as_array().unwrap().len() >= 3);
    // dbdoctor's own catalog queries are not part of the workload (on every server version).
    assert!(
        !q["statements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["query"]
                .as_str()
                .unwrap_or("")
                .contains("pg_stat_get_numscans")),
        "{q:#}"
    );
    assert!(q["qps"].as_f64().is_some(), "{q:#}");
    // --only queries leaves the other sections out.
    assert!(r.json["tables"].is_null());
    assert!(findings(&r, "table_without_pk").is_empty());
    // --slow-queries: only the slow statement.
    let s = doctor(&db, "", &["--slow-queries"]).await;
    let all: Vec<&str> = s.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(all, vec!["slow_query"]);
}

#[test]
fn replica_statistics_are_labelled_and_lower_the_confidence() {
    use dbdoctor::analyze::doctor::findings;
    use dbdoctor::analyze::thresholds::Thresholds;
    let mut snap = dbdoctor::analyze::testdata::sample_snapshot();
    let th = Thresholds::default();
    let primary = findings(&snap, &th);
    let f = primary
        .iter()
        .find(|f| f.check.as_str() == "unused_index" && f.object == "public.idx_users_created_at")
        .unwrap();
    assert_eq!(f.confidence, Some(dbdoctor::analyze::Confidence::High));
    snap.capabilities.is_replica = true;
    let replica = findings(&snap, &th);
    let f = replica
        .iter()
        .find(|f| f.check.as_str() == "unused_index" && f.object == "public.idx_users_created_at")
        .unwrap();
    assert_eq!(f.confidence, Some(dbdoctor::analyze::Confidence::Medium));
    assert!(f.message.contains("replica statistics"), "{}", f.message);
    assert_eq!(f.detail["replica_statistics"], true);
}

/// `-v` prints when each phase ends and, on Linux, the peak memory so far (DB_PERF.md, "Performance
/// on a large catalog").
#[tokio::test]
async fn verbose_phase_lines_carry_the_peak_memory() {
    let db = common::fresh_db().await;
    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args(["-v", "--database-url", &url, "--format", "json", "doctor"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for phase in [
        "catalog collectors took",
        "snapshot collected at",
        "report built at",
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(phase))
            .unwrap_or_else(|| panic!("no {phase:?} line: {stderr}"));
        if cfg!(target_os = "linux") {
            let mib: u64 = line
                .split("peak memory ")
                .nth(1)
                .and_then(|r| r.strip_suffix(" MiB"))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no peak memory in {line:?}"));
            assert!(mib > 0 && mib < 1024, "{line}");
        }
    }
}
