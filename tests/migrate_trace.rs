//! `migrate validate --trace` on real throwaway clusters: a type change from int to bigint
//! rewrites the table, a constant default does not, on PG15 and every matrix server present.

mod common;

use std::path::Path;

use serde_json::Value;

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("1_create_meals.sql", "CREATE TABLE meals (id int PRIMARY KEY, kcal int NOT NULL);\nINSERT INTO meals SELECT g, g FROM generate_series(1, 5000) g;\n"),
        ("2_widen_kcal.sql", "ALTER TABLE meals ALTER COLUMN kcal TYPE bigint;\nCREATE INDEX meals_kcal ON meals (kcal);\nSELECT 1;\n"),
        ("3_add_rating.sql", "ALTER TABLE meals ADD COLUMN rating int DEFAULT 0;\n"),
    ];
    for (n, s) in files {
        std::fs::write(dir.path().join(n), s).unwrap();
    }
    dir
}

fn diagnostics(stdout: &[u8]) -> Vec<Value> {
    match serde_json::from_slice::<Value>(stdout).expect("json") {
        Value::Array(a) => a,
        Value::Object(o) => o
            .values()
            .find_map(|v| v.as_array().cloned())
            .unwrap_or_default(),
        other => panic!("unexpected {other}"),
    }
}

fn of<'a>(d: &'a [Value], file: &str, rule: &str) -> Vec<&'a Value> {
    d.iter()
        .filter(|x| x["file"].as_str().unwrap_or("").ends_with(file) && x["rule"] == rule)
        .collect()
}

