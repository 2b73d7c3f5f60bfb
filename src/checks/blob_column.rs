//! `blob_column`: a column of type oid or lo (the lo extension's domain): a handle to a large
//! object in pg_largeobject. Every read is a second lookup, deleting the row leaves the object
//! behind unless a trigger or vacuumlo removes it, and pg_dump handles them apart; bytea (or
//! text) keeps the value in the row.

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
        id: CheckId::BlobColumn,
        section: Section::Tables,
        summary:
            "column of type oid or lo (a large-object handle; bytea keeps the value in the row)",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let keep = |c: &FlaggedColumn| c.type_name == "oid" || c.type_name == "lo";
    column_findings(snap, &CHECK, keep, |Column { c, table, col }| {
        format!(
            "column {table}.{col} is {}: it points at a large object in \
             pg_largeobject, read with a second lookup and left behind when the row \
             goes (unless a trigger or vacuumlo removes it); bytea for binary data or \
             text for text keeps the value in the row",
            c.data_type
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};

    #[test]
    fn oid_and_lo_are_reported_and_bytea_is_not() {
        let s = with_flagged_columns(vec![
            column("document-bad", "content-bad", "oid", "oid"),
            column("image", "raster", "lo", "lo"),
            column("files", "body", "bytea", "bytea"),
        ]);
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(
            objects,
            [
                "public.\"document-bad\".\"content-bad\"",
                "public.image.raster"
            ]
        );
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
