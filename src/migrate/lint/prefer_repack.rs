//! prefer-repack: VACUUM FULL and CLUSTER block the table for the whole rewrite; REPACK
//! (PostgreSQL 19+) or the pg_repack extension rewrite it online.

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
        "VACUUM FULL and CLUSTER rewrite the table under ACCESS EXCLUSIVE: reads and writes wait for the whole rewrite, on every PostgreSQL version. PostgreSQL 19 adds REPACK (CONCURRENTLY), which does the same rewrite without blocking; before 19, the pg_repack extension does it online. squawk reports this only for PostgreSQL 19 and later."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let what = match stmt {
            NodeEnum::ClusterStmt(_) => "CLUSTER",
            NodeEnum::VacuumStmt(s) if s.is_vacuumcmd && option_on(&s.options, "full") => {
                "VACUUM FULL"
            }
            _ => return vec![],
        };
        let instead = if cx.pg_version.is_some_and(|v| v >= REPACK_SINCE) {
            "use REPACK (CONCURRENTLY)"
        } else {
            "rewrite it online with the pg_repack extension (REPACK (CONCURRENTLY) from PostgreSQL 19)"
        };
        vec![format!(
            "{what} rewrites the table under ACCESS EXCLUSIVE, blocking reads and writes: {instead}"
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_blocking_rewrites_on_every_version() {
        let v19 = "-- dbdoctor:pg-version 19\n";
        for bad in [
            "CLUSTER foo;",
            "CLUSTER;",
            "VACUUM FULL foo;",
            "VACUUM (FULL) foo;",
        ] {
            let m = run(&Rule, &format!("{v19}{bad}"), true);
            assert_eq!(m.len(), 1, "{bad}");
            assert!(m[0].ends_with("use REPACK (CONCURRENTLY)"), "{m:?}");
            for older in [bad.to_string(), format!("-- dbdoctor:pg-version 18\n{bad}")] {
                let m = run(&Rule, &older, true);
                assert_eq!(m.len(), 1, "{older}");
                assert!(m[0].contains("pg_repack extension"), "{m:?}");
            }
        }
        for ok in [
            "VACUUM (FULL FALSE) foo;",
            "VACUUM foo;",
            "VACUUM ANALYZE foo;",
            "VACUUM FREEZE foo;",
        ] {
            assert!(run(&Rule, &format!("{v19}{ok}"), true).is_empty(), "{ok}");
            assert!(run(&Rule, ok, true).is_empty(), "{ok}");
        }
    }
}
