//! squawk's opt-in rollback-compatibility rules for access control: `ban-drop-policy`,
//! `ban-create-policy`, `ban-alter-policy-condition`, `ban-alter-policy-roles`,
//! `ban-alter-row-level-security`, `ban-revoke`. None fails a statement; each changes which rows
//! or objects the code deployed before the migration may use. Each runs only when a file
//! includes it. Policies, row level security, owners and table privileges of a table the file
//! created earlier are not reported: no deployed code uses that table yet.

use pg_query::protobuf::{
    AlterTableType, GrantStmt, GrantTargetType, ObjectType, RangeVar, RoleSpec,
};
use pg_query::{Node, NodeEnum};

use super::{alter_cmds, object_noun, role_spec, subtype, FileContext, OptIn, Rule};
use crate::migrate::locks::{dotted_name, rangevar_name};
use crate::util::quote_ident;

pub static DROP_POLICY: OptIn = OptIn {
    name: "ban-drop-policy",
    help: "Without the policy, code deployed before the migration sees fewer rows or has its writes rejected (only the remaining policies grant access), and without a rule its statements are no longer rewritten. Deploy code that no longer relies on it first, or create the replacement policy before dropping the old one. A table the file creates is not reported. Opt-in: `-- dbdoctor:include ban-drop-policy`.",
    find: dropped_policies,
};

pub static CREATE_POLICY: OptIn = OptIn {
    name: "ban-create-policy",
    help: "Under row level security a new policy changes which rows the code deployed before the migration reads and writes: a restrictive one hides rows or rejects writes, a permissive one shows rows that code did not expect. Check the policy's command, roles and conditions against what that code runs as. A table the file creates is not reported. Opt-in: `-- dbdoctor:include ban-create-policy`.",
    find: created_policies,
};

pub static ALTER_POLICY_CONDITION: OptIn = OptIn {
    name: "ban-alter-policy-condition",
    help: "A new USING or WITH CHECK condition changes which rows code deployed before the migration sees and which of its writes are rejected, at once and with no error on its side. Make sure that code works under the new condition (or create a second policy and drop the old one later). Renames and role-only changes are not reported. Opt-in: `-- dbdoctor:include ban-alter-policy-condition`.",
    find: policy_conditions,
};

pub static ALTER_POLICY_ROLES: OptIn = OptIn {
    name: "ban-alter-policy-roles",
    help: "ALTER POLICY ... TO changes the roles a policy applies to: code deployed before the migration that runs as a role taken out of it sees fewer rows or has its writes rejected. Add roles first, and remove them only once no code runs as them. Renames and condition-only changes are not reported. Opt-in: `-- dbdoctor:include ban-alter-policy-roles`.",
    find: policy_roles,
};

pub static ALTER_ROW_LEVEL_SECURITY: OptIn = OptIn {
    name: "ban-alter-row-level-security",
    help: "Enabling or forcing row level security makes queries of code deployed before the migration return only the rows a policy grants (none without a policy); disabling it, or NO FORCE, shows that code rows the policies hid. Create and check the policies first, and make sure the roles that code runs as get the rows they need. A table the file creates is not reported. Opt-in: `-- dbdoctor:include ban-alter-row-level-security`.",
    find: row_level_security,
};

pub static REVOKE: OptIn = OptIn {
    name: "ban-revoke",
    help: "Revoking a privilege or a role membership, dropping or emptying a role (DROP ROLE, DROP OWNED, REASSIGN OWNED, ALTER GROUP ... DROP USER) or changing an owner makes statements of code deployed before the migration fail with permission denied (42501), and a rollback of the code does not bring the access back. Move the code to a role that keeps what it needs first; GRANT is not reported. Table privileges and owners of a table the file creates are not reported. Opt-in: `-- dbdoctor:include ban-revoke`.",
    find: revokes,
};

/// The rules of this family.
pub fn rules() -> Vec<&'static dyn Rule> {
    vec![
        &DROP_POLICY,
        &CREATE_POLICY,
        &ALTER_POLICY_CONDITION,
        &ALTER_POLICY_ROLES,
        &ALTER_ROW_LEVEL_SECURITY,
        &REVOKE,
    ]
}

