//! The doctor analysis: which checks run, and the pure pass from a Snapshot (plus thresholds)
//! to findings and skipped checks. The checks themselves and their registry are `crate::checks`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::analyze::thresholds::Thresholds;
use crate::analyze::{finding::sort_findings, Finding};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::error::Error;
use crate::snapshot::{Skipped, Snapshot};

/// One check's metadata: its stable id (an API), the report section it belongs to, and a
/// one-line summary.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo {
    pub id: CheckId,
    pub section: Section,
    pub summary: &'static str,
}

/// Which checks run: `--checks`, `--skip-checks` and `--only` sections.
#[derive(Debug, Clone, Default)]
pub struct CheckSelection {
    pub only_checks: Vec<CheckId>,
    pub skip_checks: Vec<CheckId>,
    pub sections: Vec<Section>,
}

impl CheckSelection {
    /// The selection from the command line's ids; an unknown id is a usage error naming the
    /// nearest known id (a typo must not silently run everything).
    pub fn parse(only: &[String], skip: &[String], sections: &[Section]) -> Result<Self, Error> {
        let ids = |list: &[String]| -> Result<Vec<CheckId>, Error> {
            list.iter()
                .map(|id| {
                    id.parse::<CheckId>().map_err(|e| {
                        let known: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
                        let hint = crate::suggest::hint(id, known.iter().copied());
                        Error::Usage(format!("{e}{hint} (known: {})", known.join(", ")))
                    })
                })
                .collect()
        };
        Ok(CheckSelection {
            only_checks: ids(only)?,
            skip_checks: ids(skip)?,
            sections: sections.to_vec(),
        })
    }

    pub fn runs(&self, id: CheckId) -> bool {
        if !self.only_checks.is_empty() && !self.only_checks.contains(&id) {
            return false;
        }
        if self.skip_checks.contains(&id) {
            return false;
        }
        if !self.sections.is_empty() {
            // Ids from other modules (pg_stat_statements self-checks) belong to the queries section.
            let section = crate::checks::info(id).map_or(Section::Queries, |i| i.section);
            return self.sections.contains(&section);
        }
        true
    }
}

/// How old the cumulative statistics are, and where that figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsWindow {
    pub since: DateTime<Utc>,
    /// `stats_reset` or `server start` (a lower bound when statistics survive restarts).
    pub source: String,
    pub age_days: f64,
    /// The counters are this server's only (a replica does not see the primary's reads).
    pub replica: bool,
}

impl StatsWindow {
    pub fn of(snap: &Snapshot) -> StatsWindow {
        let caps = &snap.capabilities;
        let (since, source) = match caps.stats_reset {
            Some(t) => (t, "stats_reset"),
            None => (caps.server_started, "server start"),
        };
        let age_days = (caps.server_now - since).num_seconds().max(0) as f64 / 86_400.0;
        StatsWindow {
            since,
            source: source.to_string(),
            age_days,
            replica: caps.is_replica,
        }
    }

    /// `statistics since 2026-11-20 (stats_reset, 6.0 days)` plus a replica note.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "statistics since {} ({}, {:.1} days)",
            self.since.format("%Y-%m-%d %H:%M UTC"),
            self.source,
            self.age_days
        );
        if self.replica {
            s.push_str(
                "; replica statistics: reads on the primary and other replicas are not counted",
            );
        }
        s
    }
}

/// What the check families read.
pub struct Input<'a> {
    pub snap: &'a Snapshot,
    pub th: &'a Thresholds,
    pub stats: StatsWindow,
}

/// Findings plus the checks that could not run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub checks_run: Vec<CheckId>,
}

/// Collects the findings of the checks that are selected, and skipped entries for those whose
/// data is missing.
pub struct Sink<'s> {
    sel: &'s CheckSelection,
    pub analysis: Analysis,
}

impl<'s> Sink<'s> {
    pub fn wants(&self, id: CheckId) -> bool {
        self.sel.runs(id)
    }

