//! `dbdoctor doctor`: collect a snapshot (or load one), analyse it, render the report, and exit
//! 1 when `--fail-on` finds a finding at or above the asked severity.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Context;

use crate::analyze::doctor::CheckSelection;
use crate::analyze::report::{doctor_report, DoctorReport, ReportOptions};
use crate::analyze::thresholds::{StatementLimit, Thresholds};
use crate::analyze::Severity;
use crate::budget::classify::classify;
use crate::budget::config::Budgets;
use crate::cli::{DoctorArgs, FailOn, Format};
use crate::commands::snapshot::{collect_snapshot, load, CollectOptions, PlanRequest};
use crate::db::{connect, SessionMode};
use crate::error::Error;
use crate::render::doctor_terminal::{self, Layout};
use crate::render::terminal::choose_width;
use crate::render::{doctor_json, doctor_markdown};
use crate::settings::Ctx;
use crate::snapshot::Snapshot;

pub async fn run(ctx: &Ctx, args: &DoctorArgs, out: &mut dyn Write) -> Result<i32, Error> {
    // Everything the user typed is validated before any I/O.
    if matches!(ctx.format, Format::Junit | Format::Github) {
        return Err(Error::Usage(
            "doctor writes --format table, json or markdown".into(),
        ));
    }
    let budgets_path = crate::budget::config::discover_here(args.budgets.as_deref());
    let (mut th, budgets) = match &budgets_path {
        Some(p) => (Thresholds::load(p)?, load_budgets(p)?),
        None => (Thresholds::default(), None),
    };
    let config = Some(config_note(budgets_path.as_deref()));
    let sel = CheckSelection::parse(&args.checks, &args.skip_checks, &args.only)?;
    let window = args
        .window
        .as_deref()
        .map(|w| crate::util::parse_duration("--window", w))
        .transpose()?;
    let interval = crate::util::parse_duration("--interval", &args.interval)?;
    if args.verify_fixes && (args.monitor || args.from_snapshot.is_some()) {
        return Err(Error::Usage(
            "--verify-fixes needs one run on a live database (not --monitor or --from-snapshot)"
                .into(),
        ));
    }
    if args.explain.is_some() && (args.monitor || args.verify_fixes) {
        return Err(Error::Usage(
            "--explain shows one plan; it cannot be combined with --monitor or --verify-fixes"
                .into(),
        ));
    }
    if args.monitor && args.from_snapshot.is_some() {
        return Err(Error::Usage(
            "--monitor needs a live database, not --from-snapshot".into(),
        ));
    }
    let mut opts = ReportOptions {
        sections: args.only.clone(),
        slow_queries_only: args.slow_queries,
        source: "live".into(),
        all: args.all,
    };
    let layout = Layout {
        width: choose_width(args.width.map(usize::from), ctx.stdout_is_terminal),
        color: ctx.color,
        all: args.all,
        config,
    };

    if let Some(path) = &args.from_snapshot {
        let mut snap = load(path)?;
        restrict_to_schemas(&mut snap, &args.schema);
        th.statement_limits = statement_limits(budgets.as_ref(), &snap);
        opts.source = "snapshot".into();
        if let Some(id) = args.explain {
            return explain(ctx, &snap, id, out);
        }
        let report = doctor_report(&snap, &th, &sel, &opts);
        emit(ctx, args, &report, out, &layout)?;
        return Ok(exit_code(&report, args.fail_on));
    }

    let settings = ctx.connect_settings()?;
    let db = connect(&settings, SessionMode::ReadOnly).await?;
    if args.monitor {
        let m = crate::commands::monitor::Monitor {
            interval,
            interval_text: args.interval.clone(),
            schemas: args.schema.clone(),
            all_databases: args.all_databases,
        };
        let code = crate::commands::monitor::run(ctx, &db, &m, out, |snap| {
            th.statement_limits = statement_limits(budgets.as_ref(), snap);
            doctor_report(snap, &th, &sel, &opts)
        })
        .await;
        db.pool.close().await;
        return code;
    }
    // Plans of the top statements, or only the one asked for with --explain.
    let plans = PlanRequest {
        max: if args.explain.is_some() {
            0
        } else {
            args.plans
        },
        analyze: args.analyze_plans,
        include: args.explain.into_iter().collect(),
    };
    let copts = CollectOptions {
        schemas: args.schema.clone(),
        window,
        all_databases: args.all_databases,
        host: true,
        plans,
    };
    let started = std::time::Instant::now();
    let snap = collect_snapshot(ctx, &db, &copts).await?;
    let elapsed = |what: &str| {
        ctx.debug(format!(
            "{what} at {:.0} ms{}",
            started.elapsed().as_secs_f64() * 1000.0,
            crate::commands::snapshot::peak_note()
        ))
    };
    elapsed("snapshot collected");
    if let Some(id) = args.explain {
        db.pool.close().await;
        return explain(ctx, &snap, id, out);
    }
    th.statement_limits = statement_limits(budgets.as_ref(), &snap);
    let mut report = doctor_report(&snap, &th, &sel, &opts);
    elapsed("report built");
    if args.verify_fixes {
        crate::commands::verify_fixes::verify(ctx, &db, &snap, &mut report.findings).await?;
    }
    // The report holds what it needs: the snapshot's memory goes back before the output.
    drop(snap);
    emit(ctx, args, &report, out, &layout)?;
    elapsed("report written");
    db.pool.close().await;
    Ok(exit_code(&report, args.fail_on))
}

