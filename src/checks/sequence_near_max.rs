//! `sequence_near_max`: a sequence that was never called (or was reset with RESTART) whose next
//! value already sits near its own MAXVALUE (or MINVALUE when descending) or the limit of a
//! column it feeds. `sequence_overflow` reads the last value handed out and so never sees these;
//! this check starts from START WITH, counts the calls left by INCREMENT, and leaves CYCLE
//! sequences alone (they wrap by design).

use serde_json::json;

use super::sequence_overflow::type_max;
use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::collect::schema::SequenceInfo;
use crate::snapshot::Snapshot;
use crate::util::qualified;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::SequenceNearMax,
        section: Section::Tables,
        summary: "never-called or restarted sequence whose next value is near its limit",
    },
    severity: Severity::Warning,
    thresholds: &[],
    sql: &["doctor_sequences.sql"],
    // It reads the START values only the health collector's version of the sequence query
    // gathers.
    missing: |s| {
        super::predates_health(s).or_else(|| s.schema.sequences.is_none().then_some("sequences"))
    },
    run,
};

/// Where a sequence stands: share of its usable range behind the next value, calls left, and
/// the limit that binds (its own or a fed column's).
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub next: i64,
    pub limit: i64,
    pub used_pct: f64,
    pub calls_left: i64,
    pub limited_by_column: Option<String>,
}

