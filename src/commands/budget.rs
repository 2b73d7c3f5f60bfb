//! `dbdoctor budget`: judge the workload and the probes against budgets.toml; with
//! `--fail-on-breach` a breach exits 1 so CI fails.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::budget::config::{self, Budgets};
use crate::budget::probe::{self, ProbeResult, RunOptions};
use crate::budget::report::{BudgetReport, Measurement};
use crate::budget::resources::{self, HostSampler};
use crate::budget::verdict::{
    judge_all, regressions, Baseline, Observed, ObservedStatement, ResourceSample,
    BASELINE_SCHEMA_VERSION,
};
use crate::cli::{BudgetArgs, Format};
use crate::collect::capabilities::{self, Capabilities};
use crate::collect::statements::{self, StatementsOptions, StatementsSnapshot};
use crate::db::{connect, SessionMode};
use crate::error::Error;
use crate::settings::Ctx;
use crate::stats::{estimate_statement, Moments};

/// Format version of the file `--mark` writes.
pub const MARK_SCHEMA_VERSION: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct MarkFile {
    schema_version: u32,
    kind: String,
    sample: StatementsSnapshot,
    /// Plan fingerprints of the top statements (absent in older marks).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    plans: crate::plans::regress::StoredPlans,
}

pub async fn run(ctx: &Ctx, args: &BudgetArgs, out: &mut dyn Write) -> Result<i32, Error> {
    // Everything that can be wrong with the input is found before any I/O.
    let budgets_path = if args.mark.is_some() {
        None
    } else {
        Some(config::require(args.budgets.as_deref())?)
    };
    let budgets = budgets_path.as_deref().map(config::load).transpose()?;
    let window = args
        .window
        .as_deref()
        .map(|w| crate::util::parse_duration("--window", w))
        .transpose()?;
    if window.is_some() && (args.since.is_some() || args.mark.is_some()) {
        return Err(Error::Usage(
            "--window cannot be combined with --mark or --since".into(),
        ));
    }
    let max_regression = match (&args.max_regression, &args.baseline) {
        (Some(m), Some(_)) => Some(crate::util::parse_percent("--max-regression", m)?),
        (Some(_), None) => {
            return Err(Error::Usage(
                "--max-regression needs --baseline FILE".into(),
            ))
        }
        (None, Some(_)) => Some(20.0),
        (None, None) => None,
    };
    if args.fail_on_plan_change && args.baseline.is_none() {
        return Err(Error::Usage(
            "--fail-on-plan-change needs --baseline FILE".into(),
        ));
    }
    let baseline = match &args.baseline {
        Some(p) => Some(read_baseline(p)?),
        None => None,
    };
    let since = match &args.since {
        Some(p) => Some(read_mark(p)?),
        None => None,
    };
    if let (Some(b), Some(names)) = (&budgets, &args.probe) {
        for n in names {
            if !b.probes.iter().any(|p| &p.name == n) {
                let valid: Vec<String> = b.probes.iter().map(|p| p.name.clone()).collect();
                let hint = config::closest(n, &valid)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_default();
                return Err(Error::Usage(format!(
                    "--probe: no probe named `{n}` in {}{hint}",
                    budgets_path
                        .as_deref()
                        .unwrap_or(std::path::Path::new(""))
                        .display()
                )));
            }
        }
    }

    let settings = ctx.connect_settings()?;
    let db = connect(&settings, SessionMode::ReadOnly).await?;
    let caps = capabilities::probe(&db.pool)
        .await
        .map_err(|e| Error::Other(anyhow::Error::new(e)))?;
    let opts = StatementsOptions {
        all_databases: args.all_databases,
    };

    if let Some(path) = &args.mark {
        let sample = statements::collect(&db.pool, &caps, &opts)
            .await
            .map_err(|e| pgss_error(&caps, e))?;
        let n = sample.statements.len();
        let targets = crate::collect::plans::targets(&sample, crate::plans::DEFAULT_PLANS, &[]);
        let plans = stored_plans(ctx, &db.pool, &caps, &targets).await?;
        let file = MarkFile {
            schema_version: MARK_SCHEMA_VERSION,
            kind: "dbdoctor-budget-mark".into(),
            sample,
            plans,
        };
        let json = serde_json::to_vec(&file).context("serialize the mark")?;
        std::fs::write(path, json)
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", path.display())))?;
        ctx.progress(format!(
            "saved a pg_stat_statements sample ({n} statements) to {}; run `dbdoctor budget --since {}` after the workload",
            path.display(),
            path.display()
        ));
        return Ok(crate::exit::OK);
    }
    let budgets = budgets.expect("loaded unless --mark");

    // Host figures are sampled over the window (or a short period), and before the probes run:
    // on a local database the probes' own load would otherwise count against the CPU budget.
    let host = settings.is_local().then(HostSampler::start);
    let (observed, measurement) = observe(ctx, &db.pool, &caps, &opts, window, since).await;
    let mut res = ResourceSample::default();
    match host {
        Some(h) => h.finish(&mut res).await,
        None => {
            res.host_reason = Some(format!(
                "the database ({}) is not on this host, so host CPU, memory and IOPS say nothing about it",
                settings.host()
            ))
        }
    }
    if let Err(e) = resources::connections(&db.pool, &mut res).await {
        res.connections_reason = Some(format!("cannot read pg_stat_activity: {e}"));
    }

    // Plans: the baseline's statements, planned again from their stored text; for a new
    // baseline, the top statements now.
    let base_plans = baseline
        .as_ref()
        .map(|b| b.plans.clone())
        .unwrap_or_default();
    let mut plan_targets: Vec<crate::collect::plans::PlanTarget> = base_plans
        .iter()
        .filter_map(|(id, p)| {
            Some(crate::collect::plans::PlanTarget {
                queryid: id.parse().ok()?,
                query: p.query.clone(),
                calls: 0,
                rows: 0,
                total_time_ms: 0.0,
            })
        })
        .collect();
    if args.save_baseline.is_some() {
        if let Ok(now) = statements::collect(&db.pool, &caps, &opts).await {
            for t in crate::collect::plans::targets(&now, crate::plans::DEFAULT_PLANS, &[]) {
                if !plan_targets.iter().any(|x| x.queryid == t.queryid) {
                    plan_targets.push(t);
                }
            }
        }
    }
    let plans_now = stored_plans(ctx, &db.pool, &caps, &plan_targets).await?;

    let probes = run_probes(ctx, &settings, &budgets, args).await?;
    db.pool.close().await;

    let mut judgement = judge_all(&budgets, &observed, &probes, &res);
    let plan_changes = crate::plans::regress::changes(&base_plans, &plans_now);
    judgement.verdicts.extend(crate::plans::regress::verdicts(
        &plan_changes,
        args.fail_on_plan_change,
    ));
    if let Some(p) = &args.save_baseline {
        let mut b = judgement.baseline(&probes);
        b.plans = plans_now.clone();
        let json = serde_json::to_vec_pretty(&b).context("serialize the baseline")?;
        std::fs::write(p, json)
            .map_err(|e| Error::Usage(format!("cannot write {}: {e}", p.display())))?;
        ctx.debug(format!("baseline saved to {}", p.display()));
    }
    if let (Some(b), Some(m)) = (&baseline, max_regression) {
        regressions(&mut judgement, &probes, b, m);
    }
    let mut report = BudgetReport::new(
        settings.display.clone(),
        budgets_path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        measurement,
        judgement,
        probes,
        res,
        args.require_data,
    );
    report.plan_changes = plan_changes;
    let written = match ctx.format {
        Format::Table => crate::render::budget_table::render(&report, out),
        Format::Json => crate::render::budget_json::render(&report, out),
        Format::Markdown => crate::render::budget_markdown::render(&report, out),
        Format::Junit => crate::render::budget_junit::render(&report, out),
        Format::Github => crate::render::budget_github::render(&report, out),
    };
    written.context("write the report")?;
    let fail = args.fail_on_breach || args.require_data;
    let plan_fail = args.fail_on_plan_change && !report.plan_changes.is_empty();
    Ok(if plan_fail || (fail && report.failed()) {
        crate::exit::FINDINGS
    } else {
        crate::exit::OK
    })
}

