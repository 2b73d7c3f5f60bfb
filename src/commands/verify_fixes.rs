//! `doctor --verify-fixes`: replays the report's whole fix set, then every rollback in reverse,
//! on a throwaway cluster loaded with `pg_dump --schema-only` of the target, and marks each fix.

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{Connection, Executor, PgConnection};

use crate::analyze::Finding;
use crate::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use crate::db::{ConnectSettings, Db};
use crate::error::Error;
use crate::snapshot::Snapshot;
use crate::util::{qualified, quote_ident};

/// Name of the database the target's schema is loaded into.
const COPY_DATABASE: &str = "dbdoctor_verify";

/// The fix set: distinct fix scripts in report order (findings that share one script, such as
/// a foreign key covered by an advised index, run it once).
pub fn fix_set(findings: &[Finding]) -> Vec<(String, Option<String>)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in findings {
        if let Some(fix) = &f.fix_sql {
            if seen.insert(fix.clone()) {
                out.push((fix.clone(), f.rollback_sql.clone()));
            }
        }
    }
    out
}

/// Run each statement of `script` on its own (autocommit, as a migration tool does); the first
/// failure stops the script.
pub async fn run_script(conn: &mut PgConnection, script: &str) -> Result<(), String> {
    for st in crate::migrate::split::split(script) {
        if st.text.trim().is_empty() || signals_a_session(&st.text) {
            continue;
        }
        conn.execute(st.text.as_str()).await.map_err(|e| {
            let msg = match &e {
                sqlx::Error::Database(d) => d.message().to_string(),
                other => other.to_string(),
            };
            format!(
                "{}: {}",
                st.text.split_whitespace().collect::<Vec<_>>().join(" "),
                msg
            )
        })?;
    }
    Ok(())
}

/// `SELECT pg_cancel_backend(pid)` / `pg_terminate_backend(pid)`: aimed at a live session of the
/// target, so meaningless on the copy, where the same pid may even be one of its own processes.
fn signals_a_session(stmt: &str) -> bool {
    let s = stmt.to_ascii_lowercase();
    s.trim_start().starts_with("select")
        && (s.contains("pg_cancel_backend(") || s.contains("pg_terminate_backend("))
}

fn fail(why: impl std::fmt::Display) -> Error {
    Error::Other(anyhow::anyhow!("--verify-fixes: {why}"))
}

/// Verify the fixes of `findings` and set their `verification`.
pub async fn verify(
    ctx: &crate::settings::Ctx,
    db: &Db,
    snap: &Snapshot,
    findings: &mut [Finding],
) -> Result<(), Error> {
    let set = fix_set(findings);
    if set.is_empty() {
        return Ok(());
    }
    let major = (snap.capabilities.server_version_num / 10_000) as u32;
    let (pg_dump, _) = crate::migrate::backup::find_pg_dump(major).ok_or_else(|| {
        fail(format!(
            "no pg_dump of version {major} or newer found (install the PostgreSQL {major} client or set PG_BINDIR)"
        ))
    })?;
    ctx.progress("verifying fixes: starting a throwaway PostgreSQL");
    let cluster =
        tokio::task::spawn_blocking(|| EphemeralCluster::start(&EphemeralOptions::default()))
            .await
            .context("cluster start task")??;
    let result = replay(ctx, db, snap, &pg_dump, &cluster, &set).await;
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .context("cluster stop task")?;
    let outcome = result?;
    for f in findings.iter_mut() {
        if let Some(fix) = &f.fix_sql {
            f.verification = outcome.get(fix).cloned();
        }
    }
    Ok(())
}

