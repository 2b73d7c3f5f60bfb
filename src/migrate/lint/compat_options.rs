//! squawk's opt-in rollback-compatibility rules for options and settings that change what code
//! deployed before the migration gets, with no statement failing: `ban-alter-function-options`,
//! `ban-alter-view-options`, `ban-alter-role-options`, `ban-alter-database-options`,
//! `ban-alter-system-options`, `ban-alter-extension`. Each runs only when a file includes it.
//! Renames and `SET SCHEMA` are left to `renaming-object` and `ban-set-schema`.

use pg_query::protobuf::{AlterTableType, ObjectType, RoleSpec, VariableSetKind};
use pg_query::protobuf::{DefElem, VariableSetStmt};
use pg_query::{Node, NodeEnum};

use super::ban_drop_objects::{created_by, created_key};
use super::{alter_cmds, object_noun, role_spec, subtype, FileContext, OptIn, Rule};
use crate::migrate::locks::{dotted_name, rangevar_name};
use crate::util::quote_ident;

pub static FUNCTION_OPTIONS: OptIn = OptIn {
    name: "ban-alter-function-options",
    help: "Options of a function, procedure or routine (SECURITY DEFINER/INVOKER, volatility, STRICT, LEAKPROOF, PARALLEL, COST, SET/RESET of a setting such as search_path) change for every caller at once, code deployed before the migration included, and rolling that code back does not restore them: a new search_path resolves the body's names differently, SECURITY DEFINER runs it with its owner's rights, another volatility changes plans and caching. Safer: create a function under a new name with the new options, move callers to it, then drop the old one. Renames, owner changes and SET SCHEMA are not reported here. Opt-in: `-- dbdoctor:include ban-alter-function-options`.",
    find: function_options,
};

pub static VIEW_OPTIONS: OptIn = OptIn {
    name: "ban-alter-view-options",
    help: "ALTER VIEW ... SET/RESET (security_invoker, security_barrier, check_option) changes every query on the view at once, and rolling the application back does not restore the old options: with security_invoker the caller's privileges and row-level security policies apply instead of the owner's, so code deployed before may get permission errors or other rows; check_option rejects writes through the view that used to succeed. Safer: create a new view with the new options, move clients to it, then drop the old one. Renames and column defaults are not reported here. Opt-in: `-- dbdoctor:include ban-alter-view-options`.",
    find: view_options,
};

pub static ROLE_OPTIONS: OptIn = OptIn {
    name: "ban-alter-role-options",
    help: "Role attributes (LOGIN, BYPASSRLS, CONNECTION LIMIT, PASSWORD, ...) and role settings (ALTER ROLE/USER ... [IN DATABASE ...] SET/RESET) apply to every session of the role, those of code deployed before the migration included, and rolling that code back does not restore them: NOLOGIN locks it out, NOBYPASSRLS puts it under row-level security, a new search_path or statement_timeout changes how its queries resolve and run. Safer: give new code a role of its own, or change the role outside migrations once every client is ready. Renames are not reported here. Opt-in: `-- dbdoctor:include ban-alter-role-options`.",
    find: role_options,
};

pub static DATABASE_OPTIONS: OptIn = OptIn {
    name: "ban-alter-database-options",
    help: "Database options (CONNECTION LIMIT, ALLOW_CONNECTIONS, IS_TEMPLATE) and database settings (ALTER DATABASE ... SET/RESET search_path, timezone, ...) apply to every new session of every client, code deployed before the migration included, and rolling that code back does not restore them. Safer: let the code that needs a setting set it on its own sessions, or change the database outside migrations once every client is ready. Renames, owner and tablespace changes are not reported here. Opt-in: `-- dbdoctor:include ban-alter-database-options`.",
    find: database_options,
};

pub static SYSTEM_OPTIONS: OptIn = OptIn {
    name: "ban-alter-system-options",
    help: "ALTER SYSTEM SET/RESET changes the server's configuration for every database and client once it is reloaded: search_path, timezone, DateStyle, IntervalStyle, bytea_output or standard_conforming_strings change how the queries of code deployed before the migration resolve names and what results look like, and rolling the application back does not restore them. Safer: keep server configuration out of migrations, or set what one application needs on its database, role or sessions. Opt-in: `-- dbdoctor:include ban-alter-system-options`.",
    find: system_options,
};

