//! `migrate validate --trace` on real throwaway clusters: a type change from int to bigint
//! rewrites the table, a constant default does not, on PG15 and every matrix server present.

mod common;

use std::path::{Path, PathBuf};

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

fn matrix_bindirs() -> Vec<PathBuf> {
    let list = std::env::var("DBDOCTOR_MATRIX_BINDIRS").unwrap_or_default();
    let mut found: Vec<PathBuf> = std::env::split_paths(&list)
        .filter(|p| p.join("initdb").is_file())
        .collect();
    if found.is_empty() {
        if let Ok(rd) = std::fs::read_dir("/var/cache/dbdoctor/pg") {
            found = rd
                .flatten()
                .map(|e| e.path().join("bin"))
                .filter(|b| b.join("initdb").is_file())
                .collect();
        }
    }
    found.sort();
    found
}

#[test]
fn trace_on_every_matrix_server() {
    let dirs = matrix_bindirs();
    if dirs.is_empty() {
        eprintln!(
            "SKIP: trace_on_every_matrix_server: no matrix servers (set DBDOCTOR_MATRIX_BINDIRS)"
        );
        return;
    }
    for b in dirs {
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
