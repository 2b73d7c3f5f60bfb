//! Plans of the top statements: what collection stores (generic plans, read-only), the parsed
//! tree, the plan insights that say why a statement is slow, and plan fingerprints for
//! regressions. Everything here is pure; `collect::plans` runs the EXPLAINs.

pub mod findings;
pub mod fingerprint;
pub mod insights;
pub mod regress;
pub mod tree;

use serde::{Deserialize, Serialize};

pub use fingerprint::Fingerprint;
pub use insights::Insight;

/// `doctor --plans N` default: the top statements by total time that get a plan.
pub const DEFAULT_PLANS: usize = 20;

/// Outcomes of one statement's planning.
pub const OUTCOME_PLANNED: &str = "planned";
pub const OUTCOME_ANALYZED: &str = "analyzed";
pub const OUTCOME_NOT_PLANNED: &str = "not_planned";

/// Everything plan collection gathered (part of the snapshot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlansSnapshot {
    /// How the plans were obtained: `explain_generic_plan` (PostgreSQL 16+) or
    /// `prepare_force_generic_plan` (13-15).
    pub method: String,
    /// `--analyze-plans` was given: parameterless SELECTs were run under EXPLAIN ANALYZE in a
    /// read-only transaction that was rolled back.
    #[serde(default)]
    pub analyze_requested: bool,
    pub settings: PlanSettings,
    /// The tables the plans read, with their statistics freshness.
    #[serde(default)]
    pub tables: Vec<PlanTable>,
    pub statements: Vec<PlannedStatement>,
}

/// Server settings the insights compare plans with (one row of `sql/plans_settings.sql`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PlanSettings {
    pub work_mem_bytes: i64,
    pub hash_mem_multiplier: f64,
}

/// A table a plan reads, with what decides whether its statistics are stale (one row of
/// `sql/plans_tables.sql`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct PlanTable {
    pub schema: String,
    pub name: String,
    pub reltuples: f64,
    pub n_mod_since_analyze: i64,
    /// autovacuum_analyze_threshold + scale_factor * reltuples (per-table settings first).
    pub analyze_threshold: f64,
    pub last_analyze: Option<chrono::DateTime<chrono::Utc>>,
}

/// One statement's plan, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStatement {
    pub queryid: i64,
    pub query: String,
    /// The text that was explained when it differs (typed-literal parameters made casts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_as: Option<String>,
    pub calls: i64,
    pub rows: i64,
    pub total_time_ms: f64,
    /// `planned`, `analyzed` (EXPLAIN ANALYZE, rolled back) or `not_planned`.
    pub outcome: String,
    /// Why there is no plan, or why an asked-for ANALYZE did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The `Plan` object of EXPLAIN (VERBOSE, FORMAT JSON), without `Output` lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
}

impl PlannedStatement {
    pub fn analyzed(&self) -> bool {
        self.outcome == OUTCOME_ANALYZED
    }

    pub fn rows_per_call(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.rows as f64 / self.calls as f64)
    }

    pub fn tree(&self) -> Option<tree::PlanNode> {
        self.plan
            .as_ref()
            .and_then(|p| tree::PlanNode::from_explain(p).ok())
    }
}

/// One statement's plan in the doctor report (`plans[]` in JSON): the collected plan and the
/// insights found on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub queryid: i64,
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explained_as: Option<String>,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub calls: i64,
    pub total_time_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    pub insights: Vec<Insight>,
}

/// The report's plan entries, in collection order (total time, highest first).
pub fn entries(
    plans: &PlansSnapshot,
    advisor: Option<&crate::advisor::AdvisorReport>,
) -> Vec<PlanEntry> {
    plans
        .statements
        .iter()
        .map(|s| PlanEntry {
            queryid: s.queryid,
            query: s.query.clone(),
            explained_as: s.explained_as.clone(),
            outcome: s.outcome.clone(),
            reason: s.reason.clone(),
            calls: s.calls,
            total_time_ms: s.total_time_ms,
            plan: s.plan.clone(),
            fingerprint: s.fingerprint.clone(),
            insights: insights::of_statement(s, plans, advisor),
        })
        .collect()
}