pub static EXTENSION: OptIn = OptIn {
    name: "ban-alter-extension",
    help: "ALTER EXTENSION ... UPDATE runs the extension's upgrade scripts, which may remove or change functions, types and operators that code deployed before the migration still uses, and an extension rarely has a way back; ALTER EXTENSION ... DROP detaches an object from the extension, so later updates and DROP EXTENSION no longer manage it. Safer: read the extension's release notes, make sure the deployed code works with both versions, and update in a migration of its own. ADD is not reported, SET SCHEMA is `ban-set-schema`'s. Opt-in: `-- dbdoctor:include ban-alter-extension`.",
    find: extension_changes,
};

/// The rules of this family.
pub fn rules() -> Vec<&'static dyn Rule> {
    vec![
        &FUNCTION_OPTIONS,
        &VIEW_OPTIONS,
        &ROLE_OPTIONS,
        &DATABASE_OPTIONS,
        &SYSTEM_OPTIONS,
        &EXTENSION,
    ]
}

// ------------------------------------------------------------------ the rules

fn function_options(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let NodeEnum::AlterFunctionStmt(s) = stmt else {
        return vec![];
    };
    let name = s
        .func
        .as_ref()
        .map(|f| dotted_name(&f.objname))
        .unwrap_or_default();
    if created_in_file(cx, &created_key(ObjectType::ObjectFunction, &name)) {
        return vec![];
    }
    let noun = match ObjectType::try_from(s.objtype) {
        Ok(ObjectType::ObjectProcedure) => "procedure",
        Ok(ObjectType::ObjectRoutine) => "routine",
        _ => "function",
    };
    vec![format!(
        "changing options of {noun} {name} ({}): code deployed before the migration calls it with them too",
        describe(s.actions.iter().filter_map(def_elem))
    )]
}

fn view_options(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    match stmt {
        NodeEnum::AlterTableStmt(s) if s.objtype == ObjectType::ObjectView as i32 => {}
        _ => return vec![],
    }
    alter_cmds(stmt)
        .into_iter()
        .filter(|(_, c)| {
            matches!(
                subtype(c),
                AlterTableType::AtSetRelOptions | AlterTableType::AtResetRelOptions
            )
        })
        .filter(|(view, _)| !created_in_file(cx, &rangevar_name(view)))
        .map(|(view, c)| {
            let defs = match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                Some(NodeEnum::List(l)) => l.items.as_slice(),
                _ => &[],
            };
            format!(
                "changing options of view {} ({}): queries of code deployed before the migration get them too",
                rangevar_name(view),
                describe(defs.iter().filter_map(def_elem))
            )
        })
        .collect()
}

fn role_options(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    const EFFECT: &str =
        "every session of the role gets them, those of code deployed before the migration included";
    match stmt {
        NodeEnum::AlterRoleStmt(s) => {
            // ALTER GROUP ... ADD/DROP USER changes membership, not the role's options.
            let options = options_except(&s.options, "rolemembers");
            if options.is_empty() {
                return vec![];
            }
            vec![format!(
                "changing options of role {} ({}): {EFFECT}",
                role_name(s.role.as_ref()),
                describe(options)
            )]
        }
        NodeEnum::AlterRoleSetStmt(s) => {
            let database = if s.database.is_empty() {
                String::new()
            } else {
                format!(" in database {}", quote_ident(&s.database))
            };
            vec![format!(
                "changing settings of role {}{database} ({}): {EFFECT}",
                role_name(s.role.as_ref()),
                setting(s.setstmt.as_ref())
            )]
        }
        _ => vec![],
    }
}

