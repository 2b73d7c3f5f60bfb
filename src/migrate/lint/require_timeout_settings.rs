//! require-timeout-settings: the alias that switches on both timeout rules, and their shared logic.
//!
//! `dbdoctor migrate apply` sets lock_timeout itself, so by default the two rules report a style
//! note; a file that includes them (`-- dbdoctor:include`) gets warnings, which matter for files
//! another runner applies.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::require_concurrent_reindex::option_on;
use super::{alter_cmds, subtype, FileContext};

/// squawk's deprecated name for require-lock-timeout + require-statement-timeout.
pub const ALIAS: &str = "require-timeout-settings";

/// A concurrent build, drop, reindex or detach. It waits for SHARE UPDATE EXCLUSIVE, which no
/// read or write conflicts with, so nothing but other DDL queues behind it; and a
/// statement_timeout would cancel a long build halfway and leave an invalid index behind.
fn concurrent(stmt: &NodeEnum) -> bool {
    match stmt {
        NodeEnum::IndexStmt(s) => s.concurrent,
        NodeEnum::DropStmt(s) => s.concurrent,
        NodeEnum::ReindexStmt(s) => option_on(&s.params, "concurrently"),
        NodeEnum::AlterTableStmt(_) => {
            let cmds = alter_cmds(stmt);
            !cmds.is_empty()
                && cmds.iter().all(|(_, c)| {
                    subtype(c) == AlterTableType::AtDetachPartition
                        && matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                            Some(NodeEnum::PartitionCmd(p)) if p.concurrent)
                })
        }
        _ => false,
    }
}

/// Statements that take no lock worth a timeout (plain reads and writes, session settings,
/// concurrent index work).
fn takes_ddl_lock(stmt: &NodeEnum) -> bool {
    !concurrent(stmt)
        && !matches!(
            stmt,
            NodeEnum::SelectStmt(_)
                | NodeEnum::InsertStmt(_)
                | NodeEnum::UpdateStmt(_)
                | NodeEnum::DeleteStmt(_)
                | NodeEnum::MergeStmt(_)
                | NodeEnum::VariableSetStmt(_)
                | NodeEnum::VariableShowStmt(_)
                | NodeEnum::TransactionStmt(_)
                | NodeEnum::ExplainStmt(_)
        )
}

fn sets(stmt: &NodeEnum, setting: &str) -> bool {
    matches!(stmt, NodeEnum::VariableSetStmt(s) if s.name.eq_ignore_ascii_case(setting))
}

/// The first lock-taking statement of the file with no `SET <setting>` before it.
pub fn missing(stmt: &NodeEnum, cx: &FileContext, setting: &str) -> bool {
    if !takes_ddl_lock(stmt) {
        return false;
    }
    let earlier = &cx.all[..cx.index.min(cx.all.len())];
    if earlier.iter().any(|s| sets(s, setting)) {
        return false;
    }
    // Report once per file: skip if an earlier statement was already the first offender.
    !earlier.iter().any(takes_ddl_lock)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{run, severities};
    use super::super::{require_lock_timeout, require_statement_timeout, Severity};

    /// (rule, severity) of each timeout finding on a transactional file.
    fn timeout_findings(sql: &str) -> Vec<(String, Severity)> {
        severities(sql, |r| r.ends_with("-timeout"))
    }

    #[test]
    fn style_by_default_and_a_warning_when_included() {
        let alter = "ALTER TABLE t ADD COLUMN c boolean;";
        let plain = timeout_findings(alter);
        assert_eq!(plain.len(), 2, "{plain:?}");
        assert!(
            plain.iter().all(|(_, s)| *s == Severity::Style),
            "{plain:?}"
        );
        let lock_only = timeout_findings(&format!(
            "-- dbdoctor:include require-lock-timeout\n{alter}"
        ));
        assert!(lock_only.contains(&("require-lock-timeout".into(), Severity::Warning)));
        assert!(lock_only.contains(&("require-statement-timeout".into(), Severity::Style)));
        let both = timeout_findings(&format!(
            "-- dbdoctor:include require-timeout-settings\n{alter}"
        ));
        assert!(
            both.iter().all(|(_, s)| *s == Severity::Warning),
            "{both:?}"
        );
        // Concurrent index work queues no reads or writes and must not be cut short.
        for concurrent in [
            "CREATE INDEX CONCURRENTLY i ON t (c);",
            "DROP INDEX CONCURRENTLY IF EXISTS i;",
            "REINDEX INDEX CONCURRENTLY i;",
            "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;",
        ] {
            assert!(timeout_findings(concurrent).is_empty(), "{concurrent}");
        }
        for blocking in [
            "REINDEX (CONCURRENTLY false) INDEX i;",
            "CREATE INDEX i ON t (c);",
            "ALTER TABLE p DETACH PARTITION p1;",
        ] {
            assert_eq!(timeout_findings(blocking).len(), 2, "{blocking}");
        }
        // A file that sets both says nothing, included or not.
        assert!(timeout_findings(&format!(
            "SET lock_timeout = '1s';\nSET statement_timeout = '5s';\n{alter}"
        ))
        .is_empty());
    }

    #[test]
    fn alias_switches_on_both_rules() {
        let sql =
            "-- dbdoctor:include require-timeout-settings\nALTER TABLE t ADD COLUMN c boolean;";
        assert_eq!(run(&require_lock_timeout::Rule, sql, false).len(), 1);
        assert_eq!(run(&require_statement_timeout::Rule, sql, false).len(), 1);
        let set = "-- dbdoctor:include require-timeout-settings\nSET lock_timeout = '1s';\nSET Statement_Timeout = '5s';\nALTER TABLE t ADD COLUMN c boolean;";
        assert!(run(&require_lock_timeout::Rule, set, false).is_empty());
        assert!(run(&require_statement_timeout::Rule, set, false).is_empty());
        let after = "-- dbdoctor:include require-timeout-settings\nCREATE TYPE m AS ENUM ('a');\nALTER TABLE t ADD COLUMN c boolean;\nSET lock_timeout = '1s';";
        assert_eq!(run(&require_lock_timeout::Rule, after, false).len(), 1);
        let schema = "-- dbdoctor:include require-lock-timeout\nSET foo.lock_timeout = '1s';\nCOMMENT ON COLUMN t.c IS 'x';";
        assert_eq!(run(&require_lock_timeout::Rule, schema, false).len(), 1);
        assert!(run(
            &require_lock_timeout::Rule,
            "-- dbdoctor:include require-lock-timeout\nSELECT 1;",
            false
        )
        .is_empty());
    }
}
