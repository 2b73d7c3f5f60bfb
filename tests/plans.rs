//! Plans against a real PostgreSQL: a statement planted for each plan insight, run for real,
//! read back from pg_stat_statements, planned read-only by `dbdoctor doctor`, and reported with
//! the right id on the right node; `--explain`, `--analyze-plans`, and plan regressions between
//! two budget marks. The same scenario runs on every PostgreSQL major of the matrix found.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection, Executor, PgConnection};

const SCHEMA: &str = "
CREATE TABLE big (id int PRIMARY KEY, customer int NOT NULL, status int NOT NULL,
                  note text NOT NULL, pad text NOT NULL);
INSERT INTO big SELECT g, g % 20000, g % 100, 'n' || (g % 1000), repeat('p', 100) || g
FROM generate_series(1, 200000) g;
CREATE INDEX big_status ON big (status);
CREATE TABLE mid (v int NOT NULL);
INSERT INTO mid SELECT g FROM generate_series(1, 20000) g;
CREATE TABLE corr (a int NOT NULL, b int NOT NULL);
INSERT INTO corr SELECT g % 500, g % 500 FROM generate_series(1, 100000) g;
CREATE TABLE stale (id int NOT NULL, v int NOT NULL) WITH (autovacuum_enabled = false);
INSERT INTO stale SELECT g, g % 10 FROM generate_series(1, 1000) g;
CREATE FUNCTION recent_ids(n int) RETURNS SETOF int LANGUAGE plpgsql AS
$$ BEGIN RETURN QUERY SELECT g FROM generate_series(1, n) g; END $$;
";

/// Rows written after the last ANALYZE of `stale`, which autovacuum leaves alone.
const STALE_ROWS: &str = "INSERT INTO stale SELECT g, g % 10 FROM generate_series(1001, 51000) g";

/// Forget this database's statements only: tests of other databases run alongside.
const RESET_THIS_DATABASE: &str = "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)";

