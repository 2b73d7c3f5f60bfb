//! prefer-repack: on PostgreSQL 19+, `REPACK` replaces VACUUM FULL and CLUSTER without blocking.

use pg_query::NodeEnum;

use super::require_concurrent_reindex::option_on;
use super::FileContext;

pub struct Rule;

/// The first major version with REPACK.
pub const REPACK_SINCE: u32 = 19;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "prefer-repack"
    }
    fn help(&self) -> &'static str {
        "VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE: reads and writes wait for the whole rewrite. PostgreSQL 19 adds REPACK (CONCURRENTLY), which does the same rewrite without blocking. Only reported when the file declares `-- dbdoctor:pg-version 19` or later."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if cx.pg_version.is_none_or(|v| v < REPACK_SINCE) {
            return vec![];
        }
        let what = match stmt {
            NodeEnum::ClusterStmt(_) => "CLUSTER",
            NodeEnum::VacuumStmt(s) if s.is_vacuumcmd && option_on(&s.options, "full") => {
                "VACUUM FULL"
            }
            _ => return vec![],
        };
        vec![format!(
            "{what} rewrites the table under ACCESS EXCLUSIVE: use REPACK (CONCURRENTLY)"
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_only_where_repack_exists() {
        let v19 = "-- dbdoctor:pg-version 19\n";
        for bad in [
            "CLUSTER foo;",
            "CLUSTER;",
            "VACUUM FULL foo;",
            "VACUUM (FULL) foo;",
        ] {
            assert_eq!(run(&Rule, &format!("{v19}{bad}"), true).len(), 1, "{bad}");
            assert!(run(&Rule, bad, true).is_empty(), "{bad}");
            assert!(run(&Rule, &format!("-- dbdoctor:pg-version 18\n{bad}"), true).is_empty());
        }
        for ok in [
            "VACUUM (FULL FALSE) foo;",
            "VACUUM foo;",
            "VACUUM ANALYZE foo;",
            "VACUUM FREEZE foo;",
        ] {
            assert!(run(&Rule, &format!("{v19}{ok}"), true).is_empty(), "{ok}");
        }
    }
}