/// pg_stat_statements figures for the latency verdicts; a failure becomes no-data, not an error.
async fn observe(
    ctx: &Ctx,
    pool: &sqlx::PgPool,
    caps: &Capabilities,
    opts: &StatementsOptions,
    window: Option<std::time::Duration>,
    since: Option<StatementsSnapshot>,
) -> (Observed, Measurement) {
    let mode = if since.is_some() {
        "since"
    } else if window.is_some() {
        "window"
    } else {
        "cumulative"
    };
    let mut measurement = Measurement {
        mode,
        period_s: None,
        reset_detected: false,
    };
    if caps.pg_stat_statements().is_none() {
        let why = if caps.extension("pg_stat_statements").is_some() {
            "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)"
        } else {
            "pg_stat_statements is not available on this server (add it to shared_preload_libraries and CREATE EXTENSION pg_stat_statements)"
        };
        return (
            Observed {
                statements: None,
                unavailable_reason: Some(why.to_string()),
                period_s: None,
            },
            measurement,
        );
    }
    let snap = match (window, since) {
        (Some(w), _) => {
            ctx.progress(format!(
                "measuring pg_stat_statements over {:.0}s ...",
                w.as_secs_f64()
            ));
            statements::collect_window(pool, caps, opts, w).await
        }
        (None, Some(before)) => statements::collect(pool, caps, opts)
            .await
            .map(|after| statements::diff(&before, &after)),
        (None, None) => statements::collect(pool, caps, opts).await,
    };
    let snap = match snap {
        Ok(s) => s,
        Err(e) => {
            return (
                Observed {
                    statements: None,
                    unavailable_reason: Some(pgss_error(caps, e).to_string()),
                    period_s: None,
                },
                measurement,
            )
        }
    };
    let period = match &snap.window {
        Some(w) => {
            measurement.reset_detected = w.reset_detected;
            Some(w.seconds)
        }
        None => snap
            .since
            .map(|s| (snap.taken_at - s).num_milliseconds() as f64 / 1000.0),
    };
    // A cumulative period shorter than a second (a reset just before) gives meaningless rates.
    let period = period.filter(|p| *p >= 1.0);
    measurement.period_s = period;
    let statements = snap
        .workload()
        .filter(|s| !s.hidden)
        .filter_map(|s| {
            let (Some(queryid), Some(query)) = (s.queryid, s.query.clone()) else {
                return None;
            };
            let est = estimate_statement(&Moments {
                calls: s.calls.max(0) as u64,
                mean_ms: s.mean_exec_time_ms,
                stddev_ms: s.stddev_exec_time_ms,
                min_ms: s.min_exec_time_ms,
                max_ms: s.max_exec_time_ms,
            });
            Some(ObservedStatement {
                queryid,
                query,
                calls: s.calls.max(0) as u64,
                mean_ms: s.mean_exec_time_ms,
                p95_ms: (est.count > 0).then_some(est.p95_ms),
                p99_ms: (est.count > 0).then_some(est.p99_ms),
                method: est.method,
            })
        })
        .collect();
    (
        Observed {
            statements: Some(statements),
            unavailable_reason: None,
            period_s: period,
        },
        measurement,
    )
}

