//! Table checks: heap bloat, tables without a primary key, and sequences close to overflowing
//! either their own range or the column type they feed.

use std::collections::HashSet;

use serde_json::json;

use crate::analyze::bloat::{self, ColumnIndex};
use crate::analyze::doctor::{needs, needs_either, Input, Sink};
use crate::analyze::indexes::round2;
use crate::analyze::sqlfix;
use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::collect::schema::{IndexInfo, SequenceInfo, TableInfo};
use crate::util::{human_bytes, qualified, quote_ident};

pub fn run(input: &Input, sink: &mut Sink) {
    let s = &input.snap.schema;
    let snap = input.snap;
    let tables = s.tables.as_deref();
    sink.check(
        "table_bloat",
        tables.zip(s.column_stats.as_deref()),
        || needs_either(snap, "tables", tables.is_some(), "column_stats"),
        |(t, cols), out| table_bloat(input, t, cols, out),
    );
    sink.check(
        "table_without_pk",
        tables.zip(s.indexes.as_deref()),
        || needs_either(snap, "tables", tables.is_some(), "indexes"),
        |(t, ix), out| without_pk(input, t, ix, out),
    );
    let seqs = s.sequences.as_deref();
    sink.check(
        "sequence_overflow",
        seqs,
        || needs(snap, "sequences"),
        |q, out| sequences(input, q, out),
    );
    if let Some(q) = seqs {
        let unreadable: Vec<String> = q
            .iter()
            .filter(|s| !s.readable)
            .map(|s| qualified(&s.schema, &s.name))
            .collect();
        if !unreadable.is_empty() {
            sink.skip(
                "sequence_overflow",
                format!(
                    "insufficient privilege: {} sequence(s) not readable ({})",
                    unreadable.len(),
                    unreadable
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(format!(
                    "GRANT SELECT ON SEQUENCE {} TO {};",
                    unreadable.join(", "),
                    quote_ident(&snap.capabilities.role)
                )),
            );
        }
    }
}

pub fn block_size(input: &Input) -> i32 {
    input
        .snap
        .schema
        .settings
        .as_ref()
        .map_or(8192, |s| s.block_size)
}

fn table_bloat(
    input: &Input,
    tables: &[TableInfo],
    cols: &[crate::collect::schema::ColumnStats],
    out: &mut Vec<Finding>,
) {
    let th = input.th;
    let cols = ColumnIndex::new(cols);
    let block = block_size(input);
    for t in tables {
        let Some(e) = bloat::table(t, &cols, block) else {
            continue;
        };
        if e.bloat_bytes < th.bloat_min_bytes || e.bloat_pct < th.table_bloat_pct {
            continue;
        }
        let critical = e.bloat_pct >= th.table_bloat_critical_pct;
        let name = qualified(&t.schema, &t.name);
        out.push(
            Finding::new(
                "table_bloat",
                if critical { Severity::Critical } else { Severity::Warning },
                if critical { Priority::High } else { Priority::Medium },
                name.clone(),
                format!(
                    "table {} is {} but its ~{} rows need about {}: ~{} ({:.0}%) is bloat; VACUUM FULL rewrites it under an ACCESS EXCLUSIVE lock (pg_repack does it online)",
                    name,
                    human_bytes(e.actual_bytes),
                    t.reltuples as i64,
                    human_bytes(e.expected_bytes),
                    human_bytes(e.bloat_bytes),
                    e.bloat_pct
                ),
            )
            .table(name.clone())
            .detail(json!({
                "actual_bytes": e.actual_bytes,
                "expected_bytes": e.expected_bytes,
                "bloat_bytes": e.bloat_bytes,
                "bloat_pct": round2(e.bloat_pct),
                "rows": t.reltuples as i64,
                "n_dead_tup": t.n_dead_tup,
                "method": "estimate from pg_stats",
            }))
            .fix(
                format!("VACUUM (FULL, ANALYZE) {name};"),
                Some(sqlfix::nothing_to_undo("VACUUM FULL only compacts the table")),
            )
            .confidence(Confidence::Medium),
        );
    }
}

/// A unique index PostgreSQL can turn into a primary key: valid, btree, plain columns in
/// default order, no predicate, no INCLUDE columns.
fn pk_capable(i: &IndexInfo) -> bool {
    i.is_unique
        && i.is_valid
        && !i.is_exclusion
        && i.method == "btree"
        && i.predicate.is_none()
        && i.expressions.is_none()
        && i.key_count as usize == i.attnums.len()
        && i.options.iter().all(|o| *o == 0)
        && i.columns.iter().all(|c| c.is_some())
}

fn tables_with_pk(indexes: &[IndexInfo]) -> HashSet<i64> {
    indexes
        .iter()
        .filter(|i| i.is_primary)
        .map(|i| i.table_oid)
        .collect()
}

/// The unique index whose columns would become the primary key of `t`: one that backs no
/// constraint first (it can be attached as is), then the fewest columns, then the oldest.
fn pk_candidate<'a>(t: &TableInfo, indexes: &'a [IndexInfo]) -> Option<&'a IndexInfo> {
    indexes
        .iter()
        .filter(|i| i.table_oid == t.oid && pk_capable(i))
        .min_by_key(|i| (i.constraint_name.is_some(), i.attnums.len(), i.oid))
}

