//! The Finding: one thing `doctor` reports, with its stable check id, severity, priority and fix.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::checks::CheckId;

/// How bad it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// How soon to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
}

/// How much the verdict can be trusted when the data behind it is thin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// One finding. Field names are a JSON API (`findings[]` in `doctor --format json`): add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable check id, e.g. `unused_index` (documented in DB_PERF.md).
    pub check: CheckId,
    pub severity: Severity,
    pub priority: Priority,
    /// Schema-qualified object, quoted as needed (`public.meals`, `"my schema"."T"`).
    pub object: CompactString,
    /// The table concerned, schema-qualified, where relevant.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub table: Option<CompactString>,
    pub message: String,
    /// The numbers behind the verdict.
    #[serde(default)]
    pub detail: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub fix_sql: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rollback_sql: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub confidence: Option<Confidence>,
    /// Other checks that reached a verdict on the same object; the advice plan merged them into
    /// this finding (its `check` is the reason the fix rests on, `message` states every reason).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub also_checks: Vec<CheckId>,
    /// After `doctor --verify-fixes`: `verified`, or `failed: <error>` (fix or rollback).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verification: Option<String>,
}

impl Finding {
    pub fn new(
        check: CheckId,
        severity: Severity,
        priority: Priority,
        object: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            check,
            severity,
            priority,
            object: CompactString::from(object.into()),
            table: None,
            message: message.into(),
            detail: serde_json::Value::Null,
            fix_sql: None,
            rollback_sql: None,
            confidence: None,
            also_checks: Vec::new(),
            verification: None,
        }
    }

    pub fn table(mut self, t: impl Into<String>) -> Self {
        self.table = Some(CompactString::from(t.into()));
        self
    }
    pub fn detail(mut self, d: serde_json::Value) -> Self {
        self.detail = d;
        self
    }
    pub fn fix(mut self, fix: impl Into<String>, rollback: Option<String>) -> Self {
        self.fix_sql = Some(fix.into());
        self.rollback_sql = rollback;
        self
    }
    pub fn confidence(mut self, c: Confidence) -> Self {
        self.confidence = Some(c);
        self
    }
}

/// Highest priority first, then severity, then check id and object (deterministic order).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(b.severity.cmp(&a.severity))
            .then(a.check.cmp(&b.check))
            .then(a.object.cmp(&b.object))
    });
}
