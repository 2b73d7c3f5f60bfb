//! `migrate validate` on real ORM output (tests/orm_corpus): precision and recall against the manifest.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Rules whose findings are style, never risk: they must come out with severity "style".
const STYLE_RULES: &[&str] = &[
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "ban-drop-not-null",
    "require-enum-value-ordering",
    "ban-drop-constraint",
    // Style unless a file includes them: `migrate apply` sends the timeouts itself.
    "require-lock-timeout",
    "require-statement-timeout",
    // Style unless a file includes it: most projects keep every table in one schema.
    "require-table-schema",
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/orm_corpus")
}

/// (set/file, line, rule) of every real risk the manifest lists.
fn expected() -> BTreeSet<(String, u64, String)> {
    let text = std::fs::read_to_string(corpus().join("expected.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut p = l.split_whitespace();
            let file = p.next().unwrap().to_string();
            let line = p.next().unwrap().parse().unwrap();
            let rule = p.next().unwrap().to_string();
            (file, line, rule)
        })
        .collect()
}

fn validate_json(set: &str) -> (i32, Vec<serde_json::Value>) {
    let o = common::dbdoctor()
        .args([
            "--format",
            "json",
            "migrate",
            "validate",
            "--offline",
            "--source",
        ])
        .arg(corpus().join(set))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    // Accept both a bare list and an object wrapping it.
    let list = match &v {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(m) => m
            .get("diagnostics")
            .and_then(|d| d.as_array())
            .cloned()
            .expect("diagnostics list"),
        _ => panic!("unexpected JSON {v}"),
    };
    (o.status.code().unwrap_or(-1), list)
}

#[test]
fn orm_corpus_every_real_risk_and_no_false_alarm() {
    let want = expected();
    let mut found: BTreeSet<(String, u64, String)> = BTreeSet::new();
    let mut style = 0usize;
    let mut files_without_down = 0usize;
    for set in ["django", "prisma", "rails"] {
        let (code, diags) = validate_json(set);
        assert_eq!(code, 0, "{set}: warnings alone must exit 0: {diags:?}");
        let files = std::fs::read_dir(corpus().join(set)).unwrap().count();
        for d in &diags {
            let rule = d["rule"].as_str().unwrap().to_string();
            let severity = d["severity"].as_str().unwrap();
            let file = Path::new(d["file"].as_str().unwrap())
                .file_name()
                .map(|f| format!("{set}/{}", f.to_string_lossy()))
                .unwrap();
            if STYLE_RULES.contains(&rule.as_str()) {
                assert_eq!(severity, "style", "{d}");
                style += 1;
                continue;
            }
            assert_ne!(severity, "style", "only style rules are style: {d}");
            if rule == "migration-files" {
                files_without_down += 1;
                continue;
            }
            found.insert((file, d["line"].as_u64().unwrap(), rule));
        }
        // ORMs write forward-only folders on purpose: no file is reported as not reversible
        // (only `--replay`, whose revert stops there, names them).
        assert_eq!(
            diags
                .iter()
                .filter(|d| d["rule"] == "migration-files")
                .count(),
            0,
            "{set}: a forward-only folder of {files} files is not a folder problem: {diags:?}"
        );
    }
    let hits = want.intersection(&found).count();
    let false_alarms: Vec<_> = found.difference(&want).collect();
    let missed: Vec<_> = want.difference(&found).collect();
    let precision = hits as f64 / found.len().max(1) as f64;
    let recall = hits as f64 / want.len().max(1) as f64;
    // Written past the test harness's capture so every run shows the numbers.
    let _ = writeln!(
        std::io::stderr(),
        "orm corpus: {hits}/{} real risks caught, {} non-style false alarms, precision {:.2}, recall {:.2}; {style} style notes, {files_without_down} not-reversible file warnings",
        want.len(),
        false_alarms.len(),
        precision,
        recall
    );
    assert!(missed.is_empty(), "missed real risks: {missed:#?}");
    assert!(false_alarms.is_empty(), "false alarms: {false_alarms:#?}");
}

#[test]
fn orm_corpus_text_output_summarises_style_and_lists_it_with_verbose() {
    let run = |extra: &[&str]| {
        let o = common::dbdoctor()
            .args(extra)
            .args(["migrate", "validate", "--offline", "--source"])
            .arg(corpus().join("django"))
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        )
    };
    let (code, s) = run(&[]);
    assert_eq!(code, Some(0), "{s}");
    assert!(!s.contains("style[prefer-bigint-over-int]"), "{s}");
    let summary = s
        .lines()
        .find(|l| l.contains("style notes (") && l.contains("prefer-bigint-over-int ×26"))
        .unwrap_or_else(|| panic!("no style summary line: {s}"));
    assert!(summary.contains("--strict or -v lists them"), "{summary}");
    // The varchar widenings are silent; the type change to bigint says it rewrites.
    assert!(!s.contains("varchar(254)"), "{s}");
    assert!(s.contains("rewrites"), "{s}");
    // The index build after the rename in the same transaction blocks reads too.
    let line = s
        .lines()
        .find(|l| l.contains("0029_shop_0006") && l.contains("require-concurrent-index-creation"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(line.contains("ACCESS EXCLUSIVE"), "{line}");
    let (_, v) = run(&["-v"]);
    assert!(v.contains("style[prefer-bigint-over-int]"), "{v}");
    // --strict makes style count: exit 4.
    let o = common::dbdoctor()
        .args(["migrate", "validate", "--offline", "--strict", "--source"])
        .arg(corpus().join("prisma"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stdout).contains("style[prefer-identity]"));
}
