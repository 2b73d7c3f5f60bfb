//! ban-add-column, ban-add-enum-value, ban-add-composite-attribute, ban-detach-inheritance,
//! ban-alter-sequence-values, ban-new-write-restriction: squawk's opt-in rollback-compatibility
//! rules about additions. Each flags a change that code deployed before the migration (still
//! running during a rolling deploy, or running again after a rollback) was not written for.
//!
//! An object created earlier in the same file by a CREATE without IF NOT EXISTS is new: no
//! deployed code uses it yet, so changing it is not reported. `CREATE ... IF NOT EXISTS` may have
//! found the object already there, so it does not count.

use pg_query::protobuf::{AlterTableCmd, AlterTableType, ConstrType, ObjectType, RangeVar};
use pg_query::{Node, NodeEnum};

use super::schema::table_key;
use super::{
    added_column, added_constraint, alter_cmds, column_constraints, subtype, FileContext, OptIn,
};
use crate::migrate::locks::{dotted_name, rangevar_name};
use crate::util::quote_ident;

pub static ADD_COLUMN: OptIn = OptIn {
    name: "ban-add-column",
    help: "A new column reaches code deployed before the migration, which keeps running during a rolling deploy and again after a rollback: `SELECT *` returns a column it does not expect, and positional row copies such as `INSERT ... SELECT *` stop lining up. Check that such code names its columns before adding one. Tables created earlier in the same file (CREATE TABLE without IF NOT EXISTS) are not reported. Opt-in: enable with `-- dbdoctor:include ban-add-column`.",
    find: add_column,
};

pub static ADD_ENUM_VALUE: OptIn = OptIn {
    name: "ban-add-enum-value",
    help: "Once an enum has a new value, code deployed before the migration (during a rolling deploy, or after a rollback) can read rows holding it and fail on a value it does not know. Ship code that handles the value first, then add it. Types created earlier in the same file are not reported. Opt-in: enable with `-- dbdoctor:include ban-add-enum-value`.",
    find: add_enum_value,
};

pub static ADD_COMPOSITE_ATTRIBUTE: OptIn = OptIn {
    name: "ban-add-composite-attribute",
    help: "A new attribute changes the shape of every value of a composite type, so code deployed before the migration (during a rolling deploy, or after a rollback) receives a field it does not expect. Ship code that handles the attribute first, then add it. Types created earlier in the same file are not reported. Opt-in: enable with `-- dbdoctor:include ban-add-composite-attribute`.",
    find: add_composite_attribute,
};

pub static DETACH_INHERITANCE: OptIn = OptIn {
    name: "ban-detach-inheritance",
    help: "DETACH PARTITION and NO INHERIT take a child table's rows out of its parent: code deployed before the migration (during a rolling deploy, or after a rollback) that reads through the parent stops seeing them, and its writes routed to a detached partition fail. Move that code to the child table first, then detach it. Tables created earlier in the same file are not reported. Opt-in: enable with `-- dbdoctor:include ban-detach-inheritance`.",
    find: detach_inheritance,
};

pub static ALTER_SEQUENCE_VALUES: OptIn = OptIn {
    name: "ban-alter-sequence-values",
    help: "Changing a sequence's options (RESTART, START, INCREMENT, MINVALUE, MAXVALUE, CYCLE, CACHE, AS), directly or as an identity column's, changes the values it hands out to code deployed before the migration (during a rolling deploy, or after a rollback), which may rely on their order, range or gaps, or may collide with rows already written. Agree the change with that code first. OWNED BY, LOGGED and UNLOGGED are not reported, nor are sequences and tables created earlier in the same file (without IF NOT EXISTS). Opt-in: enable with `-- dbdoctor:include ban-alter-sequence-values`.",
    find: alter_sequence_values,
};

pub static NEW_WRITE_RESTRICTION: OptIn = OptIn {
    name: "ban-new-write-restriction",
    help: "A new rule on what may be written applies to every write at once, so code deployed before the migration (during a rolling deploy, or after a rollback) gets errors on writes that used to succeed: ADD CONSTRAINT (even NOT VALID, which only skips the existing rows), SET NOT NULL, an added column with NOT NULL, CHECK, REFERENCES, UNIQUE or PRIMARY KEY, a changed constraint timing, a domain constraint or NOT NULL, and a unique index (even built CONCURRENTLY). Ship code that already writes valid data first, then add the restriction. Tables created earlier in the same file (CREATE TABLE without IF NOT EXISTS) are not reported. Opt-in: enable with `-- dbdoctor:include ban-new-write-restriction`.",
    find: new_write_restriction,
};

