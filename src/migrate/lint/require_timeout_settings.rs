//! require-timeout-settings: the alias that switches on both timeout rules, and their shared logic.
//!
//! `dbdoctor migrate apply` sets lock_timeout itself, so the two rules are opt-in: they matter for
//! files another runner applies.

use pg_query::NodeEnum;

use super::FileContext;

/// squawk's deprecated name for require-lock-timeout + require-statement-timeout.
pub const ALIAS: &str = "require-timeout-settings";

/// Statements that take no lock worth a timeout (plain reads and writes, session settings).
fn takes_ddl_lock(stmt: &NodeEnum) -> bool {
    !matches!(
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
    use super::super::testing::run;
    use super::super::{require_lock_timeout, require_statement_timeout};

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
