//! `sequence_overflow`: a sequence close to its own maximum, or to the largest value of an
//! integer column it feeds. Sequences the role cannot read are named in a skipped entry.

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::{Skipped, Snapshot};
use crate::util::{qualified, quote_ident, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::SequenceOverflow,
        section: Section::Tables,
        summary: "sequence close to its own maximum or its column type's",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("sequence_pct", th::SEQUENCE_PCT),
        ("sequence_critical_pct", th::SEQUENCE_CRITICAL_PCT),
    ],
    sql: &["doctor_sequences.sql", "capabilities.sql"],
    missing: |s| s.schema.sequences.is_none().then_some("sequences"),
    run,
};

/// The sequences the role could not read, as a skipped entry with the GRANT that fixes it (the
/// check still runs on the others).
pub fn unreadable(snap: &Snapshot) -> Option<Skipped> {
    let unreadable: Vec<String> = snap
        .schema
        .sequences
        .as_deref()?
        .iter()
        .filter(|s| !s.readable)
        .map(|s| qualified(&s.schema, &s.name))
        .collect();
    if unreadable.is_empty() {
        return None;
    }
    Some(Skipped {
        what: CHECK.info.id.to_string(),
        reason: format!(
            "insufficient privilege: {} sequence(s) not readable ({})",
            unreadable.len(),
            unreadable
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
        enable: Some(format!(
            "GRANT SELECT ON SEQUENCE {} TO {};",
            unreadable.join(", "),
            quote_ident(&snap.capabilities.role)
        )),
    })
}

/// Largest value a column of this type holds; `None` for types without a small limit.
pub fn type_max(data_type: &str) -> Option<i64> {
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

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in snap.schema.sequences.as_deref().unwrap_or(&[]) {
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
            CheckId::SequenceOverflow,
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_sequence_near_its_column_limit_is_reported() {
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.orders_archive_id_seq");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].table.as_deref(), Some("public.orders_archive"));
        assert!(f[0].fix_sql.as_deref().unwrap().contains("TYPE bigint"));
    }

    #[test]
    fn sequences_far_from_their_limits_are_not_reported() {
        let mut s = sample_snapshot();
        for q in s.schema.sequences.as_mut().unwrap() {
            q.last_value = Some(10);
        }
        assert!(run(&s, &Thresholds::default()).is_empty());
        assert!(unreadable(&s).is_none());
    }

    #[test]
    fn unreadable_sequences_are_named_with_a_grant() {
        let mut s = sample_snapshot();
        s.schema.sequences.as_mut().unwrap()[1].readable = false;
        let k = unreadable(&s).unwrap();
        assert_eq!(k.what, "sequence_overflow");
        assert_eq!(
            k.enable.as_deref(),
            Some("GRANT SELECT ON SEQUENCE public.users_id_seq TO app;")
        );
    }
}
