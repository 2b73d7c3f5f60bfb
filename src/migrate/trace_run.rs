//! Sets up `validate --trace`: a throwaway cluster loaded with the target's schema (and sample
//! rows), then traces the pending migrations on it.

use std::collections::HashMap;

use anyhow::Context;
use futures_util::StreamExt;
use sqlx::{Connection, PgConnection};

use super::lint::Diagnostic;
use super::source::{Migration, Source};
use super::trace;
use crate::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use crate::db::{ConnectSettings, SessionMode};
use crate::error::Error;
use crate::util::quote_ident;

/// What to load before tracing.
pub struct TraceTarget<'a> {
    /// The live database whose schema (and rows) the trace starts from; none: an empty database
    /// on which every migration is pending.
    pub database: Option<&'a ConnectSettings>,
    /// Rows copied per touched table (0: schema only).
    pub rows: u64,
    /// sqlx's tracking table in that database (what is already applied).
    pub tracking: &'a super::tracking_table::TrackingTable,
}

/// Interval between the two readings of the live write counters.
pub const TRACE_RATE_SAMPLE_MS: u64 = 1000;

/// Live size and cumulative writes of every user table (read-only).
const LIVE_TABLES_SQL: &str = "SELECT s.schemaname::text AS schema, s.relname::text AS name, \
     (s.n_tup_ins + s.n_tup_upd + s.n_tup_del)::int8 AS writes, \
     pg_relation_size(s.relid)::int8 AS bytes, \
     GREATEST(c.reltuples::int8, s.n_live_tup)::int8 AS rows \
     FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid";

/// Seconds since this database's statistics were reset (or the server started).
const STATS_AGE_SQL: &str = "SELECT GREATEST(EXTRACT(EPOCH FROM now() - COALESCE( \
     (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()), \
     pg_postmaster_start_time()))::float8, 1.0)";

type Reading = HashMap<String, (i64, i64, i64)>;

/// A row of the live tables query.
#[derive(sqlx::FromRow)]
struct LiveRow {
    schema: String,
    name: String,
    writes: i64,
    bytes: i64,
    rows: i64,
}

async fn read_live(conn: &mut PgConnection) -> Result<Reading, Error> {
    let mut out = HashMap::new();
    let rows: Vec<LiveRow> = sqlx::query_as(LIVE_TABLES_SQL)
        .fetch_all(&mut *conn)
        .await
        .context("trace: read pg_stat_user_tables")?;
    for r in rows {
        let key = if r.schema == "public" {
            r.name
        } else {
            format!("{}.{}", r.schema, r.name)
        };
        out.insert(key, (r.writes, r.bytes, r.rows));
    }
    Ok(out)
}

/// Size and write rate of each live table: two readings of the cumulative write counters
/// `TRACE_RATE_SAMPLE_MS` apart; a table with no write in between gets its average since the
/// statistics were reset.
pub async fn live_tables(
    conn: &mut PgConnection,
) -> Result<HashMap<String, trace::LiveTable>, Error> {
    let first = read_live(conn).await?;
    let started = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(TRACE_RATE_SAMPLE_MS)).await;
    let second = read_live(conn).await?;
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let age: f64 = sqlx::query_scalar(STATS_AGE_SQL)
        .fetch_one(&mut *conn)
        .await
        .context("trace: read the statistics age")?;
    Ok(second
        .into_iter()
        .map(|(k, (writes, bytes, rows))| {
            let before = first.get(&k).map(|f| f.0).unwrap_or(writes);
            let (rate, source) = if writes > before {
                ((writes - before) as f64 / secs, "sampled")
            } else {
                (writes.max(0) as f64 / age, "since_stats_reset")
            };
            (
                k,
                trace::LiveTable {
                    rows,
                    bytes,
                    writes_per_sec: rate,
                    rate_source: source,
                },
            )
        })
        .collect())
}