    /// Run `f` for check `id` when selected and its data is present, else record why not.
    pub fn check<T>(
        &mut self,
        id: CheckId,
        data: Option<T>,
        missing: impl FnOnce() -> Skipped,
        f: impl FnOnce(T, &mut Vec<Finding>),
    ) {
        if !self.wants(id) {
            return;
        }
        match data {
            Some(d) => {
                self.analysis.checks_run.push(id);
                f(d, &mut self.analysis.findings);
            }
            None => {
                let mut s = missing();
                s.what = id.to_string();
                self.analysis.skipped.push(s);
            }
        }
    }

    pub fn skip(&mut self, id: CheckId, reason: impl Into<String>, enable: Option<String>) {
        if self.wants(id) {
            self.analysis.skipped.push(Skipped {
                what: id.to_string(),
                reason: reason.into(),
                enable,
            });
        }
    }
}

/// The `detail.columns` list of a finding (empty when it has none).
fn detail_columns(f: &Finding) -> Vec<&str> {
    f.detail["columns"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default()
}

/// A skipped entry for a check whose collector part is missing, reusing that part's reason.
pub fn needs(snap: &Snapshot, part: &str) -> Skipped {
    match snap.skipped.iter().find(|s| s.what == part) {
        Some(s) => Skipped {
            what: String::new(),
            reason: format!("{part} not collected: {}", s.reason),
            enable: s.enable.clone(),
        },
        None => Skipped {
            what: String::new(),
            reason: format!("{part} not collected"),
            enable: None,
        },
    }
}

/// The doctor analysis of a snapshot: every selected check, findings sorted highest priority
/// first. Pure: the same snapshot always gives the same findings.
pub fn analyze(snap: &Snapshot, th: &Thresholds, sel: &CheckSelection) -> Analysis {
    let input = Input {
        snap,
        th,
        stats: StatsWindow::of(snap),
    };
    let mut sink = Sink {
        sel,
        analysis: Analysis::default(),
    };
    crate::checks::run(&input, &mut sink);
    for f in crate::plans::findings::findings(snap) {
        if sink.wants(f.check) {
            sink.analysis.findings.push(f);
        }
    }
    for f in crate::analyze::statements::check(&snap.capabilities, snap.statements.as_ref()) {
        if sink.wants(f.check) {
            sink.analysis.findings.push(f);
        }
    }
    if let Some(report) = &snap.advisor {
        let advised = crate::advisor::findings(report);
        if sink.wants(CheckId::MissingIndex) && !advised.is_empty() {
            // The advisor names the columns; the catalog heuristic only the table: keep the
            // advisor's finding where both speak of the same table, carrying the catalog's
            // evidence (and its priority, when higher) into it.
            let mut advised = advised;
            let tables: std::collections::BTreeSet<&str> =
                advised.iter().filter_map(|f| f.table.as_deref()).collect();
            let (catalog, rest): (Vec<Finding>, Vec<Finding>) =
                std::mem::take(&mut sink.analysis.findings)
                    .into_iter()
                    .partition(|f| {
                        f.check == CheckId::MissingIndex
                            && f.fix_sql.is_none()
                            && f.table.as_deref().is_some_and(|t| tables.contains(t))
                    });
            sink.analysis.findings = rest;
            for a in &mut advised {
                if let Some(c) = catalog.iter().find(|c| c.table == a.table) {
                    a.priority = a.priority.max(c.priority);
                    a.severity = a.severity.max(c.severity);
                    if let Some(obj) = a.detail.as_object_mut() {
                        obj.insert("catalog_evidence".into(), c.detail.clone());
                    }
                }
            }
            // An advised index that leads with a foreign key's columns also serves the key:
            // point the foreign-key finding at it instead of proposing a second index.
            for f in sink.analysis.findings.iter_mut() {
                if f.check != CheckId::FkWithoutIndex {
                    continue;
                }
                let fk_cols = detail_columns(f);
                let covering = advised.iter().find(|a| {
                    let cols = detail_columns(a);
                    a.table == f.table
                        && !fk_cols.is_empty()
                        && cols.len() >= fk_cols.len()
                        && cols[..fk_cols.len()] == fk_cols[..]
                });
                if let Some(a) = covering {
                    f.fix_sql = a.fix_sql.clone();
                    f.rollback_sql = a.rollback_sql.clone();
                    if let Some(obj) = f.detail.as_object_mut() {
                        obj.insert("covered_by_suggestion".into(), a.object.as_str().into());
                    }
                }
            }
            fold_plan_insights(&mut sink.analysis.findings, &mut advised);
            sink.analysis.findings.extend(advised);
        }
    }
    let mut a = sink.analysis;
    // Report order first (names are given out in it), then the advice plan, then order again
    // (merging can raise a finding's priority).
    sort_findings(&mut a.findings);
    crate::analyze::resolve::resolve(snap, th, &mut a.findings);
    sort_findings(&mut a.findings);
    a
}

/// A plan insight whose fix is an index the advisor suggests says the same thing as the
/// advisor's finding: it is folded into that finding (named in `also_checks`, its numbers under
/// `detail.plan_evidence`) instead of being reported twice.
fn fold_plan_insights(findings: &mut Vec<Finding>, advised: &mut [Finding]) {
    findings.retain(|f| {
        let Some(index) = f.detail.get("advisor_index").and_then(|v| v.as_str()) else {
            return true;
        };
        let target = advised.iter_mut().find(|a| {
            a.table == f.table
                && a.object
                    .rsplit('.')
                    .next()
                    .is_some_and(|name| name.trim_matches('"') == index)
        });
        let Some(a) = target else {
            return true;
        };
        if !a.also_checks.contains(&f.check) {
            a.also_checks.push(f.check);
        }
        a.priority = a.priority.max(f.priority);
        if let Some(obj) = a.detail.as_object_mut() {
            let evidence = obj
                .entry("plan_evidence")
                .or_insert_with(|| serde_json::Value::Array(Vec::new()));
            if let Some(list) = evidence.as_array_mut() {
                let mut e = f.detail.clone();
                if let Some(o) = e.as_object_mut() {
                    o.insert("check".into(), f.check.as_str().into());
                }
                list.push(e);
            }
        }
        false
    });
}

/// Convenience for other commands (e.g. `migrate plan`): all checks, given thresholds.
pub fn findings(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    analyze(snap, th, &CheckSelection::default()).findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{Priority, Severity};
    use serde_json::json;

    fn advised(object: &str) -> Finding {
        Finding::new(
            CheckId::MissingIndex,
            Severity::Warning,
            Priority::Low,
            object,
            "index",
        )
        .table("public.meals")
        .detail(json!({}))
    }

    fn insight(index: &str, table: &str) -> Finding {
        Finding::new(
            CheckId::PlanSeqScanSelective,
            Severity::Warning,
            Priority::Medium,
            "queryid 7",
            "seq scan",
        )
        .table(table)
        .detail(json!({ "advisor_index": index, "queryid": 7 }))
    }

    #[test]
    fn an_insight_fixed_by_the_advised_index_is_folded_into_it() {
        let mut findings = vec![insight("meals_user_id_idx", "public.meals")];
        let mut adv = vec![advised("public.meals_user_id_idx")];
        fold_plan_insights(&mut findings, &mut adv);
        assert!(findings.is_empty());
        assert_eq!(adv[0].also_checks, vec![CheckId::PlanSeqScanSelective]);
        assert_eq!(adv[0].priority, Priority::Medium);
        assert_eq!(adv[0].detail["plan_evidence"][0]["queryid"], 7);
        assert_eq!(
            adv[0].detail["plan_evidence"][0]["check"],
            "plan_seq_scan_selective"
        );
    }

    #[test]
    fn an_insight_about_another_index_or_table_stays_a_finding() {
        let mut findings = vec![
            insight("meals_other_idx", "public.meals"),
            insight("meals_user_id_idx", "public.users"),
        ];
        let mut adv = vec![advised("public.meals_user_id_idx")];
        fold_plan_insights(&mut findings, &mut adv);
        assert_eq!(findings.len(), 2);
        assert!(adv[0].also_checks.is_empty());
    }
}
