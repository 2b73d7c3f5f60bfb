//! `money_column`: a column of type money. It stores no currency, rounds fractions of a cent by
//! the server's `lc_monetary`, and reads back wrong when that setting changes; numeric (with the
//! currency in a column of its own) has none of these problems.

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
        id: CheckId::MoneyColumn,
        section: Section::Tables,
        summary: "column of type money (numeric is exact and locale-free)",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    columns(snap, |c| c.type_name == "money")
        .map(|c| {
            let Column { table, col, .. } = &c;
            c.finding(
                &CHECK,
                format!(
                    "column {table}.{col} is money: it keeps no currency, its rounding and \
                     display follow lc_monetary, and its values read wrong once that setting \
                     changes; numeric is exact (the ALTER rewrites the table under an ACCESS \
                     EXCLUSIVE lock)"
                ),
            )
            .fix(
                format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE numeric USING {col}::numeric;"
                ),
                Some(format!(
                    "ALTER TABLE {table} ALTER COLUMN {col} TYPE money USING {col}::money;"
                )),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};

    #[test]
    fn money_is_reported_with_a_numeric_fix_and_numeric_is_not() {
        let s = with_flagged_columns(vec![
            column("accounts", "account_balance-bad", "money", "money"),
            column("accounts", "number", "character varying(20)", "varchar"),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.accounts.\"account_balance-bad\"");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some(
                "ALTER TABLE public.accounts ALTER COLUMN \"account_balance-bad\" TYPE numeric \
                 USING \"account_balance-bad\"::numeric;"
            )
        );
        assert!(f[0].rollback_sql.as_deref().unwrap().contains("TYPE money"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
