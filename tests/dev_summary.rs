//! `scripts/dev test`'s closing summary line: its awk program, run on a hand-made test log.

use std::io::Write;
use std::process::{Command, Stdio};

/// The awk program of the `test)` branch, exactly as the script runs it.
fn summary_program() -> String {
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/dev"))
        .expect("read scripts/dev");
    let start = script
        .find("awk '/^test result:/")
        .expect("summary awk in scripts/dev")
        + 5;
    let end = start
        + script[start..]
            .find("' \"$log\"")
            .expect("end of the awk program");
    script[start..end].to_string()
}

fn summarize(log: &str) -> String {
    let mut child = Command::new("awk")
        .arg(summary_program())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run awk");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(log.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn skip_lines_and_ignored_tests_are_counted_as_skipped() {
    let log = "\
running 4 tests
test advisor_a ... SKIP: advisor_a: the hypopg extension is not installed
ok
SKIP: every_available_major_passes_the_matrix_suite: no PostgreSQL builds found
test every_available_major_passes_the_matrix_suite ... ok
test result: ok. 4 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.10s

running 3 tests
SKIP: refuses_a_replica: needs its own throwaway cluster
test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.00s
";
    assert_eq!(
        summarize(log),
        "summary: 3 passed, 1 failed, 4 skipped\n",
        "4+2 passed minus 3 SKIP lines; 1 ignored plus 3 SKIP lines"
    );
}

#[test]
fn a_skip_line_printed_twice_is_one_skip_and_an_empty_log_sums_to_zero() {
    let log = "\
SKIP: t: reason one
SKIP: t: reason one
test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
";
    assert_eq!(summarize(log), "summary: 0 passed, 0 failed, 1 skipped\n");
    assert_eq!(summarize(""), "summary: 0 passed, 0 failed, 0 skipped\n");
}
