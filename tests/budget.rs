//! `dbdoctor budget` against a real throwaway PostgreSQL: breaches, passes, write probes,
//! --mark/--since, malformed budgets files, JUnit output and classification of real statements.

mod common;

use std::path::PathBuf;

use sqlx::{Connection, Executor, Row};

/// Budgets that judge only latency; resource and throughput budgets depend on the machine.
const LATENCY_ONLY: &str = r#"
version = 1

[latency.simple]
p95_ms = 10

[latency.complex]
p95_ms = 5000

[latency.analytics]
p95_ms = 60000

[latency.bulk]
p95_ms = 60000

[ignore]
patterns = ['(?i)^\s*(begin|commit|rollback|set |show )']
"#;

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

async fn setup_table(db: &common::TestDb) {
    db.exec(
        "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
         INSERT INTO items SELECT g, g FROM generate_series(1, 1000) g;
         ANALYZE items;",
    )
    .await;
}

/// Run one statement `n` times with a bound parameter (pg_stat_statements shows it normalized).
async fn run_n(db: &common::TestDb, sql: &str, n: usize, param: f64) {
    let mut c = db.connect().await;
    for _ in 0..n {
        sqlx::query(sql)
            .bind(param)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.close().await.ok();
}

async fn run_lookups(db: &common::TestDb, n: i32) {
    let mut c = db.connect().await;
    for i in 0..n {
        sqlx::query("SELECT v FROM items WHERE id = $1")
            .bind(i % 1000 + 1)
            .fetch_optional(&mut c)
            .await
            .expect("lookup");
    }
    c.close().await.ok();
}

fn budget(db: &common::TestDb, budgets: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = common::dbdoctor();
    cmd.arg("--database-url")
        .arg(&db.url)
        .arg("budget")
        .arg("--budgets")
        .arg(budgets);
    cmd
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn verdict<'a>(j: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    j["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no verdict {id} in {j:#}"))
}

#[tokio::test]
async fn a_slow_simple_statement_breaks_the_budget_and_is_named() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    // 50 ms per call against a 10 ms simple-query budget: unambiguous whatever the machine.
    run_n(&db, "SELECT pg_sleep($1)", 5, 0.05).await;
    let f = Files::new();
    let b = f.write("budgets.toml", LATENCY_ONLY);

    let out = budget(&db, &b).arg("--fail-on-breach").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("BREACH"), "{stdout}");
    assert!(stdout.contains("SELECT pg_sleep($1)"), "{stdout}");

    // Without --fail-on-breach the report is the same but the exit code is 0.
    let out = budget(&db, &b).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j = json_of(&out);
    assert_eq!(j["schema_version"], 1);
    let v = verdict(&j, "latency.simple.p95_ms");
    assert_eq!(v["status"], "breach");
    assert_eq!(v["method"], "estimated");
    assert_eq!(v["subject"], "SELECT pg_sleep($1)");
    assert!(v["measured"].as_f64().unwrap() >= 40.0, "{v}");
    assert_eq!(j["summary"]["result"], "breach");

    // GitHub annotations: one ::error per breach, naming the statement.
    let out = budget(&db, &b)
        .args(["--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(errors[0].contains("latency.simple.p95_ms") && errors[0].contains("pg_sleep"));
}

#[tokio::test]
async fn a_workload_within_budget_exits_0() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_lookups(&db, 200).await;
    let f = Files::new();
    // Generous limits: this test is about the verdict path, not the speed of the machine.
    let b = f.write(
        "budgets.toml",
        &LATENCY_ONLY.replace("p95_ms = 10\n", "p95_ms = 2000\n"),
    );
    let out = budget(&db, &b)
        .args(["--fail-on-breach", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    let v = verdict(&j, "latency.simple.p95_ms");
    assert_eq!(v["status"], "pass", "{v}");
    assert!(j["observed"]["calls"].as_u64().unwrap() >= 200);
    assert_eq!(j["summary"]["breach"], 0);

    // No analytics statement ran: with --require-data that missing figure fails the run.
    assert_eq!(verdict(&j, "latency.analytics.p95_ms")["status"], "no-data");
    let out = budget(&db, &b).arg("--require-data").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn mark_and_since_measure_only_what_ran_in_between() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_n(&db, "SELECT pg_sleep($1)", 3, 0.05).await;
    let f = Files::new();
    let b = f.write("budgets.toml", LATENCY_ONLY);
    let mark = f.path("mark.json");

    // Cumulatively the slow statement breaks the budget: the test below could fail.
    let out = budget(&db, &b).args(["--fail-on-breach"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    let out = budget(&db, &b).arg("--mark").arg(&mark).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(mark.exists());

    run_lookups(&db, 50).await;

    let out = budget(&db, &b)
        .arg("--since")
        .arg(&mark)
        .args(["--fail-on-breach", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let j = json_of(&out);
    assert_eq!(j["measurement"]["mode"], "since");
    let v = verdict(&j, "latency.simple.p95_ms");
    assert_eq!(v["status"], "pass");
    assert_eq!(v["subject"], "SELECT v FROM items WHERE id = $1");
    assert_eq!(j["observed"]["calls"], 50, "{:#}", j["observed"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("pg_sleep"));

    // A file that is not a mark is a usage error.
    let junk = f.write("junk.json", "{\"x\": 1}");
    let out = budget(&db, &b).arg("--since").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

async fn checksum(db: &common::TestDb) -> (i64, i64) {
    let mut c = db.connect().await;
    let r = c
        .fetch_one("SELECT count(*)::bigint AS n, coalesce(sum(v), 0)::bigint AS s FROM items")
        .await
        .unwrap();
    c.close().await.ok();
    (r.get("n"), r.get("s"))
}

#[tokio::test]
async fn write_probes_leave_the_table_unchanged() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    let before = checksum(&db).await;
    let f = Files::new();
    let b = f.write(
        "budgets.toml",
        r#"
version = 1

[latency.simple]
p95_ms = 60000

[throughput]
write_min_qps = 1

[[probes]]
name = "bump"
sql = "UPDATE items SET v = v + 1 WHERE id = $1"
allow_writes = true
concurrency = 2
iterations = 300

[[probes.params]]
kind = "int"
min = 1
max = 1000

[[probes]]
name = "add"
sql = "INSERT INTO items (id, v) VALUES ($1, $2)"
allow_writes = true
iterations = 100
warmup_iterations = 10

[[probes.params]]
kind = "sequence"
start = 5000

[[probes.params]]
kind = "list"
values = [1, 2, 3]

[[probes]]
name = "lookup"
sql = "SELECT v FROM items WHERE id = $1"
concurrency = 4
iterations = 400

[[probes.params]]
kind = "int"
min = 1
max = 1000
"#,
    );
    let out = budget(&db, &b).args(["--format", "json"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    assert_eq!(
        checksum(&db).await,
        before,
        "a write probe changed the table"
    );
    let probes = j["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 3);
    assert_eq!(probes[0]["executions"], 300);
    assert_eq!(probes[0]["workload"], "write");
    assert_eq!(probes[1]["executions"], 100);
    assert_eq!(probes[2]["executions"], 400);
    assert_eq!(probes[2]["workload"], "read");
    let l = &probes[2]["latency"];
    assert_eq!(l["method"], "exact");
    assert_eq!(l["count"], 400);
    assert!(l["p50_ms"].as_f64().unwrap() <= l["p95_ms"].as_f64().unwrap());
    assert!(l["p95_ms"].as_f64().unwrap() <= l["max_ms"].as_f64().unwrap());
    let t = verdict(&j, "throughput.write_min_qps");
    assert!(t["measured"].as_f64().unwrap() > 0.0);
    assert_eq!(verdict(&j, "probe.lookup.p95_ms")["method"], "exact");

    // A probe that writes without allow_writes is refused by the read-only session.
    let b2 = f.write(
        "writes.toml",
        "version = 1\n[[probes]]\nname = \"sneaky\"\nsql = \"DELETE FROM items WHERE id = 1\"\niterations = 1\n",
    );
    let out = budget(&db, &b2).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("probe `sneaky` failed") && err.contains("allow_writes"),
        "{err}"
    );
    assert_eq!(checksum(&db).await, before);
}

#[test]
fn malformed_budgets_files_exit_2_with_file_line_column() {
    let f = Files::new();
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown_key",
            "version = 1\n[latency.simple]\np59_ms = 10\n",
            ":3:1: unknown key `p59_ms`; did you mean `p95_ms`?",
        ),
        (
            "wrong_type",
            "version = 1\n[latency.simple]\np95_ms = \"fast\"\n",
            ":3:10: `p95_ms`: invalid type: string",
        ),
        (
            "zero_limit",
            "version = 1\n[throughput]\nread_min_qps = 0\n",
            ":3:16: `read_min_qps` must be greater than 0",
        ),
        (
            "negative_limit",
            "version = 1\n\n[latency.bulk]\nmean_ms = -1\n",
            ":4:11: `mean_ms` must be greater than 0",
        ),
        (
            "p99_below_p95",
            "version = 1\n[latency.complex]\np95_ms = 100\np99_ms = 20\n",
            ":4:10: `p99_ms` (20) must be at least `p95_ms` (100)",
        ),
        (
            "bad_regex",
            "version = 1\n[[statements]]\npattern = \"(unclosed\"\np95_ms = 5\n",
            ":3:11: `pattern`: invalid regular expression",
        ),
        (
            "empty_sql",
            "version = 1\n[[probes]]\nname = \"p\"\nsql = \"\"\n",
            ":4:7: probe `p`: `sql` must not be empty",
        ),
        (
            "unknown_version",
            "version = 9\n",
            ":1:11: unsupported budgets format version 9",
        ),
    ];
    for (name, text, expected) in cases {
        let path = f.write(&format!("{name}.toml"), text);
        // A syntactically valid URL that is never contacted: the file is checked before any I/O.
        let out = common::dbdoctor()
            .args(["--database-url", "postgres://nobody@127.0.0.1:1/none"])
            .arg("budget")
            .arg("--budgets")
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        let want = format!("{}{expected}", path.display());
        assert!(err.contains(&want), "{name}: expected `{want}` in\n{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: one line: {err}");
    }
}

#[tokio::test]
async fn junit_output_is_xml_with_the_right_failure_count() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_n(&db, "SELECT pg_sleep($1)", 3, 0.05).await;
    let f = Files::new();
    let b = f.write(
        "budgets.toml",
        &format!("{LATENCY_ONLY}\n[throughput]\nread_min_qps = 1\n"),
    );
    for (require_data, extra) in [(false, None), (true, Some("--require-data"))] {
        let mut cmd = budget(&db, &b);
        cmd.args(["--format", "junit", "--fail-on-breach"]);
        if let Some(e) = extra {
            cmd.arg(e);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let xml = String::from_utf8(out.stdout).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        // No probe ran: the suite's time is 0, never "-0.000".
        assert!(!xml.contains("\"-0"), "{xml}");
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        // latency.simple/complex/analytics/bulk p95 and throughput.read_min_qps.
        assert_eq!(cases.len(), 5, "{xml}");
        // The pg_sleep breach; with --require-data also the budgets without data: no complex or
        // analytics statement ran, the bulk statements (the setup's CREATE TABLE, INSERT and
        // ANALYZE) ran once each, under min_calls, and no probe measured read throughput.
        let expected = if require_data { 5 } else { 1 };
        assert_eq!(failures.len(), expected, "{xml}");
        assert_eq!(
            suite.attribute("failures"),
            Some(expected.to_string().as_str())
        );
        let msg = failures[0].attribute("message").unwrap();
        assert!(
            msg.contains("latency.simple.p95_ms") && msg.contains("limit 10"),
            "{msg}"
        );
        assert!(
            failures[0].text().unwrap_or("").contains("pg_sleep"),
            "{xml}"
        );
    }
}

/// Normalized texts exactly as pg_stat_statements stores them parse and classify as documented.
#[tokio::test]
async fn real_normalized_statements_classify() {
    use dbdoctor::budget::classify::{classify, Access, QueryClass};
    let db = common::fresh_db().await;
    setup_table(&db).await;
    let mut c = db.connect().await;
    let statements: &[(&str, QueryClass, Access)] = &[
        (
            "SELECT v FROM items WHERE id = 7",
            QueryClass::Simple,
            Access::Read,
        ),
        (
            "UPDATE items SET v = 3 WHERE id = 7",
            QueryClass::Simple,
            Access::Write,
        ),
        (
            "SELECT a.id FROM items a JOIN items b ON b.id = a.v WHERE a.id < 10",
            QueryClass::Complex,
            Access::Read,
        ),
        (
            "SELECT id, sum(v) OVER (ORDER BY id) FROM items WHERE id < 10",
            QueryClass::Analytics,
            Access::Read,
        ),
        (
            "INSERT INTO items VALUES (2001, 1), (2002, 2)",
            QueryClass::Bulk,
            Access::Write,
        ),
    ];
    for (sql, _, _) in statements {
        c.execute(*sql).await.unwrap();
    }
    let rows = c
        .fetch_all(
            "SELECT query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = current_database()",
        )
        .await
        .unwrap();
    let texts: Vec<String> = rows.iter().map(|r| r.get("query")).collect();
    for (sql, class, access) in statements {
        let head: String = sql.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
        let normalized = texts
            .iter()
            .find(|t| t.starts_with(&head) && t.contains('$'))
            .unwrap_or_else(|| panic!("{sql} not in pg_stat_statements: {texts:#?}"));
        let got = classify(normalized);
        assert_eq!(got.class, *class, "{normalized}: {got:?}");
        assert_eq!(got.access, Some(*access), "{normalized}");
    }
    c.close().await.ok();
}

#[tokio::test]
async fn a_p95_regression_against_the_baseline_is_a_breach() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_n(&db, "SELECT pg_sleep($1)", 5, 0.01).await;
    let f = Files::new();
    // Absolute limits far away: only the regression can fail this run.
    let b = f.write(
        "budgets.toml",
        "version = 1\n[latency.simple]\np95_ms = 600000\n[latency.bulk]\np95_ms = 600000\n",
    );
    let base = f.path("baseline.json");
    let out = budget(&db, &b)
        .arg("--save-baseline")
        .arg(&base)
        .arg("--fail-on-breach")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert!(saved["p95_ms"]["latency.simple.p95_ms"].as_f64().unwrap() >= 9.0);

    // Same baseline, same figures: no regression.
    let out = budget(&db, &b)
        .arg("--baseline")
        .arg(&base)
        .args([
            "--max-regression",
            "20%",
            "--fail-on-breach",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        verdict(&json_of(&out), "regression.latency.simple.p95_ms")["status"],
        "pass"
    );

    // Twenty times slower executions push the P95 far past baseline + 20 %.
    run_n(&db, "SELECT pg_sleep($1)", 10, 0.2).await;
    let out = budget(&db, &b)
        .arg("--baseline")
        .arg(&base)
        .args([
            "--max-regression",
            "20%",
            "--fail-on-breach",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j = json_of(&out);
    assert_eq!(verdict(&j, "latency.simple.p95_ms")["status"], "pass");
    let r = verdict(&j, "regression.latency.simple.p95_ms");
    assert_eq!(r["status"], "breach", "{r}");
    assert_eq!(r["subject"], "SELECT pg_sleep($1)");

    // --max-regression without --baseline is a usage error.
    let out = budget(&db, &b)
        .args(["--max-regression", "20%"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn window_measures_only_the_window() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_n(&db, "SELECT pg_sleep($1)", 3, 0.05).await;
    let f = Files::new();
    let b = f.write("budgets.toml", LATENCY_ONLY);
    // Nothing runs during the window: the slow statement before it is not judged.
    let out = budget(&db, &b)
        .args(["--window", "1s", "--fail-on-breach", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json_of(&out);
    assert_eq!(j["measurement"]["mode"], "window");
    assert_eq!(verdict(&j, "latency.simple.p95_ms")["status"], "no-data");
}

/// Budgets whose simple-class P95 limit is `limit` ms (other classes far away).
fn simple_p95(limit: f64, extra: &str) -> String {
    format!(
        "version = 1\n{extra}\n[latency.simple]\np95_ms = {limit}\nmean_ms = 600000\n[latency.complex]\np95_ms = 600000\n[latency.analytics]\np95_ms = 600000\n[latency.bulk]\np95_ms = 600000\n[ignore]\npatterns = ['(?i)^\\s*(begin|commit|rollback|set |show )']\n"
    )
}

#[tokio::test]
async fn an_estimate_inside_its_error_band_warns_and_figures_carry_their_method() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_n(&db, "SELECT pg_sleep($1)", 8, 0.03).await;
    let f = Files::new();
    // Far limits first, to read the estimate (pg_stat_statements does not move between runs:
    // dbdoctor's own statements are left out).
    let b = f.write("wide.toml", &simple_p95(600000.0, ""));
    let out = budget(&db, &b).args(["--format", "json"]).output().unwrap();
    let j = json_of(&out);
    let v = verdict(&j, "latency.simple.p95_ms");
    // A handful of near-identical executions may not fit a lognormal: then it says so.
    let method = v["method"].as_str().unwrap().to_string();
    assert!(method == "estimated" || method == "unconverged", "{v}");
    assert_eq!(v["timing"], "server");
    let m = v["measured"].as_f64().unwrap();
    assert!(m >= 25.0, "{v}");
    let mean = verdict(&j, "latency.simple.mean_ms");
    assert_eq!(
        (mean["method"].as_str(), mean["timing"].as_str()),
        (Some("exact"), Some("server"))
    );

    // The estimate 5 % over the limit: inside the 10 % band, a warning to confirm.
    let b = f.write("near.toml", &simple_p95(m / 1.05, ""));
    let out = budget(&db, &b)
        .args(["--fail-on-breach", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let j = json_of(&out);
    let v = verdict(&j, "latency.simple.p95_ms");
    assert_eq!(v["status"], "warn", "{v}");
    let note = if method == "estimated" {
        "estimated: confirm with a probe"
    } else {
        "estimate did not converge: confirm with a probe"
    };
    assert_eq!(v["note"], note);
    assert_eq!(v["offenders"][0]["method"], method.as_str());
    let out = budget(&db, &b).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("~{}", fmt(m))), "{text}");
    assert!(text.contains("WARN ~"), "offender line: {text}");

    // 50 % over: beyond the band, a breach, in every format with `~`.
    let b = f.write("far.toml", &simple_p95(m / 1.5, ""));
    let out = budget(&db, &b)
        .args(["--fail-on-breach", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        verdict(&json_of(&out), "latency.simple.p95_ms")["status"],
        "breach"
    );
    for format in ["markdown", "junit", "github"] {
        let out = budget(&db, &b).args(["--format", format]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("~{} ms", fmt(m))),
            "{format}: {text}"
        );
        assert!(
            text.contains("server time") || format == "markdown",
            "{format}: {text}"
        );
    }

    // With a minimum above the statement's calls, it cannot decide the class verdict.
    let b = f.write("min.toml", &simple_p95(m / 1.5, "min_calls = 1000"));
    let out = budget(&db, &b)
        .args(["--fail-on-breach", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j = json_of(&out);
    let v = verdict(&j, "latency.simple.p95_ms");
    assert_eq!(v["status"], "no-data");
    assert!(
        v["reason"].as_str().unwrap().contains("min_calls = 1000"),
        "{v}"
    );
}

/// The figure as the writers print it (same rule as the report).
fn fmt(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[tokio::test]
async fn a_regression_compares_each_statement_with_itself() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    // Two simple statements: a slow one (the class's worst) and a fast one.
    run_n(&db, "SELECT pg_sleep($1)", 5, 0.05).await;
    run_n(&db, "SELECT pg_sleep($1)::text", 5, 0.002).await;
    let f = Files::new();
    let b = f.write("budgets.toml", &simple_p95(600000.0, ""));
    let base = f.path("baseline.json");
    let out = budget(&db, &b)
        .arg("--save-baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert!(saved["method"]["latency.simple.p95_ms"]
        .as_str()
        .is_some_and(|m| m == "estimated" || m == "unconverged"));
    let stmts = saved["statements"]
        .as_object()
        .expect("per-statement figures");
    let fast = stmts
        .iter()
        .find(|(_, s)| s["query"] == "SELECT pg_sleep($1)::text")
        .unwrap_or_else(|| panic!("{saved:#}"));
    assert!(
        fast.1["method"] == "estimated" || fast.1["method"] == "unconverged",
        "{saved:#}"
    );
    assert_eq!(fast.1["verdict"], "latency.simple.p95_ms");

    // The fast statement becomes ten times slower; the class's worst stays the slow one.
    run_n(&db, "SELECT pg_sleep($1)::text", 20, 0.02).await;
    let out = budget(&db, &b)
        .arg("--baseline")
        .arg(&base)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let j = json_of(&out);
    let r = verdict(&j, "regression.latency.simple.p95_ms");
    assert_eq!(r["status"], "breach", "{r}");
    assert_eq!(r["subject"], "SELECT pg_sleep($1)::text");
    assert_eq!(
        r["queryid"].as_i64().map(|q| q.to_string()).as_deref(),
        Some(fast.0.as_str())
    );

    // An older baseline file (no per-statement figures) still reads: it compares the class's
    // worst with the class's worst, which did not move.
    let old = f.write(
        "old.json",
        &format!(
            r#"{{"schema_version":1,"p95_ms":{{"latency.simple.p95_ms":{}}},"qps":{{}}}}"#,
            saved["p95_ms"]["latency.simple.p95_ms"]
        ),
    );
    let out = budget(&db, &b)
        .arg("--baseline")
        .arg(&old)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let j = json_of(&out);
    let r = verdict(&j, "regression.latency.simple.p95_ms");
    assert_eq!(r["status"], "pass", "{r}");
    assert_eq!(r["subject"], "SELECT pg_sleep($1)");
}

#[tokio::test]
async fn rates_over_a_too_short_period_are_no_data() {
    let db = common::fresh_db().await;
    setup_table(&db).await;
    run_lookups(&db, 50).await;
    let f = Files::new();
    let b = f.write("budgets.toml", LATENCY_ONLY);
    let mark = f.path("mark.json");
    let out = budget(&db, &b).arg("--mark").arg(&mark).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Measured right after the mark: well under a second, nothing ran.
    let out = budget(&db, &b)
        .arg("--since")
        .arg(&mark)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let j = json_of(&out);
    assert_eq!(j["observed"]["read_qps"], serde_json::Value::Null, "{j:#}");
    assert_eq!(j["observed"]["write_qps"], serde_json::Value::Null);
    assert_eq!(verdict(&j, "latency.simple.p95_ms")["status"], "no-data");
    let out = budget(&db, &b).arg("--since").arg(&mark).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rates: no data"), "{text}");
    assert!(!text.contains("-0"), "{text}");
}
