//! Index checks: unused, duplicate, redundant (left prefix), invalid, foreign keys without an
//! index, the sequential-scan `missing_index` heuristic, and btree bloat.

use std::collections::HashMap;

use serde_json::json;

use crate::analyze::bloat::{self, ColumnIndex};
use crate::analyze::doctor::{needs, needs_either, Input, Sink};
use crate::analyze::sqlfix;
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::collect::schema::{ForeignKey, IndexInfo, TableInfo};
use crate::util::{human_bytes, qualified};

/// An index this big is worth acting on soon.
const BIG_INDEX_BYTES: i64 = 100 * 1024 * 1024;
/// A referencing table with fewer rows than this makes a missing FK index cheap.
const FK_SMALL_TABLE_ROWS: f64 = 1_000.0;
/// ... and more than this makes it urgent.
const FK_BIG_TABLE_ROWS: f64 = 100_000.0;

pub fn run(input: &Input, sink: &mut Sink) {
    let s = &input.snap.schema;
    let snap = input.snap;
    let idx = s.indexes.as_deref();
    let tables = s.tables.as_deref();
    sink.check(
        "unused_index",
        idx.zip(s.foreign_keys.as_deref()),
        || needs(snap, "indexes"),
        |(ix, fks), out| unused(input, ix, fks, out),
    );
    sink.check(
        "duplicate_index",
        idx,
        || needs(snap, "indexes"),
        duplicates,
    );
    sink.check("redundant_index", idx, || needs(snap, "indexes"), redundant);
    sink.check(
        "invalid_index",
        idx,
        || needs(snap, "indexes"),
        |ix, out| invalid(input, ix, out),
    );
    sink.check(
        "fk_without_index",
        idx.zip(s.foreign_keys.as_deref()),
        || needs_either(snap, "indexes", idx.is_some(), "foreign_keys"),
        |(ix, fks), out| fk_without_index(input, ix, fks, out),
    );
    sink.check(
        "missing_index",
        tables.zip(idx),
        || needs_either(snap, "tables", tables.is_some(), "indexes"),
        |(t, ix), out| missing_index(input, t, ix, out),
    );
    sink.check(
        "index_bloat",
        idx.zip(s.column_stats.as_deref()),
        || needs_either(snap, "indexes", idx.is_some(), "column_stats"),
        |(ix, cols), out| index_bloat(input, ix, cols, out),
    );
}

pub fn obj(ix: &IndexInfo) -> String {
    qualified(&ix.schema, &ix.name)
}

fn table_of(ix: &IndexInfo) -> String {
    qualified(&ix.schema, &ix.table)
}

/// Backs a PRIMARY KEY, UNIQUE or EXCLUDE constraint, or enforces uniqueness itself.
pub fn enforces_something(ix: &IndexInfo) -> bool {
    ix.is_primary || ix.is_unique || ix.is_exclusion || ix.constraint_name.is_some()
}

/// The foreign keys of this index's table whose columns this index's leading key columns cover
/// (in any order), so the index serves the FK's lookups.
pub fn supported_fks<'a>(ix: &IndexInfo, fks: &'a [ForeignKey]) -> Vec<&'a ForeignKey> {
    fks.iter()
        .filter(|fk| fk.table_oid == ix.table_oid && index_covers_fk(ix, fk))
        .collect()
}

fn index_covers_fk(ix: &IndexInfo, fk: &ForeignKey) -> bool {
    if !ix.is_valid || ix.predicate.is_some() {
        return false;
    }
    let n = fk.attnums.len();
    let keys = ix.key_attnums();
    let usable_method = ix.method == "btree" || (ix.method == "hash" && n == 1);
    if !usable_method || keys.len() < n {
        return false;
    }
    let mut lead: Vec<i16> = keys[..n].to_vec();
    let mut want = fk.attnums.clone();
    lead.sort_unstable();
    want.sort_unstable();
    lead == want
}

