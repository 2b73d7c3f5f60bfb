//! Sets up `validate --trace`: a throwaway cluster loaded with the target's schema (and sample
//! rows), then traces the pending migrations on it.

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
    let mut out = trace::diagnostics(&traces);
    out.extend(notes.into_iter().map(|n| Diagnostic {
        file: source.dir.display().to_string(),
        line: 1,
        column: 1,
        rule: trace::LOCK_SPAN.into(),
        severity: super::lint::Severity::Note,
        message: n,
        help: None,
    }));
    Ok(out)
}
