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
        vec!["completions", "--help"],
        vec!["man", "--help"],
    ] {
        let out = dbdoctor().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Usage: dbdoctor"), "{args:?}");
        // Every exit code of src/exit.rs, 130 included, in every subcommand's help.
        for code in [
            dbdoctor::exit::OK,
            dbdoctor::exit::FINDINGS,
            dbdoctor::exit::USAGE,
            dbdoctor::exit::CONNECT,
            dbdoctor::exit::MIGRATION_INVALID,
            dbdoctor::exit::MIGRATION_FAILED,
            dbdoctor::exit::DATABASE_ERROR,
            dbdoctor::exit::INTERRUPTED,
        ] {
            assert!(
                help.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{code} "))),
                "{args:?} does not list exit code {code}:\n{help}"
            );
        }
        if args.len() > 1 {
            assert!(help.contains("Formats (--format): "), "{args:?}");
        }
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
    for bad in ["5 parsecs", "0s", "abc", "8days"] {
        dbdoctor()
            .args(["--connect-timeout", bad, "doctor"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--connect-timeout"));
    }
    dbdoctor()
        .args(["doctor", "--window", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--window"));
}

/// Every time option takes the same syntax: humantime (`5s`, `500ms`, `1m 30s`) or a bare
/// number of seconds. Checked with commands that need no database.
#[test]
fn every_time_option_takes_one_duration_syntax() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().display().to_string();
    for (flag, value) in [
        ("--connect-timeout", "5s"),
        ("--connect-timeout", "2"),
        ("--connect-timeout", "1500ms"),
        ("--statement-timeout", "1m 30s"),
        ("--statement-timeout", "0.5"),
    ] {
        dbdoctor()
            .args([
                flag,
                value,
                "migrate",
                "validate",
                "--offline",
                "--source",
                &src,
            ])
            .assert()
            .code(0);
    }
    // The subcommands' time options accept the same forms at parse time.
    for args in [
        vec!["doctor", "--window", "1m 30s", "--help"],
        vec!["migrate", "apply", "--lock-timeout", "1500ms", "--help"],
        vec!["migrate", "revert", "--lock-wait", "45", "--help"],
        vec!["budget", "--window", "2m", "--help"],
        vec!["snapshot", "--window", "10s", "--help"],
    ] {
        dbdoctor().args(&args).assert().code(0);
    }
    for args in [
        vec!["migrate", "apply", "--lock-timeout", "fast"],
        vec!["budget", "--window=-1s"],
        vec!["snapshot", "--out", "x.json", "--window", "never"],
    ] {
        dbdoctor()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("invalid value"));
    }
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = dbdoctor().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["dbdoctor", "doctor", "migrate", "connect-timeout"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        if shell == "bash" {
            let f = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(f.path(), script.as_bytes()).unwrap();
            let ok = std::process::Command::new("bash")
                .arg("-n")
                .arg(f.path())
                .status()
                .unwrap();
            assert!(ok.success(), "bash completion is not valid bash");
        }
    }
    dbdoctor()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("tcsh"));
    let out = dbdoctor().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80.min(page.len())]
    );
    assert!(page.contains(".TH dbdoctor"));
    for word in ["doctor", "budget", "migrate", "130"] {
        assert!(page.contains(word), "man page lacks {word}");
    }
}

#[test]
fn a_format_a_subcommand_does_not_write_is_a_usage_error() {
    for args in [
        vec!["--format", "junit", "migrate", "status"],
        vec!["migrate", "status", "--format", "junit"],
        vec!["--format", "github", "doctor"],
        vec!["--format", "markdown", "migrate", "validate", "--offline"],
        vec!["--format", "json", "completions", "bash"],
    ] {
        dbdoctor()
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--format"))
            .stderr(predicate::str::contains("not supported"));
    }
}

#[test]
fn color_choice_reaches_clap_messages() {
    let plain = dbdoctor()
        .args(["--color", "never", "doctor", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&plain.stderr).contains('\x1b'));
    let coloured = dbdoctor()
        .args(["--color=always", "doctor", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(coloured.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&coloured.stderr).contains('\x1b'));
    let no_color = dbdoctor()
        .env("NO_COLOR", "1")
        .args(["doctor", "--no-such-flag"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&no_color.stderr).contains('\x1b'));
}

#[test]
fn mistyped_check_ids_and_keys_get_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.json");
    std::fs::write(
        &snap,
        serde_json::to_vec(&dbdoctor::analyze::testdata::sample_snapshot()).unwrap(),
    )
    .unwrap();
    let s = snap.display().to_string();
    dbdoctor()
        .args(["doctor", "--from-snapshot", &s, "--checks", "unsued_index"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean \"unused_index\"?"));
    let b = dir.path().join("b.toml");
    std::fs::write(&b, "version = 1\n[thresholds]\nslow_query_msec = 5\n").unwrap();
    dbdoctor()
        .args(["doctor", "--from-snapshot", &s, "--budgets"])
        .arg(&b)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean \"slow_query_ms\"?"));
}

