//! `dbdoctor snapshot`: collect everything `doctor` reads into one JSON file, and the shared
//! collection routine `doctor` uses live.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::SnapshotArgs;
use crate::collect::{activity, capabilities, host, schema, statements, CollectError};
use crate::db::{connect, Db, SessionMode};
use crate::error::Error;
use crate::settings::Ctx;
use crate::snapshot::{ConnectionStats, Skipped, Snapshot, SNAPSHOT_SCHEMA_VERSION};
use crate::util::one_line;

/// Number of `SELECT 1` round trips whose median is reported.
pub const ROUND_TRIP_SAMPLES: u32 = 5;

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Only objects in these schemas (empty: every non-system schema).
    pub schemas: Vec<String>,
    /// Measure pg_stat_statements over this window instead of since the last reset.
    pub window: Option<Duration>,
    /// Statements of every database, not only the current one.
    pub all_databases: bool,
    /// Sample the host (CPU, memory, disks).
    pub host: bool,
    /// Which statements to plan (none by default).
    pub plans: PlanRequest,
}

/// The statements whose generic plans the snapshot carries: the `max` with the most total time,
/// and those of `include`; `analyze` runs EXPLAIN ANALYZE where that is safe.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    pub max: usize,
    pub analyze: bool,
    pub include: Vec<i64>,
}

impl PlanRequest {
    fn wanted(&self) -> bool {
        self.max > 0 || !self.include.is_empty()
    }
}

pub async fn run(ctx: &Ctx, args: &SnapshotArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let window = args
        .window
        .as_deref()
        .map(|w| crate::util::parse_duration("--window", w))
        .transpose()?;
    let settings = ctx.connect_settings()?;
    let db = connect(&settings, SessionMode::ReadOnly).await?;
    let opts = CollectOptions {
        schemas: args.schema.clone(),
        window,
        all_databases: args.all_databases,
        host: true,
        plans: PlanRequest {
            max: args.plans,
            ..PlanRequest::default()
        },
    };
    let snap = collect_snapshot(ctx, &db, &opts).await?;
    db.pool.close().await;
    if args.out.as_os_str() == "-" {
        crate::render::snapshot_json::write(&snap, out).context("write the snapshot")?;
    } else {
        let mut file = Vec::new();
        crate::render::snapshot_json::write(&snap, &mut file).context("serialize the snapshot")?;
        std::fs::write(&args.out, file)
            .with_context(|| format!("write snapshot file {}", args.out.display()))?;
        ctx.progress(format!(
            "snapshot written to {} ({} tables, {} indexes, {} skipped parts)",
            args.out.display(),
            snap.schema.tables.as_ref().map_or(0, |t| t.len()),
            snap.schema.indexes.as_ref().map_or(0, |t| t.len()),
            snap.skipped.len()
        ));
    }
    Ok(crate::exit::OK)
}

/// Read a snapshot file written by `dbdoctor snapshot --out FILE`.
pub fn load(path: &std::path::Path) -> Result<Snapshot, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read snapshot {}: {e}", path.display())))?;
    let snap: Snapshot = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "snapshot {} is not a dbdoctor snapshot: {e}",
            path.display()
        ))
    })?;
    if snap.schema_version != SNAPSHOT_SCHEMA_VERSION {
        return Err(Error::Usage(format!(
            "snapshot {} has schema_version {}, this dbdoctor reads {}",
            path.display(),
            snap.schema_version,
            SNAPSHOT_SCHEMA_VERSION
        )));
    }
    Ok(snap)
}