fn unused(input: &Input, indexes: &[IndexInfo], fks: &[ForeignKey], out: &mut Vec<Finding>) {
    let th = input.th;
    let stats = &input.stats;
    // A duplicate gets the more specific duplicate_index verdict instead.
    let duplicates: std::collections::HashSet<i64> = duplicate_groups(indexes)
        .iter()
        .flat_map(|g| g[1..].iter().map(|i| i.oid))
        .collect();
    for ix in indexes {
        if duplicates.contains(&ix.oid)
            || ix.idx_scan > 0
            || !ix.is_valid
            || enforces_something(ix)
            || ix.attached_to_parent
            || ix.bytes < th.unused_index_min_bytes
        {
            continue;
        }
        let confidence = if stats.age_days < th.stats_min_age_days {
            Confidence::Low
        } else if stats.replica {
            Confidence::Medium
        } else {
            Confidence::High
        };
        let supported = supported_fks(ix, fks);
        let mut detail = json!({
            "bytes": ix.bytes,
            "idx_scan": ix.idx_scan,
            "stats_since": stats.since,
            "stats_source": stats.source,
            "stats_age_days": round2(stats.age_days),
            "replica_statistics": stats.replica,
            "definition": ix.definition,
        });
        if let Some(t) = ix.last_idx_scan {
            detail["last_idx_scan"] = json!(t);
        }
        let age_note = stats.describe();
        if !supported.is_empty() {
            let names: Vec<String> = supported.iter().map(|f| f.name.clone()).collect();
            detail["supports_foreign_keys"] = json!(names);
            let names: Vec<String> = names.iter().map(|n| crate::util::quote_ident(n)).collect();
            out.push(
                Finding::new(
                    "unused_index",
                    Severity::Info,
                    Priority::Low,
                    obj(ix),
                    format!(
                        "index {} ({}) has not been scanned, but it supports foreign key {}: without it, deleting or updating rows of {} scans {}; keep it unless that never happens ({age_note})",
                        obj(ix),
                        human_bytes(ix.bytes),
                        names.join(", "),
                        supported
                            .iter()
                            .map(|f| qualified(&f.ref_schema, &f.ref_table))
                            .collect::<Vec<_>>()
                            .join(", "),
                        table_of(ix)
                    ),
                )
                .table(table_of(ix))
                .detail(detail)
                .confidence(confidence),
            );
            continue;
        }
        let priority = if ix.bytes >= BIG_INDEX_BYTES && confidence == Confidence::High {
            Priority::High
        } else if confidence == Confidence::Low {
            Priority::Low
        } else {
            Priority::Medium
        };
        out.push(
            Finding::new(
                "unused_index",
                Severity::Warning,
                priority,
                obj(ix),
                format!(
                    "index {} ({}) has not been scanned once: it costs writes and space for nothing ({age_note}{})",
                    obj(ix),
                    human_bytes(ix.bytes),
                    if confidence == Confidence::Low {
                        "; too recent to be sure, check again later"
                    } else {
                        ""
                    }
                ),
            )
            .table(table_of(ix))
            .detail(detail)
            .fix(sqlfix::drop_index(ix), Some(sqlfix::create_index(ix)))
            .confidence(confidence),
        );
    }
}

/// Everything that makes two indexes interchangeable, uniqueness aside.
type DefKey<'a> = (
    i64,
    &'a str,
    &'a [i16],
    i32,
    &'a [i64],
    &'a [i64],
    &'a [i16],
    Option<&'a str>,
    Option<&'a str>,
);

fn def_key(ix: &IndexInfo) -> DefKey<'_> {
    (
        ix.table_oid,
        ix.method.as_str(),
        ix.attnums.as_slice(),
        ix.key_count,
        ix.opclasses.as_slice(),
        ix.collations.as_slice(),
        ix.options.as_slice(),
        ix.expressions.as_deref(),
        ix.predicate.as_deref(),
    )
}

/// `b` answers every query `a` answers and enforces whatever `a` enforces: it is identical to
/// `a` (uniqueness aside, unless `a` is unique), or `a`'s btree keys are a left prefix of `b`'s
/// with the same operator classes, collations, order, expressions and predicate.
pub fn covers(b: &IndexInfo, a: &IndexInfo) -> bool {
    if b.oid == a.oid || b.table_oid != a.table_oid || !b.is_valid {
        return false;
    }
    if def_key(a) == def_key(b) {
        return b.is_unique || !a.is_unique;
    }
    if a.is_unique || a.method != "btree" || b.method != "btree" {
        return false;
    }
    let ak = a.key_attnums();
    let bk = b.key_attnums();
    a.key_count as usize == a.attnums.len()
        && bk.len() > ak.len()
        && bk[..ak.len()] == *ak
        && b.opclasses.get(..ak.len()) == a.opclasses.get(..ak.len())
        && b.collations.get(..ak.len()) == a.collations.get(..ak.len())
        && b.options.get(..ak.len()) == a.options.get(..ak.len())
        && b.expressions == a.expressions
        && b.predicate == a.predicate
}

