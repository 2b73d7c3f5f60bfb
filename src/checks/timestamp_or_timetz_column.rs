//! `timestamp_or_timetz_column`: a column of type timestamp (without time zone) or timetz. A
//! timestamp does not say which zone its value is in, so the same instant reads differently on
//! servers and clients in other zones; timetz cannot handle daylight saving. timestamptz stores
//! the instant.

use super::{column_finding, flagged_columns, needs_flagged_columns, Check};
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

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
    flagged_columns(snap, |c| {
        c.type_name == "timestamp" || c.type_name == "timetz"
    })
    .map(|c| {
        let table = qualified(&c.schema, &c.table);
        let col = quote_ident(&c.column);
        let message = if c.type_name == "timetz" {
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
        };
        column_finding(&CHECK, Priority::Low, c, message)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{column, snapshot};
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
        let s = snapshot(
            vec![],
            vec![],
            json!({"flagged_columns": [
                column("t-multi", "ts", "timestamp without time zone", "timestamp"),
                column("t-multi", "created_at", "time with time zone", "timetz"),
                tz,
            ]}),
        );
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
        let s = crate::checks::testkit::snapshot(
            vec![],
            vec![],
            serde_json::json!({"flagged_columns": []}),
        );
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
