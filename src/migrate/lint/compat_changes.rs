//! squawk's opt-in rollback-compatibility rules for changes that fail no statement but change
//! what code deployed before the migration gets: `ban-alter-generated-expression`,
//! `ban-drop-index`, `ban-set-default`, `ban-disable-trigger`, `ban-replica-identity`,
//! `ban-replace-view-function`. Each runs only when a file includes it.

use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType};
use pg_query::NodeEnum;

use super::{
    added_column, alter_cmds, column_constraints, existing_table_cmds, subtype, FileContext, OptIn,
    Rule,
};
use crate::migrate::locks::{dotted_name, drop_objects, rangevar_name};

pub static ALTER_GENERATED_EXPRESSION: OptIn = OptIn {
    name: "ban-alter-generated-expression",
    help: "A new generation expression changes the values code reads from the column; a new generated column rejects INSERTs that give it a value (error 428C9), which code written before it may do with INSERT ... SELECT * or positional VALUES. Opt-in: `-- dbdoctor:include ban-alter-generated-expression`.",
    find: generated_expressions,
};

pub static DROP_INDEX: OptIn = OptIn {
    name: "ban-drop-index",
    help: "Without the index, the queries it served fall back to other plans (often a sequential scan), and a unique index takes its guarantee with it. Check that no query needs it (doctor's unused_index finding) before dropping it. Opt-in: `-- dbdoctor:include ban-drop-index`.",
    find: dropped_indexes,
};

pub static SET_DEFAULT: OptIn = OptIn {
    name: "ban-set-default",
    help: "A new default silently changes what INSERTs that leave the column out write, for code deployed before the migration as well. Make sure that code writes the column itself, or that the new value suits it. A table the file creates is not reported. Opt-in: `-- dbdoctor:include ban-set-default`.",
    find: set_defaults,
};

pub static DISABLE_TRIGGER: OptIn = OptIn {
    name: "ban-disable-trigger",
    help: "Enabling or disabling a trigger or rule (or making it fire only on replicas, or always), and disabling or forcing row level security, changes what every write does or which rows code sees, with no error. Opt-in: `-- dbdoctor:include ban-disable-trigger`.",
    find: firing_changes,
};

pub static REPLICA_IDENTITY: OptIn = OptIn {
    name: "ban-replica-identity",
    help: "A new replica identity, a dropped publication, or a publication whose tables or options change alters what logical replication sends: consumers miss rows or get different keys. Coordinate with the consumers first. Opt-in: `-- dbdoctor:include ban-replica-identity`.",
    find: replication_changes,
};

pub static REPLACE_VIEW_FUNCTION: OptIn = OptIn {
    name: "ban-replace-view-function",
    help: "CREATE OR REPLACE swaps the body of a view, function or procedure in place: code deployed before the migration calls the new body at once, and a rollback of the code does not bring the old one back. Create a new version under a new name, move callers, then drop the old one. Opt-in: `-- dbdoctor:include ban-replace-view-function`.",
    find: replacements,
};

/// The rules of this family.
pub fn rules() -> Vec<&'static dyn Rule> {
    vec![
        &ALTER_GENERATED_EXPRESSION,
        &DROP_INDEX,
        &SET_DEFAULT,
        &DISABLE_TRIGGER,
        &REPLICA_IDENTITY,
        &REPLACE_VIEW_FUNCTION,
    ]
}

fn generated_expressions(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    existing_table_cmds(stmt, cx)
        .into_iter()
        .filter_map(|(rel, c)| {
            let t = rangevar_name(rel);
            match subtype(c) {
                AlterTableType::AtSetExpression => Some(format!(
                    "changing the generation expression of {t}.{}: code reads other values",
                    c.name
                )),
                AlterTableType::AtAddColumn => {
                    let col = added_column(c)?;
                    let generated = column_constraints(col)
                        .iter()
                        .any(|k| k.contype == ConstrType::ConstrGenerated as i32);
                    generated.then(|| {
                        format!(
                            "adding the generated column {t}.{}: INSERTs that give it a value fail",
                            col.colname
                        )
                    })
                }
                _ => None,
            }
        })
        .collect()
}

fn dropped_indexes(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    match stmt {
        NodeEnum::DropStmt(s) if s.remove_type == ObjectType::ObjectIndex as i32 => {
            drop_objects(&s.objects)
                .into_iter()
                .map(|i| format!("dropping index {i}: the queries it served change plans"))
                .collect()
        }
        _ => vec![],
    }
}

fn set_defaults(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    match stmt {
        NodeEnum::AlterDomainStmt(s) if s.subtype == "T" && s.def.is_some() => vec![format!(
            "setting the default of domain {}: INSERTs that leave such columns out write it",
            dotted_name(&s.type_name)
        )],
        _ => existing_table_cmds(stmt, cx)
            .into_iter()
            .filter(|(_, c)| subtype(c) == AlterTableType::AtColumnDefault && c.def.is_some())
            .map(|(rel, c)| {
                format!(
                    "setting the default of {}.{}: INSERTs that leave it out write the new value",
                    rangevar_name(rel),
                    c.name
                )
            })
            .collect(),
    }
}