/// Which of two identical indexes to keep: the constraint's, then a unique one, then the more
/// used, then the older.
fn keep_rank(ix: &IndexInfo) -> (bool, bool, bool, i64, i64) {
    (
        ix.constraint_name.is_some() || ix.is_primary,
        ix.is_unique,
        ix.is_exclusion,
        ix.idx_scan,
        -ix.oid,
    )
}

/// Groups of identical indexes, the one to keep first.
fn duplicate_groups(indexes: &[IndexInfo]) -> Vec<Vec<&IndexInfo>> {
    let mut groups: HashMap<DefKey, Vec<&IndexInfo>> = HashMap::new();
    for ix in indexes
        .iter()
        .filter(|i| i.is_valid && !i.attached_to_parent)
    {
        groups.entry(def_key(ix)).or_default().push(ix);
    }
    let mut groups: Vec<Vec<&IndexInfo>> = groups.into_values().filter(|g| g.len() > 1).collect();
    groups.sort_by_key(|g| g.iter().map(|i| i.oid).min());
    for g in &mut groups {
        g.sort_by_key(|b| std::cmp::Reverse(keep_rank(b)));
    }
    groups
}

fn duplicates(indexes: &[IndexInfo], out: &mut Vec<Finding>) {
    for g in duplicate_groups(indexes) {
        let keeper = g[0];
        for ix in &g[1..] {
            let detail = json!({
                "bytes": ix.bytes,
                "idx_scan": ix.idx_scan,
                "duplicate_of": obj(keeper),
                "duplicate_of_constraint": keeper.constraint_name,
                "definition": ix.definition,
                "kept_definition": keeper.definition,
            });
            if ix.constraint_name.is_some() || ix.is_primary || ix.is_exclusion {
                // Both back constraints: dropping means dropping a constraint, a schema decision.
                out.push(
                    Finding::new(
                        "duplicate_index",
                        Severity::Info,
                        Priority::Low,
                        obj(ix),
                        format!(
                            "index {} backs constraint {} and is identical to {}: two constraints enforce the same thing; drop one constraint if that is not intended",
                            obj(ix),
                            ix.constraint_name.as_deref().unwrap_or("?"),
                            obj(keeper)
                        ),
                    )
                    .table(table_of(ix))
                    .detail(detail),
                );
                continue;
            }
            out.push(
                Finding::new(
                    "duplicate_index",
                    Severity::Warning,
                    if ix.bytes >= BIG_INDEX_BYTES {
                        Priority::High
                    } else {
                        Priority::Medium
                    },
                    obj(ix),
                    format!(
                        "index {} ({}) is identical to {}{}: drop it, every query it serves is served by the other",
                        obj(ix),
                        human_bytes(ix.bytes),
                        obj(keeper),
                        keeper
                            .constraint_name
                            .as_deref()
                            .map(|c| format!(" (which backs constraint {c})"))
                            .unwrap_or_default()
                    ),
                )
                .table(table_of(ix))
                .detail(detail)
                .fix(sqlfix::drop_index(ix), Some(sqlfix::create_index(ix))),
            );
        }
    }
}

