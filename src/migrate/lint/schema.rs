//! A model of the tables and columns the migration files build, so each statement is judged
//! against what it runs on (which tables are new, a column's old type, nullability, default).

use std::collections::HashMap;

use pg_query::protobuf::{AlterTableType, ConstrType, RangeVar, TypeName};
use pg_query::NodeEnum;

use super::{added_column, alter_cmds, column_constraints, subtype};
use crate::util::quote_ident;

/// A column type as PostgreSQL spells it internally: `varchar` with modifiers `[254]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColType {
    /// Last part of the type name, lowercased, serial types mapped to their integer type.
    pub name: String,
    /// Type modifiers (length, precision, scale); empty when unconstrained.
    pub mods: Vec<i64>,
    pub array: bool,
}

impl ColType {
    pub fn from_type_name(t: &TypeName) -> Option<ColType> {
        let name = t.names.last().and_then(|n| match n.node.as_ref() {
            Some(NodeEnum::String(s)) => Some(s.sval.to_lowercase()),
            _ => None,
        })?;
        let name = match name.as_str() {
            "serial" | "serial4" => "int4".to_string(),
            "bigserial" | "serial8" => "int8".to_string(),
            "smallserial" | "serial2" => "int2".to_string(),
            "integer" | "int" => "int4".to_string(),
            _ => name,
        };
        let mut mods = Vec::new();
        for m in &t.typmods {
            match m.node.as_ref() {
                Some(NodeEnum::AConst(c)) => match c.val.as_ref() {
                    Some(pg_query::protobuf::a_const::Val::Ival(i)) => mods.push(i64::from(i.ival)),
                    _ => return None,
                },
                _ => return None,
            }
        }
        Some(ColType {
            name,
            mods,
            array: !t.array_bounds.is_empty(),
        })
    }

    /// Parse a type as `format_type()` prints it (`character varying(75)`).
    pub fn parse(text: &str) -> Option<ColType> {
        let parsed = pg_query::parse(&format!("SELECT NULL::{text}")).ok()?;
        let stmt = parsed
            .protobuf
            .stmts
            .first()?
            .stmt
            .as_ref()?
            .node
            .as_ref()?;
        let NodeEnum::SelectStmt(s) = stmt else {
            return None;
        };
        let target = s.target_list.first()?.node.as_ref()?;
        let NodeEnum::ResTarget(r) = target else {
            return None;
        };
        match r.val.as_ref()?.node.as_ref()? {
            NodeEnum::TypeCast(c) => ColType::from_type_name(c.type_name.as_ref()?),
            _ => None,
        }
    }

    /// The type as a user would write it.
    pub fn display(&self) -> String {
        let base = match self.name.as_str() {
            "int4" => "integer",
            "int8" => "bigint",
            "int2" => "smallint",
            "bpchar" => "char",
            "varbit" => "bit varying",
            "bool" => "boolean",
            "float8" => "double precision",
            "float4" => "real",
            other => other,
        };
        let mods = if self.mods.is_empty() {
            String::new()
        } else {
            format!(
                "({})",
                self.mods
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        format!("{base}{mods}{}", if self.array { "[]" } else { "" })
    }
}

/// What PostgreSQL does to the table when a column changes type (ALTER TABLE docs; the rules of
/// `ATColumnChangeRequiresRewrite` and the length-coercion support functions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeChange {
    /// Binary-coercible or a widened limit: catalog change only, no rewrite, indexes kept.
    Free,
    /// The table and all its indexes are rewritten under ACCESS EXCLUSIVE.
    Rewrite,
    /// timestamp <-> timestamptz: no rewrite when the session TimeZone is UTC (PostgreSQL 12+),
    /// but indexes on the column are rebuilt (a scan); otherwise a rewrite.
    RewriteUnlessUtc,
}

fn widened(old: &[i64], new: &[i64]) -> bool {
    // Removing the limit, or raising it, keeps every stored value valid and unchanged.
    new.is_empty() || (!old.is_empty() && old.len() == new.len() && new[0] >= old[0])
}

pub fn classify(old: &ColType, new: &ColType) -> TypeChange {
    if old == new {
        return TypeChange::Free;
    }
    if old.array != new.array {
        return TypeChange::Rewrite;
    }
    let (o, n) = (old.name.as_str(), new.name.as_str());
    let free = match (o, n) {
        ("varchar", "varchar") | ("varbit", "varbit") => widened(&old.mods, &new.mods),
        ("varchar", "text") => true,
        ("text", "varchar") => new.mods.is_empty(),
        ("numeric", "numeric") => {
            new.mods.is_empty()
                || (old.mods.len() == new.mods.len()
                    && !old.mods.is_empty()
                    && new.mods[0] >= old.mods[0]
                    && old.mods.get(1).copied().unwrap_or(0)
                        == new.mods.get(1).copied().unwrap_or(0))
        }
        ("timestamp", "timestamp")
        | ("timestamptz", "timestamptz")
        | ("time", "time")
        | ("timetz", "timetz")
        | ("interval", "interval") => widened(&old.mods, &new.mods),
        ("cidr", "inet") => true,
        ("timestamp", "timestamptz") | ("timestamptz", "timestamp") => {
            return TypeChange::RewriteUnlessUtc
        }
        _ => false,
    };
    if free {
        TypeChange::Free
    } else {
        TypeChange::Rewrite
    }
}

#[derive(Debug, Clone, Default)]
pub struct Column {
    pub ty: Option<ColType>,
    pub not_null: bool,
    pub has_default: bool,
    /// Added with `DEFAULT ... NOT NULL` by the current file (code deployed before does not
    /// know it): the line of that ADD COLUMN.
    pub added_required_at: Option<usize>,
    /// The current file set this default itself (line): dropping it again restores the state
    /// deployed code already works with.
    pub default_set_at: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: HashMap<String, Column>,
    /// File (display name) and line of the CREATE TABLE, when a file created it.
    pub created: Option<(String, usize)>,
}

/// Tables by [`table_key`].
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub tables: HashMap<String, Table>,
}