/// Quote `schema.table` as written in a migration.
fn quoted(name: &str) -> String {
    name.split('.')
        .map(quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

async fn load_schema(
    cluster: &EphemeralCluster,
    target: &ConnectSettings,
    server_major: u32,
) -> Result<(), Error> {
    let fail = |why: String| {
        Error::Usage(format!(
            "trace: cannot copy the schema of {}: {why}",
            target.display
        ))
    };
    let (pg_dump, _) = super::backup::find_pg_dump(server_major).ok_or_else(|| {
        fail(format!(
            "no pg_dump of version {server_major} or newer found (set PG_BINDIR)"
        ))
    })?;
    let dir = tempfile::tempdir().map_err(|e| fail(e.to_string()))?;
    let file = dir.path().join("schema.sql");
    let o = &target.options;
    let mut cmd = tokio::process::Command::new(&pg_dump);
    cmd.args(["--schema-only", "--no-owner", "--no-privileges", "--file"])
        .arg(&file)
        .env("PGHOST", o.get_host())
        .env("PGPORT", o.get_port().to_string())
        .env("PGUSER", o.get_username())
        .env("PGDATABASE", o.get_database().unwrap_or(o.get_username()))
        .env("PGAPPNAME", "dbdoctor");
    match &target.password {
        Some(p) => cmd.env("PGPASSWORD", p),
        None => cmd.env_remove("PGPASSWORD"),
    };
    let out = cmd
        .output()
        .await
        .map_err(|e| fail(format!("pg_dump: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(fail(format!(
            "pg_dump: {}",
            err.lines().next().unwrap_or("failed")
        )));
    }
    // psql understands pg_dump's meta-commands; statements that need missing roles or
    // extensions fail alone and the rest loads.
    let psql = cluster.bindir().join("psql");
    let out = tokio::process::Command::new(psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-f"])
        .arg(&file)
        .arg(cluster.url("trace"))
        .output()
        .await
        .map_err(|e| fail(format!("psql: {e}")))?;
    if !out.status.success() {
        return Err(fail("psql could not load the dump".into()));
    }
    Ok(())
}

async fn copy_rows(
    from: &mut PgConnection,
    to: &mut PgConnection,
    table: &str,
    rows: u64,
) -> Result<(), sqlx::Error> {
    let t = quoted(table);
    let mut stream = from
        .copy_out_raw(&format!("COPY (SELECT * FROM {t} LIMIT {rows}) TO STDOUT"))
        .await?;
    let mut data = Vec::new();
    while let Some(chunk) = stream.next().await {
        data.extend_from_slice(&chunk?);
    }
    drop(stream);
    let mut sink = to.copy_in_raw(&format!("COPY {t} FROM STDIN")).await?;
    sink.send(data).await?;
    sink.finish().await?;
    Ok(())
}

/// Trace the pending migrations of `source`.
pub async fn run(
    source: &Source,
    target: TraceTarget<'_>,
    progress: &dyn Fn(&str),
) -> Result<Vec<Diagnostic>, Error> {
    progress("trace: starting a throwaway PostgreSQL ...");
    let cluster =
        tokio::task::spawn_blocking(|| EphemeralCluster::start(&EphemeralOptions::default()))
            .await
            .context("cluster start task")??;
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .context("connect to the throwaway cluster")?;
    sqlx::raw_sql("CREATE DATABASE trace")
        .execute(&mut admin)
        .await
        .context("create the trace database")?;
    let _ = admin.close().await;
    let mut pending: Vec<&Migration> = source.migrations.iter().collect();
    let mut notes = Vec::new();
    let mut live_sizes = HashMap::new();
    if let Some(settings) = target.database {
        let db = crate::db::connect(settings, SessionMode::ReadOnly).await?;
        let mut live = db.pool.acquire().await.context("acquire a connection")?;
        let num: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
            .fetch_one(&mut *live)
            .await
            .context("read server_version_num")?;
        let major = num.parse::<u32>().unwrap_or(0) / 10000;
        let state = super::tracking::read_state(&mut live, target.tracking).await?;
        pending.retain(|m| !state.applied.contains_key(&m.version));
        progress(&format!(
            "trace: copying the schema of {}",
            settings.display
        ));
        load_schema(&cluster, settings, major).await?;
        if target.rows > 0 {
            let mut to = PgConnection::connect(&cluster.url("trace"))
                .await
                .context("connect to the trace database")?;
            // Sample rows need not satisfy foreign keys to rows that were not sampled.
            sqlx::raw_sql("SET session_replication_role = replica")
                .execute(&mut to)
                .await
                .context("trace: session_replication_role")?;
            for table in trace::touched_tables(&pending) {
                // Tables the pending files create are not in the target yet.
                let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                    .bind(quoted(&table))
                    .fetch_one(&mut *live)
                    .await
                    .context("trace: look up a touched table")?;
                if !exists {
                    continue;
                }
                if let Err(e) = copy_rows(&mut live, &mut to, &table, target.rows).await {
                    notes.push(format!("sample rows of {table} not copied: {e}"));
                }
            }
            let _ = to.close().await;
        }
        progress("trace: reading the live tables' sizes and write rates");
        live_sizes = live_tables(&mut live).await?;
        drop(live);
        db.pool.close().await;
    }
    let mut conn = PgConnection::connect(&cluster.url("trace"))
        .await
        .context("connect to the trace database")?;
    progress(&format!("trace: tracing {} migration(s)", pending.len()));
    let traces = trace::trace_migrations(&mut conn, &pending).await?;
    let _ = conn.close().await;
    drop(cluster);
    let mut out = trace::diagnostics_with(&traces, &live_sizes);
    out.extend(notes.into_iter().map(|n| Diagnostic {
        file: source.dir.display().to_string(),
        line: 1,
        column: 1,
        rule: trace::LOCK_SPAN.into(),
        lock_queue: None,
        severity: super::lint::Severity::Note,
        message: n,
        help: None,
    }));
    Ok(out)
}