/// The position of a never-called sequence, from its START value; `None` when it was called,
/// cycles, cannot be read, or has no range.
pub fn position(s: &SequenceInfo) -> Option<Position> {
    if s.cycle || !s.readable || s.last_value.is_some() || s.increment == 0 {
        return None;
    }
    let next = s.start_value?;
    let ascending = s.increment > 0;
    let mut limit = if ascending { s.max_value } else { s.min_value };
    let mut by = None;
    if ascending {
        for c in &s.fed_columns {
            if let Some(m) = type_max(&c.data_type) {
                if m < limit {
                    limit = m;
                    by = Some(format!(
                        "{}.{} ({})",
                        qualified(&c.schema, &c.table),
                        crate::util::quote_ident(&c.column),
                        c.data_type
                    ));
                }
            }
        }
    }
    let (span, done, left) = if ascending {
        (
            limit as i128 - s.min_value as i128,
            next as i128 - s.min_value as i128,
            limit as i128 - next as i128,
        )
    } else {
        (
            s.max_value as i128 - limit as i128,
            s.max_value as i128 - next as i128,
            next as i128 - limit as i128,
        )
    };
    if span <= 0 {
        return None;
    }
    let step = (s.increment as i128).abs();
    let calls_left = if left < 0 { 0 } else { left / step + 1 };
    Some(Position {
        next,
        limit,
        used_pct: (done as f64 / span as f64 * 100.0).clamp(0.0, 100.0),
        calls_left: calls_left.min(i64::MAX as i128) as i64,
        limited_by_column: by,
    })
}

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in snap.schema.sequences.as_deref().unwrap_or(&[]) {
        let Some(p) = position(s) else { continue };
        if p.used_pct < th.sequence_pct {
            continue;
        }
        let critical = p.used_pct >= th.sequence_critical_pct;
        let name = qualified(&s.schema, &s.name);
        let mut f = Finding::new(
            CHECK.info.id,
            if critical {
                Severity::Critical
            } else {
                Severity::Warning
            },
            if critical {
                Priority::High
            } else {
                Priority::Medium
            },
            name.clone(),
            format!(
                "sequence {name} was never called (or was reset with RESTART) and starts at {}: \
                 {:.1}% of its range up to {} is already behind it, {} call{} left at INCREMENT \
                 {}{}",
                p.next,
                p.used_pct,
                p.limit,
                p.calls_left,
                if p.calls_left == 1 { "" } else { "s" },
                s.increment,
                p.limited_by_column
                    .as_ref()
                    .map(|c| format!(" (the limit is the column {c} it feeds)"))
                    .unwrap_or_default()
            ),
        )
        .detail(json!({
            "next_value": p.next,
            "limit": p.limit,
            "used_pct": (p.used_pct * 100.0).round() / 100.0,
            "calls_left": p.calls_left,
            "increment": s.increment,
            "sequence_type": s.data_type,
            "sequence_max": s.max_value,
            "sequence_min": s.min_value,
            "limited_by": p.limited_by_column,
        }));
        if p.limited_by_column.is_none() {
            let (fix, rollback) = if s.increment > 0 {
                (
                    format!("ALTER SEQUENCE {name} AS bigint NO MAXVALUE;"),
                    format!(
                        "ALTER SEQUENCE {name} AS {} MAXVALUE {};",
                        s.data_type, s.max_value
                    ),
                )
            } else {
                (
                    format!("ALTER SEQUENCE {name} AS bigint NO MINVALUE;"),
                    format!(
                        "ALTER SEQUENCE {name} AS {} MINVALUE {};",
                        s.data_type, s.min_value
                    ),
                )
            };
            f = f.fix(fix, Some(rollback));
        }
        if let Some(c) = s.fed_columns.first() {
            f = f.table(qualified(&c.schema, &c.table));
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seq(
        name: &str,
        ty: &str,
        inc: i64,
        max: i64,
        start: i64,
        cycle: bool,
        last: Option<i64>,
    ) -> SequenceInfo {
        serde_json::from_value(json!({
            "schema": "public", "name": name, "data_type": ty, "min_value": 1, "max_value": max,
            "increment": inc, "cycle": cycle, "last_value": last, "start_value": start,
            "readable": true, "fed_columns": []
        }))
        .unwrap()
    }

    #[test]
    fn never_called_near_max_counts_calls_by_increment() {
        let p = position(&seq("seq_1", "smallint", 1, 100, 92, false, None)).unwrap();
        assert_eq!(p.calls_left, 9);
        assert!((p.used_pct - 91.0 / 99.0 * 100.0).abs() < 1e-9);
        assert_eq!(
            position(&seq("seq_3", "integer", 2, 100, 92, false, None))
                .unwrap()
                .calls_left,
            5
        );
        assert_eq!(
            position(&seq("seq_5", "bigint", 10, 100, 92, false, None))
                .unwrap()
                .calls_left,
            1
        );
        // CYCLE wraps by design; a called sequence is sequence_overflow's.
        assert!(position(&seq("seq_cycle", "bigint", 10, 100, 92, true, None)).is_none());
        assert!(position(&seq("called", "bigint", 1, 100, 92, false, Some(95))).is_none());
    }

    #[test]
    fn findings_and_fix() {
        let mut s = crate::checks::testkit::snapshot(vec![], vec![], json!({}));
        s.schema.sequences = Some(vec![
            seq("seq_1", "smallint", 1, 100, 92, false, None),
            seq("seq_cycle", "bigint", 10, 100, 92, true, None),
            seq("fresh", "bigint", 1, i64::MAX, 1, false, None),
        ]);
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "public.seq_1");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("ALTER SEQUENCE public.seq_1 AS bigint NO MAXVALUE;")
        );
        assert_eq!(
            f[0].rollback_sql.as_deref(),
            Some("ALTER SEQUENCE public.seq_1 AS smallint MAXVALUE 100;")
        );
    }

    #[test]
    fn descending_and_column_limits() {
        let mut d = seq("down", "bigint", -1, -1, -5, false, None);
        d.min_value = -100;
        let p = position(&d).unwrap();
        assert_eq!(p.calls_left, 96);
        let mut fed = seq("fed", "bigint", 1, i64::MAX, 2_100_000_000, false, None);
        fed.fed_columns = serde_json::from_value(
            json!([{"schema": "public", "table": "t", "column": "id", "data_type": "integer"}]),
        )
        .unwrap();
        let p = position(&fed).unwrap();
        assert_eq!(p.limit, i64::from(i32::MAX));
        assert!(p.limited_by_column.is_some());
    }

    #[test]
    fn fresh_called_or_cycling_sequences_are_not_reported() {
        let mut s = crate::checks::testkit::snapshot(vec![], vec![], json!({}));
        s.schema.sequences = Some(vec![
            seq("fresh", "bigint", 1, i64::MAX, 1, false, None),
            seq("called", "bigint", 1, 100, 92, false, Some(95)),
            seq("seq_cycle", "bigint", 10, 100, 92, true, None),
        ]);
        assert!(run(&s, &Thresholds::default()).is_empty());
    }
}
