//! The backup taken before the first change: `pg_dump --schema-only` with a pg_dump at least as
//! new as the server, plus the definition of every index the pending migrations drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::PgConnection;

use crate::db::ConnectSettings;
use crate::error::Error;

/// A pg_dump whose major version is at least the server's (an older one refuses to dump).
pub fn find_pg_dump(server_major: u32) -> Option<(PathBuf, u32)> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(b) = std::env::var_os("PG_BINDIR") {
        candidates.push(PathBuf::from(b).join("pg_dump"));
    }
    candidates.push(PathBuf::from(format!(
        "/usr/lib/postgresql/{server_major}/bin/pg_dump"
    )));
    if let Ok(b) = crate::db::ephemeral::find_bindir() {
        candidates.push(b.join("pg_dump"));
    }
    candidates.push(PathBuf::from("pg_dump"));
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut dirs: Vec<PathBuf> = rd.flatten().map(|e| e.path().join("bin/pg_dump")).collect();
        dirs.sort();
        dirs.reverse();
        candidates.extend(dirs);
    }
    candidates
        .into_iter()
        .filter_map(|c| pg_dump_major(&c).map(|m| (c, m)))
        .find(|(_, m)| *m >= server_major)
}

fn pg_dump_major(path: &Path) -> Option<u32> {
    let out = Command::new(path).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    // "pg_dump (PostgreSQL) 15.8 (Debian 15.8-1)"
    let text = String::from_utf8_lossy(&out.stdout);
    let ver = text.split_whitespace().nth(2)?;
    ver.split('.').next()?.parse().ok()
}

/// Where the backup goes: `<dir>/<database>-<UTC timestamp>-schema.sql`.
pub fn backup_path(dir: &Path, database: &str) -> PathBuf {
    let ts = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}-{ts}-schema.sql"))
}

/// The command line shown in `--dry-run` (no password: it goes through PGPASSWORD).
pub fn describe_command(settings: &ConnectSettings, file: &Path) -> String {
    let o = &settings.options;
    format!(
        "pg_dump --schema-only --host {} --port {} --username {} --dbname {} --file {}",
        o.get_host(),
        o.get_port(),
        o.get_username(),
        o.get_database().unwrap_or(o.get_username()),
        file.display()
    )
}

/// Run pg_dump, then append the definitions of the indexes that will be dropped.
pub async fn take(
    conn: &mut PgConnection,
    settings: &ConnectSettings,
    server_major: u32,
    file: &Path,
    dropped_indexes: &[String],
) -> Result<(), Error> {
    let fail = |why: String| {
        Error::MigrationFailed(format!(
            "backup failed, nothing was changed: {why} (fix it, or pass --no-backup to skip the backup)"
        ))
    };
    let (pg_dump, _) = find_pg_dump(server_major).ok_or_else(|| {
        fail(format!(
            "no pg_dump of version {server_major} or newer found (install the PostgreSQL {server_major} client or set PG_BINDIR)"
        ))
    })?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    let o = &settings.options;
    let mut cmd = tokio::process::Command::new(&pg_dump);
    cmd.arg("--schema-only")
        .arg("--file")
        .arg(file)
        .env("PGHOST", o.get_host())
        .env("PGPORT", o.get_port().to_string())
        .env("PGUSER", o.get_username())
        .env("PGDATABASE", o.get_database().unwrap_or(o.get_username()))
        .env("PGAPPNAME", "dbdoctor");
    match &settings.password {
        Some(p) => cmd.env("PGPASSWORD", p),
        None => cmd.env_remove("PGPASSWORD"),
    };
    let out = cmd
        .output()
        .await
        .map_err(|e| fail(format!("cannot run {}: {e}", pg_dump.display())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let err = crate::db::redact::scrub(err.trim(), settings.password.as_deref());
        return Err(fail(format!(
            "pg_dump exited with {}: {}",
            out.status,
            err.replace('\n', " ")
        )));
    }
    if !dropped_indexes.is_empty() {
        let mut trailer =
            String::from("\n-- dbdoctor: definitions of the indexes the migrations below drop\n");
        for name in dropped_indexes {
            let def: Option<String> = sqlx::query_scalar(
                "/* dbdoctor */ SELECT /* dbdoctor */ pg_get_indexdef(to_regclass($1))",
            )
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| fail(format!("read the definition of index {name}: {e}")))?;
            match def {
                Some(d) => trailer.push_str(&format!("{d};\n")),
                None => trailer.push_str(&format!("-- {name}: does not exist\n")),
            }
        }
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(file)
            .map_err(|e| fail(format!("cannot append to {}: {e}", file.display())))?;
        f.write_all(trailer.as_bytes())
            .map_err(|e| fail(format!("cannot write {}: {e}", file.display())))?;
    }
    Ok(())
}
