//! `integer_primary_key`: a smallint/integer primary key fed by a sequence (serial or identity),
//! with the foreign keys that point at it and a forecast of when the key runs out, from the
//! rows inserted since the statistics were reset. Widening later rewrites every table involved
//! under an ACCESS EXCLUSIVE lock, so the cheap time to do it is early.

use serde_json::json;

use super::{Check, CheckId};
use crate::analyze::doctor::{CheckInfo, StatsWindow};
use crate::analyze::thresholds::Thresholds;
use crate::analyze::{Finding, Priority, Severity};
use crate::cli::Section;
use crate::collect::health::IntPrimaryKey;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

/// Forecast exhaustion within this many days: warning.
pub const WARNING_DAYS: f64 = 365.0;
/// Forecast exhaustion within this many days: critical.
pub const CRITICAL_DAYS: f64 = 30.0;
/// A growth rate needs at least this long a statistics window (days) to be trusted.
pub const MIN_WINDOW_DAYS: f64 = 1.0 / 24.0;

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::IntegerPrimaryKey,
        section: Section::Tables,
        summary: "serial/integer primary key, with an exhaustion forecast",
    },
    severity: Severity::Info,
    thresholds: &[
        ("warning_days", WARNING_DAYS),
        ("critical_days", CRITICAL_DAYS),
        ("min_window_days", MIN_WINDOW_DAYS),
    ],
    sql: &["health_int_primary_keys.sql"],
    missing: |s| {
        s.health
            .int_primary_keys
            .is_none()
            .then_some("int_primary_keys")
    },
    run,
};

fn type_max(t: &str) -> i64 {
    if t == "smallint" {
        i64::from(i16::MAX)
    } else {
        i64::from(i32::MAX)
    }
}

/// Values per day and days left, when the window and the inserts allow a forecast.
pub fn forecast(k: &IntPrimaryKey, window_days: f64) -> Option<(f64, f64)> {
    if window_days < MIN_WINDOW_DAYS || k.inserted <= 0 {
        return None;
    }
    let per_day = k.inserted as f64 / window_days;
    let left = (type_max(&k.data_type) - k.last_value.unwrap_or(0)).max(0) as f64;
    Some((per_day, left / per_day))
}

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let window = StatsWindow::of(snap);
    let mut out = Vec::new();
    for k in snap.health.int_primary_keys.as_deref().unwrap_or(&[]) {
        if k.data_type == "bigint" {
            out.push(bigserial(k));
            continue;
        }
        let max = type_max(&k.data_type);
        let last = k.last_value.unwrap_or(0);
        let used_pct = last.max(0) as f64 / max as f64 * 100.0;
        let fc = forecast(k, window.age_days);
        let days = fc.map(|f| f.1);
        let critical =
            used_pct >= th.sequence_critical_pct || days.is_some_and(|d| d < CRITICAL_DAYS);
        let warning = used_pct >= th.sequence_pct || days.is_some_and(|d| d < WARNING_DAYS);
        let (severity, priority) = if critical {
            (Severity::Critical, Priority::High)
        } else if warning {
            (Severity::Warning, Priority::Medium)
        } else {
            (Severity::Info, Priority::Low)
        };
        let table = qualified(&k.schema, &k.table);
        let col = quote_ident(&k.column);
        let seq = qualified(&k.sequence_schema, &k.sequence_name);
        let narrow: Vec<_> = k
            .referencing
            .iter()
            .filter(|r| r.data_type != "bigint")
            .collect();
        let mut fix = vec![format!(
            "ALTER TABLE {table} ALTER COLUMN {col} TYPE bigint;"
        )];
        let mut rollback = Vec::new();
        for r in &narrow {
            let rt = qualified(&r.schema, &r.table);
            let rc = quote_ident(&r.column);
            fix.push(format!("ALTER TABLE {rt} ALTER COLUMN {rc} TYPE bigint;"));
            rollback.push(format!(
                "ALTER TABLE {rt} ALTER COLUMN {rc} TYPE {};",
                r.data_type
            ));
        }
        fix.push(format!("ALTER SEQUENCE {seq} AS bigint;"));
        rollback.insert(0, format!("ALTER SEQUENCE {seq} AS {};", k.data_type));
        rollback.push(format!(
            "ALTER TABLE {table} ALTER COLUMN {col} TYPE {};",
            k.data_type
        ));
        let outlook = match fc {
            Some((per_day, d)) => format!(
                "at {per_day:.0} new rows a day (since {}) it runs out in about {d:.0} days",
                window.since.format("%Y-%m-%d")
            ),
            None => "no growth measured yet".to_string(),
        };
        out.push(
            Finding::new(
                CHECK.info.id,
                severity,
                priority,
                format!("{table}.{col}"),
                format!(
                    "primary key {table}.{col} is {} fed by {seq}, at {last} of {max} \
                     ({used_pct:.1}%); {outlook}{}; bigint avoids the outage (the ALTERs rewrite \
                     the tables under ACCESS EXCLUSIVE locks)",
                    k.data_type,
                    if narrow.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} foreign key column{} must widen with it",
                            narrow.len(),
                            if narrow.len() == 1 { "" } else { "s" }
                        )
                    }
                ),
            )
            .table(table.clone())
            .detail(json!({
                "column": k.column,
                "data_type": k.data_type,
                "serial": k.serial,
                "sequence": seq,
                "last_value": k.last_value,
                "type_max": max,
                "used_pct": (used_pct * 100.0).round() / 100.0,
                "inserted_since_stats_reset": k.inserted,
                "rows_per_day": fc.map(|f| (f.0 * 100.0).round() / 100.0),
                "days_left": fc.map(|f| f.1.round()),
                "referencing": k.referencing,
            }))
            .fix(fix.join("\n"), Some(rollback.join("\n"))),
        );
    }
    out
}