fn check(bindir: Option<&Path>) {
    let dir = folder();
    let mut cmd = common::dbdoctor();
    if let Some(b) = bindir {
        cmd.env("PG_BINDIR", b);
    }
    let o = cmd
        .args([
            "--format",
            "json",
            "migrate",
            "validate",
            "--offline",
            "--trace",
            "--source",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let label = bindir
        .map(|b| b.display().to_string())
        .unwrap_or("PATH".into());
    assert!(
        matches!(o.status.code(), Some(0 | 4)),
        "{label}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = diagnostics(&o.stdout);
    let rewrite = of(&d, "2_widen_kcal.sql", "table_rewrite");
    assert_eq!(rewrite.len(), 1, "{label}: {d:#?}");
    assert_eq!(rewrite[0]["line"], 1);
    assert!(
        rewrite[0]["message"].as_str().unwrap().contains("meals"),
        "{label}"
    );
    assert!(
        of(&d, "3_add_rating.sql", "table_rewrite").is_empty(),
        "{label}: {d:#?}"
    );
    // The ACCESS EXCLUSIVE of statement 1 stays held while the index build and the SELECT run.
    let spans: Vec<&str> = of(&d, "2_widen_kcal.sql", "trace")
        .iter()
        .filter_map(|x| x["message"].as_str())
        .collect();
    assert!(
        spans.iter().any(|m| m.starts_with(
            "meals: ACCESS EXCLUSIVE from statement 1 until COMMIT, 3 statements, rewrites "
        )),
        "{label}: {spans:?}"
    );
    let held = of(&d, "2_widen_kcal.sql", "lock_held_across_statements");
    assert_eq!(held.len(), 1, "{label}: {d:#?}");
    // ADD COLUMN takes ACCESS EXCLUSIVE too, but it is the file's only statement.
    assert!(of(&d, "3_add_rating.sql", "lock_held_across_statements").is_empty());
}

#[test]
fn trace_reports_rewrite_for_type_change_only() {
    check(None);
}

#[test]
fn trace_on_every_matrix_server() {
    for b in common::matrix_bindirs_or_skip("trace_on_every_matrix_server") {
        check(Some(&b));
        eprintln!("trace checked on {}", b.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_starts_from_the_target_schema_and_rows() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE meals (id int PRIMARY KEY, kcal int NOT NULL);\nINSERT INTO meals SELECT g, g FROM generate_series(1, 20000) g;").await;
    let dir = tempfile::tempdir().unwrap();
    // No create file: the table comes from the target's schema.
    std::fs::write(
        dir.path().join("2_widen_kcal.sql"),
        "ALTER TABLE meals ALTER COLUMN kcal TYPE bigint;\n",
    )
    .unwrap();
    // A table the pending files create has no rows to copy and is not an error.
    std::fs::write(
        dir.path().join("3_create_extras.sql"),
        "CREATE TABLE extras (id bigint);\n",
    )
    .unwrap();
    let o = common::dbdoctor()
        .args(["--format", "json", "--database-url", &db.url])
        .args([
            "migrate",
            "validate",
            "--trace",
            "--trace-rows",
            "20000",
            "--source",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = diagnostics(&o.stdout);
    let rewrite = of(&d, "2_widen_kcal.sql", "table_rewrite");
    assert_eq!(rewrite.len(), 1, "{d:#?}");
    // 20,000 copied rows make a table of several hundred kB, not an empty one.
    let msg = rewrite[0]["message"].as_str().unwrap();
    assert!(!msg.contains("(0 bytes"), "{msg}");
    assert!(
        !d.iter()
            .any(|x| x["message"].as_str().unwrap_or("").contains("not copied")),
        "{d:#?}"
    );
    // The target itself was not changed.
    let mut c = db.connect().await;
    let t: String = sqlx::query_scalar("SELECT data_type FROM information_schema.columns WHERE table_name = 'meals' AND column_name = 'kcal'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(t, "integer");
}

#[test]
fn trace_failure_is_an_error_at_the_statement() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_widen.sql"),
        "SELECT 1;\nALTER TABLE nowhere ALTER COLUMN kcal TYPE bigint;\n",
    )
    .unwrap();
    let o = common::dbdoctor()
        .args([
            "--format",
            "json",
            "migrate",
            "validate",
            "--offline",
            "--trace",
            "--source",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = diagnostics(&o.stdout);
    let err: Vec<&Value> = d
        .iter()
        .filter(|x| x["rule"] == "trace" && x["severity"] == "error")
        .collect();
    assert_eq!(err.len(), 1, "{d:#?}");
    assert_eq!(err[0]["line"], 2);
    assert!(
        err[0]["message"].as_str().unwrap().contains("nowhere"),
        "{d:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_estimates_the_writes_queued_behind_a_held_lock() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE meals (id int PRIMARY KEY, kcal int NOT NULL);\nINSERT INTO meals SELECT g, g FROM generate_series(1, 50000) g;").await;
    // A planted write rate: one session updating meals row by row until the trace is done.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut writer = db.connect().await;
    let flag = stop.clone();
    let writes = tokio::spawn(async move {
        let mut n: i64 = 0;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            sqlx::query("UPDATE meals SET kcal = kcal + 1 WHERE id = $1")
                .bind((n % 50_000 + 1) as i32)
                .execute(&mut writer)
                .await
                .unwrap();
            n += 1;
        }
        n
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("2_widen_kcal.sql"),
        "ALTER TABLE meals ALTER COLUMN kcal TYPE bigint;\nCREATE INDEX meals_kcal ON meals (kcal);\n",
    )
    .unwrap();
    let url = db.url.clone();
    let path = dir.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args(["--format", "json", "--database-url", &url])
            .args([
                "migrate",
                "validate",
                "--trace",
                "--trace-rows",
                "5000",
                "--source",
            ])
            .arg(&path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let done = writes.await.unwrap();
    assert!(done > 0, "the writer made no write");
    assert!(
        matches!(o.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let d = diagnostics(&o.stdout);
    let spans: Vec<&Value> = of(&d, "2_widen_kcal.sql", "trace")
        .into_iter()
        .filter(|x| {
            x["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("meals: ACCESS EXCLUSIVE")
        })
        .collect();
    assert_eq!(spans.len(), 1, "{d:#?}");
    let msg = spans[0]["message"].as_str().unwrap();
    assert!(msg.contains("writes would queue"), "{msg}");
    let q = &spans[0]["lock_queue"];
    let f = |k: &str| q[k].as_f64().unwrap_or_else(|| panic!("{k} missing: {q}"));
    assert_eq!(q["relation"], "meals", "{q}");
    assert_eq!(q["mode"], "ACCESS EXCLUSIVE", "{q}");
    assert!(
        f("writes_per_sec") > 0.0,
        "the planted writes are seen: {q}"
    );
    // The trace ran on 5,000 copied rows; the live table holds 50,000 (and its dead versions).
    assert!(
        f("traced_bytes") > 0.0 && f("live_bytes") > 5.0 * f("traced_bytes"),
        "{q}"
    );
    assert!(f("live_rows") >= 50_000.0, "{q}");
    assert!(
        f("estimated_ms") > 5.0 * f("traced_ms"),
        "scaled by the size ratio: {q}"
    );
    let queued = q["queued_writes"].as_u64().unwrap();
    assert_eq!(
        queued,
        (f("writes_per_sec") * f("estimated_ms") / 1000.0).round() as u64,
        "{q}"
    );
    assert!(
        msg.ends_with(&format!("~{queued} writes would queue")),
        "{msg}"
    );
}