/// The index of each ordinary table without a primary key that would become it (the collector
/// checks these for NULLs).
pub fn pk_candidates<'a>(tables: &[TableInfo], indexes: &'a [IndexInfo]) -> Vec<&'a IndexInfo> {
    let with_pk = tables_with_pk(indexes);
    tables
        .iter()
        .filter(|t| t.kind == "r" && !t.is_partition && !with_pk.contains(&t.oid))
        .filter_map(|t| pk_candidate(t, indexes))
        .collect()
}

/// Schema and name of every table and index in the snapshot.
fn indexes_and_tables<'a>(input: &'a Input) -> impl Iterator<Item = (String, String)> + 'a {
    let s = &input.snap.schema;
    s.tables
        .iter()
        .flatten()
        .map(|t| (t.schema.clone(), t.name.clone()))
        .chain(
            s.indexes
                .iter()
                .flatten()
                .map(|i| (i.schema.clone(), i.name.clone())),
        )
}

/// Fix and rollback that make `i` (or a new unique index on its columns, when `i` already backs
/// a UNIQUE constraint) the primary key; NOT NULL is set on nullable columns by PostgreSQL
/// itself and dropped again by the rollback.
fn pk_fix(input: &Input, t: &TableInfo, i: &IndexInfo) -> (String, String) {
    let name = qualified(&t.schema, &t.name);
    let cols: Vec<&str> = i.columns.iter().flatten().map(|c| c.as_str()).collect();
    let nullable: Vec<&str> = cols
        .iter()
        .zip(i.not_null.iter().chain(std::iter::repeat(&false)))
        .filter(|(_, nn)| !**nn)
        .map(|(c, _)| *c)
        .collect();
    let mut fix = String::new();
    let mut rollback = String::new();
    if !nullable.is_empty() {
        fix.push_str(&format!(
            "-- also sets NOT NULL on {} (checked: no NULLs), scanning the table under an ACCESS EXCLUSIVE lock\n",
            nullable.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
        ));
    }
    // The constraint gets the conventional `<table>_pkey` name, or a hashed one when a relation
    // of the schema already has it.
    let mut taken: HashSet<String> = input
        .snap
        .schema
        .relation_names
        .iter()
        .flatten()
        .filter(|r| r.schema == t.schema)
        .map(|r| r.name.clone())
        .chain(
            indexes_and_tables(input)
                .filter(|(s, _)| *s == t.schema)
                .map(|(_, n)| n),
        )
        .collect();
    let pk = sqlfix::free_name(&format!("{}_pkey", t.name), &name, &mut taken);
    let q = quote_ident(&pk);
    if i.constraint_name.is_some() {
        // Attached to its UNIQUE constraint, the index cannot become the primary key too: build
        // an identical one for it.
        let col_list: Vec<String> = cols.iter().map(|c| quote_ident(c)).collect();
        fix.push_str(&format!(
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {q} ON {name} ({});\n",
            col_list.join(", ")
        ));
        fix.push_str(&format!(
            "ALTER TABLE {name} ADD CONSTRAINT {q} PRIMARY KEY USING INDEX {q};"
        ));
    } else {
        // The index is renamed to the constraint's name; the rollback builds it again.
        fix.push_str(&format!(
            "ALTER TABLE {name} ADD CONSTRAINT {q} PRIMARY KEY USING INDEX {};",
            quote_ident(&i.name)
        ));
    }
    rollback.push_str(&format!("ALTER TABLE {name} DROP CONSTRAINT {q};"));
    for c in &nullable {
        rollback.push_str(&format!(
            "\nALTER TABLE {name} ALTER COLUMN {} DROP NOT NULL;",
            quote_ident(c)
        ));
    }
    if i.constraint_name.is_none() {
        // Dropping the constraint drops its index: build the original unique index again.
        rollback.push('\n');
        rollback.push_str(&sqlfix::create_index(i));
    }
    (fix, rollback)
}