fn redundant(indexes: &[IndexInfo], out: &mut Vec<Finding>) {
    // A duplicate's own verdict is duplicate_index.
    let duplicates: std::collections::HashSet<i64> = duplicate_groups(indexes)
        .iter()
        .flat_map(|g| g[1..].iter().map(|i| i.oid))
        .collect();
    let mut by_table: HashMap<i64, Vec<&IndexInfo>> = HashMap::new();
    for ix in indexes
        .iter()
        .filter(|i| i.is_valid && !i.attached_to_parent && !duplicates.contains(&i.oid))
    {
        by_table.entry(ix.table_oid).or_default().push(ix);
    }
    let mut tables: Vec<_> = by_table.into_iter().collect();
    tables.sort_by_key(|(oid, _)| *oid);
    for (_, list) in tables {
        for a in &list {
            if a.method != "btree"
                || enforces_something(a)
                || a.key_count as usize != a.attnums.len()
            {
                continue;
            }
            let ak = a.key_attnums();
            // The widest index that covers `a`, so the message names the best replacement.
            let cover = list
                .iter()
                .filter(|b| b.oid != a.oid && b.method == "btree")
                .filter(|b| {
                    let bk = b.key_attnums();
                    bk.len() > ak.len()
                        && bk[..ak.len()] == *ak
                        && b.opclasses.get(..ak.len()) == a.opclasses.get(..ak.len())
                        && b.collations.get(..ak.len()) == a.collations.get(..ak.len())
                        && b.options.get(..ak.len()) == a.options.get(..ak.len())
                        && b.expressions == a.expressions
                        && b.predicate == a.predicate
                })
                .max_by_key(|b| (b.key_attnums().len(), -b.oid));
            let Some(b) = cover else { continue };
            out.push(
                Finding::new(
                    "redundant_index",
                    Severity::Warning,
                    Priority::Low,
                    obj(a),
                    format!(
                        "index {} ({}) is a left prefix of {}: queries on its columns can use the wider index; drop it unless its smaller size measurably speeds a hot query",
                        obj(a),
                        human_bytes(a.bytes),
                        obj(b)
                    ),
                )
                .table(table_of(a))
                .detail(json!({
                    "bytes": a.bytes,
                    "idx_scan": a.idx_scan,
                    "covered_by": obj(b),
                    "covered_by_bytes": b.bytes,
                    "definition": a.definition,
                    "covering_definition": b.definition,
                }))
                .fix(sqlfix::drop_index(a), Some(sqlfix::create_index(a)))
                .confidence(Confidence::Medium),
            );
        }
    }
}

/// The original name when `ix` is the leftover of a failed `REINDEX CONCURRENTLY` or
/// `CREATE INDEX CONCURRENTLY` rebuild (`<name>_ccnew[N]`, `<name>_ccold[N]`): an invalid index
/// with that suffix whose table holds another index of the same columns, expressions and
/// predicate.
pub fn leftover_of<'a>(ix: &IndexInfo, indexes: &'a [IndexInfo]) -> Option<&'a IndexInfo> {
    if ix.is_valid {
        return None;
    }
    let stem = ix.name.trim_end_matches(|c: char| c.is_ascii_digit());
    let base = stem
        .strip_suffix("_ccnew")
        .or_else(|| stem.strip_suffix("_ccold"))?;
    indexes.iter().find(|o| {
        o.oid != ix.oid
            && o.table_oid == ix.table_oid
            && o.attnums == ix.attnums
            && o.expressions == ix.expressions
            && o.predicate == ix.predicate
            && o.method == ix.method
            // PostgreSQL cuts a long name before adding the suffix.
            && (o.name == base || o.name.starts_with(base))
    })
}

/// An invalid unique index (not a leftover) whose rebuild fails if the table holds duplicate
/// keys: the collector counts them before doctor proposes a rebuild.
pub fn needs_duplicate_check(ix: &IndexInfo, indexes: &[IndexInfo]) -> bool {
    !ix.is_valid && ix.is_unique && !ix.on_partitioned_table && leftover_of(ix, indexes).is_none()
}

