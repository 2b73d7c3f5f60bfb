//! Plan regressions: the fingerprints stored in budget marks and baselines compared with the
//! plans of now, each changed plan a `plan_regression` verdict with the shapes before and after.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::PlansSnapshot;
use crate::budget::verdict::{Bound, Kind, Status, Verdict};

/// The verdict id of a changed plan.
pub const PLAN_REGRESSION: &str = "plan_regression";

/// One statement's plan as marks and baselines keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPlan {
    /// The statement text, so the same statement can be planned again after a stats reset.
    pub query: String,
    pub hash: String,
    pub shape: String,
}

/// Stored plans by queryid (a string key, as JSON objects need).
pub type StoredPlans = BTreeMap<String, StoredPlan>;

/// The fingerprints of every planned statement.
pub fn stored(plans: &PlansSnapshot) -> StoredPlans {
    plans
        .statements
        .iter()
        .filter_map(|s| {
            let f = s.fingerprint.as_ref()?;
            Some((
                s.queryid.to_string(),
                StoredPlan {
                    query: s.query.clone(),
                    hash: f.hash.clone(),
                    shape: f.shape.clone(),
                },
            ))
        })
        .collect()
}

/// A statement whose plan changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanChange {
    pub queryid: i64,
    pub query: String,
    pub before: String,
    pub after: String,
    pub before_hash: String,
    pub after_hash: String,
}

/// Statements planned both times whose fingerprint differs, by queryid.
pub fn changes(before: &StoredPlans, after: &StoredPlans) -> Vec<PlanChange> {
    before
        .iter()
        .filter_map(|(id, b)| {
            let a = after.get(id)?;
            (a.hash != b.hash).then(|| PlanChange {
                queryid: id.parse().unwrap_or_default(),
                query: b.query.clone(),
                before: b.shape.clone(),
                after: a.shape.clone(),
                before_hash: b.hash.clone(),
                after_hash: a.hash.clone(),
            })
        })
        .collect()
}

/// One verdict per changed plan: a breach when `fail` (`--fail-on-plan-change`), else a warning.
pub fn verdicts(changes: &[PlanChange], fail: bool) -> Vec<Verdict> {
    changes
        .iter()
        .map(|c| Verdict {
            id: PLAN_REGRESSION.to_string(),
            kind: Kind::Plan,
            status: if fail { Status::Breach } else { Status::Warn },
            bound: Bound::Max,
            limit: 0.0,
            measured: None,
            unit: "",
            method: None,
            source: "explain",
            timing: None,
            note: None,
            subject: Some(format!(
                "{} (plan before: {}; now: {})",
                one_line(&c.query),
                c.before,
                c.after
            )),
            queryid: Some(c.queryid),
            offenders: Vec::new(),
            reason: Some(format!("plan changed from {} to {}", c.before, c.after)),
        })
        .collect()
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(q: &str, hash: &str, shape: &str) -> StoredPlan {
        StoredPlan {
            query: q.into(),
            hash: hash.into(),
            shape: shape.into(),
        }
    }

    #[test]
    fn changed_plans_only_for_statements_planned_both_times() {
        let before: StoredPlans = [
            (
                "1".to_string(),
                plan("SELECT a", "aa", "Index Scan(t_pkey)"),
            ),
            ("2".to_string(), plan("SELECT b", "bb", "Seq Scan(u)")),
            ("3".to_string(), plan("SELECT c", "cc", "Seq Scan(v)")),
        ]
        .into();
        let after: StoredPlans = [
            ("1".to_string(), plan("SELECT a", "a2", "Seq Scan(t)")),
            ("2".to_string(), plan("SELECT b", "bb", "Seq Scan(u)")),
        ]
        .into();
        let c = changes(&before, &after);
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].queryid, c[0].before.as_str(), c[0].after.as_str()),
            (1, "Index Scan(t_pkey)", "Seq Scan(t)")
        );
        let v = verdicts(&c, false);
        assert_eq!(v[0].id, PLAN_REGRESSION);
        assert_eq!(v[0].status, Status::Warn);
        assert_eq!(verdicts(&c, true)[0].status, Status::Breach);
        assert!(
            v[0].explain().contains("Index Scan(t_pkey) to Seq Scan(t)"),
            "{}",
            v[0].explain()
        );
    }
}
