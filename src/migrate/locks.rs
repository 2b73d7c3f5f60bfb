//! The table lock a statement takes, read from PostgreSQL's parse tree (used by `validate` and
//! by `apply --dry-run`).

use pg_query::protobuf::{AlterTableType, ConstrType, ObjectType, RangeVar};
use pg_query::NodeEnum;

use crate::util::quote_ident;

/// PostgreSQL's table lock levels, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LockLevel {
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

impl LockLevel {
    pub fn name(self) -> &'static str {
        match self {
            LockLevel::AccessShare => "ACCESS SHARE",
            LockLevel::RowShare => "ROW SHARE",
            LockLevel::RowExclusive => "ROW EXCLUSIVE",
            LockLevel::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockLevel::Share => "SHARE",
            LockLevel::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockLevel::Exclusive => "EXCLUSIVE",
            LockLevel::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// The level as pg_locks names its mode, without the `Lock` suffix (`AccessShare`).
    pub fn mode_name(self) -> String {
        self.name()
            .split(' ')
            .map(|w| w[..1].to_string() + &w[1..].to_ascii_lowercase())
            .collect()
    }

    /// The level of a `pg_locks.mode` (`AccessShareLock`).
    pub fn from_pg(mode: &str) -> Option<Self> {
        use serde::de::{value, IntoDeserializer};
        use serde::Deserialize;
        // `ShareUpdateExclusiveLock` -> `SHARE_UPDATE_EXCLUSIVE`, the level's serde name.
        let mut name = String::new();
        for c in mode.strip_suffix("Lock")?.chars() {
            if c.is_ascii_uppercase() && !name.is_empty() {
                name.push('_');
            }
            name.push(c.to_ascii_uppercase());
        }
        let d: value::StrDeserializer<value::Error> = name.as_str().into_deserializer();
        LockLevel::deserialize(d).ok()
    }

    /// INSERT/UPDATE/DELETE (ROW EXCLUSIVE) wait behind this level.
    pub fn blocks_writes(self) -> bool {
        self >= LockLevel::Share
    }

    /// What the lock stops others from doing, in words.
    pub fn blocks(self) -> &'static str {
        match self {
            LockLevel::AccessShare | LockLevel::RowShare | LockLevel::RowExclusive => {
                "blocks only DDL"
            }
            LockLevel::ShareUpdateExclusive => "blocks other DDL and VACUUM, not reads or writes",
            LockLevel::Share | LockLevel::ShareRowExclusive | LockLevel::Exclusive => {
                "blocks writes"
            }
            LockLevel::AccessExclusive => "blocks reads and writes",
        }
    }
}

/// Serializes relation -> level by the levels' mode names (`{"t": "AccessExclusive"}`), as
/// traces write them.
pub fn serialize_mode_names<S: serde::Serializer>(
    locks: &std::collections::BTreeMap<String, LockLevel>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(locks.iter().map(|(r, l)| (r, l.mode_name())))
}

/// The lock a statement takes and on which relation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementLock {
    pub level: LockLevel,
    /// Schema-qualified when the statement qualifies it, quoted as needed.
    pub relation: String,
}

impl StatementLock {
    pub fn describe(&self) -> String {
        format!("{} on {}", self.level.name(), self.relation)
    }
}

/// `schema.name` from a RangeVar, quoted as needed.
pub fn rangevar_name(rv: &RangeVar) -> String {
    if rv.schemaname.is_empty() {
        quote_ident(&rv.relname)
    } else {
        format!(
            "{}.{}",
            quote_ident(&rv.schemaname),
            quote_ident(&rv.relname)
        )
    }
}