/// A bigserial key cannot run out; it is reported (info, no fix) because an identity column is
/// the standard form: its sequence cannot drift from the column's default or ownership.
fn bigserial(k: &IntPrimaryKey) -> Finding {
    let table = qualified(&k.schema, &k.table);
    let col = quote_ident(&k.column);
    Finding::new(
        CHECK.info.id,
        Severity::Info,
        Priority::Low,
        format!("{table}.{col}"),
        format!(
            "primary key {table}.{col} is a bigserial (bigint fed by {}): it will not run out;              an identity column (GENERATED BY DEFAULT AS IDENTITY) is the standard form",
            qualified(&k.sequence_schema, &k.sequence_name)
        ),
    )
    .table(table)
    .detail(json!({
        "column": k.column,
        "data_type": k.data_type,
        "serial": true,
        "last_value": k.last_value,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snap(keys: serde_json::Value) -> Snapshot {
        crate::checks::testkit::snapshot(vec![], vec![], json!({ "int_primary_keys": keys }))
    }

    #[test]
    fn forecast_from_inserts_since_reset() {
        // The sample snapshot's statistics were reset 25.5 days before it was taken.
        let s = snap(json!([
            {"schema": "public", "table": "orders", "column": "id", "data_type": "integer",
             "sequence_schema": "public", "sequence_name": "orders_id_seq",
             "last_value": 2_000_000_000i64, "inserted": 25_500_000i64,
             "referencing": [{"schema": "public", "table": "items", "column": "order_id", "data_type": "integer"},
                             {"schema": "public", "table": "notes", "column": "order_id", "data_type": "bigint"}]},
            {"schema": "public", "table": "tags", "column": "id", "data_type": "integer",
             "sequence_schema": "public", "sequence_name": "tags_id_seq",
             "last_value": 10, "inserted": 0, "referencing": []},
            {"schema": "public", "table": "big", "column": "id", "data_type": "bigint", "serial": true,
             "sequence_schema": "public", "sequence_name": "big_id_seq",
             "last_value": 10, "inserted": 10, "referencing": []}
        ]));
        let f = run(&s, &Thresholds::default());
        assert_eq!(f.len(), 3);
        let orders = &f[0];
        assert_eq!(orders.severity, Severity::Critical);
        // 1,000,000 rows a day; 147,483,647 values left.
        assert_eq!(orders.detail["days_left"], 147.0);
        assert_eq!(
            orders.fix_sql.as_deref(),
            Some(
                "ALTER TABLE public.orders ALTER COLUMN id TYPE bigint;\n\
                 ALTER TABLE public.items ALTER COLUMN order_id TYPE bigint;\n\
                 ALTER SEQUENCE public.orders_id_seq AS bigint;"
            )
        );
        let tags = &f[1];
        assert_eq!(tags.severity, Severity::Info);
        assert!(tags.detail["days_left"].is_null());
        assert!(
            tags.message.contains("no growth measured yet"),
            "{}",
            tags.message
        );
        let big = &f[2];
        assert_eq!(big.severity, Severity::Info);
        assert!(big.fix_sql.is_none());
        assert!(big.message.contains("bigserial"), "{}", big.message);
    }

    #[test]
    fn tables_without_integer_keys_are_not_reported() {
        assert!(run(&snap(json!([])), &Thresholds::default()).is_empty());
    }
}
