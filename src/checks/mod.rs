//! The registry of doctor checks that live one per module: each module declares its metadata
//! (id, section, default severity, thresholds, summary, the collector parts it reads) and a
//! pure `run(&Snapshot, &Thresholds) -> Vec<Finding>`; doctor's analysis runs them all here.

pub mod btree_index_on_array;
pub mod duplicate_foreign_key;
pub mod fk_type_mismatch;
pub mod index_mostly_null;
pub mod index_with_boolean;
pub mod integer_primary_key;
pub mod intersected_foreign_key;
pub mod json_column;
pub mod not_valid_constraint;
pub mod partial_index_always_true;
pub mod redundant_hash_index;
pub mod sequence_near_max;

use std::collections::HashMap;

use crate::analyze::doctor::{needs, CheckInfo, Input, Sink};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Severity};
use crate::collect::health::IndexColumns;
use crate::collect::schema::IndexInfo;
use crate::snapshot::Snapshot;
use crate::util::qualified;

/// One check: metadata plus its pure run function.
pub struct Check {
    pub info: CheckInfo,
    /// Severity of a typical finding (some findings go up or down with their numbers).
    pub severity: Severity,
    /// Named thresholds with units, as documented in DB_PERF.md section 3.
    pub thresholds: &'static [(&'static str, f64)],
    /// The first collector part the check needs that the snapshot lacks, if any.
    pub missing: fn(&Snapshot) -> Option<&'static str>,
    pub run: fn(&Snapshot, &Thresholds) -> Vec<Finding>,
}

/// Every check of this registry, in report order.
pub const ALL: &[Check] = &[
    btree_index_on_array::CHECK,
    index_with_boolean::CHECK,
    index_mostly_null::CHECK,
    partial_index_always_true::CHECK,
    redundant_hash_index::CHECK,
    duplicate_foreign_key::CHECK,
    intersected_foreign_key::CHECK,
    fk_type_mismatch::CHECK,
    not_valid_constraint::CHECK,
    integer_primary_key::CHECK,
    json_column::CHECK,
    sequence_near_max::CHECK,
];

/// The metadata of check `id`, when it is one of this registry's.
pub fn info(id: &str) -> Option<&'static CheckInfo> {
    ALL.iter().map(|c| &c.info).find(|i| i.id == id)
}

/// The collector parts of `collect::health`, as named in `Snapshot::skipped`.
const HEALTH_PARTS: &[&str] = &[
    "index_columns",
    "foreign_key_details",
    "not_valid_constraints",
    "json_columns",
    "int_primary_keys",
];

/// The snapshot was taken by a version that collects these checks' data (a part is present, or
/// its failure was recorded). Older snapshots still load; these checks then do not run at all.
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

/// Run every selected check; one whose data is missing becomes a skipped entry.
pub fn run(input: &Input, sink: &mut Sink) {
    if !collected(input.snap) {
        return;
    }
    for c in ALL {
        let missing = (c.missing)(input.snap);
        let data = missing.is_none().then_some(());
        sink.check(
            c.info.id,
            data,
            || needs(input.snap, missing.unwrap_or_default()),
            |(), out| out.extend((c.run)(input.snap, input.th)),
        );
    }
}

/// The missing-part test for checks that read indexes and their key column facts.
fn needs_index_columns(s: &Snapshot) -> Option<&'static str> {
    if s.schema.indexes.is_none() {
        Some("indexes")
    } else if s.health.index_columns.is_none() {
        Some("index_columns")
    } else {
        None
    }
}

/// Each index with its key column facts (indexes without facts are left out).
fn indexes_with_columns(s: &Snapshot) -> Vec<(&IndexInfo, &IndexColumns)> {
    let facts: HashMap<i64, &IndexColumns> = s
        .health
        .index_columns
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|c| (c.oid, c))
        .collect();
    s.schema
        .indexes
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter_map(|ix| facts.get(&ix.oid).map(|c| (ix, *c)))
        .collect()
}