/// Names from a list of String nodes (`schema.index`), quoted as needed.
pub fn dotted_name(items: &[pg_query::Node]) -> String {
    items
        .iter()
        .filter_map(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(quote_ident(&s.sval)),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The objects a DROP statement names.
pub fn drop_objects(objects: &[pg_query::Node]) -> Vec<String> {
    objects
        .iter()
        .filter_map(|o| match o.node.as_ref() {
            Some(NodeEnum::List(l)) => Some(dotted_name(&l.items)),
            Some(NodeEnum::String(s)) => Some(quote_ident(&s.sval)),
            _ => None,
        })
        .collect()
}

/// The strongest lock a statement takes on an existing relation, if any.
pub fn statement_lock(node: &NodeEnum) -> Option<StatementLock> {
    let lock = |level, relation: String| Some(StatementLock { level, relation });
    // The lock on the statement's relation; none when it names none.
    let on = |level, rv: &Option<RangeVar>| lock(level, rangevar_name(rv.as_ref()?));
    match node {
        NodeEnum::IndexStmt(s) => {
            let level = if s.concurrent {
                LockLevel::ShareUpdateExclusive
            } else {
                LockLevel::Share
            };
            on(level, &s.relation)
        }
        NodeEnum::DropStmt(s) => {
            let obj = drop_objects(&s.objects).join(", ");
            match ObjectType::try_from(s.remove_type).ok()? {
                ObjectType::ObjectIndex if s.concurrent => {
                    lock(LockLevel::ShareUpdateExclusive, obj)
                }
                ObjectType::ObjectIndex
                | ObjectType::ObjectTable
                | ObjectType::ObjectSequence
                | ObjectType::ObjectMatview
                | ObjectType::ObjectView => lock(LockLevel::AccessExclusive, obj),
                _ => None,
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let mut level = None;
            for cmd in &s.cmds {
                let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else {
                    continue;
                };
                let l = match AlterTableType::try_from(c.subtype)
                    .unwrap_or(AlterTableType::Undefined)
                {
                    AlterTableType::AtValidateConstraint
                    | AlterTableType::AtSetStatistics
                    | AlterTableType::AtAttachPartition
                    | AlterTableType::AtDetachPartitionFinalize
                    | AlterTableType::AtClusterOn
                    | AlterTableType::AtDropCluster => LockLevel::ShareUpdateExclusive,
                    AlterTableType::AtAddConstraint => {
                        match c.def.as_ref().and_then(|d| d.node.as_ref()) {
                            Some(NodeEnum::Constraint(k))
                                if k.contype == ConstrType::ConstrForeign as i32 =>
                            {
                                LockLevel::ShareRowExclusive
                            }
                            _ => LockLevel::AccessExclusive,
                        }
                    }
                    AlterTableType::AtEnableTrig
                    | AlterTableType::AtDisableTrig
                    | AlterTableType::AtEnableTrigAll
                    | AlterTableType::AtDisableTrigAll
                    | AlterTableType::AtEnableTrigUser
                    | AlterTableType::AtDisableTrigUser => LockLevel::ShareRowExclusive,
                    _ => LockLevel::AccessExclusive,
                };
                level = level.max(Some(l));
            }
            on(level.unwrap_or(LockLevel::AccessExclusive), &s.relation)
        }
        NodeEnum::RenameStmt(s) => on(LockLevel::AccessExclusive, &s.relation),
        NodeEnum::TruncateStmt(s) => {
            let rels: Vec<String> = s
                .relations
                .iter()
                .filter_map(|r| match r.node.as_ref() {
                    Some(NodeEnum::RangeVar(rv)) => Some(rangevar_name(rv)),
                    _ => None,
                })
                .collect();
            lock(LockLevel::AccessExclusive, rels.join(", "))
        }
        NodeEnum::ReindexStmt(s) => {
            let concurrent = s.params.iter().any(|p| {
                matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
            });
            let level = if concurrent {
                LockLevel::ShareUpdateExclusive
            } else {
                LockLevel::AccessExclusive
            };
            on(level, &s.relation)
        }
        NodeEnum::CreateTrigStmt(s) => on(LockLevel::ShareRowExclusive, &s.relation),
        NodeEnum::InsertStmt(s) => on(LockLevel::RowExclusive, &s.relation),
        NodeEnum::UpdateStmt(s) => on(LockLevel::RowExclusive, &s.relation),
        NodeEnum::DeleteStmt(s) => on(LockLevel::RowExclusive, &s.relation),
        _ => None,
    }
}

/// Parse one statement and return its lock (None when it does not parse or takes none).
pub fn lock_of_sql(sql: &str) -> Option<StatementLock> {
    let parsed = pg_query::parse(sql).ok()?;
    let raw = parsed.protobuf.stmts.first()?;
    let node = raw.stmt.as_ref()?.node.as_ref()?;
    statement_lock(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(sql: &str) -> Option<String> {
        lock_of_sql(sql).map(|l| l.describe())
    }

    #[test]
    fn locks_by_statement() {
        assert_eq!(l("CREATE INDEX i ON meals (a)").unwrap(), "SHARE on meals");
        assert_eq!(
            l("CREATE INDEX CONCURRENTLY i ON s.meals (a)").unwrap(),
            "SHARE UPDATE EXCLUSIVE on s.meals"
        );
        assert_eq!(l("DROP INDEX i").unwrap(), "ACCESS EXCLUSIVE on i");
        assert_eq!(
            l("DROP INDEX CONCURRENTLY IF EXISTS public.i").unwrap(),
            "SHARE UPDATE EXCLUSIVE on public.i"
        );
        assert_eq!(
            l("ALTER TABLE meals ADD COLUMN x int").unwrap(),
            "ACCESS EXCLUSIVE on meals"
        );
        assert_eq!(
            l("ALTER TABLE meals ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id) NOT VALID")
                .unwrap(),
            "SHARE ROW EXCLUSIVE on meals"
        );
        assert_eq!(
            l("ALTER TABLE meals VALIDATE CONSTRAINT f").unwrap(),
            "SHARE UPDATE EXCLUSIVE on meals"
        );
        assert_eq!(
            l("ALTER TABLE \"Meals\" RENAME TO m").unwrap(),
            "ACCESS EXCLUSIVE on \"Meals\""
        );
        assert_eq!(l("CREATE TABLE t (a int)"), None);
        assert_eq!(l("SELECT 1"), None);
    }
}
