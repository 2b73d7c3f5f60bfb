//! A plan tree read from `EXPLAIN (FORMAT JSON)`: the node fields the insights and the
//! fingerprint need, with each node's path from the root (`0`, `0.1`, `0.1.0`).

use serde_json::Value;

/// One plan node. Row counts are per loop, as EXPLAIN reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanNode {
    /// Child indexes from the root, dot separated; the root is `0`.
    pub path: String,
    pub node_type: String,
    /// `Hashed`, `Sorted`, `Plain` for aggregates.
    pub strategy: Option<String>,
    pub schema: Option<String>,
    pub relation: Option<String>,
    pub index_name: Option<String>,
    pub function_name: Option<String>,
    pub startup_cost: f64,
    pub total_cost: f64,
    pub plan_rows: f64,
    pub plan_width: f64,
    pub filter: Option<String>,
    pub index_cond: Option<String>,
    pub join_filter: Option<String>,
    /// Present only when the plan was analyzed.
    pub actual_rows: Option<f64>,
    pub actual_loops: Option<f64>,
    pub rows_removed_by_filter: Option<f64>,
    /// `Disk` when an analyzed sort spilled.
    pub sort_space_type: Option<String>,
    pub sort_space_used_kb: Option<f64>,
    pub hash_batches: Option<f64>,
    pub children: Vec<PlanNode>,
}

impl PlanNode {
    /// The root node of `EXPLAIN (FORMAT JSON)` output (`[{"Plan": {...}}]`) or of a bare plan
    /// object (`{"Node Type": ...}`, as stored in snapshots).
    pub fn from_explain(v: &Value) -> Result<PlanNode, String> {
        let plan = if let Some(p) = v.get(0).and_then(|e| e.get("Plan")) {
            p
        } else if let Some(p) = v.get("Plan") {
            p
        } else {
            v
        };
        Self::parse(plan, "0".to_string())
    }

    fn parse(v: &Value, path: String) -> Result<PlanNode, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("plan node {path} is not an object"))?;
        let s = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        let f = |k: &str| obj.get(k).and_then(Value::as_f64);
        let node_type =
            s("Node Type").ok_or_else(|| format!("plan node {path} has no Node Type"))?;
        let mut children = Vec::new();
        if let Some(kids) = obj.get("Plans").and_then(Value::as_array) {
            for (i, k) in kids.iter().enumerate() {
                children.push(Self::parse(k, format!("{path}.{i}"))?);
            }
        }
        Ok(PlanNode {
            path,
            node_type,
            strategy: s("Strategy"),
            schema: s("Schema"),
            relation: s("Relation Name"),
            index_name: s("Index Name"),
            function_name: s("Function Name"),
            startup_cost: f("Startup Cost").unwrap_or(0.0),
            total_cost: f("Total Cost").unwrap_or(0.0),
            plan_rows: f("Plan Rows").unwrap_or(0.0),
            plan_width: f("Plan Width").unwrap_or(0.0),
            filter: s("Filter"),
            index_cond: s("Index Cond").or_else(|| s("Recheck Cond")),
            join_filter: s("Join Filter"),
            actual_rows: f("Actual Rows"),
            actual_loops: f("Actual Loops"),
            rows_removed_by_filter: f("Rows Removed by Filter"),
            sort_space_type: s("Sort Space Type"),
            sort_space_used_kb: f("Sort Space Used"),
            hash_batches: f("Hash Batches"),
            children,
        })
    }

    /// This node and every node below it, depth first, parents before children.
    pub fn nodes(&self) -> Vec<&PlanNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.nodes());
        }
        out
    }

    /// The node at `path`, if any.
    pub fn find(&self, path: &str) -> Option<&PlanNode> {
        self.nodes().into_iter().find(|n| n.path == path)
    }

    /// `schema.table` (quoted as needed) when the node reads a relation.
    pub fn qualified_relation(&self) -> Option<String> {
        let rel = self.relation.as_deref()?;
        Some(match self.schema.as_deref() {
            Some(s) => crate::util::qualified(s, rel),
            None => crate::util::quote_ident(rel),
        })
    }

    /// The rows this node produced per loop: actual when analyzed, else the estimate.
    pub fn rows(&self) -> f64 {
        self.actual_rows.unwrap_or(self.plan_rows)
    }

    /// Rows over all loops (actual when analyzed, else the estimate for one loop).
    pub fn total_rows(&self) -> f64 {
        match (self.actual_rows, self.actual_loops) {
            (Some(r), Some(l)) => r * l.max(1.0),
            _ => self.plan_rows,
        }
    }

    /// One line naming the node: `Index Scan using orders_pkey on public.orders`.
    pub fn label(&self) -> String {
        let mut s = self.node_type.clone();
        if let Some(st) = self
            .strategy
            .as_deref()
            .filter(|_| self.node_type == "Aggregate")
        {
            s = format!("{s} ({st})");
        }
        if let Some(ix) = &self.index_name {
            s.push_str(&format!(" using {ix}"));
        }
        if let Some(r) = self.qualified_relation() {
            s.push_str(&format!(" on {r}"));
        } else if let Some(fun) = &self.function_name {
            s.push_str(&format!(" on {fun}()"));
        }
        s
    }
}