/// The table existed before this file (or, for a down file, before its up file): only such a
/// table has deployed code using it.
fn existed(cx: &FileContext, rv: &RangeVar) -> bool {
    !cx.is_new_table(Some(rv)) && !cx.undoes.contains(&rangevar_name(rv))
}

/// The names in a list of nodes (roles, tables, functions, schemas, ...), comma-separated.
fn names(nodes: &[Node]) -> String {
    nodes
        .iter()
        .filter_map(|n| match n.node.as_ref()? {
            NodeEnum::RoleSpec(r) => Some(role_spec(r)),
            NodeEnum::RangeVar(r) => Some(rangevar_name(r)),
            NodeEnum::String(s) => Some(quote_ident(&s.sval)),
            NodeEnum::List(l) => Some(dotted_name(&l.items)),
            NodeEnum::ObjectWithArgs(f) => Some(dotted_name(&f.objname)),
            NodeEnum::TypeName(t) => Some(dotted_name(&t.names)),
            // A role in REVOKE role FROM ...
            NodeEnum::AccessPriv(p) => Some(quote_ident(&p.priv_name)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn dropped_policies(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let NodeEnum::DropStmt(s) = stmt else {
        return vec![];
    };
    let (noun, effect) = match ObjectType::try_from(s.remove_type) {
        Ok(ObjectType::ObjectPolicy) => (
            "policy",
            "the rows it granted are no longer visible or writable to the roles it covered",
        ),
        Ok(ObjectType::ObjectRule) => ("rule", "statements it rewrote run unchanged"),
        _ => return vec![],
    };
    s.objects
        .iter()
        .filter_map(|o| match o.node.as_ref()? {
            // [schema,] table, name.
            NodeEnum::List(l) => {
                let (name, table) = l.items.split_last()?;
                let parts: Vec<&str> = table
                    .iter()
                    .filter_map(|n| match n.node.as_ref()? {
                        NodeEnum::String(s) => Some(s.sval.as_str()),
                        _ => None,
                    })
                    .collect();
                let (schema, rel) = match parts.as_slice() {
                    [rel] => ("", *rel),
                    [schema, rel] => (*schema, *rel),
                    _ => return None,
                };
                let table = RangeVar {
                    schemaname: schema.into(),
                    relname: rel.into(),
                    ..Default::default()
                };
                existed(cx, &table).then(|| {
                    format!(
                        "dropping {noun} {} on {}: {effect}",
                        names(std::slice::from_ref(name)),
                        rangevar_name(&table)
                    )
                })
            }
            _ => None,
        })
        .collect()
}

fn created_policies(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    match stmt {
        NodeEnum::CreatePolicyStmt(s) => s
            .table
            .iter()
            .filter(|t| existed(cx, t))
            .map(|t| {
                format!(
                    "creating policy {} on {}: under row level security, code deployed before the migration reads and writes other rows",
                    quote_ident(&s.policy_name),
                    rangevar_name(t)
                )
            })
            .collect(),
        _ => vec![],
    }
}

fn policy_conditions(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let NodeEnum::AlterPolicyStmt(s) = stmt else {
        return vec![];
    };
    let Some(t) = s.table.as_ref().filter(|t| existed(cx, t)) else {
        return vec![];
    };
    [
        ("USING", s.qual.is_some(), "rows code can read"),
        ("WITH CHECK", s.with_check.is_some(), "writes code may make"),
    ]
    .into_iter()
    .filter(|(_, given, _)| *given)
    .map(|(clause, _, what)| {
        format!(
            "changing the {clause} condition of policy {} on {}: the {what} change",
            quote_ident(&s.policy_name),
            rangevar_name(t)
        )
    })
    .collect()
}

fn policy_roles(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    match stmt {
        NodeEnum::AlterPolicyStmt(s) if !s.roles.is_empty() => s
            .table
            .iter()
            .filter(|t| existed(cx, t))
            .map(|t| {
                format!(
                    "changing the roles of policy {} on {} to {}: code running as another role no longer gets its rows",
                    quote_ident(&s.policy_name),
                    rangevar_name(t),
                    names(&s.roles)
                )
            })
            .collect(),
        _ => vec![],
    }
}

fn row_level_security(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    use AlterTableType as A;
    alter_cmds(stmt)
        .into_iter()
        .filter(|(rel, _)| existed(cx, rel))
        .filter_map(|(rel, c)| {
            let (what, effect) = match subtype(c) {
                A::AtEnableRowSecurity => ("enabling", "code sees only the rows a policy grants"),
                A::AtForceRowSecurity => (
                    "forcing",
                    "even the table's owner sees only the rows a policy grants",
                ),
                A::AtDisableRowSecurity => ("disabling", "code sees rows the policies hid"),
                A::AtNoForceRowSecurity => (
                    "no longer forcing",
                    "the table's owner sees rows the policies hid",
                ),
                _ => return None,
            };
            Some(format!(
                "{what} row level security on {}: {effect}",
                rangevar_name(rel)
            ))
        })
        .collect()
}

/// What a REVOKE (or ALTER DEFAULT PRIVILEGES ... REVOKE) takes away, and from whom; `None` for
/// a GRANT or when it only concerns tables the file created.
fn revoked(g: &GrantStmt, cx: &FileContext) -> Option<String> {
    if g.is_grant {
        return None;
    }
    // Privilege names are key words, not identifiers: written as they are, in capitals.
    let privileges: Vec<String> = g
        .privileges
        .iter()
        .filter_map(|p| match p.node.as_ref()? {
            NodeEnum::AccessPriv(p) if p.cols.is_empty() => Some(p.priv_name.to_uppercase()),
            NodeEnum::AccessPriv(p) => Some(format!(
                "{} ({})",
                p.priv_name.to_uppercase(),
                names(&p.cols)
            )),
            _ => None,
        })
        .collect();
    let privileges = if privileges.is_empty() {
        "ALL".to_string()
    } else {
        privileges.join(", ")
    };
    let (what, effect) = if g.grant_option {
        (
            format!("the grant option for {privileges}"),
            "code running as it can no longer pass them on",
        )
    } else {
        (
            privileges,
            "code running as it fails with permission denied",
        )
    };
    let on = match GrantTargetType::try_from(g.targtype) {
        Ok(GrantTargetType::AclTargetAllInSchema) => {
            format!(
                "all {}s in schema {}",
                object_noun(g.objtype),
                names(&g.objects)
            )
        }
        Ok(GrantTargetType::AclTargetDefaults) => {
            format!("{}s created later", object_noun(g.objtype))
        }
        _ => {
            // Tables the file created are left out; a REVOKE on nothing else is fine.
            let kept: Vec<Node> = g
                .objects
                .iter()
                .filter(|o| match o.node.as_ref() {
                    Some(NodeEnum::RangeVar(r)) => existed(cx, r),
                    _ => true,
                })
                .cloned()
                .collect();
            if kept.is_empty() && !g.objects.is_empty() {
                return None;
            }
            format!("{} {}", object_noun(g.objtype), names(&kept))
        }
    };
    Some(format!(
        "revoking {what} on {on} from {}: {effect}",
        names(&g.grantees)
    ))
}

fn revokes(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let message = match stmt {
        NodeEnum::GrantStmt(g) => revoked(g, cx),
        NodeEnum::AlterDefaultPrivilegesStmt(s) => s
            .action
            .as_ref()
            .and_then(|g| revoked(g, cx))
            .map(|m| format!("default privileges: {m}")),
        NodeEnum::GrantRoleStmt(s) if !s.is_grant => Some(format!(
            "revoking role {} from {}: code running as it loses that role's privileges",
            names(&s.granted_roles),
            names(&s.grantee_roles)
        )),
        // ALTER GROUP ... DROP USER: the parser's action -1 (ADD USER is +1, like ALTER ROLE).
        NodeEnum::AlterRoleStmt(s) if s.action == -1 => {
            let members = s.options.iter().find_map(|o| match o.node.as_ref()? {
                NodeEnum::DefElem(e) if e.defname == "rolemembers" => {
                    match e.arg.as_ref()?.node.as_ref()? {
                        NodeEnum::List(l) => Some(names(&l.items)),
                        _ => None,
                    }
                }
                _ => None,
            });
            Some(format!(
                "removing {} from role {}: code running as them loses that role's privileges",
                members.unwrap_or_default(),
                s.role.as_ref().map(role_spec).unwrap_or_default()
            ))
        }
        NodeEnum::DropRoleStmt(s) => Some(format!(
            "dropping role {}: code that logs in as it, or relies on its privileges, fails",
            names(&s.roles)
        )),
        NodeEnum::DropOwnedStmt(s) => Some(format!(
            "dropping what {} owns and its privileges: code running as it loses them",
            names(&s.roles)
        )),
        NodeEnum::ReassignOwnedStmt(s) => Some(format!(
            "reassigning what {} owns to {}: code running as the old owner loses the owner's rights",
            names(&s.roles),
            s.newrole.as_ref().map(role_spec).unwrap_or_default()
        )),
        _ => None,
    };
    message.into_iter().chain(owner_changes(stmt, cx)).collect()
}

/// `OWNER TO` on any object (ALTER TABLE's only on a table that existed before the file).
fn owner_changes(stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
    let owner = |what: String, to: Option<&RoleSpec>| {
        format!(
            "changing the owner of {what} to {}: code running as the old owner loses the owner's rights",
            to.map(role_spec).unwrap_or_default()
        )
    };
    match stmt {
        NodeEnum::AlterOwnerStmt(s) => {
            let name = match s.relation.as_ref() {
                Some(r) => rangevar_name(r),
                None => names(
                    s.object
                        .as_deref()
                        .map(std::slice::from_ref)
                        .unwrap_or_default(),
                ),
            };
            vec![owner(
                format!("{} {name}", object_noun(s.object_type)),
                s.newowner.as_ref(),
            )]
        }
        NodeEnum::AlterTableStmt(s) => alter_cmds(stmt)
            .into_iter()
            .filter(|(rel, c)| subtype(c) == AlterTableType::AtChangeOwner && existed(cx, rel))
            .map(|(rel, c)| {
                owner(
                    format!("{} {}", object_noun(s.objtype), rangevar_name(rel)),
                    c.newowner.as_ref(),
                )
            })
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{both, run};
    use super::*;

    // After squawk's own tests for these rules (v2.68.0), positive and negative; every rule is
    // silent unless the file includes it.
    #[test]
    fn each_rule_flags_what_squawk_flags_when_included() {
        for (rule, sql, n) in [
            (
                &DROP_POLICY,
                "DROP POLICY IF EXISTS p ON t; DROP RULE IF EXISTS r ON t;",
                2,
            ),
            (&DROP_POLICY, "DROP POLICY p ON app.t;", 1),
            (&CREATE_POLICY, "CREATE POLICY p ON t USING (true);", 1),
            (
                &CREATE_POLICY,
                "CREATE POLICY p ON accounts TO app_user USING (owner_id = 1);",
                1,
            ),
            // One finding per condition.
            (
                &ALTER_POLICY_CONDITION,
                "ALTER POLICY p ON t USING (true) WITH CHECK (false);",
                2,
            ),
            (&ALTER_POLICY_CONDITION, "ALTER POLICY p ON t WITH CHECK (true);", 1),
            (&ALTER_POLICY_ROLES, "ALTER POLICY p ON t TO admin;", 1),
            (
                &ALTER_POLICY_ROLES,
                "ALTER POLICY p ON t TO admin USING (true);",
                1,
            ),
            (
                &ALTER_ROW_LEVEL_SECURITY,
                "ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t DISABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY; ALTER TABLE t NO FORCE ROW LEVEL SECURITY;",
                4,
            ),
            (
                &REVOKE,
                "REVOKE SELECT ON t FROM app; ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM app;",
                2,
            ),
            (
                &REVOKE,
                "ALTER FOREIGN TABLE ft OWNER TO app; ALTER DOMAIN d OWNER TO app;",
                2,
            ),
            (&REVOKE, "DROP OWNED BY app; DROP ROLE app;", 2),
            (
                &REVOKE,
                "REASSIGN OWNED BY app TO admin; ALTER TABLE t OWNER TO admin; DROP USER app;",
                3,
            ),
            (&REVOKE, "ALTER GROUP writers DROP USER app, worker;", 1),
            (
                &REVOKE,
                "REVOKE admin FROM app; REVOKE EXECUTE ON FUNCTION f(int) FROM PUBLIC; REVOKE ALL ON ALL TABLES IN SCHEMA public FROM app;",
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
                &DROP_POLICY,
                "CREATE POLICY p ON t USING (true); ALTER POLICY p ON t USING (true);",
            ),
            (&CREATE_POLICY, "DROP POLICY p ON t;"),
            (&ALTER_POLICY_CONDITION, "ALTER POLICY p ON t TO admin;"),
            (&ALTER_POLICY_CONDITION, "ALTER POLICY p ON t RENAME TO q;"),
            (&ALTER_POLICY_ROLES, "ALTER POLICY p ON t USING (true);"),
            (&ALTER_POLICY_ROLES, "ALTER POLICY p ON t RENAME TO q;"),
            (&ALTER_ROW_LEVEL_SECURITY, "ALTER TABLE t ADD COLUMN c int;"),
            (
                &REVOKE,
                "GRANT SELECT ON t TO app; GRANT admin TO app; ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO app;",
            ),
            (&REVOKE, "ALTER TABLE t SET SCHEMA s;"),
            (
                &REVOKE,
                "ALTER GROUP writers ADD USER app; ALTER GROUP writers RENAME TO editors; ALTER ROLE app NOLOGIN;",
            ),
        ] {
            assert_eq!(both(rule, sql), (0, 0), "{sql}");
        }
    }

    // Not in squawk: a table the file creates has no deployed code using it yet.
    #[test]
    fn a_table_the_file_creates_is_not_reported() {
        let create = "CREATE TABLE app.t (id int);";
        for (rule, sql) in [
            (&CREATE_POLICY, "CREATE POLICY p ON app.t USING (true);"),
            (
                &ALTER_POLICY_CONDITION,
                "ALTER POLICY p ON app.t USING (true) WITH CHECK (true);",
            ),
            (&ALTER_POLICY_ROLES, "ALTER POLICY p ON app.t TO admin;"),
            (&DROP_POLICY, "DROP POLICY p ON app.t; DROP RULE r ON app.t;"),
            (
                &ALTER_ROW_LEVEL_SECURITY,
                "ALTER TABLE app.t ENABLE ROW LEVEL SECURITY; ALTER TABLE app.t FORCE ROW LEVEL SECURITY;",
            ),
            (
                &REVOKE,
                "REVOKE ALL ON app.t FROM PUBLIC; ALTER TABLE app.t OWNER TO app;",
            ),
        ] {
            assert_eq!(both(rule, &format!("{create}\n{sql}")), (0, 0), "{sql}");
            // The same statements on a table that existed before are reported.
            assert!(both(rule, sql).0 > 0, "{sql}");
        }
        // Only the tables that existed before count.
        let sql = "-- dbdoctor:include ban-revoke\nCREATE TABLE t (id int);\nREVOKE SELECT ON t, u FROM app;";
        assert_eq!(
            run(&REVOKE, sql, false),
            ["revoking SELECT on table u from app: code running as it fails with permission denied"]
        );
    }

    #[test]
    fn messages_name_the_object() {
        let first = |rule: &OptIn, sql: &str| {
            run(
                rule,
                &format!("-- dbdoctor:include {}\n{sql}", rule.name),
                false,
            )
            .first()
            .cloned()
            .unwrap_or_default()
        };
        assert!(first(&DROP_POLICY, "DROP POLICY p ON app.t;")
            .starts_with("dropping policy p on app.t: "));
        assert!(first(&CREATE_POLICY, "CREATE POLICY p ON t USING (true);")
            .starts_with("creating policy p on t: "));
        assert!(
            first(&ALTER_POLICY_ROLES, "ALTER POLICY p ON t TO admin, PUBLIC;")
                .starts_with("changing the roles of policy p on t to admin, PUBLIC: ")
        );
        assert!(first(
            &ALTER_POLICY_CONDITION,
            "ALTER POLICY p ON t WITH CHECK (true);"
        )
        .starts_with("changing the WITH CHECK condition of policy p on t: "));
        assert!(first(
            &ALTER_ROW_LEVEL_SECURITY,
            "ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
        )
        .starts_with("enabling row level security on t: "));
        assert!(first(&REVOKE, "REVOKE SELECT, UPDATE ON t FROM app;")
            .starts_with("revoking SELECT, UPDATE on table t from app: "));
        assert!(first(&REVOKE, "ALTER DOMAIN d OWNER TO app;")
            .starts_with("changing the owner of domain d to app: "));
        assert!(first(&REVOKE, "ALTER GROUP writers DROP USER app, worker;")
            .starts_with("removing app, worker from role writers: "));
    }
}
