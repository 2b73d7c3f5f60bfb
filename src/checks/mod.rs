//! The doctor checks, one per module, and their registry.
//!
//! A check is a module `src/checks/<check_id>.rs` holding its `CHECK` (id, section, default
//! severity, the thresholds it reads, the `src/sql/` files its input comes from, summary, the
//! snapshot part it needs) and its pure `run(&Snapshot, &Thresholds) -> Vec<Finding>`, with
//! unit tests on built snapshots. `ALL` lists them in the order they run; `analyze::doctor` runs the registry. Helpers that several
//! checks share live in the small modules below (`facts`, `index_groups`, `index_ddl`,
//! `sessions`, `hot_statements`). How to add one: ARCHITECTURE.md, "How to add a doctor check".

// Shared helpers.
pub mod facts;
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
    /// The files of `src/sql/` whose rows the check reads (through the snapshot parts its
    /// `missing` test names). A `*` stands for the rest of a name, so one entry names a family
    /// of per-version variants (`statements_1_*.sql`). Empty for a check that reads no query
    /// (the host sample).
    pub sql: &'static [&'static str],
    /// The first collector part the check needs that the snapshot lacks, if any.
    pub missing: fn(&Snapshot) -> Option<&'static str>,
    pub run: fn(&Snapshot, &Thresholds) -> Vec<Finding>,
}

// The check modules, `src/checks/<check_id>.rs`, one line each in alphabetical order (cargo fmt
// keeps them sorted). A check is also listed in `ALL`; a unit test fails when a module that
// defines a `CHECK` is missing from `ALL` or listed twice.
pub mod all_columns_nullable_except_pk;
pub mod blob_column;
pub mod blocking_locks;
pub mod btree_index_on_array;
pub mod cache_hit_ratio;
pub mod char_column;
pub mod connections_usage;
pub mod dead_tuples;
pub mod dominant_wait;
pub mod duplicate_foreign_key;
pub mod duplicate_index;
pub mod fixed_length_varchar;
pub mod fk_type_mismatch;
pub mod fk_without_index;
pub mod foreign_key_with_null_values;
pub mod host_cpu;
pub mod host_memory;
pub mod idle_in_transaction;
pub mod implicit_join;
pub mod inconsistent_column_type;
pub mod index_bloat;
pub mod index_mostly_null;
pub mod index_with_boolean;
pub mod index_with_timestamp_in_the_middle;
pub mod integer_primary_key;
pub mod intersected_foreign_key;
pub mod invalid_index;
pub mod json_column;
pub mod long_running_query;
pub mod missing_index;
pub mod money_column;
pub mod not_valid_constraint;
pub mod partial_index_always_true;
pub mod possible_object_name_overflow;
pub mod primary_key_columns_not_first;
pub mod primary_key_with_varchar;
pub mod redundant_hash_index;
pub mod redundant_index;
pub mod select_star;
pub mod self_referenced_foreign_key;
pub mod sequence_near_max;
pub mod sequence_overflow;
pub mod serial_column_not_pk;
pub mod slow_query;
pub mod table_bloat;
pub mod table_not_linked_to_others;
pub mod table_with_incrementing_columns;
pub mod table_with_inheritance;
pub mod table_with_no_data;
pub mod table_with_zero_or_one_column;
pub mod table_without_pk;
pub mod timestamp_or_timetz_column;
pub mod unbounded_result;
pub mod unused_index;
pub mod xid_wraparound;

