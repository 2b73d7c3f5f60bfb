//! The backup taken before the first change: `pg_dump --schema-only` with a pg_dump at least as
//! new as the server, the definition of every index the pending migrations drop, and the data of
//! every table or column they drop or retype.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::PgConnection;

use crate::db::ConnectSettings;
use crate::error::Error;
use crate::util::quote_ident;

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
pub fn describe_command(settings: &ConnectSettings, file: &Path, lock_wait: Duration) -> String {
    let i = &settings.info;
    format!(
        "pg_dump --schema-only -w --lock-wait-timeout={} --host {} --port {} --username {} --dbname {} --file {}",
        lock_wait.as_millis().max(1),
        settings.host(),
        i.port,
        i.user,
        i.database,
        file.display()
    )
}

fn fail(why: String) -> Error {
    Error::MigrationFailed(format!(
        "backup failed, nothing was changed: {why} (fix it, or pass --no-backup to skip the backup)"
    ))
}

/// Why a pg_dump run failed: it could not start, or it exited non-zero (stderr masked by
/// structure and folded onto one line). Callers word the error for their own command.
pub(crate) enum DumpFailure {
    Spawn(String),
    Exit { status: String, stderr: String },
}

/// Run pg_dump against the same target as our own connection: the environment is built from the
/// parsed settings (decoded password in PGPASSWORD, socket directory, TLS files), `-w` so it can
/// never stop at a password prompt, and, when given, `--lock-wait-timeout` so it never queues
/// behind a lock.
pub(crate) async fn pg_dump_with(
    pg_dump: &Path,
    settings: &ConnectSettings,
    lock_wait: Option<Duration>,
    args: &[&std::ffi::OsStr],
) -> Result<(), DumpFailure> {
    let mut cmd = tokio::process::Command::new(pg_dump);
    cmd.arg("-w");
    if let Some(w) = lock_wait {
        cmd.arg(format!("--lock-wait-timeout={}", w.as_millis().max(1)));
    }
    cmd.args(args).stdin(std::process::Stdio::null());
    for (k, v) in settings.info.child_env() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .output()
        .await
        .map_err(|e| DumpFailure::Spawn(format!("cannot run {}: {e}", pg_dump.display())))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        // pg_dump never sees our URL; mask by structure in case it quotes a conninfo.
        let err = crate::db::redact::redact_url(err.trim());
        return Err(DumpFailure::Exit {
            status: out.status.to_string(),
            stderr: err.replace('\n', " "),
        });
    }
    Ok(())
}

async fn run_pg_dump(
    pg_dump: &Path,
    settings: &ConnectSettings,
    lock_wait: Duration,
    args: &[&std::ffi::OsStr],
) -> Result<(), Error> {
    pg_dump_with(pg_dump, settings, Some(lock_wait), args)
        .await
        .map_err(|f| match f {
            DumpFailure::Spawn(m) => fail(m),
            DumpFailure::Exit { status, stderr } => {
                fail(format!("pg_dump exited with {status}: {stderr}"))
            }
        })
}

/// Run pg_dump, then append the definitions of the indexes that will be dropped.
pub async fn take(
    conn: &mut PgConnection,
    settings: &ConnectSettings,
    server_major: u32,
    file: &Path,
    dropped_indexes: &[String],
    lock_wait: Duration,
) -> Result<(), Error> {
    let pg_dump = pg_dump_for(server_major)?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
    }
    run_pg_dump(
        &pg_dump,
        settings,
        lock_wait,
        &[
            "--schema-only".as_ref(),
            "--file".as_ref(),
            file.as_os_str(),
        ],
    )
    .await?;
    mask_dump_secrets(file)?;
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

fn pg_dump_for(server_major: u32) -> Result<PathBuf, Error> {
    find_pg_dump(server_major).map(|(p, _)| p).ok_or_else(|| {
        fail(format!(
            "no pg_dump of version {server_major} or newer found (install the PostgreSQL {server_major} client or set PG_BINDIR)"
        ))
    })
}

/// A schema dump holds user mappings, servers and subscriptions with their passwords (and any
/// comment may hold a conninfo): mask them, like every other text dbdoctor writes. Those values
/// must be set again by hand after a restore; the dump says so above each masked line.
fn mask_dump_secrets(file: &Path) -> Result<(), Error> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| fail(format!("cannot read {}: {e}", file.display())))?;
    let mut changed = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        // Only lines that name a secret key are read at all (user mappings, servers,
        // subscriptions, comments holding a conninfo).
        let lower = line.to_ascii_lowercase();
        let secretive = ["password", "passfile", "sslkey"]
            .iter()
            .any(|k| lower.contains(k));
        let masked = if secretive {
            crate::db::redact::redact_sql_secrets(line)
        } else {
            line.to_string()
        };
        if masked != line {
            changed = true;
            out.push_str("-- dbdoctor: a secret in the next statement was masked; re-create it with its real value\n");
        }
        out.push_str(&masked);
    }
    if changed {
        std::fs::write(file, out)
            .map_err(|e| fail(format!("cannot write {}: {e}", file.display())))?;
    }
    Ok(())
}

/// Data a pending migration removes or rewrites: a whole table, or one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataLoss {
    /// `DROP TABLE` (the name as written in the migration).
    Table { table: String },
    /// `ALTER TABLE … DROP COLUMN` or `ALTER COLUMN … TYPE`.
    Column { table: String, column: String },
}

/// Where one piece of data was saved and how to put it back.
#[derive(Debug, Clone)]
pub struct SavedData {
    /// e.g. `table public.meals` or `column public.meals.kcal`.
    pub what: String,
    /// The file to run with psql once the down migration has re-created the table or column.
    pub restore_file: PathBuf,
    /// Extra files (the CSV of a column).
    pub data_files: Vec<PathBuf>,
}