/// Load the schema into the throwaway cluster, replay, roll back; the verdict per fix script.
async fn replay(
    ctx: &crate::settings::Ctx,
    db: &Db,
    snap: &Snapshot,
    pg_dump: &std::path::Path,
    cluster: &EphemeralCluster,
    set: &[(String, Option<String>)],
) -> Result<HashMap<String, String>, Error> {
    let dump = tempfile::NamedTempFile::new().context("temporary file for the schema dump")?;
    dump_schema(&db.settings, pg_dump, dump.path()).await?;
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .context("connect to the throwaway cluster")?;
    admin
        .execute(format!("CREATE DATABASE {COPY_DATABASE}").as_str())
        .await
        .context("create the copy database")?;
    // Roles the schema or a fix names (ALTER ROLE ...), without their privileges.
    let roles: Vec<String> =
        sqlx::query_scalar("/* dbdoctor */ SELECT /* dbdoctor */ rolname::text FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .context("list the target's roles")?;
    for r in roles {
        let _ = admin
            .execute(format!("CREATE ROLE {} NOLOGIN", quote_ident(&r)).as_str())
            .await;
    }
    admin.close().await.ok();
    ctx.progress("verifying fixes: loading the schema");
    let psql = cluster.bindir().join("psql");
    let out = tokio::process::Command::new(&psql)
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-f"])
        .arg(dump.path())
        .arg("-d")
        .arg(cluster.url(COPY_DATABASE))
        .output()
        .await
        .with_context(|| format!("run {}", psql.display()))?;
    if !out.status.success() {
        return Err(fail(format!(
            "loading the schema failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .replace('\n', " ")
        )));
    }
    let mut conn = PgConnection::connect(&cluster.url(COPY_DATABASE))
        .await
        .context("connect to the copy database")?;
    // pg_dump leaves invalid indexes out: build them and mark them invalid again, so their
    // fixes meet what they would meet on the target (this catalog write happens only on the
    // throwaway cluster).
    for ix in snap.schema.indexes.iter().flatten().filter(|i| !i.is_valid) {
        let name = qualified(&ix.schema, &ix.name);
        if conn
            .execute(format!("{};", ix.definition).as_str())
            .await
            .is_ok()
        {
            let _ = sqlx::query(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass($1)",
            )
            .bind(&name)
            .execute(&mut conn)
            .await;
        }
    }
    ctx.progress(format!("verifying fixes: replaying {} fixes", set.len()));
    let mut verdict: HashMap<String, String> = HashMap::new();
    let mut applied = Vec::new();
    for (fix, rollback) in set {
        match run_script(&mut conn, fix).await {
            Ok(()) => {
                verdict.insert(fix.clone(), "verified".into());
                applied.push((fix, rollback));
            }
            Err(e) => {
                verdict.insert(fix.clone(), format!("failed: {e}"));
            }
        }
    }
    for (fix, rollback) in applied.into_iter().rev() {
        let Some(rb) = rollback else { continue };
        if let Err(e) = run_script(&mut conn, rb).await {
            verdict.insert(fix.clone(), format!("failed: rollback: {e}"));
        }
    }
    conn.close().await.ok();
    Ok(verdict)
}

/// `pg_dump --schema-only --no-owner --no-privileges` of the target into `file`.
async fn dump_schema(
    settings: &ConnectSettings,
    pg_dump: &std::path::Path,
    file: &std::path::Path,
) -> Result<(), Error> {
    use crate::migrate::backup::{pg_dump_with, DumpFailure};
    // The target comes from the same parsed settings as dbdoctor's own sessions (socket, TLS,
    // decoded password in PGPASSWORD), with -w so it never waits at a password prompt.
    let args: [&std::ffi::OsStr; 5] = [
        "--schema-only".as_ref(),
        "--no-owner".as_ref(),
        "--no-privileges".as_ref(),
        "--file".as_ref(),
        file.as_os_str(),
    ];
    pg_dump_with(pg_dump, settings, None, &args)
        .await
        .map_err(|f| match f {
            DumpFailure::Spawn(m) => fail(m),
            DumpFailure::Exit { stderr, .. } => fail(format!(
                "pg_dump --schema-only of the target failed: {stderr}"
            )),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_signals_are_not_replayed() {
        assert!(signals_a_session("SELECT pg_terminate_backend(123)"));
        assert!(signals_a_session("select pg_cancel_backend(9)"));
        assert!(!signals_a_session(
            "ALTER ROLE app SET idle_in_transaction_session_timeout = '5min'"
        ));
    }
}