fn invalid(input: &Input, indexes: &[IndexInfo], out: &mut Vec<Finding>) {
    let sessions = input.snap.activity.sessions.as_deref().unwrap_or(&[]);
    let checks = input.snap.schema.fix_checks.as_ref();
    for ix in indexes.iter().filter(|i| !i.is_valid) {
        // A concurrent build in progress is invalid until it finishes: not a finding.
        let building = sessions.iter().any(|s| {
            s.state.as_deref() == Some("active")
                && s.query.as_deref().is_some_and(|q| {
                    let q = q.to_lowercase();
                    q.contains("concurrently") && q.contains(&ix.name.to_lowercase())
                })
        });
        if building {
            continue;
        }
        let mut detail = json!({
            "bytes": ix.bytes,
            "is_ready": ix.is_ready,
            "definition": ix.definition,
        });
        let base = Finding::new(
            "invalid_index",
            Severity::Warning,
            Priority::High,
            obj(ix),
            String::new(),
        )
        .table(table_of(ix));
        if let Some(orig) = leftover_of(ix, indexes) {
            detail["leftover_of"] = json!(obj(orig));
            out.push(
                Finding {
                    message: format!(
                        "index {} is the leftover of a failed concurrent rebuild of {}: it answers no query, but every write still maintains it; drop it ({} itself is untouched)",
                        obj(ix),
                        obj(orig),
                        obj(orig)
                    ),
                    ..base
                }
                .detail(detail)
                .fix(
                    sqlfix::drop_index(ix),
                    Some(sqlfix::nothing_to_undo(
                        "the leftover answered no query and pg_dump leaves invalid indexes out",
                    )),
                ),
            );
            continue;
        }
        if ix.on_partitioned_table {
            // Left invalid by CREATE INDEX ... ON ONLY: valid once every partition's index is
            // attached, which a rebuild does not do.
            out.push(
                Finding {
                    message: format!(
                        "index {} of partitioned table {} is invalid: some partition has no index attached to it; create the matching index on each partition and ALTER INDEX {} ATTACH PARTITION it (no automatic fix)",
                        obj(ix),
                        table_of(ix),
                        obj(ix)
                    ),
                    ..base
                }
                .detail(detail),
            );
            continue;
        }
        let dup = checks.and_then(|c| c.duplicates(ix.oid));
        if ix.is_unique {
            match dup {
                Some(d) if d.duplicated_values.is_some_and(|n| n > 0) => {
                    detail["duplicated_values"] = json!(d.duplicated_values);
                    detail["list_duplicates_sql"] = json!(d.list_query);
                    out.push(
                        Finding {
                            message: format!(
                                "unique index {} is invalid and {} key value{} of {} are held by more than one row: a rebuild fails until they are resolved; list them with: {}",
                                obj(ix),
                                d.duplicated_values.unwrap_or(0),
                                if d.duplicated_values == Some(1) { "" } else { "s" },
                                table_of(ix),
                                d.list_query
                            ),
                            ..base
                        }
                        .detail(detail),
                    );
                    continue;
                }
                Some(d) if d.duplicated_values == Some(0) => {}
                other => {
                    let why = other
                        .and_then(|d| d.error.clone())
                        .unwrap_or_else(|| "duplicate keys were not checked".into());
                    if let Some(d) = other.filter(|d| !d.list_query.is_empty()) {
                        detail["list_duplicates_sql"] = json!(d.list_query);
                    }
                    detail["duplicate_check_error"] = json!(why);
                    out.push(
                        Finding {
                            message: format!(
                                "unique index {} is invalid; whether its table holds duplicate keys is unknown ({why}), so no rebuild is proposed: a rebuild fails while duplicates exist",
                                obj(ix)
                            ),
                            ..base
                        }
                        .detail(detail),
                    );
                    continue;
                }
            }
        }
        out.push(
            Finding {
                message: format!(
                    "index {} is invalid (a CREATE INDEX CONCURRENTLY or REINDEX failed): queries never use it, but every write still maintains it; rebuild it (or drop it if it is not needed)",
                    obj(ix)
                ),
                ..base
            }
            .detail(detail)
            .fix(
                sqlfix::reindex(ix),
                Some(format!(
                    "-- the original index was invalid and answered no query: dropping the rebuilt one restores that\n{}",
                    sqlfix::drop_index(ix)
                )),
            ),
        );
    }
}

fn fk_without_index(
    input: &Input,
    indexes: &[IndexInfo],
    fks: &[ForeignKey],
    out: &mut Vec<Finding>,
) {
    let tables: HashMap<i64, &TableInfo> = input
        .snap
        .schema
        .tables
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|t| (t.oid, t))
        .collect();
    let mut by_table: HashMap<i64, Vec<&IndexInfo>> = HashMap::new();
    for ix in indexes {
        by_table.entry(ix.table_oid).or_default().push(ix);
    }
    for fk in fks {
        let covered = by_table
            .get(&fk.table_oid)
            .is_some_and(|l| l.iter().any(|ix| index_covers_fk(ix, fk)));
        if covered {
            continue;
        }
        let t = tables.get(&fk.table_oid);
        let rows = t
            .map(|t| t.reltuples.max(t.n_live_tup as f64))
            .unwrap_or(-1.0);
        let partitioned = t.is_some_and(|t| t.kind == "p");
        let (priority, severity) = if rows >= FK_BIG_TABLE_ROWS {
            (Priority::High, Severity::Warning)
        } else if !(0.0..FK_SMALL_TABLE_ROWS).contains(&rows) {
            (Priority::Medium, Severity::Warning)
        } else {
            (Priority::Low, Severity::Info)
        };
        let table = qualified(&fk.schema, &fk.table);
        let (fix, rollback) = sqlfix::create_btree(&fk.schema, &fk.table, &fk.columns, partitioned);
        out.push(
            Finding::new(
                "fk_without_index",
                severity,
                priority,
                format!("{}.{}", table, crate::util::quote_ident(&fk.name)),
                format!(
                    "foreign key {} on {} ({}) has no index leading with its columns: every delete or key update on {} scans {}{}",
                    crate::util::quote_ident(&fk.name),
                    table,
                    fk.columns.join(", "),
                    qualified(&fk.ref_schema, &fk.ref_table),
                    table,
                    if rows >= 0.0 { format!(" (~{} rows)", rows as i64) } else { String::new() }
                ),
            )
            .table(table)
            .detail(json!({
                "constraint": fk.name,
                "columns": fk.columns,
                "references": qualified(&fk.ref_schema, &fk.ref_table),
                "table_rows": rows as i64,
            }))
            .fix(fix, Some(rollback)),
        );
    }
}

