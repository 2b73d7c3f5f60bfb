//! `serial_column_not_pk`: a smallserial, serial or bigserial column that is not the table's
//! single-column primary key (or is one that is also a foreign key). A serial makes a counter:
//! outside a surrogate key it usually marks a misunderstanding (a foreign key declared serial
//! gets its own sequence and NOT NULL default, and silently invents references).

use serde_json::json;

use super::facts::{columns, needs_flagged_columns, Column};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::SerialColumnNotPk,
        section: Section::Tables,
        summary: "serial column that is not a primary key (a counter where a value is expected)",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    columns(snap, |c| c.serial_sequence.is_some())
        .map(|c| {
            let Column {
                c: column,
                table,
                col,
            } = &c;
            let seq = column.serial_sequence.clone().unwrap_or_default();
            let mut f = c.finding(
                &CHECK,
                format!(
                    "column {table}.{col} is a serial ({} fed by {seq}) but not the table's \
                     primary key: every insert that omits it gets a new number; if it holds a \
                     reference or a value, drop the default (ALTER TABLE {table} ALTER COLUMN \
                     {col} DROP DEFAULT) and the sequence",
                    column.data_type
                ),
            );
            f.detail["sequence"] = json!(seq);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};
    use serde_json::json;

    #[test]
    fn serial_columns_outside_the_key_are_reported_and_plain_integers_are_not() {
        let mut serial = column("bad_accounts", "real_client_id", "bigint", "int8");
        serial["serial_sequence"] = json!("bad_accounts_real_client_id_seq");
        let mut plain = column("bad_accounts", "counter", "bigint", "int8");
        plain["inconsistent"] = json!(true);
        let s = with_flagged_columns(vec![serial, plain]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.bad_accounts.real_client_id");
        assert_eq!(f[0].detail["sequence"], "bad_accounts_real_client_id_seq");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