/// The stored form of a plan: the `Plan` object without the per-node `Output` column lists
/// (VERBOSE adds them; nothing here reads them and they make snapshots large).
pub fn strip_outputs(v: &mut Value) {
    if let Some(obj) = v.as_object_mut() {
        obj.remove("Output");
        if let Some(Value::Array(kids)) = obj.get_mut("Plans") {
            for k in kids {
                strip_outputs(k);
            }
        }
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use serde_json::json;

    /// A plan node as EXPLAIN (VERBOSE, FORMAT JSON) writes it.
    pub fn node(kind: &str, rows: f64, width: f64, kids: Vec<Value>) -> Value {
        json!({
            "Node Type": kind, "Startup Cost": 0.0, "Total Cost": rows,
            "Plan Rows": rows, "Plan Width": width, "Plans": kids,
        })
    }

    pub fn with(mut v: Value, extra: Value) -> Value {
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    #[test]
    fn paths_labels_and_rows() {
        let plan = json!([{"Plan": node("Limit", 10.0, 8.0, vec![
            with(node("Index Scan", 10.0, 8.0, vec![]), json!({
                "Schema": "public", "Relation Name": "orders", "Index Name": "orders_pkey",
                "Output": ["id"], "Actual Rows": 3.0, "Actual Loops": 2.0
            })),
        ])}]);
        let root = PlanNode::from_explain(&plan).unwrap();
        assert_eq!(root.path, "0");
        let scan = root.find("0.0").unwrap();
        assert_eq!(
            scan.label(),
            "Index Scan using orders_pkey on public.orders"
        );
        assert_eq!(scan.rows(), 3.0);
        assert_eq!(scan.total_rows(), 6.0);
        assert_eq!(root.nodes().len(), 2);
        assert!(root.find("0.1").is_none());
    }

    #[test]
    fn bare_plan_objects_and_bad_input() {
        let root = PlanNode::from_explain(&node("Result", 1.0, 4.0, vec![])).unwrap();
        assert_eq!(root.node_type, "Result");
        assert!(PlanNode::from_explain(&json!({"Plan": {"Plan Rows": 1}})).is_err());
        assert!(PlanNode::from_explain(&json!(3)).is_err());
    }

    #[test]
    fn outputs_are_stripped_at_every_level() {
        let mut v = with(
            node(
                "Sort",
                1.0,
                4.0,
                vec![with(
                    node("Seq Scan", 1.0, 4.0, vec![]),
                    json!({"Output": ["a"]}),
                )],
            ),
            json!({"Output": ["a"]}),
        );
        strip_outputs(&mut v);
        assert!(v.get("Output").is_none());
        assert!(v["Plans"][0].get("Output").is_none());
        assert_eq!(v["Plans"][0]["Node Type"], "Seq Scan");
    }
}
