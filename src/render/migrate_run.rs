//! Writers for `migrate apply` and `migrate revert`: what ran (or, with `--dry-run`, the SQL
//! stream as a script a DBA can read), or a JSON document.

use std::io::{self, Write};

use super::migrate_status::JSON_SCHEMA_VERSION;
use crate::migrate::apply::Report;

/// `command` is `apply` or `revert`.
pub fn json(command: &str, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = serde_json::json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "command": format!("migrate {command}"),
        "dry_run": report.dry_run,
        "planned": report.planned,
        "done": report.done,
        "backup": report.backup,
        "data_saved": report.data_saved,
        "restore": report.restore,
        "warnings": report.warnings,
        "steps": report.steps,
    });
    serde_json::to_writer_pretty(&mut *out, &super::SchemaFirst(&doc))?;
    writeln!(out)
}

/// The outcome in a few lines; a dry-run writes the stream instead. `marked` is the version
/// `--mark-applied` recorded.
pub fn text(
    command: &str,
    report: &Report,
    marked: Option<i64>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if report.dry_run {
        return stream(command, report, out);
    }
    let verb = if command == "apply" {
        "applied"
    } else {
        "reverted"
    };
    if let Some(v) = marked {
        writeln!(out, "marked {v} as applied (not run)")?;
    } else if report.done.is_empty() {
        writeln!(out, "nothing to {command}: the database is up to date")?;
    } else {
        let total: f64 = report.done.iter().map(|d| d.elapsed_ms).sum();
        writeln!(
            out,
            "{verb} {} migration{} in {:.0} ms: {}",
            report.done.len(),
            if report.done.len() == 1 { "" } else { "s" },
            total,
            report
                .done
                .iter()
                .map(|d| d.version.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        if let Some(b) = &report.backup {
            writeln!(out, "schema backup: {b}")?;
        }
        for d in &report.data_saved {
            writeln!(out, "data saved (restore script): {d}")?;
        }
        for r in &report.restore {
            writeln!(out, "{r}")?;
        }
    }
    Ok(())
}

/// The dry-run stream as an SQL script a DBA can read (and run by hand).
fn stream(command: &str, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "-- dbdoctor migrate {command} --dry-run: nothing below has been run"
    )?;
    if report.planned.is_empty() {
        writeln!(out, "-- nothing to {command}: the database is up to date")?;
    } else {
        let list: Vec<String> = report.planned.iter().map(|v| v.to_string()).collect();
        writeln!(out, "-- would {command}: {}", list.join(", "))?;
    }
    for s in &report.steps {
        if s.kind == "begin" {
            writeln!(out)?;
        }
        if let Some(n) = &s.note {
            if s.kind == "backup" {
                writeln!(out, "-- backup to {n}:")?;
            } else {
                writeln!(out, "-- {n}")?;
            }
        }
        if let Some(l) = &s.lock {
            writeln!(out, "-- lock: {l}")?;
        }
        if s.sql.starts_with("--") {
            writeln!(out, "{}", s.sql)?;
        } else {
            writeln!(out, "{};", s.sql.trim_end_matches(';'))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::apply::{Done, Step};

    fn step(kind: &'static str, sql: &str) -> Step {
        Step {
            kind,
            version: Some(1),
            sql: sql.into(),
            lock: None,
            note: None,
        }
    }

    #[test]
    fn dry_run_is_a_readable_script() {
        let mut begin = step("begin", "BEGIN");
        begin.note = Some("migration 1 a (1_a.up.sql)".into());
        let mut stmt = step("statement", "CREATE TABLE a (id int);");
        stmt.lock = Some("ACCESS EXCLUSIVE on a".into());
        let report = Report {
            dry_run: true,
            planned: vec![1],
            steps: vec![
                step("session", "SET lock_timeout = '5000ms'"),
                step("tracking", "-- a comment"),
                begin,
                stmt,
                step("commit", "COMMIT"),
            ],
            ..Default::default()
        };
        let mut out = Vec::new();
        text("apply", &report, None, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-- dbdoctor migrate apply --dry-run: nothing below has been run\n\
             -- would apply: 1\n\
             SET lock_timeout = '5000ms';\n\
             -- a comment\n\
             \n\
             -- migration 1 a (1_a.up.sql)\n\
             BEGIN;\n\
             -- lock: ACCESS EXCLUSIVE on a\n\
             CREATE TABLE a (id int);\n\
             COMMIT;\n"
        );
    }

    #[test]
    fn a_real_run_says_what_ran_and_where_the_backup_is() {
        let report = Report {
            done: vec![
                Done {
                    version: 1,
                    description: "a".into(),
                    statements: 1,
                    elapsed_ms: 2.4,
                },
                Done {
                    version: 2,
                    description: "b".into(),
                    statements: 1,
                    elapsed_ms: 3.0,
                },
            ],
            backup: Some("backups/x.sql".into()),
            ..Default::default()
        };
        let mut out = Vec::new();
        text("revert", &report, None, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "reverted 2 migrations in 5 ms: 1, 2\nschema backup: backups/x.sql\n"
        );
        let mut out = Vec::new();
        text("apply", &Report::default(), Some(7), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "marked 7 as applied (not run)\n"
        );
        let mut out = Vec::new();
        json("revert", &report, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["command"], "migrate revert");
        assert_eq!(v["done"][1]["version"], 2);
    }
}