fn missing_index(
    input: &Input,
    tables: &[TableInfo],
    indexes: &[IndexInfo],
    out: &mut Vec<Finding>,
) {
    let th = input.th;
    let mut idx_scans: HashMap<i64, i64> = HashMap::new();
    for ix in indexes {
        *idx_scans.entry(ix.table_oid).or_default() += ix.idx_scan;
    }
    for t in tables.iter().filter(|t| t.kind == "r" || t.kind == "m") {
        let rows = t.reltuples.max(t.n_live_tup as f64);
        let idx_scan = idx_scans.get(&t.oid).copied().unwrap_or(0);
        if rows < th.missing_index_min_rows
            || t.seq_scan < th.missing_index_min_seq_scans
            || (t.seq_scan as f64) < th.missing_index_seq_to_idx_ratio * idx_scan as f64
        {
            continue;
        }
        let rows_per_scan = t.seq_tup_read as f64 / t.seq_scan.max(1) as f64;
        // Scans that stop early (LIMIT, EXISTS) read few rows: those do not need an index.
        if rows_per_scan < th.missing_index_min_rows {
            continue;
        }
        let table = qualified(&t.schema, &t.name);
        out.push(
            Finding::new(
                "missing_index",
                Severity::Warning,
                Priority::Medium,
                table.clone(),
                format!(
                    "table {} (~{} rows) was read by {} sequential scans (~{} rows each) and {} index scans: a query filtering it lacks an index; find it among the top statements and index its filter columns",
                    table,
                    rows as i64,
                    t.seq_scan,
                    rows_per_scan as i64,
                    idx_scan
                ),
            )
            .table(table)
            .detail(json!({
                "rows": rows as i64,
                "seq_scan": t.seq_scan,
                "seq_tup_read": t.seq_tup_read,
                "rows_per_seq_scan": rows_per_scan as i64,
                "idx_scan": idx_scan,
                "stats_since": input.stats.since,
                "replica_statistics": input.stats.replica,
            }))
            .confidence(Confidence::Medium),
        );
    }
}

fn index_bloat(
    input: &Input,
    indexes: &[IndexInfo],
    cols: &[crate::collect::schema::ColumnStats],
    out: &mut Vec<Finding>,
) {
    let th = input.th;
    let block = input
        .snap
        .schema
        .settings
        .as_ref()
        .map_or(8192, |s| s.block_size);
    let cols = ColumnIndex::new(cols);
    for ix in indexes.iter().filter(|i| i.is_valid) {
        let Some(e) = bloat::index(ix, &cols, block) else {
            continue;
        };
        if e.bloat_bytes < th.bloat_min_bytes || e.bloat_pct < th.index_bloat_pct {
            continue;
        }
        let critical = e.bloat_pct >= th.index_bloat_critical_pct;
        out.push(
            Finding::new(
                "index_bloat",
                if critical { Severity::Critical } else { Severity::Warning },
                if critical { Priority::High } else { Priority::Medium },
                obj(ix),
                format!(
                    "index {} is {} but its rows need about {}: ~{} ({:.0}%) is bloat; rebuild it online",
                    obj(ix),
                    human_bytes(e.actual_bytes),
                    human_bytes(e.expected_bytes),
                    human_bytes(e.bloat_bytes),
                    e.bloat_pct
                ),
            )
            .table(table_of(ix))
            .detail(json!({
                "actual_bytes": e.actual_bytes,
                "expected_bytes": e.expected_bytes,
                "bloat_bytes": e.bloat_bytes,
                "bloat_pct": round2(e.bloat_pct),
                "method": "estimate from pg_stats (btree)",
            }))
            .fix(
                sqlfix::reindex(ix),
                Some(sqlfix::nothing_to_undo("REINDEX keeps the definition")),
            )
            .confidence(Confidence::Medium),
        );
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