fn without_pk(input: &Input, tables: &[TableInfo], indexes: &[IndexInfo], out: &mut Vec<Finding>) {
    let with_pk = tables_with_pk(indexes);
    let checks = input.snap.schema.fix_checks.as_ref();
    for t in tables {
        // Materialized views cannot have one; a partition inherits its parent's verdict.
        if !(t.kind == "r" || t.kind == "p") || t.is_partition || with_pk.contains(&t.oid) {
            continue;
        }
        let name = qualified(&t.schema, &t.name);
        let candidate = pk_candidate(t, indexes);
        let mut detail = json!({"rows": t.reltuples as i64, "kind": t.kind});
        // Why no fix is given, when none is.
        let mut fix = None;
        let note = match candidate {
            None => "; no unique index on plain columns could become it: choose the key columns and add one (no automatic fix)".to_string(),
            Some(i) => {
                let iname = qualified(&i.schema, &i.name);
                detail["candidate_index"] = json!(iname);
                let nulls = checks.and_then(|c| c.nulls(i.oid));
                if t.kind == "p" {
                    format!("; unique index {iname} has the columns, but PostgreSQL cannot turn an existing index into a partitioned table's primary key: ALTER TABLE {name} ADD PRIMARY KEY builds a new one under a lock (no automatic fix)")
                } else if i.not_null.len() == i.attnums.len() && i.not_null.iter().all(|n| *n) {
                    fix = Some(pk_fix(input, t, i));
                    format!("; unique index {iname} covers NOT NULL columns and can become it")
                } else {
                    match nulls {
                        Some(n) if n.has_nulls == Some(false) => {
                            fix = Some(pk_fix(input, t, i));
                            format!("; unique index {iname} can become it (its columns hold no NULLs)")
                        }
                        Some(n) if n.has_nulls == Some(true) => {
                            detail["key_columns_hold_nulls"] = json!(true);
                            format!("; unique index {iname} cannot become it while its columns hold NULLs (no automatic fix)")
                        }
                        other => {
                            let why = other
                                .and_then(|n| n.error.clone())
                                .unwrap_or_else(|| "not checked".into());
                            detail["null_check_error"] = json!(why);
                            format!("; unique index {iname} could become it, but whether its columns hold NULLs is unknown ({why}; no automatic fix)")
                        }
                    }
                }
            }
        };
        let mut f = Finding::new(
            "table_without_pk",
            Severity::Warning,
            if t.reltuples >= 10_000.0 {
                Priority::Medium
            } else {
                Priority::Low
            },
            name.clone(),
            format!(
                "table {} has no primary key: rows cannot be identified reliably (logical replication needs one to replicate updates and deletes){note}",
                name,
            ),
        )
        .table(name.clone())
        .detail(detail);
        if let Some((fix, rollback)) = fix {
            f = f.fix(fix, Some(rollback));
        }
        out.push(f);
    }
}

/// Largest value a column of this type holds; `None` for types without a small limit.
fn type_max(data_type: &str) -> Option<i64> {
    match data_type {
        "smallint" => Some(i64::from(i16::MAX)),
        "integer" => Some(i64::from(i32::MAX)),
        "bigint" => Some(i64::MAX),
        _ => None,
    }
}

