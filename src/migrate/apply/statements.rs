//! The statements of a migration file, split and parsed once: the lock each takes, the index a
//! concurrent build leaves behind, what it drops, and where it is in the file.

use pg_query::protobuf::{AlterTableType, ObjectType};
use pg_query::NodeEnum;

use crate::migrate::backup::DataLoss;
use crate::migrate::locks::{drop_objects, rangevar_name, statement_lock, StatementLock};
use crate::migrate::source::SqlFile;
use crate::migrate::split::{split, Statement};
use crate::util::quote_ident;

/// A statement of a migration file, parsed once.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) stmt: Statement,
    pub(super) lock: Option<StatementLock>,
    /// For CREATE INDEX CONCURRENTLY: the index name (schema-qualified when the table is), so a
    /// leftover invalid index can be dropped.
    pub(super) concurrent_index: Option<String>,
    /// Indexes this statement drops (their definitions go into the backup).
    pub(super) drops_indexes: Vec<String>,
    /// Tables and columns whose data this statement removes or rewrites (saved before the run).
    pub(super) data_loss: Vec<DataLoss>,
}

pub(super) fn plan_file(file: &SqlFile) -> Vec<Planned> {
    split(&file.sql)
        .into_iter()
        .map(|stmt| {
            let parsed = pg_query::parse(&stmt.text).ok();
            let node = parsed
                .as_ref()
                .and_then(|p| p.protobuf.stmts.first())
                .and_then(|r| r.stmt.as_ref())
                .and_then(|n| n.node.clone());
            let lock = node.as_ref().and_then(statement_lock);
            let mut concurrent_index = None;
            let mut drops_indexes = Vec::new();
            let mut data_loss = Vec::new();
            match &node {
                Some(NodeEnum::IndexStmt(s)) if s.concurrent && !s.idxname.is_empty() => {
                    let schema = s
                        .relation
                        .as_ref()
                        .map(|r| r.schemaname.clone())
                        .unwrap_or_default();
                    concurrent_index = Some(if schema.is_empty() {
                        quote_ident(&s.idxname)
                    } else {
                        format!("{}.{}", quote_ident(&schema), quote_ident(&s.idxname))
                    });
                }
                Some(NodeEnum::DropStmt(s)) if s.remove_type == ObjectType::ObjectIndex as i32 => {
                    drops_indexes = drop_objects(&s.objects);
                }
                Some(NodeEnum::DropStmt(s)) if s.remove_type == ObjectType::ObjectTable as i32 => {
                    data_loss = drop_objects(&s.objects)
                        .into_iter()
                        .map(|table| DataLoss::Table { table })
                        .collect();
                }
                Some(NodeEnum::AlterTableStmt(s)) => {
                    if let Some(rel) = s.relation.as_ref() {
                        let table = rangevar_name(rel);
                        for cmd in &s.cmds {
                            if let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() {
                                let sub = AlterTableType::try_from(c.subtype)
                                    .unwrap_or(AlterTableType::Undefined);
                                if matches!(
                                    sub,
                                    AlterTableType::AtDropColumn
                                        | AlterTableType::AtAlterColumnType
                                ) && !c.name.is_empty()
                                {
                                    data_loss.push(DataLoss::Column {
                                        table: table.clone(),
                                        column: c.name.clone(),
                                    });
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            Planned {
                stmt,
                lock,
                concurrent_index,
                drops_indexes,
                data_loss,
            }
        })
        .collect()
}

/// The start of a statement on one line, secrets masked.
pub(super) fn summary(sql: &str) -> String {
    let one = crate::db::redact::redact_sql_secrets(sql)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(60).collect::<String>())
    } else {
        one
    }
}

pub(super) fn position(file: &SqlFile, stmt: &Statement) -> String {
    format!("{}:{}:{}", file.path.display(), stmt.line, stmt.column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_concurrent_index_cleanup_and_drops() {
        let f = SqlFile {
            path: "x.sql".into(),
            name: "x.sql".into(),
            sql: "-- no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON app.t (a);"
                .into(),
            no_tx: true,
        };
        let p = plan_file(&f);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].concurrent_index.as_deref(), Some("app.idx_a"));
        assert_eq!(p[0].stmt.line, 2);
        let f2 = SqlFile {
            sql: "DROP INDEX IF EXISTS a, b".into(),
            ..f
        };
        assert_eq!(
            plan_file(&f2)[0].drops_indexes,
            vec!["a".to_string(), "b".to_string()]
        );
    }
}
