//! The health collector's flagged columns, table facts and foreign keys, for the checks that
//! report one finding per column, table or constraint of them: the selection, the names, the
//! finding's shape.

use super::Check;
use crate::analyze::{Finding, Priority};
use crate::collect::health::{FkDetail, FlaggedColumn, TableFacts};
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

/// The missing-part test for checks that read the flagged columns.
pub fn needs_flagged_columns(s: &Snapshot) -> Option<&'static str> {
    s.health
        .flagged_columns
        .is_none()
        .then_some("flagged_columns")
}

/// The missing-part test for checks that read the table facts.
pub fn needs_table_facts(s: &Snapshot) -> Option<&'static str> {
    s.health.table_facts.is_none().then_some("table_facts")
}

/// A flagged column with its table's qualified name and its own quoted name.
pub struct Column<'a> {
    pub c: &'a FlaggedColumn,
    pub table: String,
    pub col: String,
}

impl Column<'_> {
    /// A low-priority finding about the column: its object `schema.table.column`, its type in
    /// `detail`.
    pub fn finding(&self, check: &Check, message: String) -> Finding {
        Finding::new(
            check.info.id,
            check.severity,
            Priority::Low,
            format!("{}.{}", self.table, self.col),
            message,
        )
        .table(self.table.clone())
        .detail(serde_json::json!({
            "column": self.c.column,
            "data_type": self.c.data_type,
            "not_null": self.c.not_null,
        }))
    }
}

/// The flagged columns that `keep` selects.
pub fn columns<'a>(
    s: &'a Snapshot,
    keep: impl Fn(&FlaggedColumn) -> bool + 'a,
) -> impl Iterator<Item = Column<'a>> + 'a {
    s.health
        .flagged_columns
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(move |c| keep(c))
        .map(|c| Column {
            c,
            table: qualified(&c.schema, &c.table),
            col: quote_ident(&c.column),
        })
}

/// One finding per flagged column that `keep` selects, with the message `message` writes.
pub fn column_findings(
    s: &Snapshot,
    check: &Check,
    keep: impl Fn(&FlaggedColumn) -> bool,
    message: impl Fn(&Column) -> String,
) -> Vec<Finding> {
    columns(s, keep)
        .map(|c| c.finding(check, message(&c)))
        .collect()
}

/// The table facts that `keep` selects, each with its qualified name.
pub fn tables<'a>(
    s: &'a Snapshot,
    keep: impl Fn(&TableFacts) -> bool + 'a,
) -> impl Iterator<Item = (&'a TableFacts, String)> + 'a {
    s.health
        .table_facts
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(move |t| keep(t))
        .map(|t| (t, qualified(&t.schema, &t.table)))
}

/// A low-priority finding about table `name` (qualified), its object.
pub fn table_finding(check: &Check, name: &str, message: String) -> Finding {
    Finding::new(check.info.id, check.severity, Priority::Low, name, message).table(name)
}

/// A foreign key's qualified table and its quoted name.
pub fn fk_names(fk: &FkDetail) -> (String, String) {
    (qualified(&fk.schema, &fk.table), quote_ident(&fk.name))
}

/// A finding about constraint `name` (quoted) of `table` (qualified): its object
/// `table.name`, its table `table`.
pub fn constraint_finding(
    check: &Check,
    priority: Priority,
    (table, name): (&str, &str),
    message: String,
) -> Finding {
    Finding::new(
        check.info.id,
        check.severity,
        priority,
        format!("{table}.{name}"),
        message,
    )
    .table(table)
}
