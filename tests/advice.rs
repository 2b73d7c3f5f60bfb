//! The advice plan on a real cluster: a schema planted with every index and table defect doctor
//! fixes (chains of duplicate, redundant and unused indexes, an invalid unique index with and
//! without duplicate keys, a leftover of a failed concurrent build, 63-byte and quoted names, a
//! name already taken, partitioned tables). The whole fix set is applied to a copy in
//! autocommit, doctor runs again, every rollback runs in reverse, and the schema must match the
//! original; `--verify-fixes` must reach the same verdict on a throwaway cluster.

mod common;

use std::collections::{HashMap, HashSet};

use common::TestDb;
use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};

const FLUSH: &str = "DO $$ BEGIN IF to_regproc('pg_stat_force_next_flush') IS NOT NULL THEN PERFORM pg_stat_force_next_flush(); END IF; END $$;";

/// 63 bytes: the longest name PostgreSQL keeps.
const LONG_INDEX: &str = "Dup Index With A Name That Is Exactly Sixty-Three Bytes Long!!!";
const LONG_TABLE_A: &str = "a_rather_long_table_name_for_line_items_of_orders_placed_2026";
const LONG_TABLE_B: &str = "a_rather_long_table_name_for_line_items_of_orders_placed_2027";

const THRESHOLDS: &str = "unused_index_min_bytes = 1\nstats_min_age_days = 0\n";

const SCHEMA: &str = r#"
CREATE SCHEMA "Shop Data";
CREATE TABLE customers (id bigint PRIMARY KEY);
INSERT INTO customers SELECT g FROM generate_series(1, 1000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, region text, created_at date, note text);
INSERT INTO orders SELECT g, 1 + g % 1000, 'r' || (g % 7), date '2026-01-01' + (g % 300), 'n' || (g % 11)
  FROM generate_series(1, 20000) g;
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE INDEX orders_created_region_note_idx ON orders (created_at, region, note);
CREATE INDEX orders_region_a ON orders (region);
CREATE INDEX orders_note_a ON orders (note);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint REFERENCES orders (id));
CREATE SEQUENCE items_order_id_idx;
CREATE TABLE "Shop Data"."Line Items" (id bigint PRIMARY KEY, "Order Id" bigint REFERENCES orders (id));
CREATE TABLE events (id bigint, at date NOT NULL, customer_id bigint REFERENCES customers (id)) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
INSERT INTO events SELECT g, date '2026-01-01' + (g % 700), 1 + g % 1000 FROM generate_series(1, 5000) g;
CREATE INDEX events_at_a ON events (at);
CREATE INDEX events_at_b ON events (at);
CREATE TABLE codes (id bigint PRIMARY KEY, code text);
INSERT INTO codes SELECT g, 'CODE' || (g % 50) FROM generate_series(1, 200) g;
CREATE TABLE vouchers (id bigint PRIMARY KEY, code text);
INSERT INTO vouchers VALUES (1, 'A'), (2, 'A'), (3, 'B');
CREATE TABLE tags (id bigint PRIMARY KEY, name text);
INSERT INTO tags VALUES (1, 'x'), (2, 'x'), (3, 'y');
CREATE INDEX tags_name_idx ON tags (name);
CREATE TABLE nopk_plain (code text, v int);
INSERT INTO nopk_plain SELECT 'c' || g, g FROM generate_series(1, 100) g;
CREATE UNIQUE INDEX nopk_plain_code_uq ON nopk_plain (code);
CREATE TABLE nopk_constraint (code text NOT NULL UNIQUE, v int);
INSERT INTO nopk_constraint SELECT 'c' || g, g FROM generate_series(1, 100) g;
CREATE TABLE nopk_nulls (code text, v int);
INSERT INTO nopk_nulls VALUES ('a', 1), (NULL, 2);
CREATE UNIQUE INDEX nopk_nulls_code_uq ON nopk_nulls (code);
CREATE TABLE counters (id serial PRIMARY KEY, v int);
SELECT setval('counters_id_seq', 2100000000);
"#;

fn long_tables() -> String {
    let mut s = String::new();
    for t in [LONG_TABLE_A, LONG_TABLE_B] {
        s.push_str(&format!(
            "CREATE TABLE \"{t}\" (id bigint PRIMARY KEY, order_identifier_column bigint REFERENCES orders (id));\n"
        ));
    }
    s
}

