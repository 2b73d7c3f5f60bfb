//! require-concurrent-reindex: `REINDEX` without CONCURRENTLY blocks writes (and reads using the index).

use pg_query::protobuf::ReindexObjectType;
use pg_query::{Node, NodeEnum};

use super::FileContext;

pub struct Rule;

/// An option such as `(CONCURRENTLY)` or `(FULL false)` is on.
pub fn option_on(options: &[Node], name: &str) -> bool {
    options.iter().any(|o| match o.node.as_ref() {
        Some(NodeEnum::DefElem(d)) if d.defname.eq_ignore_ascii_case(name) => {
            match d.arg.as_ref().and_then(|a| a.node.as_ref()) {
                None => true,
                Some(NodeEnum::Boolean(b)) => b.boolval,
                Some(NodeEnum::Integer(i)) => i.ival != 0,
                Some(NodeEnum::String(s)) => {
                    !matches!(s.sval.to_lowercase().as_str(), "false" | "off" | "0" | "no")
                }
                Some(_) => true,
            }
        }
        _ => false,
    })
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-concurrent-reindex"
    }
    fn help(&self) -> &'static str {
        "REINDEX without CONCURRENTLY locks out writes to the table (and queries that would use the index) for the whole rebuild. Use REINDEX ... CONCURRENTLY in a `-- no-transaction` file."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        let NodeEnum::ReindexStmt(s) = stmt else {
            return vec![];
        };
        // REINDEX SYSTEM cannot run concurrently at all.
        if s.kind == ReindexObjectType::ReindexObjectSystem as i32
            || option_on(&s.params, "concurrently")
        {
            return vec![];
        }
        vec!["REINDEX without CONCURRENTLY blocks writes for the whole rebuild".into()]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::run;
    use super::Rule;

    #[test]
    fn flags_blocking_reindex() {
        for bad in [
            "REINDEX TABLE foo;",
            "REINDEX INDEX foo;",
            "REINDEX SCHEMA foo;",
            "REINDEX (CONCURRENTLY false) INDEX foo;",
        ] {
            assert_eq!(run(&Rule, bad, true).len(), 1, "{bad}");
        }
        for ok in [
            "REINDEX TABLE CONCURRENTLY foo;",
            "REINDEX (CONCURRENTLY) TABLE foo;",
            "REINDEX SYSTEM mydb;",
        ] {
            assert!(run(&Rule, ok, true).is_empty(), "{ok}");
        }
    }
}
