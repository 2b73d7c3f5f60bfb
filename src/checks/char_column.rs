//! `char_column`: a column of type char(n). Values are padded with spaces to n characters,
//! which wastes space, makes nothing faster, and surprises comparisons and client code; text
//! (with a CHECK on its length when the length is a rule) is the better type.

use super::facts::{column_findings, needs_flagged_columns, Column};
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::health::FlaggedColumn;
use crate::snapshot::Snapshot;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::CharColumn,
        section: Section::Tables,
        summary: "column of type char(n) (padded with spaces; text is the better type)",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let keep = |c: &FlaggedColumn| c.type_name == "bpchar" && c.data_type.starts_with("character(");
    column_findings(snap, &CHECK, keep, |Column { c, table, col }| {
        format!(
            "column {table}.{col} is {}: values are padded with spaces to that length, which \
             takes space and changes comparisons; text with a CHECK on length({col}) keeps the \
             rule without the padding (converting trims the trailing spaces, so it is left to \
             you)",
            c.data_type
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};

    #[test]
    fn char_n_is_reported_and_varchar_is_not() {
        let s = with_flagged_columns(vec![
            column("codes", "code", "character(3)", "bpchar"),
            column("codes", "name", "character varying(3)", "varchar"),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.codes.code");
        assert!(f[0].fix_sql.is_none());
        assert_eq!(f[0].detail["data_type"], "character(3)");
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