fn pct(used: i64, range: i64) -> f64 {
    if range <= 0 {
        0.0
    } else {
        (used as f64 / range as f64 * 100.0).clamp(0.0, 100.0)
    }
}

fn sequences(input: &Input, seqs: &[SequenceInfo], out: &mut Vec<Finding>) {
    let th = input.th;
    for s in seqs {
        let Some(last) = s.last_value else { continue };
        let name = qualified(&s.schema, &s.name);
        let ascending = s.increment > 0;
        // Share of the sequence's own range used (a cycling sequence wraps by design).
        let own = if s.cycle {
            0.0
        } else if ascending {
            pct(
                last.saturating_sub(s.min_value),
                s.max_value.saturating_sub(s.min_value),
            )
        } else {
            pct(
                s.max_value.saturating_sub(last),
                s.max_value.saturating_sub(s.min_value),
            )
        };
        let mut worst = (own, None::<&crate::collect::schema::FedColumn>);
        for c in &s.fed_columns {
            if let Some(m) = type_max(&c.data_type) {
                let p = if ascending {
                    pct(last, m)
                } else {
                    pct(last.saturating_neg(), m)
                };
                if p > worst.0 {
                    worst = (p, Some(c));
                }
            }
        }
        let (p, col) = worst;
        if p < th.sequence_pct {
            continue;
        }
        let critical = p >= th.sequence_critical_pct;
        let (message, fix, rollback, table) = match col {
            Some(c) => {
                let t = qualified(&c.schema, &c.table);
                (
                    format!(
                        "sequence {} is at {} ({:.1}% of the {} column {}.{} it feeds{}): inserts fail when it passes {}",
                        name,
                        last,
                        p,
                        c.data_type,
                        t,
                        quote_ident(&c.column),
                        if s.data_type != c.data_type {
                            format!(", although the sequence itself is {}", s.data_type)
                        } else {
                            String::new()
                        },
                        type_max(&c.data_type).unwrap_or(0)
                    ),
                    format!(
                        "-- rewrites the table under an ACCESS EXCLUSIVE lock\nALTER TABLE {t} ALTER COLUMN {} TYPE bigint;{}",
                        quote_ident(&c.column),
                        // A serial's sequence is as narrow as its column: widen both.
                        if s.data_type != "bigint" {
                            format!("\nALTER SEQUENCE {name} AS bigint MAXVALUE {};", i64::MAX)
                        } else {
                            String::new()
                        }
                    ),
                    format!(
                        "{}ALTER TABLE {t} ALTER COLUMN {} TYPE {};",
                        if s.data_type != "bigint" {
                            format!(
                                "ALTER SEQUENCE {name} AS {} MAXVALUE {};\n",
                                s.data_type, s.max_value
                            )
                        } else {
                            String::new()
                        },
                        quote_ident(&c.column),
                        c.data_type
                    ),
                    Some(t),
                )
            }
            None => (
                format!(
                    "sequence {} is at {} ({:.1}% of its own range up to {}): nextval fails when it is exhausted",
                    name, last, p, s.max_value
                ),
                format!("ALTER SEQUENCE {name} AS bigint MAXVALUE {};", i64::MAX),
                format!(
                    "ALTER SEQUENCE {name} AS {} MAXVALUE {};",
                    s.data_type, s.max_value
                ),
                s.fed_columns.first().map(|c| qualified(&c.schema, &c.table)),
            ),
        };
        let mut f = Finding::new(
            "sequence_overflow",
            if critical { Severity::Critical } else { Severity::Warning },
            if critical { Priority::High } else { Priority::Medium },
            name.clone(),
            message,
        )
        .detail(json!({
            "last_value": last,
            "sequence_type": s.data_type,
            "sequence_max": s.max_value,
            "own_range_used_pct": round2(own),
            "used_pct": round2(p),
            "limited_by": match col { Some(c) => format!("column {}.{} ({})", qualified(&c.schema, &c.table), quote_ident(&c.column), c.data_type), None => "sequence maximum".to_string() },
        }))
        .fix(fix, Some(rollback));
        if let Some(t) = table {
            f = f.table(t);
        }
        out.push(f);
    }
}
