//! Self-checks of the query statistics: can pg_stat_statements be trusted, and what is missing.

use chrono::Duration;
use serde_json::json;

use crate::analyze::{Confidence, Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::collect::capabilities::Capabilities;
use crate::collect::statements::{parse_version, StatementsSnapshot};
use crate::util::quote_ident;

/// Statistics younger than this are too thin to judge the workload by (`stats_recently_reset`).
pub const STATS_RECENTLY_RESET_S: i64 = 3_600;

/// Every check id this module can emit, for documentation and tests.
pub const CHECK_IDS: &[CheckId] = &[
    CheckId::PgStatStatementsMissing,
    CheckId::PgStatStatementsNotPreloaded,
    CheckId::PgStatStatementsOutdated,
    CheckId::PgStatStatementsEvicted,
    CheckId::TrackIoTimingOff,
    CheckId::PgStatStatementsTrackNone,
    CheckId::StatsRecentlyReset,
    CheckId::InsufficientPrivilegeStatements,
];

const OBJECT: &str = "pg_stat_statements";

/// `ALTER SYSTEM` that adds pg_stat_statements to shared_preload_libraries without dropping what
/// is already there (when we could read it).
fn preload_sql(caps: &Capabilities) -> String {
    let existing: Vec<&str> = caps
        .shared_preload_libraries
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && !s.trim_matches('"').ends_with("pg_stat_statements"))
        .collect();
    let mut libs = existing.join(", ");
    if !libs.is_empty() {
        libs.push_str(", ");
    }
    libs.push_str("pg_stat_statements");
    let caveat = if caps.shared_preload_libraries.is_none() {
        "-- keep any libraries already listed in shared_preload_libraries (we could not read it)\n"
    } else {
        ""
    };
    format!(
        "{caveat}-- restart PostgreSQL afterwards (a reload is not enough)\nALTER SYSTEM SET shared_preload_libraries = '{}';",
        libs.replace('\'', "''")
    )
}