/// Index scans on the indexes that must count as used, then the indexes that never get one.
const USE_THEN_ADD: &str = r#"
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM orders WHERE customer_id = 5;
SELECT count(*) FROM orders WHERE created_at = '2026-02-01' AND region = 'r1' AND note = 'n1';
SELECT count(*) FROM orders WHERE region = 'r3';
RESET enable_seqscan;
RESET enable_bitmapscan;
CREATE INDEX orders_customer_region_idx ON orders (customer_id, region);
CREATE INDEX orders_created_idx ON orders (created_at);
CREATE INDEX orders_created_region_idx ON orders (created_at, region);
CREATE INDEX orders_region_b ON orders (region);
CREATE INDEX "Dup Index With A Name That Is Exactly Sixty-Three Bytes Long!!!" ON orders (region);
CREATE INDEX orders_note_b ON orders (note);
"#;

struct Run {
    json: Value,
}

impl Run {
    fn findings(&self) -> &Vec<Value> {
        self.json["findings"].as_array().expect("findings")
    }
    fn get(&self, check: &str, object: &str) -> Option<&Value> {
        self.findings()
            .iter()
            .find(|f| f["check"] == check && f["object"] == object)
    }
    fn on(&self, object: &str) -> Vec<&Value> {
        self.findings()
            .iter()
            .filter(|f| f["object"] == object)
            .collect()
    }
}

async fn doctor(url: &str, extra: &[&str]) -> Run {
    let url = url.to_string();
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let budgets = dir.path().join("budgets.toml");
        std::fs::write(&budgets, format!("version = 1\n[thresholds]\n{THRESHOLDS}")).unwrap();
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
        assert_eq!(out.status.code(), Some(0), "doctor failed: {stderr}");
        Run {
            json: serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("no JSON ({e}); stderr: {stderr}")),
        }
    })
    .await
    .unwrap()
}

/// `migrate plan --dry-run --format json` on `url`, with the test thresholds.
async fn migrate_plan(url: &str) -> Value {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let budgets = dir.path().join("budgets.toml");
        std::fs::write(&budgets, format!("version = 1\n[thresholds]\n{THRESHOLDS}")).unwrap();
        let out = common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "--format",
                "json",
                "migrate",
                "plan",
                "--dry-run",
            ])
            .arg("--source")
            .arg(dir.path().join("migrations"))
            .arg("--budgets")
            .arg(&budgets)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "migrate plan failed: {stderr}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {stderr}"))
    })
    .await
    .unwrap()
}

/// Run one statement in autocommit; `Err` with the server's message.
async fn try_exec(c: &mut PgConnection, sql: &str) -> Result<(), String> {
    c.execute(sql).await.map(|_| ()).map_err(|e| e.to_string())
}

/// The schema of a database, without the lines that differ between two dumps of one schema.
fn schema_dump(url: &str) -> Option<String> {
    let (pg_dump, _) = dbdoctor::migrate::backup::find_pg_dump(13)?;
    let out = std::process::Command::new(pg_dump)
        .args([
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--dbname",
            url,
        ])
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Plant the schema; the three invalid indexes come from concurrent builds that fail.
async fn plant(db: &TestDb) {
    db.exec(SCHEMA).await;
    db.exec(&long_tables()).await;
    let mut c = db.connect().await;
    for (sql, why) in [
        (
            "CREATE UNIQUE INDEX CONCURRENTLY codes_code_key ON codes (code)",
            "codes hold duplicates",
        ),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY vouchers_code_key ON vouchers (code)",
            "vouchers hold a duplicate",
        ),
        (
            "CREATE UNIQUE INDEX CONCURRENTLY tags_name_idx_ccnew ON tags (name)",
            "tags hold a duplicate",
        ),
    ] {
        assert!(
            try_exec(&mut c, sql).await.is_err(),
            "{sql} should fail: {why}"
        );
    }
    // The duplicate goes: the invalid index can now be rebuilt.
    c.execute("DELETE FROM vouchers WHERE id = 2")
        .await
        .unwrap();
    c.execute(USE_THEN_ADD).await.unwrap();
    c.execute("ANALYZE").await.unwrap();
    c.execute(FLUSH).await.unwrap();
    c.close().await.ok();
}

