//! `cache_hit_ratio`: the share of block reads served from shared buffers, below
//! `cache_hit_ratio_pct` once at least `cache_hit_min_blocks` were read.

use serde_json::json;

use super::Check;
use crate::analyze::doctor::CheckInfo;
use crate::analyze::doctor::StatsWindow;
use crate::analyze::thresholds::{self as th, Thresholds};
use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use crate::cli::Section;
use crate::snapshot::Snapshot;
use crate::util::{quote_ident, round2};

pub const CHECK: Check = Check {
    info: CheckInfo {
        id: CheckId::CacheHitRatio,
        section: Section::Resources,
        summary: "share of block reads served from shared buffers",
    },
    severity: Severity::Warning,
    thresholds: &[
        ("cache_hit_ratio_pct", th::CACHE_HIT_RATIO_PCT),
        ("cache_hit_min_blocks", th::CACHE_HIT_MIN_BLOCKS as f64),
    ],
    sql: &["doctor_database.sql"],
    missing: |s| s.activity.database.is_none().then_some("database"),
    run,
};

pub fn run(snap: &Snapshot, th: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(db) = snap.activity.database.as_ref() else {
        return out;
    };
    let total = db.blks_hit + db.blks_read;
    if total < th.cache_hit_min_blocks {
        return out;
    }
    let ratio = db.blks_hit as f64 / total as f64 * 100.0;
    if ratio >= th.cache_hit_ratio_pct {
        return out;
    }
    out.push(
        Finding::new(
            CheckId::CacheHitRatio,
            Severity::Warning,
            Priority::Medium,
            quote_ident(&db.name),
            format!(
                "database {} found {:.2}% of the blocks it needed in shared buffers (below {:.0}%): {} blocks came from the OS or disk; the working set may not fit shared_buffers, or large sequential scans are evicting it",
                quote_ident(&db.name),
                ratio,
                th.cache_hit_ratio_pct,
                db.blks_read
            ),
        )
        .detail(json!({
            "blks_hit": db.blks_hit,
            "blks_read": db.blks_read,
            "hit_pct": round2(ratio),
            "stats_since": StatsWindow::of(snap).since,
        })),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::sample_snapshot;

    #[test]
    fn a_low_hit_ratio_is_reported() {
        // The sample reads 3% of its blocks from outside shared buffers.
        let f = run(&sample_snapshot(), &Thresholds::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].object, "shop");
        assert_eq!(f[0].detail["hit_pct"], 97.0);
    }

    #[test]
    fn a_high_ratio_or_too_few_reads_are_not_reported() {
        let mut s = sample_snapshot();
        s.activity.database.as_mut().unwrap().blks_read = 10;
        assert!(run(&s, &Thresholds::default()).is_empty());
        let th = Thresholds {
            cache_hit_min_blocks: i64::MAX,
            ..Thresholds::default()
        };
        assert!(run(&sample_snapshot(), &th).is_empty());
    }
}
