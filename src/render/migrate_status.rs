//! Writers for `migrate status`: a table with a one-line summary, or a JSON document.

use std::io::{self, Write};

use crate::migrate::status::Status;

/// Version of the JSON documents written by `migrate status|apply|revert`.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub fn json(s: &Status, out: &mut dyn Write) -> io::Result<()> {
    let doc = serde_json::json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "tracking_table": if s.table_exists { Some(s.table.ident()) } else { None },
        "migrations": s.rows,
        "source_problems": s.problems.iter().map(|p| serde_json::json!({"file": p.file, "message": p.message, "severity": if p.is_error {"error"} else {"warning"}})).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &super::SchemaFirst(&doc))?;
    writeln!(out)
}

/// VERSION, STATE, DESCRIPTION, INSTALLED, DETAIL; then the counts and the folder's problems.
pub fn table(s: &Status, out: &mut dyn Write) -> io::Result<()> {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(vec![
        "VERSION",
        "STATE",
        "DESCRIPTION",
        "INSTALLED",
        "DETAIL",
    ]);
    for r in &s.rows {
        t.add_row(vec![
            r.version.to_string(),
            r.state.to_string(),
            r.description.clone(),
            r.installed_on
                .as_deref()
                .map(|s| s.get(..19).unwrap_or(s).replace('T', " "))
                .unwrap_or_default(),
            r.detail.clone().unwrap_or_default(),
        ]);
    }
    if s.rows.is_empty() {
        writeln!(
            out,
            "no migrations in {} and none recorded",
            s.dir.display()
        )?;
    } else {
        writeln!(out, "{t}")?;
    }
    writeln!(
        out,
        "\n{} applied, {} pending, {} changed, {} missing locally, {} partial{}",
        s.count("applied"),
        s.count("pending"),
        s.count("changed"),
        s.count("missing"),
        s.count("partial"),
        if s.table_exists {
            String::new()
        } else {
            format!(" (no {} table yet)", s.table)
        }
    )?;
    for p in &s.problems {
        writeln!(
            out,
            "{}: {}: {}",
            if p.is_error { "error" } else { "warning" },
            p.file,
            p.message
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::source::SourceProblem;
    use crate::migrate::status::StatusRow;
    use crate::migrate::tracking::TrackingTable;

    fn status() -> Status {
        Status {
            rows: vec![
                StatusRow {
                    version: 1,
                    description: "create meals".into(),
                    state: "applied",
                    installed_on: Some("2026-01-02T03:04:05.123+00:00".into()),
                    execution_ms: Some(1.5),
                    checksum_file: Some("ab".into()),
                    checksum_db: Some("ab".into()),
                    statements: Some("1/1".into()),
                    backup: None,
                    detail: None,
                },
                StatusRow {
                    version: 2,
                    description: "add index".into(),
                    state: "pending",
                    installed_on: None,
                    execution_ms: None,
                    checksum_file: Some("cd".into()),
                    checksum_db: None,
                    statements: None,
                    backup: None,
                    detail: None,
                },
            ],
            dir: "migrations".into(),
            table: TrackingTable::default(),
            table_exists: true,
            problems: vec![SourceProblem {
                file: "2_add_index.up.sql".into(),
                message: "no .down.sql".into(),
                is_error: false,
            }],
        }
    }

    #[test]
    fn table_lists_rows_then_counts_then_problems() {
        let mut out = Vec::new();
        table(&status(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("2026-01-02 03:04:05"), "{text}");
        assert!(
            text.contains("\n1 applied, 1 pending, 0 changed, 0 missing locally, 0 partial\n"),
            "{text}"
        );
        assert!(
            text.ends_with("warning: 2_add_index.up.sql: no .down.sql\n"),
            "{text}"
        );
        let mut empty = status();
        empty.rows.clear();
        empty.table_exists = false;
        empty.table = TrackingTable::parse("ops.applied").unwrap();
        let mut out = Vec::new();
        table(&empty, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("no migrations in migrations and none recorded\n"),
            "{text}"
        );
        assert!(
            text.contains("0 partial (no ops.applied table yet)\n"),
            "{text}"
        );
    }

    #[test]
    fn json_leads_with_schema_version_and_names_the_table() {
        let mut out = Vec::new();
        json(&status(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("{\n  \"schema_version\": 1,"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["tracking_table"], "_sqlx_migrations");
        assert_eq!(v["migrations"][1]["state"], "pending");
        assert!(v["migrations"][1].get("installed_on").is_none());
        assert_eq!(v["source_problems"][0]["severity"], "warning");
    }
}