/// A table's name as the model keys it: `public.` dropped, quoted as needed.
pub fn table_key(rv: &RangeVar) -> String {
    if rv.schemaname.is_empty() || rv.schemaname == "public" {
        quote_ident(&rv.relname)
    } else {
        format!(
            "{}.{}",
            quote_ident(&rv.schemaname),
            quote_ident(&rv.relname)
        )
    }
}

fn column_of(c: &pg_query::protobuf::ColumnDef) -> Column {
    let mut col = Column {
        ty: c.type_name.as_ref().and_then(ColType::from_type_name),
        ..Default::default()
    };
    for k in column_constraints(c) {
        match ConstrType::try_from(k.contype).unwrap_or(ConstrType::Undefined) {
            ConstrType::ConstrNotnull | ConstrType::ConstrPrimary | ConstrType::ConstrIdentity => {
                col.not_null = true
            }
            ConstrType::ConstrDefault => col.has_default = true,
            _ => {}
        }
    }
    if c.is_not_null {
        col.not_null = true;
    }
    col
}

impl Schema {
    pub fn table(&self, rv: &RangeVar) -> Option<&Table> {
        self.tables.get(&table_key(rv))
    }

    pub fn column(&self, rv: &RangeVar, name: &str) -> Option<&Column> {
        self.table(rv)?.columns.get(name)
    }

    /// Forget per-file facts before the next file.
    pub fn end_file(&mut self) {
        for t in self.tables.values_mut() {
            for c in t.columns.values_mut() {
                c.added_required_at = None;
                c.default_set_at = None;
            }
        }
    }