fn pgss_error(caps: &Capabilities, e: crate::collect::CollectError) -> Error {
    if e.is_permission_denied() {
        Error::Connect(format!(
            "role {} may not read pg_stat_statements: GRANT pg_read_all_stats TO {}",
            caps.role,
            crate::util::quote_ident(&caps.role)
        ))
    } else if caps.pg_stat_statements().is_none() {
        Error::Usage(
            "pg_stat_statements is not installed in this database: CREATE EXTENSION pg_stat_statements (and preload its library)".into(),
        )
    } else {
        Error::Other(anyhow::Error::new(e))
    }
}

async fn run_probes(
    ctx: &Ctx,
    settings: &crate::db::ConnectSettings,
    budgets: &Budgets,
    args: &BudgetArgs,
) -> Result<Vec<ProbeResult>, Error> {
    if args.no_probes {
        return Ok(Vec::new());
    }
    let selected: Vec<_> = budgets
        .probes
        .iter()
        .filter(|p| match &args.probe {
            Some(names) if !names.is_empty() => names.contains(&p.name),
            _ => true,
        })
        .collect();
    let progress = ctx.format == Format::Table
        && ctx.stdout_is_terminal
        && probe::stderr_is_terminal()
        && !ctx.quiet;
    let mut results = Vec::new();
    for (i, p) in selected.iter().enumerate() {
        if !progress {
            ctx.debug(format!("running probe {} ...", p.name));
        }
        let r = probe::run(
            settings,
            p,
            RunOptions {
                progress,
                seed: 0x00DB_D0C7 + i as u64,
            },
        )
        .await?;
        results.push(r);
    }
    Ok(results)
}