/// Collect a Snapshot from a connected database. Parts that time out or lack a privilege become
/// `skipped` entries; any other failure is an error.
pub async fn collect_snapshot(
    ctx: &Ctx,
    db: &Db,
    opts: &CollectOptions,
) -> Result<Snapshot, Error> {
    let pool = &db.pool;
    let caps = capabilities::probe(pool)
        .await
        .map_err(|e| collect_error(db, e))?;
    let round_trip_ms = round_trip(pool).await.map_err(|e| collect_error(db, e))?;
    let mut skipped = Vec::new();
    let role = crate::util::quote_ident(&caps.role);
    let schemas = &opts.schemas;

    let host_task = opts
        .host
        .then(|| tokio::task::spawn_blocking(host::collect));
    let t = Instant::now();
    let sopts = statements::StatementsOptions {
        all_databases: opts.all_databases,
    };
    // Once the statements are in, the index advisor and the plans need nothing else from the
    // collection: they run on their own connections while the catalog reads go on.
    // At most as many collectors at once as the pool has connections (see `Lanes`).
    let lanes = crate::db::lanes::Lanes::new();
    let stmt_task = async {
        caps.pg_stat_statements()?;
        let st = lanes
            .run(async {
                match opts.window {
                    Some(w) => {
                        ctx.progress(format!(
                            "measuring pg_stat_statements over {:.0} s ...",
                            w.as_secs_f64()
                        ));
                        statements::collect_window(pool, &caps, &sopts, w).await
                    }
                    None => statements::collect(pool, &caps, &sopts).await,
                }
            })
            .await;
        let (advisor, plans) = match &st {
            Ok(st) => {
                let inputs = crate::advisor::StatementInput::from_snapshot(st);
                let advisor_opts = crate::advisor::AdvisorOptions::default();
                let advise = crate::advisor::advise(pool, &caps, &inputs, &advisor_opts);
                let plan = async {
                    let targets =
                        crate::collect::plans::targets(st, opts.plans.max, &opts.plans.include);
                    crate::collect::plans::collect(pool, &caps, &targets, opts.plans.analyze).await
                };
                let (a, p) = tokio::join!(lanes.run(advise), async {
                    match opts.plans.wanted() {
                        true => Some(lanes.run(plan).await),
                        false => None,
                    }
                });
                (Some(a), p)
            }
            Err(_) => (None, None),
        };
        Some((st, advisor, plans))
    };
    // The three large catalog reads run one after another (their rows are the bulk of the
    // memory on a big catalog); the small ones and pg_stat_statements run alongside them.
    let heavy = lanes.run(async {
        let t = schema::tables(pool, schemas).await;
        let i = schema::indexes(pool, schemas, caps.server_version_num).await;
        let f = schema::foreign_keys(pool, schemas).await;
        (t, i, f)
    });
    // During a window, pg_stat_activity is sampled alongside: where the active time goes.
    let wait_task = async {
        match opts.window {
            Some(w) => Some(
                lanes
                    .run(crate::collect::wait_samples::sample(
                        pool,
                        caps.server_version_num,
                        w,
                    ))
                    .await,
            ),
            None => None,
        }
    };
    let (
        stmt_out,
        wait_result,
        (tables, indexes, fks),
        (settings, seqs, cols, dbstats, sessions, hp, relation_names),
    ) = tokio::join!(stmt_task, wait_task, heavy, async {
        tokio::join!(
            lanes.run(schema::settings(pool)),
            lanes.run(schema::sequences(pool, schemas)),
            lanes.run(schema::column_stats(pool, schemas, caps.superuser)),
            lanes.run(activity::database(pool)),
            lanes.run(activity::sessions(pool)),
            lanes.run(crate::collect::health::collect(pool, schemas)),
            lanes.run(schema::relation_names(pool, schemas)),
        )
    });
    let (stmt_result, advisor_result, plans_result) = match stmt_out {
        Some((s, a, p)) => (Some(s), a, p),
        None => (None, None, None),
    };
    ctx.debug(format!(
        "catalog collectors took {:.0} ms{}",
        t.elapsed().as_secs_f64() * 1000.0,
        peak_note()
    ));
    // `-v`: when each later step ended, on the same clock.
    let phase = |what: &str| {
        ctx.debug(format!(
            "{what} done {:.0} ms into the collection{}",
            t.elapsed().as_secs_f64() * 1000.0,
            peak_note()
        ))
    };
    let sk = &mut skipped;
    let wait_samples = match wait_result {
        Some(r) => keep(sk, db, &role, "wait_profile", r)?,
        None => None,
    };
    let mut tables = keep(sk, db, &role, "tables", tables)?;
    if let Some(t) = tables.as_mut() {
        let r = schema::exact_table_sizes(pool, t).await;
        keep(sk, db, &role, "table_sizes", r)?;
    }
    let sk = &mut skipped;
    let (mut indexes, index_columns) = keep(sk, db, &role, "indexes", indexes)?.unzip();
    if let Some(ix) = indexes.as_mut() {
        let r = schema::exact_index_sizes(pool, ix).await;
        keep(sk, db, &role, "index_sizes", r)?;
    }
    let relation_names = keep(sk, db, &role, "relation_names", relation_names)?;
    phase("exact sizes");
    // The data checks some fixes depend on (duplicate keys, NULL key columns): only for the
    // few indexes whose fix needs them.
    let fix_checks = match (&tables, &indexes) {
        (Some(t), Some(ix)) => {
            let unique: Vec<&schema::IndexInfo> = ix
                .iter()
                .filter(|i| crate::checks::index_groups::needs_duplicate_check(i, ix))
                .collect();
            let pk = crate::checks::table_without_pk::pk_candidates(t, ix);
            Some(crate::collect::fixcheck::collect(pool, &unique, &pk).await)
        }
        _ => None,
    };
    let sk = &mut skipped;
    let (foreign_keys, fk_details) = keep(sk, db, &role, "foreign_keys", fks)?.unzip();
    let schema_snap = schema::SchemaSnapshot {
        schema_filter: schemas.clone(),
        settings: keep(sk, db, &role, "settings", settings)?,
        tables,
        indexes,
        foreign_keys,
        sequences: keep(sk, db, &role, "sequences", seqs)?,
        column_stats: keep(sk, db, &role, "column_stats", cols)?,
        relation_names,
        fix_checks,
    };
    let health = crate::collect::health::HealthSnapshot {
        index_columns,
        foreign_keys: fk_details,
        not_valid_constraints: keep(
            sk,
            db,
            &role,
            "not_valid_constraints",
            hp.not_valid_constraints,
        )?,
        json_columns: keep(sk, db, &role, "json_columns", hp.json_columns)?,
        int_primary_keys: keep(sk, db, &role, "int_primary_keys", hp.int_primary_keys)?,
        flagged_columns: keep(sk, db, &role, "flagged_columns", hp.flagged_columns)?,
        table_facts: keep(sk, db, &role, "table_facts", hp.table_facts)?,
        long_names: keep(sk, db, &role, "long_names", hp.long_names)?,
    };
    let database = keep(sk, db, &role, "database", dbstats)?;
    let sessions = keep(sk, db, &role, "sessions", sessions)?;
    if !caps.can_read_all_stats() {
        skipped.push(Skipped {
            what: "sessions of other roles".into(),
            reason: "insufficient privilege: their state and query text are hidden".into(),
            enable: Some(format!("GRANT pg_read_all_stats TO {role};")),
        });
    }
    // Not preloaded, no privilege, timed out: the rest of the report still stands.
    let stmt_snap = optional_part(&mut skipped, db, &role, "statements", stmt_result)?;
    if caps.pg_stat_statements().is_none() {
        skipped.push(Skipped {
            what: "statements".into(),
            reason: "extension missing: pg_stat_statements is not installed in this database"
                .into(),
            enable: Some(if caps.pg_stat_statements_preloaded() == Some(false) {
                "add pg_stat_statements to shared_preload_libraries, restart, then CREATE EXTENSION pg_stat_statements;".into()
            } else {
                "CREATE EXTENSION pg_stat_statements;".into()
            }),
        });
    }
    phase("fix data checks");
    // The index advisor costs the hot statements with hypothetical indexes (HypoPG) on this
    // read-only pool; without HypoPG it suggests from statistics alone, marked unverified.
    let advisor = optional_part(&mut skipped, db, &role, "index_advisor", advisor_result)?;
    let plans = optional_part(&mut skipped, db, &role, "plans", plans_result)?;
    phase("index advisor");
    let host = match host_task {
        Some(t) => Some(t.await.context("host sampling task")?),
        None => None,
    };
    Ok(Snapshot {
        schema_version: SNAPSHOT_SCHEMA_VERSION,
        dbdoctor_version: env!("CARGO_PKG_VERSION").to_string(),
        taken_at: caps.server_now,
        target: db.settings.display.clone(),
        local: db.settings.is_local(),
        connection: ConnectionStats {
            connect_ms: db.connect_time.as_secs_f64() * 1000.0,
            round_trip_ms,
            round_trip_samples: ROUND_TRIP_SAMPLES,
        },
        statements: stmt_snap,
        skipped,
        schema: schema_snap,
        health,
        activity: activity::ActivitySnapshot {
            database,
            sessions,
            all_sessions_visible: caps.can_read_all_stats(),
        },
        host,
        advisor,
        plans,
        wait_samples,
        capabilities: caps,
    })
}