fn firing_changes(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    use AlterTableType as A;
    const REPLICA: &str = "makes it fire only on replicas, not for the application's writes";
    const WRITES: &str = "changes what each write does";
    alter_cmds(stmt)
        .into_iter()
        .filter_map(|(rel, c)| {
            let (what, effect) = match subtype(c) {
                A::AtEnableReplicaTrig => (format!("trigger {}", c.name), REPLICA),
                A::AtEnableReplicaRule => (format!("rule {}", c.name), REPLICA),
                A::AtEnableTrig | A::AtEnableAlwaysTrig | A::AtDisableTrig => {
                    (format!("trigger {}", c.name), WRITES)
                }
                A::AtEnableTrigAll | A::AtDisableTrigAll => ("all triggers".into(), WRITES),
                A::AtEnableTrigUser | A::AtDisableTrigUser => ("the user triggers".into(), WRITES),
                A::AtEnableRule | A::AtEnableAlwaysRule | A::AtDisableRule => {
                    (format!("rule {}", c.name), WRITES)
                }
                A::AtDisableRowSecurity | A::AtForceRowSecurity | A::AtNoForceRowSecurity => {
                    ("row level security".into(), "changes which rows code sees")
                }
                _ => return None,
            };
            Some(format!(
                "changing {what} on {}: {effect}",
                rangevar_name(rel)
            ))
        })
        .collect()
}

fn replication_changes(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    use pg_query::protobuf::AlterPublicationAction as P;
    match stmt {
        NodeEnum::DropStmt(s) if s.remove_type == ObjectType::ObjectPublication as i32 => {
            drop_objects(&s.objects)
                .into_iter()
                .map(|p| format!("dropping publication {p}: its consumers stop receiving changes"))
                .collect()
        }
        NodeEnum::AlterPublicationStmt(s)
            if !s.options.is_empty()
                || s.action == P::ApDropObjects as i32
                || s.action == P::ApSetObjects as i32 =>
        {
            vec![format!(
                "changing the tables or options of publication {}: its consumers get other changes",
                s.pubname
            )]
        }
        _ => alter_cmds(stmt)
            .into_iter()
            .filter(|(_, c)| subtype(c) == AlterTableType::AtReplicaIdentity)
            .map(|(rel, _)| {
                format!(
                    "changing the replica identity of {}: logical replication sends other keys",
                    rangevar_name(rel)
                )
            })
            .collect(),
    }
}

fn replacements(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    match stmt {
        NodeEnum::ViewStmt(s) if s.replace => vec![format!(
            "replacing view {}: code reads the new definition at once",
            s.view.as_ref().map(rangevar_name).unwrap_or_default()
        )],
        NodeEnum::CreateFunctionStmt(s) if s.replace => vec![format!(
            "replacing {} {}: callers run the new body at once",
            if s.is_procedure {
                "procedure"
            } else {
                "function"
            },
            dotted_name(&s.funcname)
        )],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::both;
    use super::*;

    // After squawk's own tests for these rules (v2.68.0), positive and negative; every rule is
    // silent unless the file includes it.
    #[test]
    fn each_rule_flags_what_squawk_flags_when_included() {
        for (rule, sql, n) in [
            (
                &ALTER_GENERATED_EXPRESSION,
                "ALTER TABLE t ALTER COLUMN c SET EXPRESSION AS (id + 2); ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (id + 1) STORED;",
                2,
            ),
            (&DROP_INDEX, "DROP INDEX CONCURRENTLY IF EXISTS i; DROP INDEX i;", 2),
            (&SET_DEFAULT, "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;", 1),
            (&SET_DEFAULT, "ALTER DOMAIN d SET DEFAULT 1;", 1),
            (
                &DISABLE_TRIGGER,
                "ALTER TABLE t DISABLE TRIGGER trg; ALTER TABLE t DISABLE RULE r; ALTER TABLE t DISABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;",
                4,
            ),
            (
                &DISABLE_TRIGGER,
                "ALTER TABLE t ENABLE TRIGGER trg; ALTER TABLE t ENABLE RULE r;",
                2,
            ),
            (
                &DISABLE_TRIGGER,
                "ALTER TABLE t ENABLE REPLICA TRIGGER tr; ALTER TABLE t ENABLE REPLICA RULE r; ALTER TABLE t ENABLE ALWAYS TRIGGER tr; ALTER TABLE t ENABLE ALWAYS RULE r; ALTER TABLE t NO FORCE ROW LEVEL SECURITY;",
                5,
            ),
            (&REPLICA_IDENTITY, "ALTER TABLE t REPLICA IDENTITY FULL;", 1),
            (
                &REPLICA_IDENTITY,
                "DROP PUBLICATION p; ALTER PUBLICATION p DROP TABLE t; ALTER PUBLICATION p SET TABLE t; ALTER PUBLICATION p SET (publish = 'insert'); ALTER PUBLICATION p SET TABLES IN SCHEMA public;",
                5,
            ),
            (
                &REPLACE_VIEW_FUNCTION,
                "CREATE OR REPLACE VIEW v AS SELECT 1 AS id; CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$; CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS $$ SELECT 1 $$;",
                3,
            ),
        ] {
            assert_eq!(both(rule, sql), (n, 0), "{sql}");
        }
    }

    #[test]
    fn negative_cases() {
        for (rule, sql) in [
            (
                &ALTER_GENERATED_EXPRESSION,
                "ALTER TABLE t ADD COLUMN c int; ALTER TABLE t ALTER COLUMN c DROP EXPRESSION;",
            ),
            (&DROP_INDEX, "CREATE INDEX i ON t (id);"),
            (&SET_DEFAULT, "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;"),
            // A table the file creates has no code writing to it yet.
            (
                &SET_DEFAULT,
                "CREATE TABLE t (c int); ALTER TABLE t ALTER COLUMN c SET DEFAULT 1;",
            ),
            (&DISABLE_TRIGGER, "ALTER TABLE t ENABLE ROW LEVEL SECURITY;"),
            (
                &REPLICA_IDENTITY,
                "ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER PUBLICATION p ADD TABLE t; CREATE PUBLICATION p FOR TABLE t;",
            ),
            (&REPLACE_VIEW_FUNCTION, "CREATE VIEW v AS SELECT 1;"),
        ] {
            assert_eq!(both(rule, sql), (0, 0), "{sql}");
        }
    }
}
