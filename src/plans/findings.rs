//! Plan insights as doctor findings: one per insight, except stale statistics, which is one
//! per table whatever the number of plans that read it.

use std::collections::BTreeMap;

use serde_json::json;

use super::insights::{self, Insight};
use crate::analyze::finding::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::snapshot::Snapshot;

/// Severity of each insight id.
fn severity(id: CheckId) -> Severity {
    match id {
        insights::SRF_DEFAULT_ROWS => Severity::Info,
        _ => Severity::Warning,
    }
}

/// The findings of every collected plan.
pub fn findings(snap: &Snapshot) -> Vec<Finding> {
    let Some(plans) = &snap.plans else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut stale: BTreeMap<String, (Insight, Vec<i64>)> = BTreeMap::new();
    for entry in super::entries(plans, snap.advisor.as_ref()) {
        for i in entry.insights {
            if i.id == insights::STALE_STATISTICS {
                let key = i.relation.clone().unwrap_or_default();
                stale
                    .entry(key)
                    .or_insert_with(|| (i.clone(), Vec::new()))
                    .1
                    .push(entry.queryid);
                continue;
            }
            out.push(finding(&i, &entry.query));
        }
    }
    for (table, (i, queryids)) in stale {
        let mut f = Finding::new(
            i.id,
            severity(i.id),
            Priority::Medium,
            table.clone(),
            format!("{}. Fix: {}", i.message, i.fix),
        )
        .table(table)
        .detail(json!({
            "queryids": queryids, "path": i.path, "node_type": i.node_type,
            "numbers": i.numbers, "fix": i.fix,
        }));
        f.fix_sql = i.fix_sql.clone();
        out.push(f);
    }
    out
}

fn finding(i: &Insight, query: &str) -> Finding {
    let mut f = Finding::new(
        i.id,
        severity(i.id),
        Priority::Medium,
        format!("queryid {}", i.queryid),
        format!(
            "{} (queryid {}, node {} {}). Fix: {}",
            i.message, i.queryid, i.path, i.node_type, i.fix
        ),
    )
    .detail(json!({
        "queryid": i.queryid, "path": i.path, "node_type": i.node_type,
        "relation": i.relation, "numbers": i.numbers, "fix": i.fix,
        "advisor_index": i.advisor_index, "advisor_create_sql": i.advisor_create_sql,
        "query": query,
    }));
    if let Some(t) = &i.relation {
        f = f.table(t.clone());
    }
    f
}
