//! `unbounded_result`: a hot SELECT without LIMIT returning at least `unbounded_rows_per_call`
//! rows per call.

use super::hot_statements::hot_selects;
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::UnboundedResult,
        section: Section::Queries,
        summary: "hot statement returning many rows per call with no LIMIT",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("unbounded_rows_per_call", th::UNBOUNDED_ROWS_PER_CALL),
        ("hot_statements", th::HOT_STATEMENTS as f64),
    ],
    sql: &["statements_1_*.sql"],
    missing: |s| s.statements.is_none().then_some("statements"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    hot_selects(snap, th)
        .iter()
        .filter(|h| h.shape.no_limit && h.rows_per_call >= th.unbounded_rows_per_call)
        .map(|h| {
            h.finding(&CHECK, Priority::Medium, format!(
                "returns {:.0} rows per call with no LIMIT: paginate (LIMIT with a keyset WHERE) or aggregate in SQL",
                h.rows_per_call
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn many_rows_per_call_without_limit_are_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "queryid 101");
        assert_eq!(f[0].detail["rows_per_call"], 2000.0);
    }

    #[test]
    fn few_rows_per_call_are_not_reported() {
        let th = Thresholds {
            unbounded_rows_per_call: 5_000.0,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