fn database_options(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    const EFFECT: &str =
        "every new session of every client gets them, code deployed before the migration included";
    match stmt {
        NodeEnum::AlterDatabaseStmt(s) => {
            // SET TABLESPACE moves the files; it changes nothing a client sees.
            let options = options_except(&s.options, "tablespace");
            if options.is_empty() {
                return vec![];
            }
            vec![format!(
                "changing options of database {} ({}): {EFFECT}",
                quote_ident(&s.dbname),
                describe(options)
            )]
        }
        NodeEnum::AlterDatabaseSetStmt(s) => vec![format!(
            "changing settings of database {} ({}): {EFFECT}",
            quote_ident(&s.dbname),
            setting(s.setstmt.as_ref())
        )],
        _ => vec![],
    }
}

fn system_options(stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
    let NodeEnum::AlterSystemStmt(s) = stmt else {
        return vec![];
    };
    vec![format!(
        "changing settings of the server ({}): every database and client gets them once the configuration is reloaded",
        setting(s.setstmt.as_ref())
    )]
}

fn extension_changes(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let (extname, message) = match stmt {
        NodeEnum::AlterExtensionStmt(s) => {
            let version = s
                .options
                .iter()
                .filter_map(def_elem)
                .find(|d| d.defname == "new_version")
                .and_then(|d| match d.arg.as_ref()?.node.as_ref()? {
                    NodeEnum::String(v) => Some(format!(" to '{}'", v.sval)),
                    _ => None,
                })
                .unwrap_or_default();
            (
                &s.extname,
                format!(
                    "updating extension {}{version}: its upgrade scripts may change or remove objects code deployed before the migration uses",
                    quote_ident(&s.extname)
                ),
            )
        }
        // action -1 is DROP; ADD (+1) only hands an existing object to the extension.
        NodeEnum::AlterExtensionContentsStmt(s) if s.action < 0 => (
            &s.extname,
            format!(
                "removing {} {} from extension {}: later updates and DROP EXTENSION no longer manage it",
                object_noun(s.objtype),
                s.object.as_deref().map(object_name).unwrap_or_default(),
                quote_ident(&s.extname)
            ),
        ),
        _ => return vec![],
    };
    if created_in_file(
        cx,
        &created_key(ObjectType::ObjectExtension, &quote_ident(extname)),
    ) {
        return vec![];
    }
    vec![message]
}

// ------------------------------------------------------------------ shared helpers

/// An earlier statement of the file created the object (`created_objects` key): no code deployed
/// before the migration can use it yet.
fn created_in_file(cx: &FileContext, key: &str) -> bool {
    cx.all[..cx.index.min(cx.all.len())]
        .iter()
        .filter_map(created_by)
        .any(|k| k == key)
}

fn def_elem(node: &Node) -> Option<&DefElem> {
    match node.node.as_ref()? {
        NodeEnum::DefElem(d) => Some(d),
        _ => None,
    }
}

/// The options of a list but those named `skip`.
fn options_except<'a>(defs: &'a [Node], skip: &str) -> Vec<&'a DefElem> {
    defs.iter()
        .filter_map(def_elem)
        .filter(|d| d.defname != skip)
        .collect()
}

/// What a list of options changes, in words close to the SQL: `security, SET search_path`.
fn describe<'a>(defs: impl IntoIterator<Item = &'a DefElem>) -> String {
    defs.into_iter()
        .map(|d| match d.arg.as_ref().and_then(|a| a.node.as_ref()) {
            // A function's `SET x = ...` / `RESET x` carries the statement.
            Some(NodeEnum::VariableSetStmt(v)) => setting(Some(v)),
            _ => match d.defname.as_str() {
                // The grammar's names for the role attributes that are spelled otherwise.
                "canlogin" => "login".into(),
                "isreplication" => "replication".into(),
                "connectionlimit" => "connection limit".into(),
                "validUntil" => "valid until".into(),
                other => other.into(),
            },
        })
        .collect::<Vec<String>>()
        .join(", ")
}

/// `SET name`, `RESET name` or `RESET ALL`.
fn setting(set: Option<&VariableSetStmt>) -> String {
    let Some(v) = set else {
        return "settings".into();
    };
    match VariableSetKind::try_from(v.kind) {
        Ok(VariableSetKind::VarResetAll) => "RESET ALL".into(),
        Ok(VariableSetKind::VarReset) => format!("RESET {}", v.name),
        _ => format!("SET {}", v.name),
    }
}

