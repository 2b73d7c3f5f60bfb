//! The doctor checks, one per module, and their registry.
//!
//! A check is a module `src/checks/<check_id>.rs` holding its `CHECK` (id, section, default
//! severity, the thresholds it reads, summary, the snapshot part it needs) and its pure
//! `run(&Snapshot, &Thresholds) -> Vec<Finding>`, with unit tests on built snapshots. `ALL`
//! lists them in the order they run; `analyze::doctor` runs the registry. Helpers that several
//! checks share live in the small modules below (`index_groups`, `index_ddl`, `sessions`,
//! `hot_statements`). How to add one: ARCHITECTURE.md, "How to add a doctor check".

// Shared helpers.
pub mod hot_statements;
pub mod id;
pub mod index_ddl;
pub mod index_groups;
pub mod sessions;

use crate::analyze::doctor::{needs, CheckInfo, Input, Sink};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
use crate::snapshot::{Skipped, Snapshot};

pub use id::CheckId;
pub(crate) use index_ddl::{
    create_concurrently, derived_name, drop_index, droppable, renamed_definition,
};
pub(crate) use index_groups::{indexes_with_columns, needs_index_columns};

/// One check: metadata plus its pure run function.
pub struct Check {
    pub info: CheckInfo,
    /// Severity of a typical finding (some findings go up or down with their numbers).
    pub severity: Severity,
    /// The thresholds it reads with their default values: `[thresholds]` keys of budgets.toml
    /// (lower case) or the module's own constants (upper case), as documented in DB_PERF.md
    /// section 3.
    pub thresholds: &'static [(&'static str, f64)],
    /// The first collector part the check needs that the snapshot lacks, if any.
    pub missing: fn(&Snapshot) -> Option<&'static str>,
    pub run: fn(&Snapshot, &Thresholds) -> Vec<Finding>,
}

/// Declares each check's module and lists its `CHECK` in `ALL`, in the order written.
macro_rules! registry {
    ($($check:ident,)*) => {
        $(pub mod $check;)*

        /// Every check, in the order they run (the order of `checks_run` in the report).
        pub const ALL: &[Check] = &[$($check::CHECK,)*];
    };
}

// The registry: one line per check, `src/checks/<line>.rs`. New checks go at the end.
registry! {
    unused_index,
    duplicate_index,
    redundant_index,
    invalid_index,
    fk_without_index,
    missing_index,
    index_bloat,
    table_bloat,
    table_without_pk,
    sequence_overflow,
    dead_tuples,
    xid_wraparound,
    long_running_query,
    idle_in_transaction,
    blocking_locks,
    connections_usage,
    cache_hit_ratio,
    host_cpu,
    host_memory,
    slow_query,
    select_star,
    unbounded_result,
    implicit_join,
    btree_index_on_array,
    index_with_boolean,
    index_mostly_null,
    partial_index_always_true,
    redundant_hash_index,
    duplicate_foreign_key,
    intersected_foreign_key,
    fk_type_mismatch,
    not_valid_constraint,
    integer_primary_key,
    json_column,
    sequence_near_max,
    dominant_wait,
}

/// The registered check with this id.
pub fn check(id: CheckId) -> Option<&'static Check> {
    ALL.iter().find(|c| c.info.id == id)
}

/// The metadata of check `id`, when it is a registered check.
pub fn info(id: CheckId) -> Option<&'static CheckInfo> {
    check(id).map(|c| &c.info)
}

/// The collector parts of `collect::health`, as named in `Snapshot::skipped`.
const HEALTH_PARTS: &[&str] = &[
    "index_columns",
    "foreign_key_details",
    "not_valid_constraints",
    "json_columns",
    "int_primary_keys",
];

/// The snapshot was taken by a version that collects the health parts (a part is present, or
/// its failure was recorded).
fn collected(s: &Snapshot) -> bool {
    let h = &s.health;
    h.index_columns.is_some()
        || h.foreign_keys.is_some()
        || h.not_valid_constraints.is_some()
        || h.json_columns.is_some()
        || h.int_primary_keys.is_some()
        || s.skipped
            .iter()
            .any(|k| HEALTH_PARTS.contains(&k.what.as_str()))
}

/// For the `missing` test of a check that reads data only the health collector gathers: a
/// health part when the snapshot predates that collector. Older snapshots still load; a check
/// whose missing part is a health part then does not run at all, and is not reported skipped.
pub(crate) fn predates_health(s: &Snapshot) -> Option<&'static str> {
    (!collected(s)).then_some(HEALTH_PARTS[0])
}