/// Every check, in the order they run (the order of `checks_run` in the report). New checks go
/// at the end.
pub const ALL: &[Check] = &[
    unused_index::CHECK,
    duplicate_index::CHECK,
    redundant_index::CHECK,
    invalid_index::CHECK,
    fk_without_index::CHECK,
    missing_index::CHECK,
    index_bloat::CHECK,
    table_bloat::CHECK,
    table_without_pk::CHECK,
    sequence_overflow::CHECK,
    dead_tuples::CHECK,
    xid_wraparound::CHECK,
    long_running_query::CHECK,
    idle_in_transaction::CHECK,
    blocking_locks::CHECK,
    connections_usage::CHECK,
    cache_hit_ratio::CHECK,
    host_cpu::CHECK,
    host_memory::CHECK,
    slow_query::CHECK,
    select_star::CHECK,
    unbounded_result::CHECK,
    implicit_join::CHECK,
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
    dominant_wait::CHECK,
    money_column::CHECK,
    char_column::CHECK,
    fixed_length_varchar::CHECK,
    timestamp_or_timetz_column::CHECK,
    blob_column::CHECK,
    serial_column_not_pk::CHECK,
    inconsistent_column_type::CHECK,
    table_with_zero_or_one_column::CHECK,
    all_columns_nullable_except_pk::CHECK,
    primary_key_columns_not_first::CHECK,
    table_with_inheritance::CHECK,
    table_not_linked_to_others::CHECK,
    table_with_incrementing_columns::CHECK,
    table_with_no_data::CHECK,
    foreign_key_with_null_values::CHECK,
    self_referenced_foreign_key::CHECK,
    index_with_timestamp_in_the_middle::CHECK,
    primary_key_with_varchar::CHECK,
    possible_object_name_overflow::CHECK,
];

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
    "flagged_columns",
    "table_facts",
    "long_names",
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
        || h.flagged_columns.is_some()
        || h.table_facts.is_some()
        || h.long_names.is_some()
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

