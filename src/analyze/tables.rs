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
        |(t, ix), out| without_pk(t, ix, out),
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

fn without_pk(tables: &[TableInfo], indexes: &[IndexInfo], out: &mut Vec<Finding>) {
    let with_pk: HashSet<i64> = indexes
        .iter()
        .filter(|i| i.is_primary)
        .map(|i| i.table_oid)
        .collect();
    for t in tables {
        // Materialized views cannot have one; a partition inherits its parent's verdict.
        if !(t.kind == "r" || t.kind == "p") || t.is_partition || with_pk.contains(&t.oid) {
            continue;
        }
        let name = qualified(&t.schema, &t.name);
        let candidate = indexes.iter().find(|i| {
            i.table_oid == t.oid
                && i.is_unique
                && i.is_valid
                && i.predicate.is_none()
                && i.expressions.is_none()
                && i.key_count as usize == i.attnums.len()
        });
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
                "table {} has no primary key: rows cannot be identified reliably (logical replication needs one to replicate updates and deletes){}",
                name,
                match candidate {
                    Some(i) => format!(
                        "; unique index {} can become it if its columns are NOT NULL",
                        qualified(&i.schema, &i.name)
                    ),
                    None => String::new(),
                }
            ),
        )
        .table(name.clone())
        .detail(json!({"rows": t.reltuples as i64, "kind": t.kind}));
        if let Some(i) = candidate {
            let pk = quote_ident(&format!("{}_pkey", t.name));
            f = f.fix(
                format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {pk} PRIMARY KEY USING INDEX {};",
                    quote_ident(&i.name)
                ),
                Some(format!(
                    "ALTER TABLE {name} DROP CONSTRAINT {pk};\n{}",
                    sqlfix::create_index(i)
                )),
            );
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
                        "ALTER TABLE {t} ALTER COLUMN {} TYPE bigint; -- rewrites the table under an ACCESS EXCLUSIVE lock",
                        quote_ident(&c.column)
                    ),
                    format!(
                        "ALTER TABLE {t} ALTER COLUMN {} TYPE {};",
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