/// The value, or a skipped entry when the part timed out or lacked a privilege.
fn keep<T>(
    skipped: &mut Vec<Skipped>,
    db: &Db,
    role: &str,
    what: &str,
    r: Result<T, CollectError>,
) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) => match classify(&e, role) {
            Some(s) => {
                skipped.push(Skipped {
                    what: what.to_string(),
                    ..s
                });
                Ok(None)
            }
            None => Err(collect_error(db, e)),
        },
    }
}

/// The result of a part whose failure never stops the report (`None`: not collected): a lost
/// connection is an error, any other failure a skipped part (`skipped_part`).
fn optional_part<T>(
    skipped: &mut Vec<Skipped>,
    db: &Db,
    role: &str,
    what: &str,
    r: Option<Result<T, CollectError>>,
) -> Result<Option<T>, Error> {
    match r {
        Some(Err(e)) if e.is_connection_lost() => Err(collect_error(db, e)),
        Some(Err(e)) => {
            skipped.push(skipped_part(what, &e, role));
            Ok(None)
        }
        Some(Ok(v)) => Ok(Some(v)),
        None => Ok(None),
    }
}

/// A part whose failure never stops the report: skipped with the classified reason, else with
/// the error itself on one line.
fn skipped_part(what: &str, e: &CollectError, role: &str) -> Skipped {
    let s = classify(e, role).unwrap_or_else(|| Skipped {
        what: String::new(),
        reason: one_line(&e.to_string()),
        enable: None,
    });
    Skipped {
        what: what.to_string(),
        ..s
    }
}

