//! adding-field-with-default: a volatile default (or a stored generated column) rewrites the table.

use pg_query::protobuf::ConstrType;
use pg_query::NodeEnum;

use super::{column_constraints, columns_added_to_existing, type_name, FileContext, SERIAL_TYPES};
use crate::migrate::locks::rangevar_name;

pub struct Rule;

/// Functions that are stable within a statement: PostgreSQL 11+ stores their value once.
const NON_VOLATILE: &[&str] = &[
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_timestamp",
    "current_date",
    "localtimestamp",
    "lower",
    "upper",
    "coalesce",
    "make_interval",
    "to_jsonb",
    "jsonb_build_object",
    "json_build_object",
];

/// Of those, the ones that take no argument: a call with arguments is some other function.
const NO_ARGS: &[&str] = &[
    "now",
    "transaction_timestamp",
    "statement_timestamp",
    "current_timestamp",
    "current_date",
    "localtimestamp",
];

fn volatile_call(node: &pg_query::Node) -> Option<String> {
    node.node
        .as_ref()?
        .nodes()
        .into_iter()
        .find_map(|(n, _, _, _)| match n {
            pg_query::NodeRef::FuncCall(f) => {
                let name = f
                    .funcname
                    .last()
                    .and_then(|n| match n.node.as_ref() {
                        Some(NodeEnum::String(s)) => Some(s.sval.to_lowercase()),
                        _ => None,
                    })
                    .unwrap_or_default();
                let takes_no_args = NO_ARGS.contains(&name.as_str());
                let known =
                    NON_VOLATILE.contains(&name.as_str()) && (f.args.is_empty() || !takes_no_args);
                (!known).then_some(name)
            }
            _ => None,
        })
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "adding-field-with-default"
    }
    fn help(&self) -> &'static str {
        "Since PostgreSQL 11 a constant default is free, but a volatile one (random(), gen_random_uuid(), clock_timestamp(), a serial) or a STORED generated column rewrites the whole table under ACCESS EXCLUSIVE. Add the column without a default, set the default in a second statement, then backfill in batches."
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let mut out = Vec::new();
        for (rel, col) in columns_added_to_existing(stmt, cx) {
            let t = rangevar_name(rel);
            if SERIAL_TYPES.contains(&type_name(col).as_str()) {
                out.push(format!(
                    "column {} is added to {t} as {}: filling it rewrites the table under ACCESS EXCLUSIVE",
                    col.colname,
                    type_name(col)
                ));
                continue;
            }
            for c in column_constraints(col) {
                if c.contype == ConstrType::ConstrGenerated as i32 {
                    out.push(format!(
                        "stored generated column {} rewrites {t} under ACCESS EXCLUSIVE",
                        col.colname
                    ));
                } else if c.contype == ConstrType::ConstrDefault as i32 && cx.pg_below(11) {
                    out.push(format!(
                        "column {} is added to {t} with a default: before PostgreSQL 11 that rewrites the table under ACCESS EXCLUSIVE",
                        col.colname
                    ));
                } else if c.contype == ConstrType::ConstrDefault as i32 {
                    if let Some(f) = c.raw_expr.as_deref().and_then(volatile_call) {
                        out.push(format!(
                            "column {} is added to {t} with the volatile default {f}(): the table is rewritten under ACCESS EXCLUSIVE",
                            col.colname
                        ));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_volatile_default_only() {
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();"
            ),
            1
        );
        assert!(silent(
            &Rule,
            "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();"
        ));
        assert!(silent(&Rule, "ALTER TABLE t ADD COLUMN c int DEFAULT 0;"));
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now(123);"
            ),
            1
        );
        assert_eq!(
            count(
                &Rule,
                "-- dbdoctor:pg-version 10\nALTER TABLE t ADD COLUMN c int DEFAULT 0;"
            ),
            1
        );
        assert_eq!(count(&Rule, "ALTER TABLE t ADD COLUMN n bigserial;"), 1);
        assert_eq!(
            count(
                &Rule,
                "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a + 1) STORED;"
            ),
            1
        );
    }
}
