//! `select_star`: a hot statement fetching every column (`SELECT *`). Listing the
//! columns the code reads sends less data and makes an index-only scan possible.

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
        id: CheckId::SelectStar,
        section: Section::Queries,
        summary: "hot statement fetching every column",
    },
    severity: Severity::Info,
    thresholds: &[("hot_statements", th::HOT_STATEMENTS as f64)],
    sql: &["statements_1_*.sql"],
    missing: |s| s.statements.is_none().then_some("statements"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    hot_selects(snap, th)
        .iter()
        .filter(|h| h.shape.select_star)
        .map(|h| {
            let s = &h.statement;
            h.finding(&CHECK, Priority::Low, format!(
                "fetches every column (SELECT *) {} times ({:.1} ms mean): list only the columns the code reads, so less data is sent and an index-only scan becomes possible",
                s.calls, s.mean_ms
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_hot_select_star_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        let ids: Vec<&str> = f.iter().map(|f| f.object.as_str()).collect();
        // `u.*` is every column of u too.
        assert_eq!(ids, ["queryid 101", "queryid 103"]);
    }

    #[test]
    fn listed_columns_are_not_reported() {
        let mut s = sample_snapshot();
        let st = s.statements.as_mut().unwrap();
        st.statements.retain(|q| q.queryid == Some(102));
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