/// budgets.toml is found from the current directory up to the repository root, the same way
/// for doctor and budget; the file in use is named in the output.
#[test]
fn budgets_toml_is_discovered_up_to_the_repository_root() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let deep = repo.join("services/api");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let snap = tmp.path().join("s.json");
    std::fs::write(
        &snap,
        serde_json::to_vec(&dbdoctor::analyze::testdata::sample_snapshot()).unwrap(),
    )
    .unwrap();
    let doctor = || {
        let mut c = dbdoctor();
        c.current_dir(&deep)
            .args(["doctor", "--width", "100", "--from-snapshot"])
            .arg(&snap);
        c
    };
    // None anywhere: defaults, and the header says so.
    doctor().assert().code(0).stdout(predicate::str::contains(
        "thresholds: defaults (no budgets.toml found)",
    ));
    // One at the repository root: used from two folders below, and named.
    std::fs::write(
        repo.join("budgets.toml"),
        "version = 1\n[thresholds]\nslow_query_ms = 5\n",
    )
    .unwrap();
    doctor()
        .assert()
        .code(0)
        .stdout(predicate::str::contains("thresholds: ../../budgets.toml"));
    // A broken one is an error naming it (proof that it is read); budget finds the same file.
    std::fs::write(
        repo.join("budgets.toml"),
        "version = 1\n[thresholds]\nslow_query_msec = 5\n",
    )
    .unwrap();
    doctor()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("../../budgets.toml"));
    // migrate plan reads the same file, so it drops what doctor advises.
    dbdoctor()
        .current_dir(&deep)
        .args(["migrate", "plan", "--dry-run", "--source"])
        .arg(tmp.path().join("migrations"))
        .arg("--from-snapshot")
        .arg(&snap)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("../../budgets.toml"));
    std::fs::write(
        repo.join("budgets.toml"),
        "version = 1\n[latency.simple]\np59_ms = 5\n",
    )
    .unwrap();
    dbdoctor()
        .current_dir(&deep)
        .args(["--database-url", "postgres://u@127.0.0.1:1/x", "budget"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("../../budgets.toml"))
        .stderr(predicate::str::contains("p95_ms"));
    // --budgets overrides the discovered file.
    let mine = tmp.path().join("mine.toml");
    std::fs::write(&mine, "version = 1\n").unwrap();
    doctor()
        .arg("--budgets")
        .arg(&mine)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(format!(
            "thresholds: {}",
            mine.display()
        )));
    // No file at all: budget stops with exit 2 and says where it looked.
    std::fs::remove_file(repo.join("budgets.toml")).unwrap();
    dbdoctor()
        .current_dir(&deep)
        .args(["--database-url", "postgres://u@127.0.0.1:1/x", "budget"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no budgets.toml"));
}

/// sqlx.toml's `[migrate] migrations-dir` is the default folder; `--source` overrides it.
#[test]
fn sqlx_toml_names_the_migrations_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("db/schema")).unwrap();
    std::fs::write(
        tmp.path().join("db/schema/1_first.sql"),
        "CREATE TABLE t (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("sqlx.toml"),
        "[migrate]\nmigrations-dir = \"db/schema\"\n",
    )
    .unwrap();
    dbdoctor()
        .current_dir(tmp.path())
        .args(["migrate", "validate", "--offline"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("1 files checked"));
    // Without sqlx.toml the default folder `migrations` does not exist here.
    dbdoctor()
        .current_dir(tmp.path())
        .args(["migrate", "validate", "--offline", "--source", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nowhere"));
    std::fs::write(
        tmp.path().join("sqlx.toml"),
        "[migrate]\nmigration-dir = \"db/schema\"\n",
    )
    .unwrap();
    dbdoctor()
        .current_dir(tmp.path())
        .args(["migrate", "validate", "--offline"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean \"migrations-dir\"?"));
}

#[test]
fn migrate_validate_json_is_an_object_with_schema_version_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_a.sql"), "CREATE TABLE a (id int);\n").unwrap();
    let out = dbdoctor()
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
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("{\n  \"schema_version\": 1,"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["diagnostics"].is_array());
}

/// Every JSON output is an object whose first key is `schema_version`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_json_output_leads_with_schema_version() {
    let db = common::fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let mig = dir.path().join("migrations");
    std::fs::create_dir(&mig).unwrap();
    std::fs::write(
        mig.join("1_a.sql"),
        "CREATE TABLE a (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("budgets.toml"), "version = 1\n").unwrap();
    let url = db.url.clone();
    let root = dir.path().to_path_buf();
    let outputs = tokio::task::spawn_blocking(move || {
        let runs: Vec<Vec<&str>> = vec![
            vec!["doctor"],
            vec!["budget", "--no-probes"],
            vec!["migrate", "status"],
            vec!["migrate", "apply", "--dry-run"],
            vec!["migrate", "validate", "--offline"],
            vec!["migrate", "plan", "--dry-run"],
        ];
        let mut outs: Vec<(String, String)> = runs
            .into_iter()
            .map(|args| {
                let o = dbdoctor()
                    .current_dir(&root)
                    .args(["--database-url", &url, "--format", "json"])
                    .args(&args)
                    .output()
                    .unwrap();
                (
                    args.join(" "),
                    String::from_utf8_lossy(&o.stdout).to_string(),
                )
            })
            .collect();
        let o = dbdoctor()
            .current_dir(&root)
            .args(["--database-url", &url, "snapshot", "--out", "-"])
            .output()
            .unwrap();
        outs.push((
            "snapshot".into(),
            String::from_utf8_lossy(&o.stdout).to_string(),
        ));
        outs
    })
    .await
    .unwrap();
    for (what, text) in outputs {
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
        assert!(v.is_object(), "{what}");
        let first = text.trim_start().trim_start_matches('{').trim_start();
        assert!(
            first.starts_with("\"schema_version\":"),
            "{what} does not lead with schema_version: {}",
            &text[..text.len().min(200)]
        );
    }
}