/// The fix set: distinct scripts in report order, with their rollbacks.
fn fix_set(run: &Run) -> Vec<(String, Option<String>)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in run.findings() {
        if let Some(fix) = f["fix_sql"].as_str() {
            if seen.insert(fix.to_string()) {
                out.push((
                    fix.to_string(),
                    f["rollback_sql"].as_str().map(String::from),
                ));
            }
        }
    }
    out
}

/// Every statement of a script, each on its own (autocommit).
async fn run_script(c: &mut PgConnection, script: &str) -> Result<(), String> {
    for st in dbdoctor::migrate::split::split(script) {
        try_exec(c, &st.text)
            .await
            .map_err(|e| format!("{}: {e}", st.text))?;
    }
    Ok(())
}

/// Index names the statements of a script create or drop.
fn index_names(script: &str, verb: &str) -> Vec<String> {
    let mut out = Vec::new();
    for st in dbdoctor::migrate::split::split(script) {
        let p = pg_query::parse(&st.text).expect("fix parses");
        for raw in &p.protobuf.stmts {
            match raw.stmt.as_ref().and_then(|n| n.node.as_ref()) {
                Some(pg_query::NodeEnum::IndexStmt(i)) if verb == "create" => {
                    out.push(i.idxname.clone())
                }
                Some(pg_query::NodeEnum::DropStmt(d))
                    if verb == "drop"
                        && d.remove_type == pg_query::protobuf::ObjectType::ObjectIndex as i32 =>
                {
                    out.push(format!("{:?}", d.objects));
                }
                _ => {}
            }
        }
    }
    out
}

