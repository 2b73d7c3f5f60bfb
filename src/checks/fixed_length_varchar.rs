//! `fixed_length_varchar`: a column of type varchar(n). The length limit is a business rule
//! hidden in a type: raising it later is an ALTER, and it saves no space over text or plain
//! varchar. A CHECK constraint says the same thing and changes without touching the type.

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
        id: CheckId::FixedLengthVarchar,
        section: Section::Tables,
        summary: "column of type varchar(n) (a length limit hidden in the type)",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let keep = |c: &FlaggedColumn| {
        c.type_name == "varchar" && c.data_type.starts_with("character varying(")
    };
    column_findings(snap, &CHECK, keep, |Column { c, table, col }| {
        format!(
            "column {table}.{col} is {}: the limit saves no space over text; when it is a \
             real rule, a CHECK on length({col}) states it and can change without a type \
             change (changing the type to text or varchar is instant and keeps every value)",
            c.data_type
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};
    use serde_json::json;

    #[test]
    fn varchar_n_is_reported_and_plain_varchar_is_not() {
        let mut mixed = column("notes", "body", "character varying", "varchar");
        mixed["inconsistent"] = json!(true);
        let s = with_flagged_columns(vec![
            column(
                "t_varchar_long_not_pk",
                "id_long",
                "character varying(36)",
                "varchar",
            ),
            mixed,
            column("codes", "code", "character(3)", "bpchar"),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.t_varchar_long_not_pk.id_long");
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