/// `CREATE INDEX` text of an existing index, built without blocking writes where possible.
fn create_concurrently(ix: &IndexInfo) -> String {
    let def = &ix.definition;
    let out = if ix.on_partitioned_table {
        def.clone()
    } else if let Some(rest) = def.strip_prefix("CREATE UNIQUE INDEX ") {
        format!("CREATE UNIQUE INDEX CONCURRENTLY {rest}")
    } else if let Some(rest) = def.strip_prefix("CREATE INDEX ") {
        format!("CREATE INDEX CONCURRENTLY {rest}")
    } else {
        def.clone()
    };
    format!("{out};")
}

/// `DROP INDEX` of an existing index, without blocking reads and writes where possible.
fn drop_index(ix: &IndexInfo) -> String {
    format!(
        "DROP INDEX {}IF EXISTS {};",
        if ix.on_partitioned_table {
            ""
        } else {
            "CONCURRENTLY "
        },
        qualified(&ix.schema, &ix.name)
    )
}

/// An index is never advised away when it backs a constraint or is not a plain, valid index
/// of a table (drops stay conservative).
fn droppable(ix: &IndexInfo) -> bool {
    ix.is_valid
        && ix.is_ready
        && !ix.is_primary
        && !ix.is_exclusion
        && ix.constraint_name.is_none()
        && !ix.attached_to_parent
}

/// The index's definition with another name (`None` when the name cannot be found in it).
fn renamed_definition(ix: &IndexInfo, new_name: &str) -> Option<String> {
    let old = format!(" {} ON ", crate::util::quote_ident(&ix.name));
    let p = ix.definition.find(&old)?;
    Some(format!(
        "{} {} ON {}",
        &ix.definition[..p],
        crate::util::quote_ident(new_name),
        &ix.definition[p + old.len()..]
    ))
}

/// `name` with `suffix`, cut to PostgreSQL's 63-byte identifier limit on a char boundary.
fn derived_name(name: &str, suffix: &str) -> String {
    let mut cut = 63usize.saturating_sub(suffix.len()).min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &name[..cut])
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

    #[test]
    fn ids_are_unique_snake_case_and_new() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ALL {
            let id = c.info.id;
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                id.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{id}"
            );
            assert!(
                crate::analyze::doctor::CHECKS.iter().all(|o| o.id != id),
                "{id} is also an analyze check"
            );
        }
    }

    #[test]
    fn every_check_is_documented() {
        let doc = include_str!("../../DB_PERF.md");
        for c in ALL {
            assert!(
                doc.contains(&format!("| `{}` |", c.info.id)),
                "{} has no row in DB_PERF.md section 3",
                c.info.id
            );
            for (name, _) in c.thresholds {
                let constant = name.to_ascii_uppercase();
                assert!(
                    doc.contains(&constant),
                    "{} threshold {constant} undocumented",
                    c.info.id
                );
            }
        }
    }

    #[test]
    fn older_snapshots_run_none_of_these_checks() {
        use crate::analyze::doctor::{analyze, CheckSelection};
        let old = crate::analyze::testdata::sample_snapshot();
        let a = analyze(&old, &Thresholds::default(), &CheckSelection::default());
        assert!(ALL
            .iter()
            .all(|c| !a.checks_run.iter().any(|r| r == c.info.id)));
        assert!(ALL
            .iter()
            .all(|c| !a.skipped.iter().any(|k| k.what == c.info.id)));
        // A part that failed to collect is reported for the checks that need it.
        let mut failed = old.clone();
        failed.health.json_columns = Some(vec![]);
        failed.skipped.push(crate::snapshot::Skipped {
            what: "index_columns".into(),
            reason: "timed out".into(),
            enable: None,
        });
        let a = analyze(&failed, &Thresholds::default(), &CheckSelection::default());
        assert!(a.checks_run.iter().any(|r| r == "json_column"));
        let skip = a
            .skipped
            .iter()
            .find(|k| k.what == "btree_index_on_array")
            .unwrap();
        assert!(skip.reason.contains("timed out"), "{}", skip.reason);
    }

    #[test]
    fn derived_names_fit_postgres() {
        let long = "x".repeat(70);
        assert_eq!(derived_name(&long, "_not_null").len(), 63);
        assert_eq!(derived_name("ix", "_not_null"), "ix_not_null");
    }
}