#[tokio::test]
async fn the_whole_fix_set_applies_to_a_copy_and_rolls_back_to_the_same_schema() {
    assert_eq!(LONG_INDEX.len(), 63);
    let orig = common::fresh_db().await;
    plant(&orig).await;
    let run = doctor(&orig.url, &[]).await;

    // --- One coherent set -------------------------------------------------------------------
    // A wider index never scanned goes; the narrow one it covered serves queries and stays.
    let wide = run
        .get("unused_index", "public.orders_customer_region_idx")
        .unwrap_or_else(|| panic!("{:#}", run.json["findings"]));
    assert!(wide["fix_sql"].as_str().unwrap().contains("DROP INDEX"));
    let narrow = run
        .get("redundant_index", "public.orders_customer_idx")
        .expect("narrow index reported");
    assert!(narrow.get("fix_sql").is_none(), "{narrow:#}");
    assert_eq!(
        narrow["detail"]["kept_because_dropped"][0],
        "public.orders_customer_region_idx"
    );
    // A chain of prefixes resolves to its widest, used member; unused + redundant is one finding.
    for ix in [
        "public.orders_created_idx",
        "public.orders_created_region_idx",
    ] {
        let on = run.on(ix);
        assert_eq!(on.len(), 1, "one finding per index: {on:#?}");
        assert_eq!(on[0]["check"], "redundant_index", "{:#}", on[0]);
        assert_eq!(on[0]["also_checks"][0], "unused_index", "{:#}", on[0]);
        assert_eq!(
            on[0]["detail"]["kept_covering_index"],
            "public.orders_created_region_note_idx"
        );
        assert!(on[0]["message"]
            .as_str()
            .unwrap()
            .contains("also unused_index"));
    }
    assert!(run.on("public.orders_created_region_note_idx").is_empty());
    // Duplicates of a used index go, the 63-byte quoted one too; the used one stays.
    assert!(run
        .get("duplicate_index", "public.orders_region_b")
        .is_some());
    let long = run
        .get("duplicate_index", &format!("public.\"{LONG_INDEX}\""))
        .expect("63-byte duplicate");
    assert!(long["fix_sql"].as_str().unwrap().contains(LONG_INDEX));
    assert!(run.on("public.orders_region_a").is_empty());
    // Two unused duplicates: both go (neither serves a query), each advised once.
    assert!(run.get("unused_index", "public.orders_note_a").is_some());
    assert!(run.get("duplicate_index", "public.orders_note_b").is_some());
    // No index is advised away twice.
    let mut dropped = HashMap::new();
    for (fix, _) in fix_set(&run) {
        for d in index_names(&fix, "drop") {
            *dropped.entry(d).or_insert(0) += 1;
        }
    }
    assert!(dropped.values().all(|n| *n == 1), "{dropped:#?}");

    // --- Fixes that run ---------------------------------------------------------------------
    let codes = run
        .get("invalid_index", "public.codes_code_key")
        .expect("invalid unique index with duplicates");
    assert!(
        codes.get("fix_sql").is_none(),
        "no failing rebuild: {codes:#}"
    );
    assert_eq!(codes["detail"]["duplicated_values"], 50);
    let list = codes["detail"]["list_duplicates_sql"].as_str().unwrap();
    assert!(codes["message"].as_str().unwrap().contains("fails until"));
    let mut c = orig.connect().await;
    let rows = sqlx::raw_sql(list).fetch_all(&mut c).await.unwrap();
    assert_eq!(rows.len(), 50, "{list}");
    c.close().await.ok();
    let vouchers = run
        .get("invalid_index", "public.vouchers_code_key")
        .expect("invalid unique index without duplicates");
    assert!(vouchers["fix_sql"]
        .as_str()
        .unwrap()
        .starts_with("REINDEX INDEX CONCURRENTLY"));
    let leftover = run
        .get("invalid_index", "public.tags_name_idx_ccnew")
        .expect("leftover");
    assert_eq!(leftover["detail"]["leftover_of"], "public.tags_name_idx");
    assert!(leftover["fix_sql"]
        .as_str()
        .unwrap()
        .starts_with("DROP INDEX CONCURRENTLY"));
    assert!(run
        .get("table_without_pk", "public.nopk_plain")
        .and_then(|f| f.get("fix_sql"))
        .is_some());
    assert!(run
        .get("table_without_pk", "public.nopk_constraint")
        .and_then(|f| f.get("fix_sql"))
        .is_some());
    let nulls = run.get("table_without_pk", "public.nopk_nulls").unwrap();
    assert!(nulls.get("fix_sql").is_none(), "{nulls:#}");
    assert!(nulls["message"].as_str().unwrap().contains("NULLs"));
    assert!(run
        .get("table_without_pk", "public.events")
        .unwrap()
        .get("fix_sql")
        .is_none());
    for f in run.findings() {
        for key in ["fix_sql", "rollback_sql"] {
            if let Some(s) = f[key].as_str() {
                assert!(s.trim_end().ends_with(';'), "{key} not terminated: {f:#}");
            }
        }
    }
    // Generated names: at most 63 bytes, distinct, never an existing relation's.
    let mut c = orig.connect().await;
    let existing: Vec<String> = sqlx::query_scalar("SELECT relname::text FROM pg_class")
        .fetch_all(&mut c)
        .await
        .unwrap();
    c.close().await.ok();
    let existing: HashSet<String> = existing.into_iter().collect();
    let mut created = HashSet::new();
    for (fix, _) in fix_set(&run) {
        for n in index_names(&fix, "create") {
            assert!(n.len() <= 63, "{n}");
            assert!(!existing.contains(&n), "{n} already exists");
            assert!(created.insert(n.clone()), "{n} created twice");
        }
    }
    assert!(created.len() >= 5, "{created:?}");

    // --- `migrate plan` writes exactly the index part of that set ---------------------------
    let plan = migrate_plan(&orig.url).await;
    let planned_drops: HashSet<String> = plan["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| index_names(m["sql"].as_str().unwrap(), "drop"))
        .collect();
    let advised_drops: HashSet<String> = run
        .findings()
        .iter()
        .filter(|f| {
            dbdoctor::migrate::plan::INDEX_CHECKS
                .iter()
                .any(|c| f["check"] == c.as_str())
        })
        .filter_map(|f| f["fix_sql"].as_str())
        .flat_map(|s| index_names(s, "drop"))
        .collect();
    assert_eq!(planned_drops, advised_drops);
    assert!(!planned_drops
        .iter()
        .any(|d| d.contains("\"orders_customer_idx\"")));

    // --- Apply the whole set to a copy ------------------------------------------------------
    let copy_name = format!("{}_copy", orig.name);
    let mut admin = PgConnection::connect(&common::server().url("postgres"))
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {copy_name} TEMPLATE {}", orig.name).as_str())
        .await
        .unwrap();
    admin.close().await.ok();
    let copy_url = common::server().url(&copy_name);
    let Some(before) = schema_dump(&copy_url) else {
        eprintln!("SKIP: the_whole_fix_set_applies_to_a_copy_and_rolls_back_to_the_same_schema: no pg_dump");
        return;
    };
    let set = fix_set(&run);
    let mut c = PgConnection::connect(&copy_url).await.unwrap();
    let mut failures = Vec::new();
    for (fix, _) in &set {
        if let Err(e) = run_script(&mut c, fix).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing fixes: {failures:#?}",
        failures.len()
    );
    let invalid: Vec<String> = sqlx::query_scalar(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid ORDER BY 1",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert_eq!(
        invalid,
        vec!["codes_code_key".to_string()],
        "only the unfixable one is left"
    );
    c.close().await.ok();

    // --- The fixed findings are gone ------------------------------------------------------
    let again = doctor(&copy_url, &[]).await;
    for f in run.findings().iter().filter(|f| f.get("fix_sql").is_some()) {
        let (check, object) = (f["check"].as_str().unwrap(), f["object"].as_str().unwrap());
        if matches!(check, "dead_tuples" | "table_bloat" | "index_bloat") {
            continue; // figures of the copy, not fixed state
        }
        // What may remain of a fixed finding is a note: info severity and nothing to fix (a
        // widened serial key is still noted as "identity is the standard form").
        let remains = again
            .get(check, object)
            .filter(|g| g["severity"] != "info" || g.get("fix_sql").is_some());
        assert!(
            remains.is_none(),
            "{check} {object} still reported after its fix: {:#}",
            remains.unwrap()
        );
    }

    // --- Every rollback, in reverse order -------------------------------------------------
    let mut c = PgConnection::connect(&copy_url).await.unwrap();
    let mut failures = Vec::new();
    for (_, rb) in set.iter().rev() {
        if let Some(rb) = rb {
            if let Err(e) = run_script(&mut c, rb).await {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing rollbacks: {failures:#?}",
        failures.len()
    );
    c.close().await.ok();
    let after = schema_dump(&copy_url).unwrap();
    if before != after {
        let b: Vec<&str> = before.lines().collect();
        let a: Vec<&str> = after.lines().collect();
        let only_before: Vec<&&str> = b.iter().filter(|l| !a.contains(l)).collect();
        let only_after: Vec<&&str> = a.iter().filter(|l| !b.contains(l)).collect();
        let ev: Vec<&&str> = a.iter().filter(|l| l.contains("events")).collect();
        panic!("schema differs after the rollbacks\nonly before: {only_before:#?}\nonly after: {only_after:#?}\n{ev:#?}\n{set:#?}");
    }

    // --- --verify-fixes reaches the same verdict on a throwaway cluster --------------------
    let verified = doctor(&orig.url, &["--verify-fixes"]).await;
    let mut n = 0;
    for f in verified.findings() {
        if f.get("fix_sql").is_some() {
            assert_eq!(f["verification"], "verified", "{f:#}");
            n += 1;
        } else {
            assert!(f.get("verification").is_none(), "{f:#}");
        }
    }
    assert_eq!(
        n,
        run.findings()
            .iter()
            .filter(|f| f.get("fix_sql").is_some())
            .count()
    );
}

#[tokio::test]
async fn verify_fixes_shows_in_markdown_and_table_and_needs_a_live_database() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE parent (id bigint PRIMARY KEY);
         CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent (id));",
    )
    .await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        for (format, line) in [
            ("markdown", "Verification: verified"),
            ("table", "verification: verified"),
        ] {
            let out = common::dbdoctor()
                .args(["--database-url", &url, "--format", format, "doctor"])
                .args(["--checks", "fk_without_index", "--verify-fixes"])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(stdout.contains("child_parent_id_idx"), "{stdout}");
            assert!(stdout.contains(line), "{format}: {stdout}");
        }
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("s.json");
        std::fs::write(&snap, "{}").unwrap();
        let out = common::dbdoctor()
            .args(["doctor", "--verify-fixes", "--from-snapshot"])
            .arg(&snap)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--verify-fixes"), "{err}");
    })
    .await
    .unwrap();
}