/// A timeout or a missing privilege is a skipped part; anything else is not ours to hide.
fn classify(e: &CollectError, role: &str) -> Option<Skipped> {
    if e.is_timeout() {
        Some(Skipped {
            what: String::new(),
            reason: "timed out".into(),
            enable: Some("raise --statement-timeout (seconds)".into()),
        })
    } else if is_lock_timeout(e) {
        Some(Skipped {
            what: String::new(),
            reason: "an object is locked by another session (lock timeout)".into(),
            enable: Some(
                "rerun when the blocking session has finished (see blocking_locks)".into(),
            ),
        })
    } else if e.is_permission_denied() {
        Some(Skipped {
            what: String::new(),
            reason: format!("insufficient privilege: {}", e.sqlx()),
            enable: Some(format!("GRANT pg_monitor TO {role};")),
        })
    } else {
        None
    }
}

fn collect_error(db: &Db, e: CollectError) -> Error {
    if e.is_connection_lost() {
        Error::Connect(format!(
            "lost the connection to {}: {e}",
            db.settings.display
        ))
    } else {
        Error::Other(anyhow::Error::new(e))
    }
}

/// Median of several `SELECT 1` round trips on one connection.
async fn round_trip(pool: &sqlx::PgPool) -> Result<f64, CollectError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| CollectError::query("round_trip", e))?;
    let mut samples = Vec::with_capacity(ROUND_TRIP_SAMPLES as usize);
    for _ in 0..ROUND_TRIP_SAMPLES {
        let t = Instant::now();
        sqlx::query(&statements::tag("SELECT 1"))
            .execute(&mut *conn)
            .await
            .map_err(|e| CollectError::query("round_trip", e))?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    Ok(samples[samples.len() / 2])
}

/// SQLSTATE 55P03: our lock_timeout gave up waiting for a lock another session holds.
fn is_lock_timeout(e: &CollectError) -> bool {
    matches!(e.sqlx(), sqlx::Error::Database(d) if d.code().as_deref() == Some("55P03"))
}

/// `, peak memory N MiB` for the `-v` phase lines, where the platform tells.
pub fn peak_note() -> String {
    crate::util::peak_rss_mib()
        .map(|m| format!(", peak memory {m} MiB"))
        .unwrap_or_default()
}
