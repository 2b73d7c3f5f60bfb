//! `implicit_join`: a hot statement joining tables with commas. An explicit `JOIN ... ON`
//! keeps a missing join condition from turning into a cross join.

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
        id: CheckId::ImplicitJoin,
        section: Section::Queries,
        summary: "hot statement joining tables with commas",
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
        .filter(|h| !h.shape.comma_joined.is_empty())
        .map(|h| {
            let joined = &h.shape.comma_joined;
            let mut f = h.finding(&CHECK, Priority::Low, format!(
                "joins {} with commas: write explicit JOIN ... ON so a missing join condition cannot turn into a cross join",
                joined.join(", ")
            ));
            f.detail["comma_joined"] = serde_json::json!(joined);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_comma_join_is_reported_with_its_tables() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].detail["comma_joined"],
            serde_json::json!(["meals", "users"])
        );
    }

    #[test]
    fn explicit_joins_are_not_reported() {
        let mut s = sample_snapshot();
        let st = s.statements.as_mut().unwrap();
        st.statements[0].query =
            Some("SELECT * FROM meals m JOIN users u ON m.user_id = u.id".into());
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
