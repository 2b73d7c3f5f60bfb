//! `doctor --explain QUERYID`: one statement's plan as an indented tree with costs and estimated
//! rows, each insight marked under the node it sits on; or the same entry as JSON.

use std::io::{self, Write};

use crate::plans::tree::PlanNode;
use crate::plans::{Insight, PlanEntry};

/// The text tree.
pub fn write(entry: &PlanEntry, method: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "queryid {}  ({} calls, {:.1} ms total)",
        entry.queryid, entry.calls, entry.total_time_ms
    )?;
    writeln!(out, "{}", one_line(&entry.query))?;
    if let Some(x) = &entry.explained_as {
        writeln!(out, "explained as: {}", one_line(x))?;
    }
    let how = match entry.outcome.as_str() {
        crate::plans::OUTCOME_ANALYZED => {
            "EXPLAIN ANALYZE, run in a read-only transaction that was rolled back".to_string()
        }
        crate::plans::OUTCOME_PLANNED => format!("generic plan ({method}), nothing executed"),
        _ => "no plan".to_string(),
    };
    writeln!(out, "plan: {how}")?;
    if let Some(r) = &entry.reason {
        writeln!(out, "note: {r}")?;
    }
    let Some(root) = entry
        .plan
        .as_ref()
        .and_then(|p| PlanNode::from_explain(p).ok())
    else {
        return Ok(());
    };
    if let Some(f) = &entry.fingerprint {
        writeln!(out, "shape: {}  [{}]", f.shape, f.hash)?;
    }
    writeln!(out)?;
    node(&root, 0, &entry.insights, out)?;
    if entry.insights.is_empty() {
        writeln!(out, "\nno plan insights")?;
    } else {
        writeln!(out, "\n{} plan insight(s):", entry.insights.len())?;
        for i in &entry.insights {
            writeln!(
                out,
                "  {} at node {} ({}): {}",
                i.id, i.path, i.node_type, i.message
            )?;
            writeln!(out, "    fix: {}", i.fix)?;
        }
    }
    Ok(())
}

fn node(n: &PlanNode, depth: usize, insights: &[Insight], out: &mut dyn Write) -> io::Result<()> {
    let pad = "      ".repeat(depth);
    let arrow = if depth == 0 { "" } else { "->  " };
    let mut line = format!(
        "{pad}{arrow}{}  (cost={:.2}..{:.2} rows={:.0} width={:.0})",
        n.label(),
        n.startup_cost,
        n.total_cost,
        n.plan_rows,
        n.plan_width
    );
    if let (Some(r), Some(l)) = (n.actual_rows, n.actual_loops) {
        line.push_str(&format!(" (actual rows={r:.0} loops={l:.0})"));
    }
    writeln!(out, "{line}  [{}]", n.path)?;
    let detail_pad = format!("{pad}{}", if depth == 0 { "  " } else { "      " });
    for (label, v) in [
        ("Index Cond", &n.index_cond),
        ("Filter", &n.filter),
        ("Join Filter", &n.join_filter),
    ] {
        if let Some(v) = v {
            writeln!(out, "{detail_pad}{label}: {v}")?;
        }
    }
    for i in insights.iter().filter(|i| i.path == n.path) {
        writeln!(out, "{detail_pad}!! {}: {}", i.id, i.message)?;
    }
    for c in &n.children {
        node(c, depth + 1, insights, out)?;
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The entry as JSON, `schema_version` first.
pub fn write_json(entry: &PlanEntry, out: &mut dyn Write) -> io::Result<()> {
    let mut v = serde_json::to_value(entry).map_err(io::Error::other)?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "schema_version".into(),
            crate::analyze::report::REPORT_SCHEMA_VERSION.into(),
        );
    }
    serde_json::to_writer_pretty(&mut *out, &super::SchemaFirst(&v)).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plans::{Fingerprint, OUTCOME_PLANNED};
    use serde_json::json;

    fn entry() -> PlanEntry {
        let plan = json!({
            "Node Type": "Limit", "Startup Cost": 0.0, "Total Cost": 12.5, "Plan Rows": 10.0, "Plan Width": 8.0,
            "Plans": [{"Node Type": "Seq Scan", "Schema": "public", "Relation Name": "orders",
                       "Startup Cost": 0.0, "Total Cost": 1834.0, "Plan Rows": 3.0, "Plan Width": 8.0,
                       "Filter": "(customer = $1)"}]
        });
        PlanEntry {
            queryid: 42,
            query: "SELECT id FROM orders\n WHERE customer = $1 LIMIT $2".into(),
            explained_as: None,
            outcome: OUTCOME_PLANNED.into(),
            reason: None,
            calls: 7,
            total_time_ms: 12.25,
            plan: Some(plan),
            fingerprint: Some(Fingerprint {
                hash: "00ff".into(),
                shape: "Limit -> Seq Scan(orders)".into(),
            }),
            insights: vec![Insight {
                id: crate::checks::CheckId::PlanSeqScanSelective,
                queryid: 42,
                path: "0.0".into(),
                node_type: "Seq Scan".into(),
                relation: Some("public.orders".into()),
                message: "reads all 100000 rows".into(),
                numbers: json!({}),
                fix: "an index".into(),
                fix_sql: None,
                advisor_index: None,
                advisor_create_sql: None,
            }],
        }
    }

    #[test]
    fn tree_marks_insights_on_their_node() {
        let mut out = Vec::new();
        write(&entry(), "explain_generic_plan", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        insta::assert_snapshot!(text);
        let lines: Vec<&str> = text.lines().collect();
        let scan = lines
            .iter()
            .position(|l| l.contains("->  Seq Scan on public.orders"))
            .unwrap();
        assert!(
            lines[scan + 2].contains("!! plan_seq_scan_selective"),
            "{text}"
        );
    }

    #[test]
    fn json_leads_with_the_schema_version() {
        let mut out = Vec::new();
        write_json(&entry(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.trim_start().starts_with("{\n  \"schema_version\": 1"),
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["insights"][0]["path"], "0.0");
        assert_eq!(v["plan"]["Plans"][0]["Relation Name"], "orders");
    }
}
