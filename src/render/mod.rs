//! Rendering: finished reports to bytes, one writer per format.

pub mod budget_github;
pub mod budget_json;
pub mod budget_junit;
pub mod budget_markdown;
pub mod budget_table;
pub mod doctor_json;
pub mod doctor_markdown;
pub mod doctor_monitor;
pub mod doctor_table;
pub mod doctor_terminal;
pub mod document;
pub mod github;
pub mod migrate_plan;
pub mod migrate_run;
pub mod migrate_status;
pub mod migrate_validate;
pub mod plan_tree;
pub mod snapshot_json;
pub mod table;
pub mod terminal;
pub mod wait_profile;

/// A JSON object written with `schema_version` as its first key, whatever order the map keeps
/// (serde_json's maps sort their keys): every JSON output leads with it.
pub struct SchemaFirst<'a>(pub &'a serde_json::Value);

impl serde::Serialize for SchemaFirst<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Some(obj) = self.0.as_object() else {
            return self.0.serialize(s);
        };
        let mut m = s.serialize_map(Some(obj.len()))?;
        if let Some(v) = obj.get("schema_version") {
            m.serialize_entry("schema_version", v)?;
        }
        for (k, v) in obj.iter().filter(|(k, _)| *k != "schema_version") {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The workload's rate and latency as one phrase: "no data" where nothing was called or the
/// period is unknown or too short, never a 0 that reads like a measurement. The mean is the
/// server's own figure (pg_stat_statements times execution inside the server); the percentiles
/// are estimates, marked `~`.
pub fn workload_text(q: &crate::analyze::report::QueriesSection) -> (String, String) {
    let qps = q
        .qps
        .map_or("QPS: no data".to_string(), |v| format!("{v:.1} QPS"));
    let latency = if q.total_calls == 0 {
        "latency: no data (no calls)".to_string()
    } else {
        format!(
            "mean {:.2} ms server time, ~p95 {:.2} ms, ~p99 {:.2} ms",
            q.latency.mean_ms, q.latency.p95_ms, q.latency.p99_ms
        )
    };
    (qps, latency)
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_version_leads_the_object() {
        let v = serde_json::json!({"applied": [1], "schema_version": 1, "zeta": true});
        let s = serde_json::to_string(&super::SchemaFirst(&v)).unwrap();
        assert_eq!(s, r#"{"schema_version":1,"applied":[1],"zeta":true}"#);
    }
}