/// The self-checks: pure over the capabilities and, when it could be collected, the snapshot.
pub fn check(caps: &Capabilities, stmts: Option<&StatementsSnapshot>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(ext) = caps.pg_stat_statements() else {
        let fix = if caps.pg_stat_statements_loaded {
            "CREATE EXTENSION pg_stat_statements;".to_string()
        } else {
            format!(
                "{}\nCREATE EXTENSION pg_stat_statements;",
                preload_sql(caps)
            )
        };
        out.push(
            Finding::new(
                CheckId::PgStatStatementsMissing,
                Severity::Warning,
                Priority::High,
                OBJECT,
                format!(
                    "pg_stat_statements is not installed in database {}: no query statistics, so \
                     no slow-query, top-query or workload latency figures{}",
                    caps.database,
                    if caps.pg_stat_statements_loaded {
                        "; its library is loaded, only CREATE EXTENSION is needed"
                    } else {
                        "; add it to shared_preload_libraries, restart, then CREATE EXTENSION"
                    }
                ),
            )
            .detail(json!({
                "library_loaded": caps.pg_stat_statements_loaded,
                "available_version": caps.extension("pg_stat_statements").and_then(|e| e.default_version.clone()),
            }))
            .fix(fix, Some("DROP EXTENSION pg_stat_statements;".into())),
        );
        return out;
    };
    let object = match &ext.schema {
        Some(s) => format!("{}.pg_stat_statements", quote_ident(s)),
        None => OBJECT.to_string(),
    };

    if !caps.pg_stat_statements_loaded {
        out.push(
            Finding::new(
                CheckId::PgStatStatementsNotPreloaded,
                Severity::Critical,
                Priority::High,
                &object,
                "pg_stat_statements is installed but its library is not in shared_preload_libraries: \
                 the view cannot be read and nothing is being recorded",
            )
            .detail(json!({ "shared_preload_libraries": caps.shared_preload_libraries }))
            .fix(preload_sql(caps), None),
        );
    }

    if let (Some(inst), Some(def)) = (&ext.installed_version, &ext.default_version) {
        if let (Some(i), Some(d)) = (parse_version(inst), parse_version(def)) {
            if i < d {
                // Before 1.9 on PostgreSQL 14+ the figures are known to be wrong (planning and
                // execution counted differently): more than a cosmetic lag.
                let wrong = caps.major() >= 14 && i < (1, 9);
                out.push(
                    Finding::new(
                        CheckId::PgStatStatementsOutdated,
                        if wrong {
                            Severity::Warning
                        } else {
                            Severity::Info
                        },
                        if wrong {
                            Priority::Medium
                        } else {
                            Priority::Low
                        },
                        &object,
                        format!(
                            "pg_stat_statements {inst} is installed but this server ships {def}: \
                             newer columns ({}) are missing{}",
                            "toplevel, I/O timings, stats_since",
                            if wrong {
                                "; versions before 1.9 on PostgreSQL 14+ give incorrect figures"
                            } else {
                                ""
                            }
                        ),
                    )
                    .detail(json!({ "installed_version": inst, "default_version": def }))
                    .fix("ALTER EXTENSION pg_stat_statements UPDATE;", None),
                );
            }
        }
    }

    if caps.pg_stat_statements_track.as_deref() == Some("none") {
        out.push(
            Finding::new(
                CheckId::PgStatStatementsTrackNone,
                Severity::Warning,
                Priority::High,
                "pg_stat_statements.track",
                "pg_stat_statements.track = none: no statement is being recorded, every query \
                 figure is stale",
            )
            .detail(json!({ "pg_stat_statements.track": "none" }))
            .fix(
                "ALTER SYSTEM SET pg_stat_statements.track = 'top';\nSELECT pg_reload_conf();",
                Some(
                    "ALTER SYSTEM RESET pg_stat_statements.track;\nSELECT pg_reload_conf();".into(),
                ),
            ),
        );
    }

    if !caps.track_io_timing {
        out.push(
            Finding::new(
                CheckId::TrackIoTimingOff,
                Severity::Info,
                Priority::Low,
                "track_io_timing",
                "track_io_timing is off: per-statement I/O times read as zero, so time spent \
                 waiting on disk cannot be told from CPU time",
            )
            .detail(json!({ "track_io_timing": false }))
            .fix(
                "ALTER SYSTEM SET track_io_timing = on;\nSELECT pg_reload_conf();",
                Some("ALTER SYSTEM RESET track_io_timing;\nSELECT pg_reload_conf();".into()),
            ),
        );
    }

    let Some(s) = stmts else { return out };

    if let Some(info) = s.info.as_ref().filter(|i| i.dealloc > 0) {
        let max = s.max_entries.unwrap_or(5000);
        let suggested = (max.max(1000) * 2).min(50_000);
        out.push(
            Finding::new(
                CheckId::PgStatStatementsEvicted,
                Severity::Warning,
                Priority::Medium,
                &object,
                format!(
                    "{} times since {} pg_stat_statements was full (pg_stat_statements.max = {max}) \
                     and evicted its least-used entries: top-query lists and workload figures are \
                     incomplete",
                    info.dealloc,
                    info.stats_reset.format("%Y-%m-%d %H:%M UTC")
                ),
            )
            .detail(json!({
                "dealloc": info.dealloc,
                "max_entries": s.max_entries,
                "entries": s.statements.len(),
                "stats_reset": info.stats_reset,
            }))
            .fix(
                format!(
                    "-- restart PostgreSQL afterwards\nALTER SYSTEM SET pg_stat_statements.max = {suggested};"
                ),
                Some("-- restart PostgreSQL afterwards\nALTER SYSTEM RESET pg_stat_statements.max;".into()),
            ),
        );
    }

    if s.window.is_none() {
        if let Some(since) = s.since {
            let age = s.taken_at - since;
            if age < Duration::seconds(STATS_RECENTLY_RESET_S) {
                out.push(
                    Finding::new(
                        CheckId::StatsRecentlyReset,
                        Severity::Info,
                        Priority::Low,
                        &object,
                        format!(
                            "pg_stat_statements was reset {} minutes ago ({}): too little history \
                             to judge the workload; rerun later, or measure a busy period with --window",
                            age.num_minutes().max(0),
                            since.format("%Y-%m-%d %H:%M UTC")
                        ),
                    )
                    .detail(json!({ "stats_reset": since, "age_s": age.num_seconds() }))
                    .confidence(Confidence::Low),
                );
            }
        }
    }

    if s.insufficient_privilege_rows > 0 {
        let role = quote_ident(&caps.role);
        out.push(
            Finding::new(
                CheckId::InsufficientPrivilegeStatements,
                Severity::Warning,
                Priority::Medium,
                &object,
                format!(
                    "{} statements of other roles show as <insufficient privilege>: their text \
                     and query id are hidden from role {}; GRANT pg_read_all_stats TO {role} shows them",
                    s.insufficient_privilege_rows, caps.role
                ),
            )
            .detail(json!({ "hidden_statements": s.insufficient_privilege_rows, "role": caps.role }))
            .fix(
                format!("GRANT pg_read_all_stats TO {role};"),
                Some(format!("REVOKE pg_read_all_stats FROM {role};")),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::capabilities::Extension;
    use crate::collect::statements::StatementsInfo;
    use chrono::{TimeZone, Utc};

    fn caps() -> Capabilities {
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap();
        Capabilities {
            server_version_num: 150004,
            server_version: "15.4".into(),
            is_replica: false,
            database: "shop".into(),
            role: "app".into(),
            superuser: false,
            pg_monitor: false,
            pg_read_all_stats: false,
            pg_read_all_settings: true,
            shared_preload_libraries: Some("pg_stat_statements".into()),
            pg_stat_statements_loaded: true,
            pg_stat_statements_track: Some("top".into()),
            track_io_timing: true,
            max_connections: 100,
            stats_reset: None,
            server_started: now - Duration::days(30),
            server_now: now,
            replay_lag_bytes: None,
            replay_lag_seconds: None,
            extensions: vec![Extension {
                name: "pg_stat_statements".into(),
                installed_version: Some("1.10".into()),
                schema: Some("public".into()),
                default_version: Some("1.10".into()),
            }],
        }
    }

    fn snap(c: &Capabilities) -> StatementsSnapshot {
        StatementsSnapshot {
            taken_at: c.server_now,
            since: Some(c.server_now - Duration::days(3)),
            info: Some(StatementsInfo {
                dealloc: 0,
                stats_reset: c.server_now - Duration::days(3),
            }),
            ..Default::default()
        }
    }

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.check.as_str()).collect()
    }

    #[test]
    fn healthy_setup_has_no_findings() {
        let c = caps();
        assert!(check(&c, Some(&snap(&c))).is_empty());
    }

    #[test]
    fn missing_extension_gives_the_steps() {
        let mut c = caps();
        c.extensions[0].installed_version = None;
        c.pg_stat_statements_loaded = false;
        c.shared_preload_libraries = Some("auto_explain".into());
        let f = check(&c, None);
        assert_eq!(ids(&f), ["pg_stat_statements_missing"]);
        let fix = f[0].fix_sql.as_deref().unwrap();
        assert!(fix.contains(
            "ALTER SYSTEM SET shared_preload_libraries = 'auto_explain, pg_stat_statements';"
        ));
        assert!(fix.contains("restart"));
        assert!(fix.ends_with("CREATE EXTENSION pg_stat_statements;"));
        // Library already loaded: only CREATE EXTENSION.
        c.pg_stat_statements_loaded = true;
        let f = check(&c, None);
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("CREATE EXTENSION pg_stat_statements;")
        );
    }

    #[test]
    fn installed_but_not_preloaded() {
        let mut c = caps();
        c.pg_stat_statements_loaded = false;
        c.shared_preload_libraries = Some(String::new());
        let f = check(&c, None);
        assert_eq!(ids(&f), ["pg_stat_statements_not_preloaded"]);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0]
            .fix_sql
            .as_deref()
            .unwrap()
            .ends_with("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';"));
    }

    #[test]
    fn outdated_extension_and_incorrect_figures() {
        let mut c = caps();
        c.extensions[0].installed_version = Some("1.8".into());
        c.extensions[0].schema = Some("My Ext".into());
        let f = check(&c, None);
        assert_eq!(ids(&f), ["pg_stat_statements_outdated"]);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(f[0].object, "\"My Ext\".pg_stat_statements");
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("ALTER EXTENSION pg_stat_statements UPDATE;")
        );
        c.extensions[0].installed_version = Some("1.9".into());
        assert_eq!(check(&c, None)[0].severity, Severity::Info);
    }

    #[test]
    fn settings_checks() {
        let mut c = caps();
        c.track_io_timing = false;
        c.pg_stat_statements_track = Some("none".into());
        let f = check(&c, None);
        assert_eq!(
            ids(&f),
            ["pg_stat_statements_track_none", "track_io_timing_off"]
        );
        assert!(f[1]
            .fix_sql
            .as_deref()
            .unwrap()
            .contains("track_io_timing = on"));
    }

    #[test]
    fn evicted_recent_reset_and_hidden_rows() {
        let c = caps();
        let mut s = snap(&c);
        s.info.as_mut().unwrap().dealloc = 12;
        s.max_entries = Some(5000);
        s.since = Some(c.server_now - Duration::minutes(5));
        s.insufficient_privilege_rows = 3;
        let f = check(&c, Some(&s));
        assert_eq!(
            ids(&f),
            [
                "pg_stat_statements_evicted",
                "stats_recently_reset",
                "insufficient_privilege_statements"
            ]
        );
        assert!(f[0].message.contains("12 times"));
        assert!(f[0].fix_sql.as_deref().unwrap().contains("= 10000"));
        assert!(f[1].message.contains("5 minutes ago"));
        assert_eq!(
            f[2].fix_sql.as_deref(),
            Some("GRANT pg_read_all_stats TO app;")
        );
        assert!(f[2].message.contains("3 statements"));
        // A window is "current" by construction: no recent-reset verdict.
        s.window = Some(crate::collect::statements::StatementsWindow {
            started_at: c.server_now - Duration::seconds(60),
            ended_at: c.server_now,
            seconds: 60.0,
            reset_detected: false,
            appeared: 0,
            vanished: 0,
            restarted: 0,
        });
        assert!(!ids(&check(&c, Some(&s))).contains(&"stats_recently_reset"));
    }

    #[test]
    fn grant_quotes_the_role() {
        let mut c = caps();
        c.role = "Report User".into();
        let mut s = snap(&c);
        s.insufficient_privilege_rows = 1;
        let f = check(&c, Some(&s));
        assert_eq!(
            f[0].fix_sql.as_deref(),
            Some("GRANT pg_read_all_stats TO \"Report User\";")
        );
    }

    #[test]
    fn every_emitted_id_is_listed() {
        let mut c = caps();
        c.track_io_timing = false;
        c.pg_stat_statements_track = Some("none".into());
        c.pg_stat_statements_loaded = false;
        c.extensions[0].installed_version = Some("1.8".into());
        let mut s = snap(&c);
        s.info.as_mut().unwrap().dealloc = 1;
        s.since = Some(c.server_now);
        s.insufficient_privilege_rows = 1;
        let mut seen: Vec<CheckId> = check(&c, Some(&s)).into_iter().map(|f| f.check).collect();
        c.extensions[0].installed_version = None;
        seen.extend(check(&c, None).into_iter().map(|f| f.check));
        seen.sort();
        let mut all: Vec<CheckId> = CHECK_IDS.to_vec();
        all.sort();
        assert_eq!(seen, all);
    }
}
