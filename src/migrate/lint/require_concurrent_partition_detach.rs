//! require-concurrent-partition-detach: `DETACH PARTITION` without CONCURRENTLY blocks the parent.

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::{alter_cmds, subtype, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-concurrent-partition-detach"
    }
    fn help(&self) -> &'static str {
        "DETACH PARTITION takes ACCESS EXCLUSIVE on the parent table: reads and writes of every partition wait. On PostgreSQL 14+ use DETACH PARTITION ... CONCURRENTLY in a `-- no-transaction` file (and FINALIZE if it was interrupted)."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        alter_cmds(stmt)
            .into_iter()
            .filter(|(_, c)| subtype(c) == AlterTableType::AtDetachPartition)
            .filter(|(_, c)| {
                !matches!(c.def.as_ref().and_then(|d| d.node.as_ref()),
                    Some(NodeEnum::PartitionCmd(p)) if p.concurrent)
            })
            .map(|(rel, _)| {
                format!(
                    "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on {}",
                    rangevar_name(rel)
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, run, silent};
    use super::Rule;

    #[test]
    fn flags_blocking_detach() {
        assert_eq!(count(&Rule, "ALTER TABLE t DETACH PARTITION p;"), 1);
        assert!(run(
            &Rule,
            "ALTER TABLE t DETACH PARTITION p CONCURRENTLY;",
            true
        )
        .is_empty());
        assert!(silent(&Rule, "ALTER TABLE t DETACH PARTITION p FINALIZE;"));
    }
}