/// The rules of this family.
pub fn rules() -> Vec<&'static dyn super::Rule> {
    vec![
        &ADD_COLUMN,
        &ADD_ENUM_VALUE,
        &ADD_COMPOSITE_ATTRIBUTE,
        &DETACH_INHERITANCE,
        &ALTER_SEQUENCE_VALUES,
        &NEW_WRITE_RESTRICTION,
    ]
}

// ------------------------------------------------------------------ which objects are new

/// A name as the rules compare it: quoted as needed, `public.` dropped.
fn list_key(names: &[Node]) -> String {
    let name = dotted_name(names);
    match name.strip_prefix("public.") {
        Some(rest) => rest.to_string(),
        None => name,
    }
}

/// The table, sequence or type a CREATE statement makes, and whether it surely made it
/// (no IF NOT EXISTS).
fn created(node: &NodeEnum) -> Option<(String, bool)> {
    match node {
        NodeEnum::CreateStmt(s) => Some((table_key(s.relation.as_ref()?), !s.if_not_exists)),
        NodeEnum::CreateSeqStmt(s) => Some((table_key(s.sequence.as_ref()?), !s.if_not_exists)),
        NodeEnum::CompositeTypeStmt(s) => Some((table_key(s.typevar.as_ref()?), true)),
        NodeEnum::CreateEnumStmt(s) => Some((list_key(&s.type_name), true)),
        NodeEnum::CreateRangeStmt(s) => Some((list_key(&s.type_name), true)),
        NodeEnum::DefineStmt(s) if s.kind == ObjectType::ObjectType as i32 => {
            Some((list_key(&s.defnames), true))
        }
        _ => None,
    }
}

/// No deployed code can use the object yet: a CREATE without IF NOT EXISTS made it earlier in
/// this file, or (with a database) an earlier pending file of the run created the table.
fn is_new(cx: &FileContext, key: &str) -> bool {
    cx.all[..cx.index.min(cx.all.len())]
        .iter()
        .filter_map(created)
        .filter(|(k, _)| k == key)
        .map(|(_, sure)| sure)
        .reduce(|a, b| a || b)
        .unwrap_or_else(|| cx.created_tables.contains(key))
}

/// The ALTER subcommands of a statement on objects of these kinds that existed before.
fn existing_cmds<'a>(
    stmt: &'a NodeEnum,
    cx: &FileContext,
    kinds: &[ObjectType],
) -> Vec<(&'a RangeVar, &'a AlterTableCmd)> {
    match stmt {
        NodeEnum::AlterTableStmt(s) if kinds.iter().any(|k| *k as i32 == s.objtype) => {
            alter_cmds(stmt)
                .into_iter()
                .filter(|(rel, _)| !is_new(cx, &table_key(rel)))
                .collect()
        }
        _ => vec![],
    }
}

/// ALTER TABLE and ALTER FOREIGN TABLE subcommands on tables that existed before.
fn table_cmds<'a>(stmt: &'a NodeEnum, cx: &FileContext) -> Vec<(&'a RangeVar, &'a AlterTableCmd)> {
    existing_cmds(
        stmt,
        cx,
        &[ObjectType::ObjectTable, ObjectType::ObjectForeignTable],
    )
}

// ------------------------------------------------------------------ the rules

fn add_column(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    table_cmds(stmt, cx)
        .into_iter()
        .filter_map(|(rel, c)| {
            Some(format!(
                "adding column {} to {}: SELECT * in code deployed before this migration returns a column it does not expect",
                quote_ident(&added_column(c)?.colname),
                rangevar_name(rel)
            ))
        })
        .collect()
}

fn add_enum_value(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    match stmt {
        // RENAME VALUE sets old_val; ADD VALUE does not.
        NodeEnum::AlterEnumStmt(s)
            if s.old_val.is_empty() && !is_new(cx, &list_key(&s.type_name)) =>
        {
            vec![format!(
                "adding value '{}' to enum {}: code deployed before this migration can read a value it does not know",
                s.new_val.replace('\'', "''"),
                dotted_name(&s.type_name)
            )]
        }
        _ => vec![],
    }
}

