//! `migrate validate` on every common layout (sqlx, golang-migrate, goose, Flyway, dbmate, one
//! file, standard input), detected or forced with `--layout`; tracking commands refuse the others.

mod common;

use std::path::PathBuf;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layouts")
        .join(name)
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

fn validate(source: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>) {
    let o = common::dbdoctor()
        .args([
            "--format",
            "json",
            "migrate",
            "validate",
            "--offline",
            "--source",
            source,
        ])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), diagnostics(&o.stdout))
}

/// (file suffix, rule, line) of every diagnostic.
fn found(d: &[Value]) -> Vec<(String, String, u64)> {
    d.iter()
        .map(|x| {
            let f = x["file"].as_str().unwrap();
            let name = f.rsplit('/').next().unwrap().to_string();
            (
                name,
                x["rule"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(d: &[Value], file: &str, rule: &str, line: u64) -> bool {
    found(d)
        .iter()
        .any(|(f, r, l)| f == file && r == rule && *l == line)
}

#[test]
fn goose_folder_sections_and_no_transaction() {
    let (code, d) = validate(fixture("goose").to_str().unwrap(), &[]);
    // Line numbers are the file's own, past the StatementBegin/End function.
    assert!(
        has(
            &d,
            "20240101000003_lower_email.sql",
            "require-concurrent-index-creation",
            10
        ),
        "{:?}",
        found(&d)
    );
    // NO TRANSACTION: the concurrent build is fine and goose sends statements one by one.
    let idx: Vec<_> = found(&d)
        .into_iter()
        .filter(|(f, _, _)| f == "20240101000002_index_email.sql")
        .collect();
    assert!(idx.is_empty(), "{idx:?}");
    // No naming problems: goose names are not sqlx's reversible names.
    assert!(
        !found(&d).iter().any(|(_, r, _)| r == "migration-files"),
        "{:?}",
        found(&d)
    );
    assert_eq!(code, Some(0), "warnings only: {:?}", found(&d));
}

#[test]
fn dbmate_folder_transaction_false() {
    let (_, d) = validate(fixture("dbmate").to_str().unwrap(), &[]);
    let f = found(&d);
    // A concurrent build in its own no-transaction section is not asked for IF NOT EXISTS, which
    // would keep an INVALID index after a failed build.
    assert!(
        !has(
            &d,
            "20240101000002_index_email.sql",
            "prefer-robust-stmts",
            2
        ),
        "{f:?}"
    );
    assert!(
        !f.iter()
            .any(|(_, r, _)| r == "ban-concurrent-index-creation-in-transaction"),
        "{f:?}"
    );
    assert!(
        has(
            &d,
            "20240101000003_email_not_null.sql",
            "adding-not-nullable-field",
            2
        ),
        "{f:?}"
    );
    // The down section is linted with its own line numbers.
    assert!(
        has(
            &d,
            "20240101000003_email_not_null.sql",
            "ban-drop-not-null",
            5
        ),
        "{f:?}"
    );
}

#[test]
fn flyway_folder_versions_and_repeatables() {
    let (code, d) = validate(fixture("flyway").to_str().unwrap(), &[]);
    let f = found(&d);
    assert!(
        has(&d, "V2__rename_email.sql", "renaming-column", 2),
        "{f:?}"
    );
    // Flyway runs CONCURRENTLY outside a transaction on its own.
    assert!(
        !f.iter().any(|(n, _, _)| n == "V1.1__index_email.sql"),
        "{f:?}"
    );
    assert!(!f.iter().any(|(_, r, _)| r == "migration-files"), "{f:?}");
    assert_eq!(code, Some(0), "{f:?}");
}

#[test]
fn golang_migrate_is_forced_with_layout() {
    let dir = fixture("golang-migrate");
    // Read as sqlx (same names): the concurrent build runs in sqlx's transaction and fails.
    let (code, d) = validate(dir.to_str().unwrap(), &[]);
    assert_eq!(code, Some(4));
    assert!(has(
        &d,
        "2_index_email.up.sql",
        "ban-concurrent-index-creation-in-transaction",
        1
    ));
    // golang-migrate sends the one statement alone, outside any transaction.
    let (code, d) = validate(dir.to_str().unwrap(), &["--layout", "golang-migrate"]);
    assert_eq!(code, Some(0), "{:?}", found(&d));
    assert!(!found(&d)
        .iter()
        .any(|(_, r, _)| r == "ban-concurrent-index-creation-in-transaction"));
}

#[test]
fn single_file_and_standard_input() {
    let (_, d) = validate(fixture("single.sql").to_str().unwrap(), &[]);
    assert!(
        has(&d, "single.sql", "adding-field-with-default", 2),
        "{:?}",
        found(&d)
    );
    let o = common::dbdoctor()
        .args([
            "--format",
            "json",
            "migrate",
            "validate",
            "--offline",
            "--source",
            "-",
        ])
        .write_stdin("ALTER TABLE t RENAME TO u;\n")
        .output()
        .unwrap();
    let d = diagnostics(&o.stdout);
    assert!(has(&d, "<stdin>", "renaming-table", 1), "{:?}", found(&d));
}

#[test]
fn tracking_commands_refuse_other_layouts_in_one_line() {
    for cmd in ["status", "apply", "revert"] {
        let o = common::dbdoctor()
            .args([
                "--database-url",
                "postgres://nobody@127.0.0.1:1/none",
                "migrate",
                cmd,
                "--source",
            ])
            .arg(fixture("goose"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{cmd}: {err}");
        assert!(err.contains("goose_db_version"), "{cmd}: {err}");
    }
}
