//! CLI surface: help for every subcommand, exit codes, bad input.

mod common;

use common::dbdoctor;
use predicates::prelude::*;

#[test]
fn help_for_every_subcommand_lists_exit_codes() {
    for args in [
        vec!["--help"],
        vec!["doctor", "--help"],
        vec!["budget", "--help"],
        vec!["migrate", "--help"],
        vec!["migrate", "plan", "--help"],
        vec!["migrate", "validate", "--help"],
        vec!["migrate", "apply", "--help"],
        vec!["migrate", "revert", "--help"],
        vec!["migrate", "status", "--help"],
        vec!["demo", "--help"],
        vec!["snapshot", "--help"],
    ] {
        dbdoctor()
            .args(&args)
            .assert()
            .code(0)
            .stdout(predicate::str::contains("Usage: dbdoctor"));
    }
    dbdoctor()
        .arg("--help")
        .assert()
        .stdout(predicate::str::contains("5  migration apply failed"));
}

#[test]
fn version_prints_the_crate_version() {
    dbdoctor()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_flag_is_usage_error() {
    dbdoctor()
        .args(["doctor", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn malformed_url_is_exit_2_and_hides_password() {
    dbdoctor()
        .args([
            "doctor",
            "--database-url",
            "postgres://app:hunter2@db:notaport/x",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid database URL"))
        .stderr(predicate::str::contains("hunter2").not());
}

#[test]
fn bad_timeout_value_is_exit_2() {
    dbdoctor()
        .args(["--connect-timeout=-3", "doctor"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--connect-timeout"));
}
