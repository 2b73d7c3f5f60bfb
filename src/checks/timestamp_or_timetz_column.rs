//! `timestamp_or_timetz_column`: a column of type timestamp (without time zone) or timetz. A
//! timestamp does not say which zone its value is in, so the same instant reads differently on
//! servers and clients in other zones; timetz cannot handle daylight saving. timestamptz stores
//! the instant.

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
        id: CheckId::TimestampOrTimetzColumn,
        section: Section::Tables,
        summary:
            "column of type timestamp without time zone or timetz (timestamptz is the instant)",
    },
    severity: Severity::Info,
    thresholds: &[],
    sql: &["health_columns.sql"],
    missing: needs_flagged_columns,
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    let keep = |c: &FlaggedColumn| c.type_name == "timestamp" || c.type_name == "timetz";
    column_findings(snap, &CHECK, keep, |Column { c, table, col }| {
        if c.type_name == "timetz" {
            format!(
                "column {table}.{col} is {}: a time of day with an offset cannot follow \
                     daylight saving; store timestamptz (or a time and a zone name)",
                c.data_type
            )
        } else {
            format!(
                "column {table}.{col} is {}: it does not record which zone its values are \
                     in; timestamptz stores the instant (ALTER TABLE {table} ALTER COLUMN {col} \
                     TYPE timestamptz USING {col} AT TIME ZONE '<the zone the values were \
                     written in>' rewrites the table)",
                c.data_type
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, with_flagged_columns};
    use serde_json::json;

    #[test]
    fn timestamp_and_timetz_are_reported_and_timestamptz_is_not() {
        let mut tz = column(
            "t_uuid_id",
            "created_at",
            "timestamp with time zone",
            "timestamptz",
        );
        tz["inconsistent"] = json!(true);
        let s = with_flagged_columns(vec![
            column("t-multi", "ts", "timestamp without time zone", "timestamp"),
            column("t-multi", "created_at", "time with time zone", "timetz"),
            tz,
        ]);
        let f = run(&s, &Thresholds::default());
        let objects: Vec<&str> = f.iter().map(|x| x.object.as_str()).collect();
        assert_eq!(
            objects,
            ["public.\"t-multi\".ts", "public.\"t-multi\".created_at"]
        );
        assert!(f[0].message.contains("AT TIME ZONE"));
        assert!(f[1].message.contains("daylight saving"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s = crate::checks::testkit::with_flagged_columns(vec![]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
