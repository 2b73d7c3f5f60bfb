//! Agreement with squawk on the inputs of squawk's own rule tests, each run as a one-file migration.
//!
//! `tests/fixtures/squawk/<rule>/<n>.<safe|unsafe>.sql` holds one case: the SQL of one of squawk's
//! rule tests and squawk's verdict for that rule. A case squawk lints as "not in a transaction" (its
//! default) starts with `-- no-transaction`, the nearest sqlx equivalent; a case squawk lints with
//! `assume_in_transaction` is a plain file, which sqlx runs in a transaction. Opt-in rules are
//! switched on with `-- dbdoctor:include`, and a case squawk pins to a server version carries
//! `-- dbdoctor:pg-version N`.
//!
//! Each case goes through `dbdoctor migrate validate --offline --format json` on its own folder;
//! a case counts as flagged when dbdoctor reports the case's rule.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Cases where dbdoctor knowingly disagrees with squawk, each with the reason (DB_PERF.md §6).
const DEVIATIONS: &[(&str, &str, &str)] = &[
    (
        "ban-concurrent-index-creation-in-transaction",
        "04.safe.sql",
        "squawk allows a lone CREATE INDEX CONCURRENTLY under assume-in-transaction, but sqlx runs \
         the file inside its transaction, where PostgreSQL refuses it",
    ),
    (
        "ban-concurrent-index-creation-in-transaction",
        "05.safe.sql",
        "a COMMIT/BEGIN pair inside a sqlx transaction file does not take the index build out of \
         a transaction block: the file is one multi-statement query, an implicit transaction",
    ),
    (
        "adding-field-with-default",
        "18.unsafe.sql",
        "squawk treats PostgreSQL 11.0 itself as older than 11; a constant default has been \
         free since 11.0, so dbdoctor flags constant defaults only below 11",
    ),
    (
        "ban-char-field",
        "03.unsafe.sql",
        "the case holds `int array[]`, which PostgreSQL's parser rejects: dbdoctor reports the \
         syntax error alone, as squawk does for its own parse errors",
    ),
    (
        "prefer-robust-stmts",
        "19.unsafe.sql",
        "squawk asks for IF NOT EXISTS on CREATE INDEX CONCURRENTLY; after a failed concurrent \
         build that would skip and keep the invalid index, so dbdoctor never advises it",
    ),
];

fn cases() -> Vec<(String, PathBuf, bool)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/squawk");
    let mut out = Vec::new();
    for rule in std::fs::read_dir(&root).expect("fixture folder") {
        let rule = rule.unwrap().path();
        let name = rule.file_name().unwrap().to_string_lossy().to_string();
        for f in std::fs::read_dir(&rule).unwrap() {
            let f = f.unwrap().path();
            let fname = f.file_name().unwrap().to_string_lossy().to_string();
            let unsafe_case = if fname.ends_with(".unsafe.sql") {
                true
            } else if fname.ends_with(".safe.sql") {
                false
            } else {
                panic!("fixture {fname} is neither .safe.sql nor .unsafe.sql");
            };
            out.push((name.clone(), f, unsafe_case));
        }
    }
    out.sort();
    out
}

/// The rule names that count as the case's rule (squawk's aliases included).
fn matches(case_rule: &str, reported: &str) -> bool {
    match case_rule {
        "require-timeout-settings" => matches!(
            reported,
            "require-timeout-settings" | "require-lock-timeout" | "require-statement-timeout"
        ),
        _ => case_rule == reported,
    }
}

fn diagnostics(stdout: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(stdout).expect("validate prints JSON");
    match v {
        serde_json::Value::Array(a) => a,
        // A wrapped report: the first array field holds the findings.
        serde_json::Value::Object(o) => o
            .values()
            .find_map(|x| x.as_array().cloned())
            .unwrap_or_default(),
        other => panic!("unexpected JSON: {other}"),
    }
}

#[test]
fn squawk_rule_tests_agree() {
    let cases = cases();
    assert!(cases.len() >= 160, "only {} cases found", cases.len());
    let mut agree = 0;
    let (mut unsafe_total, mut unsafe_flagged, mut safe_total, mut safe_silent) = (0, 0, 0, 0);
    let mut disagreements: Vec<(String, String, bool, Vec<String>)> = Vec::new();
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (rule, path, unsafe_case) in &cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(path, dir.path().join("1_case.sql")).unwrap();
        let o = common::dbdoctor()
            .args([
                "--format",
                "json",
                "migrate",
                "validate",
                "--offline",
                "--source",
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            matches!(o.status.code(), Some(0 | 1 | 4)),
            "{}: exit {:?}: {}",
            path.display(),
            o.status.code(),
            String::from_utf8_lossy(&o.stderr)
        );
        let reported: Vec<String> = diagnostics(&o.stdout)
            .iter()
            .filter_map(|d| d["rule"].as_str().map(str::to_string))
            .collect();
        let flagged = reported.iter().any(|r| matches(rule, r));
        let entry = per_rule.entry(rule.clone()).or_default();
        entry.1 += 1;
        if *unsafe_case {
            unsafe_total += 1;
            unsafe_flagged += usize::from(flagged);
        } else {
            safe_total += 1;
            safe_silent += usize::from(!flagged);
        }
        if flagged == *unsafe_case {
            agree += 1;
            entry.0 += 1;
        } else {
            let fname = path.file_name().unwrap().to_string_lossy().to_string();
            disagreements.push((rule.clone(), fname, *unsafe_case, reported));
        }
    }
    eprintln!(
        "squawk parity: {agree}/{} agree; unsafe flagged {unsafe_flagged}/{unsafe_total}; \
         safe silent {safe_silent}/{safe_total}",
        cases.len()
    );
    for (rule, (a, n)) in &per_rule {
        if a != n {
            eprintln!("  {rule}: {a}/{n}");
        }
    }
    for d in &disagreements {
        eprintln!(
            "  disagree: {}/{} (squawk unsafe: {}) reported {:?}",
            d.0, d.1, d.2, d.3
        );
    }
    // Every disagreement is a documented deviation, and every documented deviation still holds.
    let unexplained: Vec<_> = disagreements
        .iter()
        .filter(|d| !DEVIATIONS.iter().any(|(r, f, _)| *r == d.0 && *f == d.1))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained disagreements: {unexplained:?}"
    );
    for (r, f, why) in DEVIATIONS {
        assert!(
            disagreements.iter().any(|d| d.0 == *r && d.1 == *f),
            "documented deviation {r}/{f} ({why}) no longer differs: drop it from the list"
        );
    }
    assert!(agree + DEVIATIONS.len() >= cases.len());
}

/// Every squawk rule in the corpus has a dbdoctor rule of the same name.
#[test]
fn every_squawk_rule_has_a_counterpart() {
    let names: Vec<&str> = dbdoctor::migrate::lint::all_rule_names();
    let mut missing = Vec::new();
    for (rule, _, _) in cases() {
        if rule != "require-timeout-settings"
            && !names.contains(&rule.as_str())
            && !missing.contains(&rule)
        {
            missing.push(rule);
        }
    }
    assert!(
        missing.is_empty(),
        "squawk rules without a counterpart: {missing:?}"
    );
    assert!(names.contains(&"require-timeout-settings") || names.contains(&"require-lock-timeout"));
}
