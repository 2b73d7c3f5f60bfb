//! ban-drop-view, ban-drop-function, ban-drop-type, ban-drop-trigger, ban-drop-schema,
//! ban-drop-sequence, ban-drop-domain, ban-drop-extension: dropping an object that running code
//! may still use. One rule per kind of object, as squawk names them.

use pg_query::protobuf::ObjectType;
use pg_query::NodeEnum;

use super::FileContext;
use crate::migrate::locks::{dotted_name, drop_objects, rangevar_name};
use crate::util::quote_ident;

/// A rule against dropping one kind of object.
pub struct Rule {
    name: &'static str,
    /// The DROP statements' object types it covers.
    kinds: &'static [ObjectType],
    /// What the message calls the object.
    noun: &'static str,
    /// What breaks when it is gone.
    breaks: &'static str,
    help: &'static str,
    style: bool,
}

pub static VIEW: Rule = Rule {
    name: "ban-drop-view",
    kinds: &[ObjectType::ObjectView, ObjectType::ObjectMatview],
    noun: "view",
    breaks: "queries that still read it fail",
    help: "Queries against a dropped view or materialized view fail with 42P01 (undefined_table). Deploy code that no longer reads it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-view`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

pub static FUNCTION: Rule = Rule {
    name: "ban-drop-function",
    kinds: &[
        ObjectType::ObjectFunction,
        ObjectType::ObjectProcedure,
        ObjectType::ObjectRoutine,
    ],
    noun: "function",
    breaks: "callers, and defaults, triggers or views that use it, fail",
    help: "Calls of a dropped function or procedure fail with 42883 (undefined_function). Deploy code that no longer calls it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-function`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

pub static TYPE: Rule = Rule {
    name: "ban-drop-type",
    kinds: &[ObjectType::ObjectType],
    noun: "type",
    breaks: "code that casts to it or declares it fails",
    help: "Statements that name a dropped type fail with 42704 (undefined_object), and CASCADE drops the columns of that type with their data. Deploy code that no longer uses it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-type`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

pub static TRIGGER: Rule = Rule {
    name: "ban-drop-trigger",
    kinds: &[ObjectType::ObjectTrigger],
    noun: "trigger",
    breaks: "what it did on every write (audit rows, derived columns, checks) silently stops",
    help: "A dropped trigger fails no statement: the work it did on each write just stops, which no test that only checks for errors notices. A style note by default, because replacing a trigger is routine; `-- dbdoctor:include ban-drop-trigger` makes it a warning.",
    style: true,
};

pub static SCHEMA: Rule = Rule {
    name: "ban-drop-schema",
    kinds: &[ObjectType::ObjectSchema],
    noun: "schema",
    breaks: "every query that names an object in it fails",
    help: "Dropping a schema (with CASCADE, everything in it) breaks every statement that names its objects. Deploy code that no longer uses it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-schema`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

pub static SEQUENCE: Rule = Rule {
    name: "ban-drop-sequence",
    kinds: &[ObjectType::ObjectSequence],
    noun: "sequence",
    breaks: "nextval() calls and column defaults that use it fail",
    help: "Calls of nextval() on a dropped sequence fail with 42P01, and with CASCADE the defaults that call it are dropped, so INSERTs that relied on them fail. Deploy code that no longer uses it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-sequence`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

pub static DOMAIN: Rule = Rule {
    name: "ban-drop-domain",
    kinds: &[ObjectType::ObjectDomain],
    noun: "domain",
    breaks: "code that casts to it fails, and CASCADE drops the columns of that type with their data",
    help: "Statements that name a dropped domain fail with 42704, and CASCADE drops the columns declared with it, data included. Deploy code that no longer uses it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-domain`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

pub static EXTENSION: Rule = Rule {
    name: "ban-drop-extension",
    kinds: &[ObjectType::ObjectExtension],
    noun: "extension",
    breaks: "the functions, types and operators it provides disappear, and CASCADE drops what uses them",
    help: "Dropping an extension removes its functions, types and operators; code calling them fails, and CASCADE drops the columns, indexes and views that use them. Deploy code that no longer uses it first, then drop it in a later migration and silence with `-- dbdoctor:allow ban-drop-extension`. A down file that drops what its own up file created is not flagged.",
    style: false,
};

/// The key under which `created_objects` records an object of this kind, so that a down file
/// dropping what its up file created is recognised.
pub fn created_key(kind: ObjectType, name: &str) -> String {
    match kind {
        // Views share the namespace of tables: their key is the bare relation name.
        ObjectType::ObjectView | ObjectType::ObjectMatview => name.to_string(),
        ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            created_key(ObjectType::ObjectFunction, name)
        }
        // Sequences share the namespace of tables too.
        ObjectType::ObjectSequence => name.to_string(),
        ObjectType::ObjectFunction => format!("function {name}"),
        // A domain is a type: the two share one namespace.
        ObjectType::ObjectType | ObjectType::ObjectDomain => format!("type {name}"),
        ObjectType::ObjectSchema => format!("schema {name}"),
        ObjectType::ObjectExtension => format!("extension {name}"),
        _ => format!("trigger {name}"),
    }
}

/// What a CREATE statement creates that these rules know, as `created_objects` keys.
pub fn created_by(node: &NodeEnum) -> Option<String> {
    match node {
        NodeEnum::ViewStmt(s) => Some(rangevar_name(s.view.as_ref()?)),
        NodeEnum::CreateTableAsStmt(s) if s.objtype == ObjectType::ObjectMatview as i32 => {
            Some(rangevar_name(s.into.as_ref()?.rel.as_ref()?))
        }
        NodeEnum::CreateFunctionStmt(s) => Some(created_key(
            ObjectType::ObjectFunction,
            &dotted_name(&s.funcname),
        )),
        NodeEnum::CompositeTypeStmt(s) => Some(created_key(
            ObjectType::ObjectType,
            &rangevar_name(s.typevar.as_ref()?),
        )),
        NodeEnum::CreateEnumStmt(s) => Some(created_key(
            ObjectType::ObjectType,
            &dotted_name(&s.type_name),
        )),
        NodeEnum::CreateRangeStmt(s) => Some(created_key(
            ObjectType::ObjectType,
            &dotted_name(&s.type_name),
        )),
        NodeEnum::DefineStmt(s) if s.kind == ObjectType::ObjectType as i32 => Some(created_key(
            ObjectType::ObjectType,
            &dotted_name(&s.defnames),
        )),
        NodeEnum::CreateSeqStmt(s) => Some(rangevar_name(s.sequence.as_ref()?)),
        NodeEnum::CreateDomainStmt(s) => Some(created_key(
            ObjectType::ObjectDomain,
            &dotted_name(&s.domainname),
        )),
        NodeEnum::CreateSchemaStmt(s) => Some(created_key(
            ObjectType::ObjectSchema,
            &quote_ident(&s.schemaname),
        )),
        NodeEnum::CreateExtensionStmt(s) => Some(created_key(
            ObjectType::ObjectExtension,
            &quote_ident(&s.extname),
        )),
        NodeEnum::CreateTrigStmt(s) => Some(created_key(
            ObjectType::ObjectTrigger,
            &format!(
                "{}.{}",
                rangevar_name(s.relation.as_ref()?),
                quote_ident(&s.trigname)
            ),
        )),
        _ => None,
    }
}

/// The names a DROP statement gives, spelled as [`created_by`] spells them (before the key).
fn dropped_names(kind: ObjectType, objects: &[pg_query::Node]) -> Vec<String> {
    match kind {
        ObjectType::ObjectFunction | ObjectType::ObjectProcedure | ObjectType::ObjectRoutine => {
            objects
                .iter()
                .filter_map(|o| match o.node.as_ref() {
                    Some(NodeEnum::ObjectWithArgs(f)) => Some(dotted_name(&f.objname)),
                    _ => None,
                })
                .collect()
        }
        ObjectType::ObjectType | ObjectType::ObjectDomain => objects
            .iter()
            .filter_map(|o| match o.node.as_ref() {
                Some(NodeEnum::TypeName(t)) => Some(dotted_name(&t.names)),
                _ => None,
            })
            .collect(),
        ObjectType::ObjectTrigger => objects
            .iter()
            .filter_map(|o| match o.node.as_ref() {
                // [schema,] table, trigger.
                Some(NodeEnum::List(l)) if l.items.len() >= 2 => {
                    let (trigger, table) = l.items.split_last()?;
                    let trigger = dotted_name(std::slice::from_ref(trigger));
                    Some(format!("{}.{trigger}", dotted_name(table)))
                }
                _ => None,
            })
            .collect(),
        _ => drop_objects(objects),
    }
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        self.name
    }
    fn help(&self) -> &'static str {
        self.help
    }
    fn style_unless_included(&self) -> bool {
        self.style
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        let NodeEnum::DropStmt(s) = stmt else {
            return vec![];
        };
        let Some(&kind) = self.kinds.iter().find(|k| **k as i32 == s.remove_type) else {
            return vec![];
        };
        dropped_names(kind, &s.objects)
            .into_iter()
            .filter(|n| !cx.undoes.contains(&created_key(kind, n)))
            .map(|n| format!("dropping {} {n}: {}", self.noun, self.breaks))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, severities, silent};
    use super::{DOMAIN, EXTENSION, FUNCTION, SCHEMA, SEQUENCE, TRIGGER, TYPE, VIEW};
    use crate::migrate::lint::{created_objects, lint_file_undoing, Severity};
    use crate::migrate::source::SqlFile;

    // After squawk's own tests for these rules (v2.67.0), positive and negative.
    #[test]
    fn flags_drops_of_views_functions_types_and_triggers() {
        for (rule, bad) in [
            (&VIEW, "DROP VIEW v;"),
            (&VIEW, "DROP VIEW IF EXISTS v CASCADE;"),
            (&VIEW, "DROP MATERIALIZED VIEW mv;"),
            (&VIEW, "DROP MATERIALIZED VIEW IF EXISTS mv CASCADE;"),
            (&FUNCTION, "DROP FUNCTION f(int);"),
            (&FUNCTION, "DROP FUNCTION IF EXISTS f(int) CASCADE;"),
            (&FUNCTION, "DROP PROCEDURE p(int);"),
            (&FUNCTION, "DROP PROCEDURE IF EXISTS p(int) CASCADE;"),
            (&FUNCTION, "DROP ROUTINE r;"),
            (&TYPE, "DROP TYPE t;"),
            (&TYPE, "DROP TYPE IF EXISTS t CASCADE;"),
            (&TRIGGER, "DROP TRIGGER trg ON tbl;"),
            (&TRIGGER, "DROP TRIGGER IF EXISTS trg ON tbl CASCADE;"),
            (&SCHEMA, "DROP SCHEMA s;"),
            (&SCHEMA, "DROP SCHEMA IF EXISTS s CASCADE;"),
            (&SEQUENCE, "DROP SEQUENCE seq;"),
            (&SEQUENCE, "DROP SEQUENCE IF EXISTS app.seq CASCADE;"),
            (&DOMAIN, "DROP DOMAIN d;"),
            (&DOMAIN, "DROP DOMAIN IF EXISTS d CASCADE;"),
            (&EXTENSION, "DROP EXTENSION hstore;"),
            (&EXTENSION, "DROP EXTENSION IF EXISTS hstore CASCADE;"),
        ] {
            assert_eq!(count(rule, bad), 1, "{bad}");
        }
        assert_eq!(count(&VIEW, "DROP VIEW a, b;"), 2);
        for (rule, ok) in [
            (&VIEW, "CREATE VIEW v AS SELECT 1; DROP INDEX i;"),
            (&VIEW, "DROP TABLE v;"),
            (&FUNCTION, "DROP INDEX i; CREATE VIEW v AS SELECT 1;"),
            (&TYPE, "CREATE TYPE t AS ENUM ('a'); DROP INDEX i;"),
            (&TYPE, "DROP DOMAIN d;"),
            (&TRIGGER, "DROP INDEX i; CREATE VIEW v AS SELECT 1;"),
            (&SCHEMA, "CREATE SCHEMA s; DROP TABLE s.t;"),
            (
                &SEQUENCE,
                "CREATE SEQUENCE seq; ALTER SEQUENCE seq RESTART;",
            ),
            (&DOMAIN, "DROP TYPE t;"),
            (&EXTENSION, "CREATE EXTENSION IF NOT EXISTS hstore;"),
        ] {
            assert!(silent(rule, ok), "{ok}");
        }
    }

    #[test]
    fn ban_drop_trigger_is_a_style_note_unless_included() {
        let sev = |sql: &str| -> Vec<Severity> {
            severities(sql, |r| r == "ban-drop-trigger")
                .into_iter()
                .map(|(_, s)| s)
                .collect()
        };
        assert_eq!(sev("DROP TRIGGER trg ON tbl;"), [Severity::Style]);
        assert_eq!(
            sev("-- dbdoctor:include ban-drop-trigger\nDROP TRIGGER trg ON tbl;"),
            [Severity::Warning]
        );
    }

    #[test]
    fn a_down_file_dropping_what_its_up_file_created_is_fine() {
        let up = "CREATE VIEW v AS SELECT 1;\nCREATE MATERIALIZED VIEW app.mv AS SELECT 1;\nCREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';\nCREATE TYPE mood AS ENUM ('ok');\nCREATE TYPE pair AS (a int, b int);\nCREATE TRIGGER trg BEFORE INSERT ON tbl FOR EACH ROW EXECUTE FUNCTION f();\nCREATE SCHEMA app;\nCREATE SEQUENCE app.seq;\nCREATE DOMAIN email AS text;\nCREATE EXTENSION hstore;";
        let down = SqlFile {
            path: "d.sql".into(),
            name: "d.sql".into(),
            no_tx: false,
            sql: "DROP TRIGGER trg ON tbl;\nDROP TYPE pair, mood;\nDROP FUNCTION f(int);\nDROP MATERIALIZED VIEW app.mv;\nDROP VIEW v;\nDROP VIEW other;\nDROP FUNCTION g();\nDROP TYPE other_type;\nDROP TRIGGER trg ON other_table;\nDROP EXTENSION hstore;\nDROP DOMAIN email;\nDROP SEQUENCE app.seq;\nDROP SCHEMA app;\nDROP SEQUENCE other_seq;".into(),
        };
        let found: Vec<(String, usize)> = lint_file_undoing(&down, "d.sql", created_objects(up))
            .into_iter()
            .filter(|d| d.rule.starts_with("ban-drop-"))
            .map(|d| (d.rule, d.line))
            .collect();
        assert_eq!(
            found,
            [
                ("ban-drop-view".to_string(), 6),
                ("ban-drop-function".to_string(), 7),
                ("ban-drop-type".to_string(), 8),
                ("ban-drop-trigger".to_string(), 9),
                ("ban-drop-sequence".to_string(), 14),
            ]
        );
    }
}