/// `--explain QUERYID`: the statement's plan as a tree (or its JSON entry).
fn explain(ctx: &Ctx, snap: &Snapshot, queryid: i64, out: &mut dyn Write) -> Result<i32, Error> {
    let Some(plans) = &snap.plans else {
        let why = match snap
            .skipped
            .iter()
            .find(|s| s.what == "plans" || s.what == "statements")
        {
            Some(s) => format!("{} not collected: {}", s.what, s.reason),
            None => "no plans collected".to_string(),
        };
        return Err(Error::Usage(format!("--explain {queryid}: {why}")));
    };
    let entries = crate::plans::entries(plans, snap.advisor.as_ref());
    let Some(entry) = entries.iter().find(|e| e.queryid == queryid) else {
        return Err(Error::Usage(format!(
            "--explain {queryid}: no statement with this queryid in pg_stat_statements of this database"
        )));
    };
    match ctx.format {
        Format::Json => crate::render::plan_tree::write_json(entry, out),
        _ => crate::render::plan_tree::write(entry, &plans.method, out),
    }
    .context("render the plan")?;
    out.flush().context("write")?;
    Ok(crate::exit::OK)
}

/// `budgets.toml`, `../budgets.toml`, or `defaults (no budgets.toml found)`: which thresholds
/// the report used.
fn config_note(path: Option<&std::path::Path>) -> String {
    match path {
        Some(p) if p.is_file() => p.display().to_string(),
        Some(p) => format!("defaults ({} not found)", p.display()),
        None => format!(
            "defaults (no {} found)",
            crate::budget::config::BUDGETS_FILE
        ),
    }
}

fn emit(
    ctx: &Ctx,
    args: &DoctorArgs,
    report: &DoctorReport,
    out: &mut dyn Write,
    layout: &Layout,
) -> Result<(), Error> {
    if let Some(a) = &report.advisor {
        for o in &a.statements {
            ctx.debug(format!("advisor: {}", crate::advisor::outcome_line(o)));
        }
    }
    match ctx.format {
        Format::Json => doctor_json::write(report, out),
        Format::Markdown => doctor_markdown::write(report, out),
        _ => doctor_terminal::write(report, out, layout),
    }
    .context("render the report")?;
    out.flush().context("write")?;
    if let Some(path) = &args.report {
        let mut md = Vec::new();
        doctor_markdown::write(report, &mut md).context("render the markdown report")?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("create report folder {}", dir.display()))?;
        }
        std::fs::write(path, md).with_context(|| format!("write report {}", path.display()))?;
    }
    Ok(())
}

/// 1 when a finding at or above `--fail-on` exists, else 0.
pub fn exit_code(report: &DoctorReport, fail_on: Option<FailOn>) -> i32 {
    let Some(level) = fail_on else {
        return crate::exit::OK;
    };
    let min = match level {
        FailOn::Warning => Severity::Warning,
        FailOn::Critical => Severity::Critical,
    };
    if report.findings.iter().any(|f| f.severity >= min) {
        crate::exit::FINDINGS
    } else {
        crate::exit::OK
    }
}

/// Keep only objects in `schemas` (for `--schema` on a snapshot taken without it).
pub fn restrict_to_schemas(snap: &mut Snapshot, schemas: &[String]) {
    if schemas.is_empty() {
        return;
    }
    let keep = |s: &str| schemas.iter().any(|k| k == s);
    let sc = &mut snap.schema;
    retain(&mut sc.tables, |t| keep(&t.schema));
    retain(&mut sc.indexes, |t| keep(&t.schema));
    retain(&mut sc.foreign_keys, |t| keep(&t.schema));
    retain(&mut sc.sequences, |t| keep(&t.schema));
    retain(&mut sc.column_stats, |t| keep(&t.schema));
    retain(&mut sc.relation_names, |t| keep(&t.schema));
    sc.schema_filter = schemas.to_vec();
    // Index facts follow the indexes kept above (joined by oid).
    let h = &mut snap.health;
    retain(&mut h.foreign_keys, |t| keep(&t.schema));
    retain(&mut h.not_valid_constraints, |t| keep(&t.schema));
    retain(&mut h.json_columns, |t| keep(&t.schema));
    retain(&mut h.int_primary_keys, |t| keep(&t.schema));
}

