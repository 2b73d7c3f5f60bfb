//! What the query-shape checks (`select_star`, `unbounded_result`, `implicit_join`) share: the
//! hot statements that are SELECTs, each with its parsed shape and the numbers every shape
//! finding carries.

use serde_json::{json, Value};

use super::Check;
use crate::analyze::queries::{hot_views, shape_of, shorten, ShapeFacts, StatementView};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority};
use crate::snapshot::Snapshot;
use crate::util::round2;

/// One hot SELECT: its figures, its shape, rows per call, and the base of its `detail`.
pub struct HotSelect {
    pub statement: StatementView,
    pub shape: ShapeFacts,
    pub rows_per_call: f64,
    pub detail: Value,
}

/// The `hot_statements` statements with the most total time that parse as SELECTs (statements
/// whose text is hidden are left out), busiest first.
pub fn hot_selects(snap: &Snapshot, th: &Thresholds) -> Vec<HotSelect> {
    let mut out = Vec::new();
    for s in &hot_views(snap, th, th.hot_statements) {
        if s.hidden {
            continue;
        }
        let Some(shape) = shape_of(&s.query) else {
            continue;
        };
        if !shape.is_select {
            continue;
        }
        let rows_per_call = s.rows as f64 / s.calls.max(1) as f64;
        let detail = json!({
            "queryid": s.queryid,
            "query": s.query,
            "calls": s.calls,
            "total_ms": round2(s.total_ms),
            "mean_ms": round2(s.mean_ms),
            "rows_per_call": round2(rows_per_call),
        });
        out.push(HotSelect {
            statement: s.clone(),
            shape,
            rows_per_call,
            detail,
        });
    }
    out
}

impl HotSelect {
    /// A finding about this statement: its label as object, the message `hot statement <what>:
    /// <its text, cut>`, the shared numbers as detail.
    pub fn finding(&self, check: &Check, priority: Priority, what: String) -> Finding {
        let s = &self.statement;
        Finding::new(
            check.info.id,
            check.severity,
            priority,
            s.label(),
            format!("hot statement {what}: {}", shorten(&s.query, 100)),
        )
        .detail(self.detail.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn only_hot_selects_are_kept_busiest_first() {
        let h = hot_selects(&sample_snapshot(), &Thresholds::default());
        let ids: Vec<Option<i64>> = h.iter().map(|h| h.statement.queryid).collect();
        // 104 is an UPDATE.
        assert_eq!(ids, [Some(101), Some(102), Some(103)]);
        assert_eq!(h[0].rows_per_call, 2000.0);
        let one = Thresholds {
            hot_statements: 1,
            ..Thresholds::default()
        };
        assert_eq!(hot_selects(&sample_snapshot(), &one).len(), 1);
    }
}