fn read_mark(path: &Path) -> Result<StatementsSnapshot, Error> {
    let hint = format!(
        " (create it with `dbdoctor budget --mark {}` before the workload)",
        path.display()
    );
    let m: MarkFile = read_json(
        path,
        "--since file",
        &hint,
        "not a file written by `dbdoctor budget --mark`",
    )?;
    if m.kind != "dbdoctor-budget-mark" || m.schema_version != MARK_SCHEMA_VERSION {
        return Err(Error::Usage(format!(
            "{}: not a version {MARK_SCHEMA_VERSION} file written by `dbdoctor budget --mark`",
            path.display()
        )));
    }
    Ok(m.sample)
}

/// The plan fingerprints of `targets`; a statement that cannot be planned has none, and a
/// plan collection that fails as a whole (no privilege, timeout) is said and leaves none.
async fn stored_plans(
    ctx: &Ctx,
    pool: &sqlx::PgPool,
    caps: &Capabilities,
    targets: &[crate::collect::plans::PlanTarget],
) -> Result<crate::plans::regress::StoredPlans, Error> {
    if targets.is_empty() {
        return Ok(Default::default());
    }
    match crate::collect::plans::collect(pool, caps, targets, false).await {
        Ok(p) => Ok(crate::plans::regress::stored(&p)),
        Err(e) if e.is_connection_lost() => Err(Error::Connect(e.to_string())),
        Err(e) => {
            ctx.progress(format!("plans not collected: {e}"));
            Ok(Default::default())
        }
    }
}

/// A mark file given as `--baseline`: its plan fingerprints are the baseline's plans.
fn baseline_from_mark(text: &str) -> Option<Baseline> {
    let m: MarkFile = serde_json::from_str(text).ok()?;
    (m.kind == "dbdoctor-budget-mark").then(|| Baseline {
        schema_version: BASELINE_SCHEMA_VERSION,
        plans: m.plans,
        ..Default::default()
    })
}

/// A JSON file one of our options names: an unreadable file says which option and `hint`; one
/// that does not parse says where and `not_ours`.
fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    option: &str,
    hint: &str,
    not_ours: &str,
) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read {option} {}: {e}{hint}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{}:{}:{}: {not_ours}: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

fn read_baseline(path: &Path) -> Result<Baseline, Error> {
    if let Some(b) = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| baseline_from_mark(&text))
    {
        return Ok(b);
    }
    let b: Baseline = read_json(
        path,
        "--baseline file",
        "",
        "not a baseline written by `dbdoctor budget --save-baseline`",
    )?;
    if b.schema_version != BASELINE_SCHEMA_VERSION {
        return Err(Error::Usage(format!(
            "{}: baseline format version {} is not supported (expected {BASELINE_SCHEMA_VERSION})",
            path.display(),
            b.schema_version
        )));
    }
    Ok(b)
}