    /// Record what one statement does to the schema.
    pub fn apply(&mut self, node: &NodeEnum, file: &str, line: usize) {
        match node {
            NodeEnum::CreateStmt(s) => {
                let Some(rv) = s.relation.as_ref() else {
                    return;
                };
                let key = table_key(rv);
                if s.if_not_exists && self.tables.contains_key(&key) {
                    return;
                }
                let mut t = Table {
                    created: Some((file.to_string(), line)),
                    ..Default::default()
                };
                for e in &s.table_elts {
                    if let Some(NodeEnum::ColumnDef(c)) = e.node.as_ref() {
                        t.columns.insert(c.colname.clone(), column_of(c));
                    }
                }
                self.tables.insert(key, t);
            }
            NodeEnum::DropStmt(s)
                if s.remove_type == pg_query::protobuf::ObjectType::ObjectTable as i32 =>
            {
                for name in super::super::locks::drop_objects(&s.objects) {
                    let name = name.strip_prefix("public.").unwrap_or(&name).to_string();
                    self.tables.remove(&name);
                }
            }
            NodeEnum::RenameStmt(s) => {
                let Some(rv) = s.relation.as_ref() else {
                    return;
                };
                let key = table_key(rv);
                if s.rename_type == pg_query::protobuf::ObjectType::ObjectColumn as i32 {
                    if let Some(t) = self.tables.get_mut(&key) {
                        if let Some(c) = t.columns.remove(&s.subname) {
                            t.columns.insert(s.newname.clone(), c);
                        }
                    }
                } else if s.rename_type == pg_query::protobuf::ObjectType::ObjectTable as i32 {
                    if let Some(t) = self.tables.remove(&key) {
                        let new = RangeVar {
                            schemaname: rv.schemaname.clone(),
                            relname: s.newname.clone(),
                            ..Default::default()
                        };
                        self.tables.insert(table_key(&new), t);
                    }
                }
            }
            NodeEnum::AlterTableStmt(_) => {
                for (rv, cmd) in alter_cmds(node) {
                    let t = self.tables.entry(table_key(rv)).or_default();
                    match subtype(cmd) {
                        AlterTableType::AtAddColumn => {
                            if let Some(c) = added_column(cmd) {
                                let mut col = column_of(c);
                                if col.not_null && col.has_default {
                                    col.added_required_at = Some(line);
                                }
                                t.columns.insert(c.colname.clone(), col);
                            }
                        }
                        AlterTableType::AtDropColumn => {
                            t.columns.remove(&cmd.name);
                        }
                        AlterTableType::AtSetNotNull => {
                            t.columns.entry(cmd.name.clone()).or_default().not_null = true;
                        }
                        AlterTableType::AtDropNotNull => {
                            t.columns.entry(cmd.name.clone()).or_default().not_null = false;
                        }
                        AlterTableType::AtColumnDefault => {
                            // `def` is the new default; none means DROP DEFAULT.
                            let c = t.columns.entry(cmd.name.clone()).or_default();
                            c.has_default = cmd.def.is_some();
                            if cmd.def.is_some() {
                                c.default_set_at = Some(line);
                            }
                        }
                        AlterTableType::AtAlterColumnType => {
                            if let Some(NodeEnum::ColumnDef(c)) =
                                cmd.def.as_ref().and_then(|d| d.node.as_ref())
                            {
                                t.columns.entry(cmd.name.clone()).or_default().ty =
                                    c.type_name.as_ref().and_then(ColType::from_type_name);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> ColType {
        ColType::parse(s).unwrap()
    }

    #[test]
    fn parses_types_both_ways() {
        assert_eq!(t("character varying(75)"), t("varchar(75)"));
        assert_eq!(t("varchar(75)").mods, vec![75]);
        assert_eq!(t("numeric(10, 2)").mods, vec![10, 2]);
        assert_eq!(t("integer").name, "int4");
        assert_eq!(t("timestamp with time zone").name, "timestamptz");
        assert_eq!(t("VARCHAR(80)").display(), "varchar(80)");
        assert_eq!(t("int[]").display(), "integer[]");
    }

    #[test]
    fn postgres_rules_for_type_changes() {
        use TypeChange::*;
        let c = |a: &str, b: &str| classify(&t(a), &t(b));
        assert_eq!(c("varchar(75)", "varchar(254)"), Free);
        assert_eq!(c("varchar(75)", "varchar"), Free);
        assert_eq!(c("varchar(75)", "text"), Free);
        assert_eq!(c("text", "varchar"), Free);
        assert_eq!(c("numeric(10,2)", "numeric(12,2)"), Free);
        assert_eq!(c("numeric(10,2)", "numeric"), Free);
        assert_eq!(c("cidr", "inet"), Free);
        assert_eq!(c("varbit(4)", "varbit(8)"), Free);
        assert_eq!(c("timestamp(3)", "timestamp(6)"), Free);
        assert_eq!(c("varchar(100)", "varchar(80)"), Rewrite);
        assert_eq!(c("varchar", "varchar(80)"), Rewrite);
        assert_eq!(c("text", "varchar(80)"), Rewrite);
        assert_eq!(c("numeric(10,2)", "numeric(12,3)"), Rewrite);
        assert_eq!(c("numeric", "numeric(12,2)"), Rewrite);
        assert_eq!(c("integer", "bigint"), Rewrite);
        assert_eq!(c("char(5)", "char(10)"), Rewrite);
        assert_eq!(c("inet", "cidr"), Rewrite);
        assert_eq!(c("timestamp", "timestamptz"), RewriteUnlessUtc);
    }
}