/// The role as written; none is `ALTER ROLE ALL`.
fn role_name(role: Option<&RoleSpec>) -> String {
    role.map_or_else(|| "ALL".into(), role_spec)
}

/// The name of an object as ALTER EXTENSION ... DROP gives it.
fn object_name(node: &Node) -> String {
    match node.node.as_ref() {
        Some(NodeEnum::ObjectWithArgs(f)) => dotted_name(&f.objname),
        Some(NodeEnum::TypeName(t)) => dotted_name(&t.names),
        Some(NodeEnum::List(l)) => dotted_name(&l.items),
        Some(NodeEnum::String(s)) => quote_ident(&s.sval),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, included, run, silent};
    use super::{
        OptIn, DATABASE_OPTIONS, EXTENSION, FUNCTION_OPTIONS, ROLE_OPTIONS, SYSTEM_OPTIONS,
        VIEW_OPTIONS,
    };

    // After squawk's own tests for these rules (v2.68.0), positive and negative.
    const CASES: &[(&OptIn, &str, usize)] = &[
        (&FUNCTION_OPTIONS, "ALTER FUNCTION f() SECURITY DEFINER;", 1),
        (&FUNCTION_OPTIONS, "ALTER PROCEDURE p() SECURITY DEFINER; ALTER PROCEDURE p() SET search_path TO private; ALTER PROCEDURE p() RESET ALL; ALTER ROUTINE f() SECURITY INVOKER; ALTER ROUTINE f() SET search_path TO private; ALTER ROUTINE f() RESET ALL;", 6),
        (&FUNCTION_OPTIONS, "ALTER FUNCTION f(int) IMMUTABLE STRICT LEAKPROOF;", 1),
        (&VIEW_OPTIONS, "ALTER VIEW v SET (security_barrier = true);", 1),
        (&VIEW_OPTIONS, "ALTER VIEW v RESET (security_barrier);", 1),
        (&VIEW_OPTIONS, "ALTER VIEW app.v SET (security_invoker = true, check_option = local);", 1),
        (&ROLE_OPTIONS, "ALTER ROLE r NOLOGIN;", 1),
        (&ROLE_OPTIONS, "ALTER ROLE r SET search_path TO public;", 1),
        (&ROLE_OPTIONS, "ALTER ROLE r RESET search_path;", 1),
        (&ROLE_OPTIONS, "ALTER USER app NOLOGIN; ALTER USER app NOBYPASSRLS; ALTER USER app IN DATABASE db SET search_path TO private; ALTER USER app RESET ALL;", 4),
        (&DATABASE_OPTIONS, "ALTER DATABASE d SET search_path TO public;", 1),
        (&DATABASE_OPTIONS, "ALTER DATABASE d WITH CONNECTION LIMIT 5;", 1),
        (&DATABASE_OPTIONS, "ALTER DATABASE d RESET search_path;", 1),
        (&SYSTEM_OPTIONS, "ALTER SYSTEM SET timezone = 'UTC';", 1),
        (&SYSTEM_OPTIONS, "ALTER SYSTEM RESET ALL;", 1),
        (&SYSTEM_OPTIONS, "ALTER SYSTEM SET work_mem = '64MB';", 1),
        (&EXTENSION, "ALTER EXTENSION postgis UPDATE TO '3.4.0';", 1),
        (&EXTENSION, "ALTER EXTENSION postgis UPDATE;", 1),
        (&EXTENSION, "ALTER EXTENSION postgis DROP FUNCTION f();", 1),
        // Negative cases.
        (&FUNCTION_OPTIONS, "ALTER FUNCTION f() RENAME TO g;", 0),
        (&FUNCTION_OPTIONS, "ALTER PROCEDURE p() RENAME TO q; ALTER ROUTINE f() SET SCHEMA private; ALTER PROCEDURE p() OWNER TO app;", 0),
        (&VIEW_OPTIONS, "ALTER VIEW v RENAME TO w;", 0),
        (&VIEW_OPTIONS, "ALTER VIEW v ALTER COLUMN c SET DEFAULT 1;", 0),
        (&VIEW_OPTIONS, "ALTER TABLE t SET (fillfactor = 70);", 0),
        (&ROLE_OPTIONS, "ALTER ROLE r RENAME TO s;", 0),
        (&ROLE_OPTIONS, "ALTER USER app RENAME TO app2;", 0),
        (&ROLE_OPTIONS, "ALTER GROUP writers ADD USER app;", 0),
        (&DATABASE_OPTIONS, "ALTER DATABASE d RENAME TO e;", 0),
        (&DATABASE_OPTIONS, "ALTER DATABASE d OWNER TO app;", 0),
        (&DATABASE_OPTIONS, "ALTER DATABASE d SET TABLESPACE fast;", 0),
        (&SYSTEM_OPTIONS, "ALTER DATABASE d SET timezone = 'UTC';", 0),
        (&SYSTEM_OPTIONS, "ALTER ROLE r RESET ALL;", 0),
        (&EXTENSION, "ALTER EXTENSION postgis ADD FUNCTION f();", 0),
        (&EXTENSION, "ALTER EXTENSION postgis SET SCHEMA gis;", 0),
    ];

    #[test]
    fn flags_option_changes_when_included() {
        for (rule, sql, n) in CASES {
            assert_eq!(count(*rule, &included(*rule, sql)), *n, "{sql}");
        }
    }

    #[test]
    fn silent_without_the_include_line() {
        for (rule, sql, _) in CASES {
            assert!(silent(*rule, sql), "{sql}");
        }
    }

    #[test]
    fn messages_name_the_object_and_the_change() {
        let msg = |rule: &OptIn, sql: &str| run(rule, &included(rule, sql), false).join("|");
        let m = msg(
            &FUNCTION_OPTIONS,
            "ALTER FUNCTION app.f(int) SECURITY DEFINER SET search_path = app;",
        );
        assert!(
            m.starts_with("changing options of function app.f (security, SET search_path)"),
            "{m}"
        );
        let m = msg(&ROLE_OPTIONS, "ALTER ROLE app IN DATABASE db RESET ALL;");
        assert!(
            m.starts_with("changing settings of role app in database db (RESET ALL)"),
            "{m}"
        );
        let m = msg(&ROLE_OPTIONS, "ALTER ROLE app NOLOGIN CONNECTION LIMIT 3;");
        assert!(
            m.starts_with("changing options of role app (login, connection limit)"),
            "{m}"
        );
        let m = msg(&VIEW_OPTIONS, "ALTER VIEW v SET (security_invoker = true);");
        assert!(
            m.starts_with("changing options of view v (security_invoker)"),
            "{m}"
        );
        let m = msg(&EXTENSION, "ALTER EXTENSION postgis UPDATE TO '3.4.0';");
        assert!(
            m.starts_with("updating extension postgis to '3.4.0'"),
            "{m}"
        );
        let m = msg(
            &EXTENSION,
            "ALTER EXTENSION postgis DROP FUNCTION legacy_fn();",
        );
        assert!(
            m.starts_with("removing function legacy_fn from extension postgis"),
            "{m}"
        );
    }

    #[test]
    fn objects_created_earlier_in_the_file_are_not_reported() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\nALTER FUNCTION f() SET search_path = app;";
        assert!(silent(&FUNCTION_OPTIONS, &included(&FUNCTION_OPTIONS, sql)));
        let sql = "CREATE VIEW v AS SELECT 1 AS a;\nALTER VIEW v SET (security_invoker = true);";
        assert!(silent(&VIEW_OPTIONS, &included(&VIEW_OPTIONS, sql)));
        let sql = "CREATE EXTENSION hstore;\nALTER EXTENSION hstore UPDATE;";
        assert!(silent(&EXTENSION, &included(&EXTENSION, sql)));
        // Another object is still reported.
        let sql = "CREATE VIEW w AS SELECT 1 AS a;\nALTER VIEW v SET (security_invoker = true);";
        assert_eq!(count(&VIEW_OPTIONS, &included(&VIEW_OPTIONS, sql)), 1);
    }
}