fn add_composite_attribute(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    existing_cmds(stmt, cx, &[ObjectType::ObjectType])
        .into_iter()
        .filter_map(|(rel, c)| {
            Some(format!(
                "adding attribute {} to type {}: code deployed before this migration receives values with a field it does not expect",
                quote_ident(&added_column(c)?.colname),
                rangevar_name(rel)
            ))
        })
        .collect()
}

fn detach_inheritance(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let other = |c: &AlterTableCmd| match c.def.as_ref().and_then(|d| d.node.as_ref()) {
        Some(NodeEnum::PartitionCmd(p)) => p.name.as_ref().map(rangevar_name),
        Some(NodeEnum::RangeVar(r)) => Some(rangevar_name(r)),
        _ => None,
    };
    table_cmds(stmt, cx)
        .into_iter()
        .filter_map(|(rel, c)| {
            let (child, parent) = match subtype(c) {
                AlterTableType::AtDetachPartition | AlterTableType::AtDetachPartitionFinalize => {
                    (other(c)?, rangevar_name(rel))
                }
                AlterTableType::AtDropInherit => (rangevar_name(rel), other(c)?),
                _ => return None,
            };
            Some(format!(
                "taking {child} out of {parent}: code deployed before this migration that reads or writes its rows through {parent} no longer reaches them"
            ))
        })
        .collect()
}

/// The options of a sequence definition that change the values it hands out, by name.
fn value_options(options: &[Node]) -> Vec<String> {
    options
        .iter()
        .filter_map(|o| match o.node.as_ref() {
            Some(NodeEnum::DefElem(e))
                if !matches!(
                    e.defname.as_str(),
                    "owned_by" | "logged" | "unlogged" | "sequence_name" | "generated"
                ) =>
            {
                Some(e.defname.to_uppercase())
            }
            _ => None,
        })
        .collect()
}

fn alter_sequence_values(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let changes: Vec<(String, Vec<String>)> = match stmt {
        NodeEnum::AlterSeqStmt(s) => s
            .sequence
            .iter()
            .filter(|rv| !is_new(cx, &table_key(rv)))
            .map(|rv| {
                let options = value_options(&s.options);
                (format!("sequence {}", rangevar_name(rv)), options)
            })
            .collect(),
        // ALTER COLUMN ... RESTART / SET INCREMENT BY ... on an identity column.
        _ => table_cmds(stmt, cx)
            .into_iter()
            .filter(|(_, c)| subtype(c) == AlterTableType::AtSetIdentity)
            .map(|(rel, c)| {
                let options = match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                    Some(NodeEnum::List(l)) => value_options(&l.items),
                    _ => vec![],
                };
                let column = format!("{}.{}", rangevar_name(rel), quote_ident(&c.name));
                (format!("the identity sequence of {column}"), options)
            })
            .collect(),
    };
    changes
        .into_iter()
        .flat_map(|(sequence, options)| {
            options.into_iter().map(move |o| {
                format!("changing {o} of {sequence}: the values it hands out change under code deployed before this migration")
            })
        })
        .collect()
}

/// What a constraint restricts, for those that can reject a write.
fn restriction(k: &pg_query::protobuf::Constraint) -> Option<&'static str> {
    Some(match ConstrType::try_from(k.contype).ok()? {
        ConstrType::ConstrNotnull => "NOT NULL",
        ConstrType::ConstrCheck => "CHECK",
        ConstrType::ConstrForeign => "FOREIGN KEY",
        ConstrType::ConstrUnique => "UNIQUE",
        ConstrType::ConstrPrimary => "PRIMARY KEY",
        ConstrType::ConstrExclusion => "EXCLUDE",
        _ => return None,
    })
}

/// ` name` for a named constraint or index, nothing otherwise.
fn named(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!(" {}", quote_ident(name))
    }
}

