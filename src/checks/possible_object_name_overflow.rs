//! `possible_object_name_overflow`: a table, index, sequence, view, function or constraint
//! whose name is exactly `max_identifier_length` bytes (63). PostgreSQL cuts longer names to
//! that length with only a NOTICE, so the name may not be the one written, and two long names
//! that start alike become one (`CREATE INDEX IF NOT EXISTS` then skips the second index).

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::qualified;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::PossibleObjectNameOverflow,
        section: Section::Tables,
        summary: "object name of the maximum identifier length (it may have been cut)",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["health_long_names.sql"],
    missing: |s| s.health.long_names.is_none().then_some("long_names"),
    run,
};

pub fn run(snap: &Snapshot, _th: &Thresholds) -> Vec<Finding> {
    snap.health
        .long_names
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|o| {
            let name = qualified(&o.schema, &o.name);
            let object = match &o.table {
                Some(t) => format!(
                    "{}.{}",
                    qualified(&o.schema, t),
                    crate::util::quote_ident(&o.name)
                ),
                None => name.clone(),
            };
            let mut f = Finding::new(
                CHECK.info.id,
                CHECK.severity,
                Priority::Low,
                object,
                format!(
                    "{} {name} has a name of {} bytes, the most PostgreSQL keeps: a longer name \
                     would have been cut to this one without an error, and a second object whose \
                     name starts the same would collide with it; give it a shorter name",
                    o.kind, o.max_length
                ),
            )
            .detail(json!({ "kind": o.kind, "length": o.max_length }));
            if let Some(t) = &o.table {
                f = f.table(qualified(&o.schema, t));
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::snapshot;
    use serde_json::json;

    #[test]
    fn each_long_name_is_one_finding() {
        let long = "x".repeat(63);
        let s = snapshot(
            vec![],
            vec![],
            json!({"long_names": [
                {"schema": "public", "name": long, "kind": "index", "table": null, "max_length": 63},
                {"schema": "public", "name": long, "kind": "constraint", "table": "t", "max_length": 63},
            ]}),
        );
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].object, format!("public.{long}"));
        assert_eq!(f[1].object, format!("public.t.{long}"));
        assert_eq!(f[1].table.as_deref(), Some("public.t"));
    }

    #[test]
    fn nothing_of_the_kind_gives_no_finding() {
        let s =
            crate::checks::testkit::snapshot(vec![], vec![], serde_json::json!({"long_names": []}));
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