/// Save the data of `loss` beside the schema backup `schema_file` (same prefix). A table or column
/// that does not exist yet (created by an earlier migration of this run) has nothing to save.
pub async fn save_data(
    conn: &mut PgConnection,
    settings: &ConnectSettings,
    server_major: u32,
    schema_file: &Path,
    loss: &DataLoss,
    lock_wait: Duration,
) -> Result<Option<SavedData>, Error> {
    let table = match loss {
        DataLoss::Table { table } | DataLoss::Column { table, .. } => table,
    };
    let rel: Option<(String, String)> = sqlx::query_as(
        "/* dbdoctor */ SELECT /* dbdoctor */ n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')",
    )
    .bind(table)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| fail(format!("look up table {table}: {e}")))?;
    let Some((schema, name)) = rel else {
        return Ok(None);
    };
    let qualified = format!("{}.{}", quote_ident(&schema), quote_ident(&name));
    let base = schema_file.to_string_lossy();
    let base = base
        .strip_suffix("-schema.sql")
        .unwrap_or(&base)
        .to_string();
    let slug = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let column = match loss {
        DataLoss::Column { column, .. } => Some(column),
        DataLoss::Table { .. } => None,
    };
    if let Some(column) = column {
        let attr: Option<String> = sqlx::query_scalar(
            "/* dbdoctor */ SELECT /* dbdoctor */ format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
        )
        .bind(&qualified)
        .bind(column)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| fail(format!("look up column {column} of {qualified}: {e}")))?;
        let Some(col_type) = attr else {
            return Ok(None);
        };
        let pk: Vec<(String, String)> = sqlx::query_as(
            "/* dbdoctor */ SELECT /* dbdoctor */ a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY k.ord",
        )
        .bind(&qualified)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| fail(format!("read the primary key of {qualified}: {e}")))?;
        if !pk.is_empty() && !pk.iter().any(|(n, _)| n == column) {
            let csv = PathBuf::from(format!("{base}-data-{}.{}.csv", slug(&name), slug(column)));
            let restore = PathBuf::from(format!(
                "{base}-data-{}.{}.restore.sql",
                slug(&name),
                slug(column)
            ));
            let cols: Vec<String> = pk.iter().map(|(n, _)| quote_ident(n)).collect();
            let copy = format!(
                "COPY (SELECT {}, {} FROM {qualified}) TO STDOUT WITH (FORMAT csv, HEADER)",
                cols.join(", "),
                quote_ident(column)
            );
            copy_to_file(conn, &copy, &csv).await?;
            let defs: Vec<String> = pk
                .iter()
                .map(|(n, t)| format!("{} {t}", quote_ident(n)))
                .chain([format!("{} {col_type}", quote_ident(column))])
                .collect();
            let join: Vec<String> = pk
                .iter()
                .map(|(n, _)| format!("t.{0} = r.{0}", quote_ident(n)))
                .collect();
            let script = format!(
                "-- dbdoctor: puts back the values of column {col} of {qualified} ({col_type}) saved before the migration\n\
                 -- that dropped or retyped it. Run it with psql once the column exists again (after `dbdoctor migrate revert`).\n\
                 BEGIN;\n\
                 CREATE TEMP TABLE dbdoctor_restore ({defs}) ON COMMIT DROP;\n\
                 \\copy dbdoctor_restore FROM {file} WITH (FORMAT csv, HEADER)\n\
                 UPDATE {qualified} AS t SET {col} = r.{col} FROM dbdoctor_restore AS r WHERE {join};\n\
                 COMMIT;\n",
                col = quote_ident(column),
                defs = defs.join(", "),
                file = crate::util::quote_literal(&absolute(&csv).display().to_string()),
                join = join.join(" AND "),
            );
            std::fs::write(&restore, script)
                .map_err(|e| fail(format!("cannot write {}: {e}", restore.display())))?;
            return Ok(Some(SavedData {
                what: format!("column {qualified}.{}", quote_ident(column)),
                restore_file: absolute(&restore),
                data_files: vec![absolute(&csv)],
            }));
        }
        // No primary key to match rows on (or the column is part of it): save the whole table.
    }
    let file = PathBuf::from(format!("{base}-data-{}.sql", slug(&name)));
    let pattern = format!("{}.{}", dq(&schema), dq(&name));
    let pg_dump = pg_dump_for(server_major)?;
    run_pg_dump(
        &pg_dump,
        settings,
        lock_wait,
        &[
            "--data-only".as_ref(),
            "-t".as_ref(),
            pattern.as_ref(),
            "--file".as_ref(),
            file.as_os_str(),
        ],
    )
    .await?;
    Ok(Some(SavedData {
        what: match column {
            Some(c) => format!(
                "table {qualified} (for its column {}; it has no primary key to match rows on)",
                quote_ident(c)
            ),
            None => format!("table {qualified}"),
        },
        restore_file: absolute(&file),
        data_files: Vec::new(),
    }))
}

/// A pg_dump `-t` pattern matching exactly this name.
fn dq(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

async fn copy_to_file(conn: &mut PgConnection, copy: &str, file: &Path) -> Result<(), Error> {
    use futures_util::StreamExt;
    use std::io::Write;
    let mut f = std::fs::File::create(file)
        .map_err(|e| fail(format!("cannot create {}: {e}", file.display())))?;
    let mut stream = conn
        .copy_out_raw(copy)
        .await
        .map_err(|e| fail(format!("{copy}: {e}")))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(format!("{copy}: {e}")))?;
        f.write_all(&chunk)
            .map_err(|e| fail(format!("cannot write {}: {e}", file.display())))?;
    }
    Ok(())
}