fn new_write_restriction(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let what: Vec<String> = match stmt {
        NodeEnum::IndexStmt(s) => match s.relation.as_ref() {
            Some(rv) if s.unique && !is_new(cx, &table_key(rv)) => vec![format!(
                "unique index{} on {}",
                named(&s.idxname),
                rangevar_name(rv)
            )],
            _ => vec![],
        },
        NodeEnum::AlterDomainStmt(s) => {
            let domain = dotted_name(&s.type_name);
            match (
                s.subtype.as_str(),
                s.def.as_ref().and_then(|d| d.node.as_ref()),
            ) {
                ("O", _) => vec![format!("SET NOT NULL on domain {domain}")],
                ("C", Some(NodeEnum::Constraint(k))) => vec![format!(
                    "adding {} constraint{} to domain {domain}",
                    restriction(k).unwrap_or("a"),
                    named(&k.conname)
                )],
                _ => vec![],
            }
        }
        _ => table_cmds(stmt, cx)
            .into_iter()
            .flat_map(|(rel, c)| table_restrictions(&rangevar_name(rel), c))
            .collect(),
    };
    what.into_iter()
        .map(|w| {
            format!("{w}: code deployed before this migration may still make writes it rejects")
        })
        .collect()
}

/// The new write restrictions an ALTER TABLE subcommand puts on `table`.
fn table_restrictions(table: &str, c: &AlterTableCmd) -> Vec<String> {
    if let Some(col) = added_column(c) {
        return column_constraints(col)
            .into_iter()
            .filter_map(restriction)
            .map(|r| {
                format!(
                    "adding column {} with {r} to {table}",
                    quote_ident(&col.colname)
                )
            })
            .collect();
    }
    if let Some(k) = added_constraint(c) {
        return restriction(k)
            .map(|r| format!("adding {r} constraint{} to {table}", named(&k.conname)))
            .into_iter()
            .collect();
    }
    match subtype(c) {
        AlterTableType::AtSetNotNull => {
            vec![format!("SET NOT NULL on {table}.{}", quote_ident(&c.name))]
        }
        // PostgreSQL 17 sets both DEFERRABLE and INITIALLY on every ALTER CONSTRAINT.
        AlterTableType::AtAlterConstraint => match c.def.as_ref().and_then(|d| d.node.as_ref()) {
            Some(NodeEnum::Constraint(k)) => vec![format!(
                "changing when constraint{} on {table} is checked",
                named(&k.conname)
            )],
            _ => vec![],
        },
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::super::testing::{count, included, run, silent};
    use super::{
        rules, OptIn, ADD_COLUMN, ADD_COMPOSITE_ATTRIBUTE, ADD_ENUM_VALUE, ALTER_SEQUENCE_VALUES,
        DETACH_INHERITANCE, NEW_WRITE_RESTRICTION,
    };
    use crate::migrate::lint::{lint_run, Rule as _, RunContext};
    use crate::migrate::source::{Migration, Source, SqlFile};

    fn found(rule: &OptIn, sql: &str) -> usize {
        count(rule, &included(rule, sql))
    }

    fn quiet(rule: &OptIn, sql: &str) -> bool {
        silent(rule, &included(rule, sql))
    }

    // After squawk's own tests for these rules (v2.68.0), positive and negative.
    #[test]
    fn ban_add_column() {
        assert_eq!(found(&ADD_COLUMN, "ALTER TABLE t ADD COLUMN c int;"), 1);
        assert_eq!(
            found(&ADD_COLUMN, "ALTER FOREIGN TABLE ft ADD COLUMN c int;"),
            1
        );
        assert!(quiet(
            &ADD_COLUMN,
            "CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN c int;"
        ));
        assert_eq!(
            found(
                &ADD_COLUMN,
                "CREATE TABLE IF NOT EXISTS t (id int); ALTER TABLE t ADD COLUMN c int;"
            ),
            1
        );
        // Names compare as PostgreSQL folds them: only public."Users" is another table.
        let sql = "CREATE TABLE Public.Users (id int);\nALTER TABLE public.users ADD COLUMN name text;\nALTER TABLE \"public\".\"users\" ADD COLUMN email text;\nALTER TABLE public.\"Users\" ADD COLUMN age int;";
        assert_eq!(
            run(&ADD_COLUMN, &included(&ADD_COLUMN, sql), false),
            ["adding column age to public.\"Users\": SELECT * in code deployed before this migration returns a column it does not expect"]
        );
        // A composite type's attribute is another rule's business.
        assert!(quiet(
            &ADD_COLUMN,
            "ALTER TYPE address ADD ATTRIBUTE street text;"
        ));
    }

    #[test]
    fn ban_add_enum_value() {
        assert_eq!(
            found(
                &ADD_ENUM_VALUE,
                "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'happy' BEFORE 'sad';"
            ),
            1
        );
        assert!(quiet(
            &ADD_ENUM_VALUE,
            "CREATE TYPE mood AS ENUM ('sad'); ALTER TYPE mood ADD VALUE 'happy';"
        ));
        assert!(quiet(
            &ADD_ENUM_VALUE,
            "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue';"
        ));
    }

    #[test]
    fn ban_add_composite_attribute() {
        assert_eq!(
            found(
                &ADD_COMPOSITE_ATTRIBUTE,
                "ALTER TYPE address ADD ATTRIBUTE street text;"
            ),
            1
        );
        assert!(quiet(
            &ADD_COMPOSITE_ATTRIBUTE,
            "CREATE TYPE address AS (city text); ALTER TYPE address ADD ATTRIBUTE street text;"
        ));
        assert!(quiet(
            &ADD_COMPOSITE_ATTRIBUTE,
            "ALTER TYPE address DROP ATTRIBUTE street;"
        ));
        assert!(quiet(
            &ADD_COMPOSITE_ATTRIBUTE,
            "ALTER TABLE t ADD COLUMN c int;"
        ));
    }

    #[test]
    fn ban_detach_inheritance() {
        assert_eq!(
            found(
                &DETACH_INHERITANCE,
                "ALTER TABLE parent DETACH PARTITION child CONCURRENTLY; ALTER TABLE child NO INHERIT parent;"
            ),
            2
        );
        assert!(quiet(
            &DETACH_INHERITANCE,
            "CREATE TABLE child (id int); ALTER TABLE child NO INHERIT parent;"
        ));
        assert_eq!(
            run(
                &DETACH_INHERITANCE,
                &included(&DETACH_INHERITANCE, "ALTER TABLE child NO INHERIT parent;"),
                false
            ),
            ["taking child out of parent: code deployed before this migration that reads or writes its rows through parent no longer reaches them"]
        );
    }

    #[test]
    fn ban_alter_sequence_values() {
        assert_eq!(
            found(
                &ALTER_SEQUENCE_VALUES,
                "ALTER SEQUENCE ids RESTART WITH 1 INCREMENT BY 2;"
            ),
            2
        );
        assert!(quiet(
            &ALTER_SEQUENCE_VALUES,
            "CREATE SEQUENCE ids; ALTER SEQUENCE ids RESTART WITH 1;"
        ));
        assert_eq!(
            found(
                &ALTER_SEQUENCE_VALUES,
                "CREATE SEQUENCE IF NOT EXISTS ids; ALTER SEQUENCE ids RESTART WITH 1;"
            ),
            1
        );
        assert!(quiet(
            &ALTER_SEQUENCE_VALUES,
            "ALTER SEQUENCE ids OWNER TO app; ALTER SEQUENCE ids OWNED BY t.id; ALTER SEQUENCE ids SET LOGGED; ALTER SEQUENCE ids SET UNLOGGED;"
        ));
        assert_eq!(
            found(
                &ALTER_SEQUENCE_VALUES,
                "ALTER TABLE t ALTER COLUMN id RESTART WITH 5;"
            ),
            1
        );
        assert_eq!(
            found(
                &ALTER_SEQUENCE_VALUES,
                "ALTER TABLE t ALTER COLUMN id SET GENERATED BY DEFAULT SET INCREMENT BY 2 RESTART;"
            ),
            2
        );
        assert!(quiet(
            &ALTER_SEQUENCE_VALUES,
            "ALTER TABLE t ALTER COLUMN id SET GENERATED ALWAYS;"
        ));
        assert!(quiet(
            &ALTER_SEQUENCE_VALUES,
            "CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY); ALTER TABLE t ALTER COLUMN id RESTART WITH 5;"
        ));
    }

    #[test]
    fn ban_new_write_restriction() {
        let rule = &NEW_WRITE_RESTRICTION;
        assert_eq!(
            found(
                rule,
                "ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID; ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES p(id) NOT VALID; ALTER TABLE t ALTER COLUMN id SET NOT NULL; CREATE UNIQUE INDEX CONCURRENTLY idx ON t(id);"
            ),
            4
        );
        assert!(quiet(
            rule,
            "CREATE TABLE t (id int); ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0) NOT VALID; CREATE UNIQUE INDEX idx ON t(id);"
        ));
        assert!(quiet(rule, "CREATE INDEX CONCURRENTLY idx ON t(id);"));
        assert_eq!(
            found(
                rule,
                "ALTER DOMAIN d SET NOT NULL; ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID;"
            ),
            2
        );
        assert_eq!(found(rule, "ALTER TABLE t ADD COLUMN c int NOT NULL;"), 1);
        assert_eq!(
            found(rule, "ALTER TABLE t ALTER CONSTRAINT fk NOT DEFERRABLE;"),
            1
        );
        assert_eq!(
            found(rule, "ALTER FOREIGN TABLE ft ALTER COLUMN c SET NOT NULL;"),
            1
        );
        assert_eq!(
            found(
                rule,
                "ALTER TABLE t ADD COLUMN c bigint PRIMARY KEY; ALTER FOREIGN TABLE ft ADD COLUMN c int NOT NULL;"
            ),
            2
        );
        assert!(quiet(
            rule,
            "CREATE TABLE t (id bigint); ALTER TABLE t ADD COLUMN c bigint PRIMARY KEY; ALTER FOREIGN TABLE ft ADD COLUMN c int;"
        ));
        assert!(quiet(
            rule,
            "ALTER TABLE t ADD COLUMN c int DEFAULT 0; ALTER TABLE t VALIDATE CONSTRAINT ck; ALTER TABLE t ALTER COLUMN c DROP NOT NULL;"
        ));
        assert_eq!(
            run(rule, &included(rule, "ALTER TABLE t ADD CONSTRAINT ck CHECK (id > 0);"), false),
            ["adding CHECK constraint ck to t: code deployed before this migration may still make writes it rejects"]
        );
    }

    #[test]
    fn every_rule_is_opt_in() {
        let cases = [
            (&ADD_COLUMN, "ALTER TABLE t ADD COLUMN c int;"),
            (&ADD_ENUM_VALUE, "ALTER TYPE mood ADD VALUE 'happy';"),
            (
                &ADD_COMPOSITE_ATTRIBUTE,
                "ALTER TYPE address ADD ATTRIBUTE street text;",
            ),
            (&DETACH_INHERITANCE, "ALTER TABLE child NO INHERIT parent;"),
            (&ALTER_SEQUENCE_VALUES, "ALTER SEQUENCE ids RESTART;"),
            (
                &NEW_WRITE_RESTRICTION,
                "ALTER TABLE t ALTER COLUMN id SET NOT NULL;",
            ),
        ];
        assert_eq!(rules().len(), cases.len());
        for (rule, sql) in cases {
            assert!(rule.opt_in());
            assert!(silent(rule, sql), "{sql}");
            assert_eq!(found(rule, sql), 1, "{sql}");
        }
    }

    #[test]
    fn a_table_an_earlier_pending_file_created_is_new() {
        let migration = |version: i64, sql: &str| Migration {
            version,
            description: "m".into(),
            up: SqlFile {
                path: format!("{version}_m.sql").into(),
                name: format!("{version}_m.sql"),
                sql: sql.into(),
                no_tx: false,
            },
            down: None,
            checksum: vec![],
            simple: true,
        };
        let source = Source {
            migrations: vec![
                migration(1, "CREATE TABLE t (id int);"),
                migration(2, &included(&ADD_COLUMN, "ALTER TABLE t ADD COLUMN c int;")),
            ],
            ..Default::default()
        };
        let added = |run: &RunContext| {
            lint_run(&source, run, false)
                .into_iter()
                .filter(|d| d.rule == ADD_COLUMN.name)
                .count()
        };
        // Offline each file is its own deploy; with a database both are pending, one run.
        assert_eq!(added(&RunContext::default()), 1);
        let live = RunContext {
            applied: HashSet::new(),
            live: Some(HashMap::new()),
        };
        assert_eq!(added(&live), 0);
    }
}