/// The host checks' finding, when `over` finds the sampled host over its limit and returns the
/// message and detail.
pub(crate) fn host_finding(
    snap: &Snapshot,
    check: &Check,
    over: impl FnOnce(&crate::collect::host::HostSnapshot) -> Option<(String, serde_json::Value)>,
) -> Vec<Finding> {
    let Some((message, detail)) = snap.host.as_ref().and_then(over) else {
        return Vec::new();
    };
    vec![Finding::new(
        check.info.id,
        check.severity,
        crate::analyze::Priority::Medium,
        "host",
        message,
    )
    .detail(detail)]
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

    /// A flagged column of `public.<table>`: (column, format_type, typname).
    pub fn column(table: &str, col: &str, data_type: &str, type_name: &str) -> Value {
        json!({
            "schema": "public", "table": table, "column": col, "data_type": data_type,
            "type_name": type_name, "not_null": false, "serial_sequence": null,
            "inconsistent": false
        })
    }

    /// Table facts of `public.<table>` with nothing to report; tests set the field they need.
    pub fn table_facts(table: &str) -> Value {
        json!({
            "schema": "public", "table": table, "column_count": 3, "non_pk_count": 2,
            "all_non_pk_nullable": false, "pk_not_first": false, "first_column": "id",
            "pk_columns": ["id"], "inherits_from": null, "not_linked": false,
            "incrementing_columns": [], "no_data": false
        })
    }

    /// A snapshot whose health part is these flagged columns (each built with `column`).
    pub fn with_flagged_columns(columns: Vec<Value>) -> Snapshot {
        snapshot(vec![], vec![], json!({ "flagged_columns": columns }))
    }

    /// A snapshot whose health part is these table facts (each built with `table_facts`).
    pub fn with_table_facts(tables: Vec<Value>) -> Snapshot {
        snapshot(vec![], vec![], json!({ "table_facts": tables }))
    }

    /// `table_facts(table)` with the fields of `set` changed.
    pub fn table_facts_with(table: &str, set: Value) -> Value {
        let mut t = table_facts(table);
        for (k, v) in set.as_object().expect("an object of fields") {
            t[k] = v.clone();
        }
        t
    }

    /// A foreign key of `public.<table>` to `public.<ref_table>` (columns, NOT NULL flags).
    pub fn foreign_key(
        oid: i64,
        table: &str,
        name: &str,
        ref_table: &str,
        cols: &[(&str, bool)],
    ) -> Value {
        json!({
            "oid": oid, "table_oid": 1, "schema": "public", "table": table, "name": name,
            "ref_table_oid": if table == ref_table { 1 } else { 2 }, "ref_schema": "public",
            "ref_table": ref_table,
            "columns": cols.iter().map(|c| c.0).collect::<Vec<_>>(),
            "column_types": vec!["bigint"; cols.len()],
            "ref_columns": cols.iter().map(|c| c.0).collect::<Vec<_>>(),
            "ref_column_types": vec!["bigint"; cols.len()],
            "validated": true, "definition": "FOREIGN KEY (x) REFERENCES y(x)",
            "column_not_null": cols.iter().map(|c| c.1).collect::<Vec<_>>(),
            "match_full": false, "on_delete": "a"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::doctor::{analyze, CheckSelection};

    #[test]
    fn pg_index_health_mapping_names_registered_checks() {
        let doc = include_str!("../../DB_PERF.md");
        let start = doc
            .find("**pg-index-health mapping.**")
            .expect("mapping paragraph");
        let rows: Vec<&str> = doc[start..]
            .lines()
            .skip_while(|l| !l.starts_with("| pg-index-health |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(rows.len(), 45, "one row per pg-index-health check");
        let mut covered = 0;
        for row in &rows {
            let ours = row.split('|').nth(2).unwrap().trim();
            if ours.starts_with("not covered: ") {
                continue;
            }
            covered += 1;
            let ids: Vec<&str> = ours.split('`').skip(1).step_by(2).collect();
            assert!(!ids.is_empty(), "{row}");
            for id in ids {
                assert!(
                    ALL.iter().any(|c| c.info.id.as_str() == id),
                    "{id} in the mapping is not a check"
                );
            }
        }
        assert_eq!(covered, 39);
        assert!(doc.contains("39 of the 45 are covered; the 6 left out"));
    }

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
            let row = rows.lines().find(|l| {
                l.starts_with("| ")
                    && l.split('|')
                        .nth(1)
                        .is_some_and(|cell| cell.contains(&named))
            });
            let row =
                row.unwrap_or_else(|| panic!("{} has no row in DB_PERF.md section 3", c.info.id));
            // Its last cell, "Input", names the queries it reads.
            let input = row.trim_end_matches(['|', ' ']).rsplit('|').next().unwrap();
            for f in c.sql {
                assert!(
                    input.contains(&format!("`{f}`")),
                    "{}: its DB_PERF.md row's Input cell does not name {f}",
                    c.info.id
                );
            }
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

    /// A check module is registered: every file of src/checks/ that defines a `CHECK` is in
    /// `ALL` exactly once (its `pub mod` line alone compiles it but never runs it).
    #[test]
    fn every_check_module_is_in_all_exactly_once() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/checks");
        let mut modules = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let src = std::fs::read_to_string(&path).unwrap();
            if src.contains("\npub const CHECK: Check = Check {") {
                modules.push(path.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
        assert!(modules.len() >= ALL.len(), "{modules:?}");
        let mut problems = Vec::new();
        for m in &modules {
            let n = ALL.iter().filter(|c| c.info.id.as_str() == m).count();
            if n != 1 {
                problems.push(format!(
                    "src/checks/{m}.rs defines a CHECK listed {n} times in ALL"
                ));
            }
        }
        for c in ALL {
            if !modules.iter().any(|m| m == c.info.id.as_str()) {
                problems.push(format!(
                    "{} is in ALL without its module src/checks/{0}.rs",
                    c.info.id
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The `src/sql/` files the doctor collectors (`src/collect/`) run that feed no check
    /// directly: the capabilities probe's extension list, the exact sizes of the largest tables
    /// and indexes (they refine the relpages estimates the checks read, and the report shows
    /// them), the pg_stat_statements settings and info (read by its
    /// self-checks in `analyze::statements`) and the plan collector's queries (read by the
    /// plan insights in `plans::insights`).
    const SHARED_SQL: &[&str] = &[
        "extensions.sql",
        "doctor_table_sizes.sql",
        "doctor_index_sizes.sql",
        "statements_settings.sql",
        "statements_info.sql",
        "plans_settings.sql",
        "plans_tables.sql",
    ];

    /// The `src/sql/` files that the modules of `src/collect/` include.
    fn collector_sql() -> std::collections::BTreeSet<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/collect");
        let mut files = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in src.split("include_str!(\"../sql/").skip(1) {
                files.insert(part.split('"').next().unwrap().to_string());
            }
        }
        files
    }

    /// Whether the `sql` entry `pattern` names file `name` (a `*` stands for any run of
    /// characters).
    fn sql_names(pattern: &str, name: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == name,
            Some((head, tail)) => {
                name.len() >= head.len() + tail.len()
                    && name.starts_with(head)
                    && name.ends_with(tail)
            }
        }
    }

    #[test]
    fn a_family_pattern_names_its_versions_only() {
        assert!(sql_names("statements_1_*.sql", "statements_1_10.sql"));
        assert!(sql_names("wait_sample*.sql", "wait_sample.sql"));
        assert!(!sql_names("statements_1_*.sql", "statements_info.sql"));
        assert!(!sql_names("doctor_tables.sql", "doctor_table_sizes.sql"));
        assert!(!sql_names("a*a", "a"));
    }

    /// Each check names the queries its input comes from: every name is a file of src/sql/
    /// that a collector runs, and every query a collector runs feeds a check or is one of the
    /// few listed as shared.
    #[test]
    fn every_check_names_its_sql_and_every_collector_query_has_a_reader() {
        let collected = collector_sql();
        assert!(collected.contains("doctor_indexes.sql"), "{collected:?}");
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/sql");
        let mut problems = Vec::new();
        let files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for c in ALL {
            for f in c.sql {
                let named: Vec<&String> = files.iter().filter(|n| sql_names(f, n)).collect();
                if named.len() < 1 + usize::from(f.contains('*')) {
                    problems.push(format!(
                        "{}: src/sql/{f} names {} file(s) (a family with * names two or more)",
                        c.info.id,
                        named.len()
                    ));
                }
                for n in named.into_iter().filter(|n| !collected.contains(*n)) {
                    problems.push(format!("{}: no collector runs src/sql/{n}", c.info.id));
                }
            }
            let host = [CheckId::HostCpu, CheckId::HostMemory].contains(&c.info.id);
            if c.sql.is_empty() != host {
                problems.push(format!("{}: names no query", c.info.id));
            }
        }
        for f in &collected {
            let read = ALL.iter().any(|c| c.sql.iter().any(|p| sql_names(p, f)));
            if read == SHARED_SQL.contains(&f.as_str()) {
                problems.push(format!(
                    "src/sql/{f}: named by a check and listed as shared, or neither"
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
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
            CheckId::MoneyColumn,
            CheckId::CharColumn,
            CheckId::FixedLengthVarchar,
            CheckId::TimestampOrTimetzColumn,
            CheckId::BlobColumn,
            CheckId::SerialColumnNotPk,
            CheckId::InconsistentColumnType,
            CheckId::TableWithZeroOrOneColumn,
            CheckId::AllColumnsNullableExceptPk,
            CheckId::PrimaryKeyColumnsNotFirst,
            CheckId::TableWithInheritance,
            CheckId::TableNotLinkedToOthers,
            CheckId::TableWithIncrementingColumns,
            CheckId::TableWithNoData,
            CheckId::ForeignKeyWithNullValues,
            CheckId::SelfReferencedForeignKey,
            CheckId::IndexWithTimestampInTheMiddle,
            CheckId::PrimaryKeyWithVarchar,
            CheckId::PossibleObjectNameOverflow,
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