/// Poll `sql` (one int8) until `ok` holds: table statistics reach pg_stat_* asynchronously.
async fn wait_for(c: &mut PgConnection, sql: &str, ok: impl Fn(i64) -> bool) -> i64 {
    let mut v = 0;
    for _ in 0..100 {
        v = sqlx::query_scalar(sql).fetch_one(&mut *c).await.unwrap();
        if ok(v) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    v
}

/// (marker in the statement text, SQL, times to run it).
const WORKLOAD: &[(&str, &str, u32)] = &[
    (
        "WHERE customer",
        "SELECT id FROM big WHERE customer = 17",
        12,
    ),
    (
        "ORDER BY pad, id",
        "SELECT id, pad FROM big ORDER BY pad, id",
        1,
    ),
    (
        "JOIN mid",
        "SELECT b.id FROM big b JOIN mid m ON b.customer < m.v LIMIT 1",
        2,
    ),
    (
        "WHERE status",
        "SELECT id FROM big WHERE status = 3 AND note = 'n5'",
        12,
    ),
    (
        "OFFSET",
        "SELECT id, pad FROM big ORDER BY pad OFFSET 150000 LIMIT 10",
        2,
    ),
    ("FROM stale", "SELECT count(*) FROM stale WHERE v = 5", 3),
    (
        "FROM corr",
        "SELECT a, b FROM corr WHERE a = 5 AND b = 5",
        5,
    ),
    ("recent_ids", "SELECT * FROM recent_ids(5)", 3),
    (
        "pad IS NOT NULL",
        "SELECT count(*) FROM big WHERE pad IS NOT NULL",
        1,
    ),
    ("UPDATE mid", "UPDATE mid SET v = v WHERE v = 7", 2),
];

/// (insight id, marker of the statement it must be found on, node type it sits on).
const EXPECTED: &[(&str, &str, &str)] = &[
    ("plan_seq_scan_selective", "WHERE customer", "Seq Scan"),
    ("plan_spill_work_mem", "ORDER BY pad, id", "Sort"),
    ("plan_nested_loop_large_outer", "JOIN mid", "Nested Loop"),
    (
        "plan_index_filter_inefficient",
        "WHERE status",
        "Bitmap Heap Scan",
    ),
    ("plan_large_offset", "OFFSET", "Limit"),
    ("plan_stale_statistics", "FROM stale", "Seq Scan"),
    ("plan_row_misestimate", "FROM corr", "Seq Scan"),
    ("plan_srf_default_rows", "recent_ids", "Function Scan"),
];

/// Plant the schema, wait until the statistics collector has counted the late inserts, reset
/// pg_stat_statements and run the workload.
async fn plant(url: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    c.execute(SCHEMA).await.unwrap();
    // The inserts are counted before ANALYZE runs, so only `stale` is left with modified rows.
    let counted = "SELECT coalesce(sum(n_tup_ins), 0)::int8 FROM pg_stat_user_tables";
    let n = wait_for(&mut c, counted, |v| v >= 321_000).await;
    assert!(n >= 321_000, "inserts counted: {n}");
    c.execute("ANALYZE big; ANALYZE mid; ANALYZE corr; ANALYZE stale")
        .await
        .unwrap();
    c.execute(STALE_ROWS).await.unwrap();
    let modified = wait_for(
        &mut c,
        "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'stale'",
        |v| v >= 50_000,
    )
    .await;
    assert!(modified >= 50_000, "stale: n_mod_since_analyze {modified}");
    c.execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();
    // A statement whose table is gone by the time doctor plans it, before the rest.
    c.execute("CREATE TABLE gone (x int)").await.unwrap();
    for _ in 0..3 {
        c.execute("SELECT x FROM gone WHERE x = 1").await.unwrap();
    }
    c.execute("DROP TABLE gone").await.unwrap();
    for (_, sql, times) in WORKLOAD {
        for _ in 0..*times {
            c.execute(*sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
    c.close().await.ok();
}

fn doctor_json(url: &str, extra: &[&str]) -> (i32, Value, String) {
    let out = common::dbdoctor()
        .args(["--database-url", url, "--format", "json", "doctor"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "doctor did not print JSON ({e}); stderr: {stderr}; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn plan_of<'a>(report: &'a Value, marker: &str) -> &'a Value {
    report["plans"]
        .as_array()
        .expect("plans array")
        .iter()
        .find(|p| p["query"].as_str().is_some_and(|q| q.contains(marker)))
        .unwrap_or_else(|| panic!("no plan entry for {marker}: {:#}", report["plans"]))
}

/// Every planted insight on its statement and node, as a plan insight and as a finding.
fn assert_planted(label: &str, report: &Value) {
    let findings = report["findings"].as_array().expect("findings");
    for (id, marker, node) in EXPECTED {
        let entry = plan_of(report, marker);
        assert!(
            entry["outcome"] == "planned",
            "{label}: {marker}: {:#}",
            entry
        );
        let insight = entry["insights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == *id)
            .unwrap_or_else(|| {
                panic!(
                    "{label}: {id} not found on {marker}: {:#}",
                    entry["insights"]
                )
            });
        // The path names the node, and the node at that path in the plan is of the right type.
        let path = insight["path"].as_str().unwrap();
        let mut n = &entry["plan"];
        for step in path.split('.').skip(1) {
            n = &n["Plans"][step.parse::<usize>().unwrap()];
        }
        assert_eq!(n["Node Type"], *node, "{label}: {id} at {path}");
        assert_eq!(insight["node_type"], *node, "{label}: {id}");
        // An insight whose fix is the advisor's suggested index is folded into that finding.
        assert!(
            findings.iter().any(|f| f["check"] == *id
                || f["also_checks"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|c| c == *id))),
            "{label}: {id} is not a finding"
        );
    }
    // The figures behind some of them.
    let sort = plan_of(report, "ORDER BY pad, id");
    let spill = sort["insights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "plan_spill_work_mem")
        .unwrap();
    let fits = spill["numbers"]["work_mem_that_fits"].as_str().unwrap();
    assert!(fits.ends_with("MB") && fits != "4MB", "{label}: {fits}");
    let stale: Vec<&Value> = findings
        .iter()
        .filter(|f| f["check"] == "plan_stale_statistics")
        .collect();
    assert_eq!(stale.len(), 1, "{label}: only `stale` is stale: {stale:#?}");
    assert_eq!(stale[0]["fix_sql"], "ANALYZE public.stale;", "{label}");
    assert_eq!(stale[0]["object"], "public.stale", "{label}");
    let misestimate = plan_of(report, "FROM corr")["insights"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "plan_row_misestimate")
        .unwrap()
        .clone();
    assert_eq!(misestimate["numbers"]["actual_rows"], 200.0, "{label}");
    // A statement that cannot be planned says why, and the others were planned all the same.
    let gone = plan_of(report, "FROM gone");
    assert_eq!(gone["outcome"], "not_planned", "{label}");
    assert!(
        gone["reason"].as_str().unwrap().contains("does not exist"),
        "{label}: {gone}"
    );
    let utility = plan_of(report, "DROP TABLE gone");
    assert!(
        utility["reason"].as_str().unwrap().contains("utility"),
        "{label}: {utility}"
    );
    // A write was planned (EXPLAIN only) and never changed anything.
    assert_eq!(
        plan_of(report, "UPDATE mid")["outcome"],
        "planned",
        "{label}"
    );
}

/// Fingerprints: the seq scan statement's shape names its table.
fn assert_fingerprints(label: &str, report: &Value) {
    let e = plan_of(report, "WHERE customer");
    let shape = e["fingerprint"]["shape"].as_str().unwrap();
    assert!(shape.contains("Seq Scan(big)"), "{label}: {shape}");
    assert_eq!(e["fingerprint"]["hash"].as_str().unwrap().len(), 16);
}

async fn scenario(label: &str, url: &str) {
    plant(url).await;
    let u = url.to_string();
    let (code, report, stderr) =
        tokio::task::spawn_blocking(move || doctor_json(&u, &["--plans", "100"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{label}: {stderr}");
    assert_planted(label, &report);
    assert_fingerprints(label, &report);
    // Nothing was analyzed: the parameterless SELECT kept its generic plan.
    assert_eq!(plan_of(&report, "pad IS NOT NULL")["outcome"], "planned");
    let mut c = PgConnection::connect(url).await.unwrap();
    let v7: i64 = sqlx::query_scalar("SELECT count(*) FROM mid WHERE v = 7")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(v7, 1, "{label}");
    c.close().await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_insights_on_the_test_server() {
    let db = common::fresh_db().await;
    scenario("test server", &db.url).await;
    // `snapshot --plans` stores the same plans, and doctor reads them back from the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.json");
    let (url, f) = (db.url.clone(), file.clone());
    let (snap, report) = tokio::task::spawn_blocking(move || {
        let snap = common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "snapshot",
                "--plans",
                "100",
                "--out",
            ])
            .arg(&f)
            .output()
            .unwrap();
        let report = common::dbdoctor()
            .args(["--format", "json", "doctor", "--from-snapshot"])
            .arg(&f)
            .output()
            .unwrap();
        (snap, report)
    })
    .await
    .unwrap();
    assert_eq!(
        snap.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&snap.stderr)
    );
    let stored: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert!(stored["plans"].is_object(), "{:#}", stored["skipped"]);
    assert_eq!(report.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_planted("snapshot file", &report);
}

/// The fix of plan_stale_statistics runs, and the finding is gone after it.
#[tokio::test(flavor = "multi_thread")]
async fn stale_statistics_fix_runs() {
    let db = common::fresh_db().await;
    plant(&db.url).await;
    let u = db.url.clone();
    let (_, report, _) = tokio::task::spawn_blocking(move || {
        doctor_json(&u, &["--plans", "100", "--checks", "plan_stale_statistics"])
    })
    .await
    .unwrap();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "plan_stale_statistics")
        .expect("stale statistics finding")
        .clone();
    db.exec(f["fix_sql"].as_str().unwrap()).await;
    let mut c = db.connect().await;
    let modified = wait_for(
        &mut c,
        "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'stale'",
        |v| v == 0,
    )
    .await;
    assert_eq!(modified, 0);
    let u = db.url.clone();
    let (_, after, _) = tokio::task::spawn_blocking(move || {
        doctor_json(&u, &["--plans", "100", "--checks", "plan_stale_statistics"])
    })
    .await
    .unwrap();
    assert!(
        after["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["check"] != "plan_stale_statistics"),
        "{:#}",
        after["findings"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_insights_on_every_matrix_server() {
    for bindir in common::matrix_bindirs_or_skip("planted_insights_on_every_matrix_server") {
        let (_cluster, url) = common::start_matrix_server(bindir, true, "plans").await;
        let mut c = PgConnection::connect(&url).await.unwrap();
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut c)
            .await
            .unwrap();
        c.close().await.ok();
        scenario(&format!("PostgreSQL {version}"), &url).await;
    }
}

fn budget(url: &str, args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = common::dbdoctor()
        .args(["--database-url", url])
        .arg("budget")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Two marks around a dropped index: the lookup's plan changes from the index to a sequential
/// scan, and `budget --baseline FIRST_MARK` reports it as plan_regression (a breach with
/// --fail-on-plan-change) while its latency stays inside the budget.
#[tokio::test(flavor = "multi_thread")]
async fn plan_change_between_two_marks_is_a_plan_regression() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL, note text);
         INSERT INTO orders SELECT g, g % 5000, 'x' FROM generate_series(1, 50000) g;
         CREATE INDEX orders_customer ON orders (customer);
         ANALYZE orders;",
    )
    .await;
    db.exec(RESET_THIS_DATABASE).await;
    let lookups = "SELECT id FROM orders WHERE customer = 5";
    for _ in 0..5 {
        db.exec(lookups).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let (m1, m2, b) = (
        dir.path().join("m1.json"),
        dir.path().join("m2.json"),
        dir.path().join("budgets.toml"),
    );
    std::fs::write(&b, "version = 1\n[latency.simple]\np95_ms = 60000\n").unwrap();
    let url = db.url.clone();
    let m = m1.clone();
    let (code, _, err) =
        tokio::task::spawn_blocking(move || budget(&url, &["--mark".as_ref(), m.as_os_str()]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    db.exec("DROP INDEX orders_customer").await;
    let url = db.url.clone();
    let m = m2.clone();
    let (code, _, err) =
        tokio::task::spawn_blocking(move || budget(&url, &["--mark".as_ref(), m.as_os_str()]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");

    // The marks hold the fingerprints: index before, sequential scan after.
    let read =
        |p: &PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let (j1, j2) = (read(&m1), read(&m2));
    let find = |j: &Value| -> (String, Value) {
        let (id, p) = j["plans"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, p)| p["query"].as_str().unwrap().contains("WHERE customer"))
            .expect("the lookup's plan in the mark");
        (id.clone(), p.clone())
    };
    let ((id1, p1), (id2, p2)) = (find(&j1), find(&j2));
    assert_eq!(id1, id2);
    assert!(
        p1["shape"].as_str().unwrap().contains("orders_customer"),
        "{p1}"
    );
    assert!(
        p2["shape"].as_str().unwrap().contains("Seq Scan(orders)"),
        "{p2}"
    );
    assert_ne!(p1["hash"], p2["hash"]);

    let run = |extra: &'static [&'static str]| {
        let url = db.url.clone();
        let (m1, b) = (m1.clone(), b.clone());
        tokio::task::spawn_blocking(move || {
            let mut args: Vec<&std::ffi::OsStr> = vec![
                "--format".as_ref(),
                "json".as_ref(),
                "--budgets".as_ref(),
                b.as_os_str(),
                "--no-probes".as_ref(),
                "--baseline".as_ref(),
                m1.as_os_str(),
            ];
            args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
            budget(&url, &args)
        })
    };
    let (code, out, err) = run(&[]).await.unwrap();
    assert_eq!(code, 0, "a changed plan alone warns: {err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let v = report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "plan_regression")
        .unwrap_or_else(|| panic!("no plan_regression: {report:#}"));
    assert_eq!(v["status"], "warn");
    assert_eq!(v["queryid"].to_string(), id1);
    let change = &report["plan_changes"][0];
    assert!(
        change["before"]
            .as_str()
            .unwrap()
            .contains("orders_customer"),
        "{change}"
    );
    assert!(
        change["after"]
            .as_str()
            .unwrap()
            .contains("Seq Scan(orders)"),
        "{change}"
    );
    // The lookup's latency budget passes: only the plan changed.
    assert!(report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["id"] != "plan_regression")
        .all(|v| v["status"] != "breach"));

    let (code, out, err) = run(&["--fail-on-plan-change"]).await.unwrap();
    assert_eq!(code, 1, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["result"], "breach");

    // The second mark as baseline: nothing changed since.
    let url = db.url.clone();
    let (m2c, bc) = (m2.clone(), b.clone());
    let (code, out, _) = tokio::task::spawn_blocking(move || {
        budget(
            &url,
            &[
                "--format".as_ref(),
                "json".as_ref(),
                "--budgets".as_ref(),
                bc.as_os_str(),
                "--no-probes".as_ref(),
                "--fail-on-plan-change".as_ref(),
                "--baseline".as_ref(),
                m2c.as_os_str(),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("plan_regression"));
}

/// `--explain QUERYID` prints the tree with the insight on its node; an unknown queryid is a
/// one-line usage error (exit 2).
#[tokio::test(flavor = "multi_thread")]
async fn explain_one_statement_and_an_unknown_queryid() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE wide (id int, customer int, pad text);
         INSERT INTO wide SELECT g, g % 20000, 'x' FROM generate_series(1, 100000) g;
         ANALYZE wide;",
    )
    .await;
    db.exec(RESET_THIS_DATABASE).await;
    for _ in 0..3 {
        db.exec("SELECT id FROM wide WHERE customer = 3").await;
    }
    let mut c = db.connect().await;
    let id: i64 = sqlx::query_scalar(
        "SELECT queryid FROM pg_stat_statements WHERE query LIKE 'SELECT id FROM wide%'",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.ok();
    let url = db.url.clone();
    let (tree, bad, analyzed) = tokio::task::spawn_blocking(move || {
        let tree = common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "doctor",
                "--explain",
                &id.to_string(),
            ])
            .output()
            .unwrap();
        let bad = common::dbdoctor()
            .args(["--database-url", &url, "doctor", "--explain", "12345"])
            .output()
            .unwrap();
        let analyzed = common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "--format",
                "json",
                "doctor",
                "--analyze-plans",
            ])
            .output()
            .unwrap();
        (tree, bad, analyzed)
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&tree.stdout);
    assert_eq!(
        tree.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let scan = lines
        .iter()
        .position(|l| {
            l.contains("Seq Scan on public.wide") && l.contains("rows=") && l.contains("cost=")
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        lines[scan + 1..]
            .iter()
            .take_while(|l| !l.contains("->"))
            .any(|l| l.contains("!! plan_seq_scan_selective")),
        "{text}"
    );
    assert!(text.contains("nothing executed"), "{text}");
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("12345"), "{err}");

    // --analyze-plans: the parameterless statement is not there, the lookup has parameters and
    // keeps its generic plan, saying why.
    assert_eq!(analyzed.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&analyzed.stdout).unwrap();
    assert!(report.get("plans").is_some(), "{:#}", report["skipped"]);
    let e = plan_of(&report, "FROM wide WHERE customer");
    assert_eq!(e["outcome"], "planned");
    assert!(e["reason"].as_str().unwrap().contains("parameters"), "{e}");
}

/// `--analyze-plans` runs a parameterless SELECT under EXPLAIN ANALYZE and says so; its plan
/// carries actual rows.
#[tokio::test(flavor = "multi_thread")]
async fn analyze_plans_runs_parameterless_selects_only() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE t (id int, flag boolean);
         INSERT INTO t SELECT g, g % 2 = 0 FROM generate_series(1, 1000) g;
         ANALYZE t;",
    )
    .await;
    db.exec(RESET_THIS_DATABASE).await;
    db.exec("SELECT count(*) FROM t WHERE flag IS NOT NULL")
        .await;
    db.exec("DELETE FROM t WHERE id < 0").await;
    let url = db.url.clone();
    let (code, report, err) =
        tokio::task::spawn_blocking(move || doctor_json(&url, &["--analyze-plans"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    let e = plan_of(&report, "flag IS NOT NULL");
    assert_eq!(e["outcome"], "analyzed", "{e}");
    assert!(e["reason"].as_str().unwrap().contains("rolled back"), "{e}");
    assert_eq!(e["plan"]["Actual Rows"], 1.0, "{e}");
    let d = plan_of(&report, "DELETE FROM t");
    assert_eq!(d["outcome"], "planned", "{d}");
    assert!(
        d["reason"].as_str().unwrap().contains("only plain SELECTs"),
        "{d}"
    );
}
