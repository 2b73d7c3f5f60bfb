//! changing-column-type: `ALTER COLUMN ... TYPE` rewrites the table under ACCESS EXCLUSIVE unless
//! PostgreSQL can prove the stored values unchanged (binary-coercible types, widened limits).

use pg_query::protobuf::AlterTableType;
use pg_query::NodeEnum;

use super::schema::{classify, ColType, TypeChange};
use super::{existing_table_cmds_of, FileContext};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

/// `USING col` or `USING col::type`: the values go through the plain cast, nothing else.
fn plain_using(expr: &pg_query::Node, column: &str) -> bool {
    match expr.node.as_ref() {
        Some(NodeEnum::ColumnRef(c)) => c.fields.last().is_some_and(
            |f| matches!(f.node.as_ref(), Some(NodeEnum::String(s)) if s.sval == column),
        ),
        Some(NodeEnum::TypeCast(t)) => t.arg.as_deref().is_some_and(|a| plain_using(a, column)),
        _ => false,
    }
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "changing-column-type"
    }
    fn help(&self) -> &'static str {
        "PostgreSQL rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE for a type change, except when the stored values stay valid as they are: varchar(n) to a longer varchar, varchar or text; text to varchar; numeric to a higher precision with the same scale or to unconstrained numeric; a longer bit varying, a higher timestamp/time/interval precision; cidr to inet (those are not reported). For a rewrite: add a new column, write to both, backfill in batches, switch reads, then drop the old column."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let mut out = Vec::new();
        for (rel, c) in existing_table_cmds_of(stmt, cx, AlterTableType::AtAlterColumnType) {
            let t = rangevar_name(rel);
            let def = match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                Some(NodeEnum::ColumnDef(d)) => Some(d),
                _ => None,
            };
            let new = def
                .and_then(|d| d.type_name.as_ref())
                .and_then(ColType::from_type_name);
            let using_plain = def
                .and_then(|d| d.raw_default.as_deref())
                .is_none_or(|u| plain_using(u, &c.name));
            let old = cx
                .schema
                .column(rel, &c.name)
                .and_then(|col| col.ty.clone());
            let (Some(old), Some(new)) = (old, new.clone()) else {
                out.push(format!(
                    "changing the type of {t}.{}{} may rewrite the table under ACCESS EXCLUSIVE (old type unknown)",
                    c.name,
                    new.map(|n| format!(" to {}", n.display())).unwrap_or_default()
                ));
                continue;
            };
            let from_to = format!("from {} to {}", old.display(), new.display());
            match classify(&old, &new) {
                TypeChange::Free if using_plain => {}
                TypeChange::Free | TypeChange::Rewrite => out.push(format!(
                    "changing the type of {t}.{} {from_to}{} rewrites {t} and rebuilds its indexes under ACCESS EXCLUSIVE: reads and writes wait until COMMIT",
                    c.name,
                    if using_plain { "" } else { " with a USING expression" }
                )),
                TypeChange::RewriteUnlessUtc => out.push(format!(
                    "changing the type of {t}.{} {from_to} rewrites {t} under ACCESS EXCLUSIVE unless the session TimeZone is UTC (PostgreSQL 12+); even then each index on the column is rebuilt, a full scan under that lock",
                    c.name
                )),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{run, silent};
    use super::Rule;

    #[test]
    fn unknown_old_type_keeps_the_warning() {
        let m = run(
            &Rule,
            "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;",
            false,
        );
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("old type unknown"), "{m:?}");
        assert!(silent(
            &Rule,
            "ALTER TABLE orders ADD COLUMN amount2 bigint;"
        ));
    }

    #[test]
    fn judged_by_postgres_rules_when_the_old_type_is_known() {
        let widen = "ALTER TABLE u ADD COLUMN email varchar(75);\nALTER TABLE u ALTER COLUMN email TYPE varchar(254);";
        assert!(silent(&Rule, widen));
        let text = "ALTER TABLE u ADD COLUMN n numeric(10,2);\nALTER TABLE u ALTER COLUMN n TYPE numeric(12,2);";
        assert!(silent(&Rule, text));
        let shrink = "ALTER TABLE u ADD COLUMN t varchar(100);\nALTER TABLE u ALTER COLUMN t SET DATA TYPE varchar(80);";
        let m = run(&Rule, shrink, false);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].contains("from varchar(100) to varchar(80) rewrites u"),
            "{m:?}"
        );
        let int = "ALTER TABLE u ADD COLUMN q integer;\nALTER TABLE u ALTER COLUMN q TYPE bigint USING q::bigint;";
        assert!(run(&Rule, int, false)[0].contains("from integer to bigint rewrites"));
        // A widening with an expression that changes values is a rewrite after all.
        let expr = "ALTER TABLE u ADD COLUMN t varchar(10);\nALTER TABLE u ALTER COLUMN t TYPE varchar(20) USING upper(t);";
        assert!(run(&Rule, expr, false)[0].contains("USING expression"));
        let tz = "ALTER TABLE u ADD COLUMN at timestamp;\nALTER TABLE u ALTER COLUMN at TYPE timestamptz;";
        assert!(run(&Rule, tz, false)[0].contains("TimeZone is UTC"));
    }
}
