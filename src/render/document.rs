//! The doctor report as a document: which parts it shows and in what order, resolved once from
//! the section selection, plus the phrases several writers share. Every doctor writer walks
//! `Document::parts`; none asks the selection again.

use std::fmt::Debug;

use crate::advisor::AdvisorSection;
use crate::analyze::report::{
    ConnectionSection, ConnectionsUse, DoctorReport, HostSection, IndexesSection, QueriesSection,
    ResourcesSection, TablesSection,
};
use crate::analyze::Finding;
use crate::cli::Section;
use crate::util::human_bytes;

/// One part of the report, present because its section was selected (and, for most, collected).
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    Connection(&'a ConnectionSection),
    /// `None`: the section was asked for but statement statistics could not be read.
    Queries(Option<&'a QueriesSection>),
    Tables(&'a TablesSection),
    Indexes(&'a IndexesSection),
    Resources(&'a ResourcesSection),
    /// The index advisor's outcomes, whenever it ran.
    Advisor(&'a AdvisorSection),
}

/// The report and its parts in reading order. Findings, skipped parts and the health score are
/// always shown and are read from the report itself.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    pub report: &'a DoctorReport,
    pub parts: Vec<Part<'a>>,
}

impl<'a> Document<'a> {
    pub fn of(report: &'a DoctorReport) -> Self {
        let has = |s: Section| report.sections.contains(&s);
        let mut parts = Vec::new();
        if has(Section::Connection) {
            parts.push(Part::Connection(&report.connection));
        }
        if has(Section::Queries) {
            parts.push(Part::Queries(report.queries.as_ref()));
        }
        if let Some(t) = report.tables.as_ref().filter(|_| has(Section::Tables)) {
            parts.push(Part::Tables(t));
        }
        if let Some(ix) = report.indexes.as_ref().filter(|_| has(Section::Indexes)) {
            parts.push(Part::Indexes(ix));
        }
        if let Some(res) = report
            .resources
            .as_ref()
            .filter(|_| has(Section::Resources))
        {
            parts.push(Part::Resources(res));
        }
        if let Some(a) = &report.advisor {
            parts.push(Part::Advisor(a));
        }
        Document { report, parts }
    }

    /// The connection part, when shown.
    pub fn connection(&self) -> Option<&'a ConnectionSection> {
        self.parts.iter().find_map(|p| match p {
            Part::Connection(c) => Some(*c),
            _ => None,
        })
    }
}

/// An enum's name as the report spells it: `Critical` -> `critical`.
pub fn word(v: impl Debug) -> String {
    format!("{v:?}").to_lowercase()
}

/// The finding's message, with its confidence when it has one.
pub fn message_with_confidence(f: &Finding) -> String {
    let mut m = f.message.clone();
    if let Some(c) = f.confidence {
        m.push_str(&format!(" [confidence: {}]", word(c)));
    }
    m
}

/// Connections by state: `active 2, idle 3`.
pub fn connection_states(c: &ConnectionsUse) -> String {
    let states: Vec<String> = c.by_state.iter().map(|(k, v)| format!("{k} {v}")).collect();
    states.join(", ")
}

/// A cache hit ratio with two decimals, or `n/a`.
pub fn cache_hit(pct: Option<f64>) -> String {
    pct.map_or("n/a".into(), |p| format!("{p:.2}%"))
}

/// Whether the host dbdoctor measured is the database's.
pub fn host_role(h: &HostSection) -> &'static str {
    if h.is_database_host {
        "also the database host"
    } else {
        "not the database host"
    }
}

/// `memory 1.2 GB of 4.0 GB used`.
pub fn memory_used(h: &HostSection) -> String {
    let used = h
        .host
        .memory_total_bytes
        .saturating_sub(h.host.memory_available_bytes);
    format!(
        "memory {} of {} used",
        human_bytes(used as i64),
        human_bytes(h.host.memory_total_bytes as i64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::doctor::CheckSelection;
    use crate::analyze::report::{doctor_report, ReportOptions};
    use crate::analyze::testdata::sample_snapshot;
    use crate::analyze::thresholds::Thresholds;

    fn report(sections: Vec<Section>) -> DoctorReport {
        let opts = ReportOptions {
            sections,
            ..Default::default()
        };
        doctor_report(
            &sample_snapshot(),
            &Thresholds::default(),
            &CheckSelection::default(),
            &opts,
        )
    }

    fn names(d: &Document) -> Vec<&'static str> {
        d.parts
            .iter()
            .map(|p| match p {
                Part::Connection(_) => "connection",
                Part::Queries(_) => "queries",
                Part::Tables(_) => "tables",
                Part::Indexes(_) => "indexes",
                Part::Resources(_) => "resources",
                Part::Advisor(_) => "advisor",
            })
            .collect()
    }

    #[test]
    fn every_section_shows_in_reading_order_by_default() {
        let r = report(Vec::new());
        let d = Document::of(&r);
        let n = names(&d);
        assert_eq!(
            &n[..5],
            ["connection", "queries", "tables", "indexes", "resources"]
        );
        assert!(d.connection().is_some());
    }

    #[test]
    fn a_selection_leaves_the_other_parts_out() {
        let r = report(vec![Section::Tables]);
        let d = Document::of(&r);
        assert!(!names(&d).contains(&"connection"), "{:?}", names(&d));
        assert!(names(&d).contains(&"tables"));
        assert!(!names(&d).contains(&"queries"));
        assert!(d.connection().is_none());
    }

    #[test]
    fn shared_phrases() {
        assert_eq!(word(crate::analyze::Severity::Critical), "critical");
        assert_eq!(cache_hit(None), "n/a");
        assert_eq!(cache_hit(Some(99.456)), "99.46%");
    }
}