/// The first part whose flag is false: `parts` pairs "is present" with the part's name.
pub(crate) fn first_missing(parts: &[(bool, &'static str)]) -> Option<&'static str> {
    parts.iter().find(|(present, _)| !present).map(|(_, p)| *p)
}

/// The `missing` test of the host checks: the host was sampled and is the database's.
pub(crate) fn needs_local_host(s: &Snapshot) -> Option<&'static str> {
    (s.host.is_none() || !s.local).then_some(HOST)
}

/// The part name of the host sample.
const HOST: &str = "host";

/// The skipped entry of a check that lacks `part` (its `what` is filled in by the sink).
fn part_skipped(snap: &Snapshot, part: &str) -> Skipped {
    if part != HOST {
        return needs(snap, part);
    }
    Skipped {
        what: String::new(),
        reason: if snap.host.is_some() {
            "the database does not run on the host dbdoctor ran on (remote connection)".into()
        } else {
            "host not sampled".into()
        },
        enable: Some("run dbdoctor on the database host (unix socket or localhost)".into()),
    }
}

/// Objects a check that ran could not see, as a skipped entry after its findings.
fn partly_skipped(id: CheckId, snap: &Snapshot) -> Option<Skipped> {
    match id {
        CheckId::SequenceOverflow => sequence_overflow::unreadable(snap),
        _ => None,
    }
}

/// Run every selected check; one whose data is missing becomes a skipped entry.
pub fn run(input: &Input, sink: &mut Sink) {
    let snap = input.snap;
    let health = collected(snap);
    for c in ALL {
        let missing = (c.missing)(snap);
        if !health && missing.is_some_and(|p| HEALTH_PARTS.contains(&p)) {
            continue;
        }
        sink.check(
            c.info.id,
            missing.is_none().then_some(()),
            || part_skipped(snap, missing.unwrap_or_default()),
            |(), out| out.extend((c.run)(snap, input.th)),
        );
        if let Some(k) = partly_skipped(c.info.id, snap) {
            sink.skip(c.info.id, k.reason, k.enable);
        }
    }
}

#[cfg(test)]
pub(crate) mod testkit {
    //! Small builders for the checks' unit tests.
    use serde_json::{json, Value};

    use crate::analyze::testdata::{index_json, table_json};
    use crate::snapshot::Snapshot;

    /// A minimal snapshot: the sample's capabilities and settings, the given tables, indexes
    /// (with their key column facts) and health parts.
    pub fn snapshot(tables: Vec<Value>, indexes: Vec<Value>, health: Value) -> Snapshot {
        let mut s = crate::analyze::testdata::sample_snapshot();
        s.schema.tables = Some(serde_json::from_value(json!(tables)).unwrap());
        s.schema.indexes = Some(serde_json::from_value(json!(indexes)).unwrap());
        s.schema.foreign_keys = Some(vec![]);
        s.schema.column_stats = Some(vec![]);
        s.statements = None;
        s.health = serde_json::from_value(health).unwrap();
        s
    }

    pub fn table(oid: i64, name: &str) -> Value {
        let mut t = table_json(name);
        t["oid"] = json!(oid);
        t
    }

    pub fn index(oid: i64, table_oid: i64, table: &str, name: &str, cols: &[(i16, &str)]) -> Value {
        index_json(oid, table_oid, "public", table, name, cols)
    }

    /// Key column facts: (type, category, not null) per key column.
    pub fn facts(oid: i64, cols: &[(&str, &str, bool)]) -> Value {
        json!({
            "oid": oid,
            "key_types": cols.iter().map(|c| c.0).collect::<Vec<_>>(),
            "key_categories": cols.iter().map(|c| c.1).collect::<Vec<_>>(),
            "key_not_null": cols.iter().map(|c| c.2).collect::<Vec<_>>(),
            "key_default_opclass": vec![true; cols.len()],
            "table_not_null_columns": null
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::doctor::{analyze, CheckSelection};

    #[test]
    fn every_id_is_registered_once_or_is_a_self_check_or_an_insight() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ALL {
            assert!(seen.insert(c.info.id), "{} registered twice", c.info.id);
        }
        for id in CheckId::ALL {
            let self_check = crate::analyze::statements::CHECK_IDS.contains(id)
                || crate::plans::insights::ALL_IDS.contains(id);
            assert!(
                seen.contains(id) != self_check,
                "{id}: a registered check, a pg_stat_statements self-check or a plan insight, \
                 not two of them and not none"
            );
        }
    }

    #[test]
    fn every_check_is_documented() {
        let all = include_str!("../../DB_PERF.md");
        // The text from `from` to the next heading of the same level.
        let part = |from: &str, level: &str| {
            let doc = &all[all.find(from).expect(from)..];
            &doc[..doc[from.len()..]
                .find(&format!("\n{level} "))
                .map_or(doc.len(), |e| e + from.len())]
        };
        let section = part("## 3. Health checks", "##");
        let rows = part("### Checks", "###");
        for c in ALL {
            // A row whose first cell names the id (`| `a`, `b` | ...` documents both).
            let named = format!("`{}`", c.info.id);
            assert!(
                rows.lines().any(|l| l.starts_with("| ")
                    && l.split('|')
                        .nth(1)
                        .is_some_and(|cell| cell.contains(&named))),
                "{} has no row in DB_PERF.md section 3",
                c.info.id
            );
            for (name, _) in c.thresholds {
                assert!(
                    section.contains(&format!("`{name}`"))
                        || section.contains(&name.to_ascii_uppercase()),
                    "{} threshold {name} undocumented",
                    c.info.id
                );
            }
        }
    }

    /// The `#[test]` functions of a source file, as (name, body) pairs.
    fn test_fns(src: &str) -> Vec<(String, String)> {
        src.split("#[test]")
            .skip(1)
            .filter_map(|part| {
                let after = part.split_once("fn ")?.1;
                let name = after.split('(').next()?.trim().to_string();
                // The body runs to the next test (or the end of the module).
                Some((name, after.to_string()))
            })
            .collect()
    }

    /// A check module proves itself in its own file: at least one test where the check finds
    /// something, and another where it finds nothing.
    #[test]
    fn every_check_has_positive_and_negative_unit_tests() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/checks");
        let mut lacking = Vec::new();
        for c in ALL {
            let path = format!("{dir}/{}.rs", c.info.id);
            let src = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: its module {path} is missing: {e}", c.info.id));
            let tests = test_fns(&src);
            let negative = tests.iter().find(|(_, b)| b.contains("is_empty()"));
            let positive = tests.iter().find(|(n, b)| {
                Some(n) != negative.map(|(n, _)| n)
                    && [
                        ".object",
                        ".detail",
                        ".fix_sql",
                        ".severity",
                        ".priority",
                        ".len(), 1",
                    ]
                    .iter()
                    .any(|k| b.contains(k))
            });
            if negative.is_none() {
                lacking.push(format!(
                    "{}: no unit test asserts that it finds nothing",
                    c.info.id
                ));
            }
            if positive.is_none() {
                lacking.push(format!(
                    "{}: no other unit test asserts on what it finds",
                    c.info.id
                ));
            }
        }
        assert!(lacking.is_empty(), "{}", lacking.join("\n"));
    }

    #[test]
    fn the_unit_test_finder_tells_the_two_kinds_apart() {
        let src = "#[test]\nfn finds() { assert_eq!(f[0].object, \"x\"); }\n";
        assert_eq!(test_fns(src).len(), 1);
        assert!(!test_fns(src)[0].1.contains("is_empty()"));
        assert!(test_fns("fn helper() {}").is_empty());
    }

    #[test]
    fn older_snapshots_run_none_of_the_health_checks() {
        let old = crate::analyze::testdata::sample_snapshot();
        // The checks that came with the health collector.
        let health = [
            CheckId::BtreeIndexOnArray,
            CheckId::IndexWithBoolean,
            CheckId::IndexMostlyNull,
            CheckId::PartialIndexAlwaysTrue,
            CheckId::RedundantHashIndex,
            CheckId::DuplicateForeignKey,
            CheckId::IntersectedForeignKey,
            CheckId::FkTypeMismatch,
            CheckId::NotValidConstraint,
            CheckId::IntegerPrimaryKey,
            CheckId::JsonColumn,
            CheckId::SequenceNearMax,
        ];
        for c in ALL {
            let part = (c.missing)(&old);
            assert_eq!(
                health.contains(&c.info.id),
                part.is_some_and(|p| HEALTH_PARTS.contains(&p)),
                "{}: missing part {part:?} on a snapshot without the health parts",
                c.info.id
            );
        }
        let a = analyze(&old, &Thresholds::default(), &CheckSelection::default());
        assert!(health.iter().all(|id| !a.checks_run.contains(id)));
        assert!(health
            .iter()
            .all(|id| !a.skipped.iter().any(|k| k.what == id.as_str())));
        assert!(a.checks_run.contains(&CheckId::SequenceOverflow));
        // A part that failed to collect is reported for the checks that need it.
        let mut failed = old.clone();
        failed.health.json_columns = Some(vec![]);
        failed.skipped.push(crate::snapshot::Skipped {
            what: "index_columns".into(),
            reason: "timed out".into(),
            enable: None,
        });
        let a = analyze(&failed, &Thresholds::default(), &CheckSelection::default());
        assert!(a.checks_run.contains(&CheckId::JsonColumn));
        let skip = a
            .skipped
            .iter()
            .find(|k| k.what == "btree_index_on_array")
            .unwrap();
        assert!(skip.reason.contains("timed out"), "{}", skip.reason);
    }

    #[test]
    fn a_remote_host_is_skipped_with_the_reason() {
        let mut s = crate::analyze::testdata::sample_snapshot();
        s.local = false;
        let a = analyze(&s, &Thresholds::default(), &CheckSelection::default());
        let k = a.skipped.iter().find(|k| k.what == "host_cpu").unwrap();
        assert!(k.reason.contains("remote connection"), "{}", k.reason);
        assert!(!a.checks_run.contains(&CheckId::HostCpu));
    }

    #[test]
    fn unreadable_sequences_follow_the_check_that_ran() {
        let mut s = crate::analyze::testdata::sample_snapshot();
        s.schema.sequences.as_mut().unwrap()[1].readable = false;
        let a = analyze(&s, &Thresholds::default(), &CheckSelection::default());
        assert!(a.checks_run.contains(&CheckId::SequenceOverflow));
        assert!(a
            .skipped
            .iter()
            .any(|k| k.what == "sequence_overflow" && k.reason.starts_with("insufficient")));
    }
}