/// Keep the rows of a collected list (absent when its part was skipped) that pass `f`.
fn retain<T>(list: &mut Option<Vec<T>>, f: impl FnMut(&T) -> bool) {
    if let Some(v) = list.as_mut() {
        v.retain(f);
    }
}

/// The budgets file (for class latency budgets), when it exists. The `[thresholds]` table is
/// doctor's and is left out before the budget loader sees the file.
pub fn load_budgets(path: &std::path::Path) -> Result<Option<Budgets>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::Usage(format!("cannot read {}: {e}", path.display()))),
    };
    let file = path.display().to_string();
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| Error::Usage(format!("{file}: {}", e.message())))?;
    let text = if table.remove("thresholds").is_some() {
        toml::to_string(&table).map_err(|e| Error::Usage(format!("{file}: {e}")))?
    } else {
        text
    };
    crate::budget::config::parse(&file, &text).map(Some)
}

/// Each statement's mean-latency budget: a matching `[[statements]]` entry first, else its
/// class's `[latency.<class>] mean_ms` (each text is parsed only when a class has one).
pub fn statement_limits(
    budgets: Option<&Budgets>,
    snap: &Snapshot,
) -> HashMap<i64, StatementLimit> {
    let (Some(b), Some(st)) = (budgets, snap.statements.as_ref()) else {
        return HashMap::new();
    };
    let by_class = b.latency.values().any(|l| l.mean_ms.is_some());
    let limit_of = |id: i64, text: &str| -> Option<(i64, StatementLimit)> {
        if let Some(sb) = b.statements.iter().find(|sb| sb.matcher.matches(id, text)) {
            let limit = StatementLimit {
                mean_ms: sb.limits.mean_ms?,
                source: format!("statements[{}].mean_ms", sb.name),
            };
            return Some((id, limit));
        }
        if !by_class {
            return None;
        }
        let class = classify(text).class;
        let limit = StatementLimit {
            mean_ms: b.latency.get(&class).and_then(|l| l.mean_ms)?,
            source: format!("latency.{}.mean_ms", class.as_str()),
        };
        Some((id, limit))
    };
    st.workload()
        .filter_map(|s| limit_of(s.queryid?, s.query.as_deref()?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::{sample_snapshot, sample_statements};

    #[test]
    fn statement_limits_follow_the_budget_rules() {
        let budgets = crate::budget::config::parse(
            "budgets.toml",
            "version = 1\n[latency.simple]\nmean_ms = 5\n[latency.complex]\nmean_ms = 50\n\
             [[statements]]\nname = \"by-id\"\nqueryid = 7\nmean_ms = 1\n\
             [[statements]]\nname = \"no-mean\"\nqueryid = 8\np95_ms = 9\n",
        )
        .unwrap();
        let mut snap = sample_snapshot();
        let mut st = sample_statements();
        let template = st.statements[0].clone();
        st.statements = (0..40)
            .map(|i| {
                let mut s = template.clone();
                s.queryid = Some(i);
                s.query = Some(if i % 2 == 0 {
                    format!("SELECT a FROM t{i} WHERE id = $1")
                } else {
                    format!("SELECT count(*) FROM t{i} JOIN u ON u.id = t{i}.u")
                });
                s
            })
            .collect();
        snap.statements = Some(st);
        let limits = statement_limits(Some(&budgets), &snap);
        // 7 by its own entry, 8 matched by an entry without a mean: no class fallback.
        assert_eq!(limits.len(), 39);
        assert_eq!(limits[&7].mean_ms, 1.0);
        assert_eq!(limits[&7].source, "statements[by-id].mean_ms");
        assert!(!limits.contains_key(&8));
        assert_eq!(limits[&10].mean_ms, 5.0);
        assert_eq!(limits[&10].source, "latency.simple.mean_ms");
        assert_eq!(limits[&11].mean_ms, 50.0);
        assert_eq!(limits[&11].source, "latency.complex.mean_ms");
        // No budgets file: no limits.
        assert!(statement_limits(None, &snap).is_empty());
    }
}
