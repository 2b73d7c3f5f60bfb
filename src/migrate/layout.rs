//! Reads the common migration layouts (sqlx, golang-migrate, goose, Flyway, dbmate, one file,
//! standard input) into the same [`Source`] that `validate` lints.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::source::{self, checksum, Migration, Source, SourceProblem, SqlFile};
use super::tracking_table::TrackingTable;
use crate::error::Error;

/// A migration layout. `sqlx` is the one `status`, `apply` and `revert` can track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Layout {
    /// `<VERSION>_<desc>.sql` or `.up.sql` + `.down.sql`; `-- no-transaction` first line.
    #[default]
    Sqlx,
    /// `<VERSION>_<desc>.up.sql` + `.down.sql`, each file sent as one query, no transaction of its own.
    GolangMigrate,
    /// `<VERSION>_<desc>.sql` with `-- +goose Up` / `-- +goose Down` sections.
    Goose,
    /// `V<version>__<desc>.sql`, `U<version>__<desc>.sql` undo files, `R__<desc>.sql` repeatables.
    Flyway,
    /// `<VERSION>_<desc>.sql` with `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
    /// One SQL file (or `-` for standard input), linted as one migration in a transaction.
    File,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Sqlx => "sqlx",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Goose => "goose",
            Layout::Flyway => "flyway",
            Layout::Dbmate => "dbmate",
            Layout::File => "file",
        }
    }

    /// The runner sends each statement on its own (goose, Flyway) rather than the whole file as
    /// one query string (sqlx, golang-migrate, dbmate), so a file outside a transaction is not
    /// one implicit transaction.
    pub fn statements_separately(self) -> bool {
        matches!(self, Layout::Goose | Layout::Flyway)
    }

    /// The tracking table of the layout's own runner, for the message of commands that need it
    /// (`sqlx` is sqlx's table as sqlx.toml names it).
    pub fn tracking_table(self, sqlx: &TrackingTable) -> String {
        match self {
            Layout::Sqlx | Layout::File => sqlx.ident(),
            Layout::GolangMigrate => "schema_migrations".into(),
            Layout::Goose => "goose_db_version".into(),
            Layout::Flyway => "flyway_schema_history".into(),
            Layout::Dbmate => "schema_migrations".into(),
        }
    }
}

/// Which layout a path holds: `-` and files are one file; a folder is goose or dbmate when a file
/// carries their section markers, Flyway when a file is named `V1__x.sql` or `R__x.sql`, else sqlx
/// (golang-migrate shares sqlx's names and is only chosen with `--layout`).
pub fn detect(path: &Path) -> Layout {
    if path == Path::new("-") || path.is_file() {
        return Layout::File;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return Layout::Sqlx;
    };
    let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    names.sort();
    let mut flyway = false;
    for p in &names {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        if !name.ends_with(".sql") {
            continue;
        }
        if flyway_name(&name).is_some() {
            flyway = true;
        }
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        if text
            .lines()
            .any(|l| goose_marker(l) == Some(GooseMarker::Up))
        {
            return Layout::Goose;
        }
        if text.lines().any(|l| dbmate_marker(l).is_some_and(|m| m.0)) {
            return Layout::Dbmate;
        }
    }
    if flyway {
        Layout::Flyway
    } else {
        Layout::Sqlx
    }
}

/// Read `path` in `layout` (detected when `None`).
pub fn load(path: &Path, layout: Option<Layout>) -> Result<(Source, Layout), Error> {
    let layout = layout.unwrap_or_else(|| detect(path));
    let source = match layout {
        Layout::Sqlx => source::load(path)?,
        Layout::File => single_file(path)?,
        other => {
            let files = read_sql_files(path)?;
            match other {
                Layout::GolangMigrate => golang_migrate(path, files),
                Layout::Goose => sectioned(path, files, goose_sections),
                Layout::Dbmate => sectioned(path, files, dbmate_sections),
                Layout::Flyway => flyway(path, files),
                Layout::Sqlx | Layout::File => unreachable!("handled above"),
            }
        }
    };
    Ok((source, layout))
}

/// The one-line refusal for commands that track applied migrations.
pub fn require_trackable(layout: Layout, command: &str, sqlx: &TrackingTable) -> Result<(), Error> {
    if layout == Layout::Sqlx {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "migrate {command} tracks migrations the way sqlx does; the {} layout is tracked in {}, which dbdoctor does not read or write (use `migrate validate` on it, and its own tool to apply)",
        layout.as_str(),
        layout.tracking_table(sqlx)
    )))
}

fn read_sql_files(dir: &Path) -> Result<Vec<(String, PathBuf, String)>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "cannot read the migrations folder {}: {e} (use --source DIR)",
            dir.display()
        ))
    })?;
    let mut out = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if !name.ends_with(".sql") || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path)
            .map_err(|err| Error::Usage(format!("cannot read {}: {err}", path.display())))?;
        let sql = String::from_utf8(bytes)
            .map_err(|_| Error::MigrationInvalid(format!("{}: not valid UTF-8", path.display())))?;
        out.push((name, path, sql));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn single_file(path: &Path) -> Result<Source, Error> {
    let (name, sql, dir) = if path == Path::new("-") {
        let mut sql = String::new();
        std::io::stdin()
            .read_to_string(&mut sql)
            .map_err(|e| Error::Usage(format!("cannot read standard input: {e}")))?;
        ("<stdin>".to_string(), sql, PathBuf::from("."))
    } else {
        let sql = std::fs::read_to_string(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (name, sql, dir)
    };
    let file = SqlFile {
        no_tx: sql.starts_with(source::NO_TX_DIRECTIVE),
        path: if path == Path::new("-") {
            PathBuf::from("<stdin>")
        } else {
            path.to_path_buf()
        },
        name: name.clone(),
        sql,
    };
    Ok(Source {
        dir,
        migrations: vec![Migration {
            version: 1,
            description: name,
            checksum: checksum(file.sql.as_bytes()),
            up: file,
            down: None,
            simple: true,
        }],
        problems: vec![],
    })
}

/// `123_name...` -> (123, "name...").
fn leading_version(name: &str) -> Option<(i64, &str)> {
    let (v, rest) = name.split_once('_')?;
    Some((v.parse().ok()?, rest))
}

fn problem(file: &str, message: String) -> SourceProblem {
    SourceProblem {
        file: file.to_string(),
        message,
        is_error: true,
    }
}

/// golang-migrate: sqlx's names, but no transaction around the file; the file goes to the server
/// as one query, which PostgreSQL runs as one implicit transaction when it holds several statements.
fn golang_migrate(dir: &Path, files: Vec<(String, PathBuf, String)>) -> Source {
    let mut s = source::from_files(dir, files);
    for m in &mut s.migrations {
        for f in std::iter::once(&mut m.up).chain(m.down.as_mut()) {
            f.no_tx = super::split::split(&f.sql).len() <= 1;
        }
    }
    s
}

/// The part of a sectioned file for one direction, with the other lines blanked so that line
/// numbers stay those of the file.
fn keep_lines(sql: &str, keep: impl Fn(usize) -> bool) -> String {
    sql.split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if keep(i) {
                line.to_string()
            } else if line.ends_with('\n') {
                "\n".to_string()
            } else {
                String::new()
            }
        })
        .collect()
}

/// (up text, down text if any, up outside a transaction, down outside a transaction).
type Sections = (String, Option<String>, bool, bool);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GooseMarker {
    Up,
    Down,
    NoTransaction,
    Other,
}

fn goose_marker(line: &str) -> Option<GooseMarker> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("+goose")?.trim().to_lowercase();
    Some(match rest.as_str() {
        "up" => GooseMarker::Up,
        "down" => GooseMarker::Down,
        "no transaction" => GooseMarker::NoTransaction,
        _ => GooseMarker::Other,
    })
}

fn goose_sections(sql: &str) -> Result<Sections, String> {
    let lines: Vec<Option<GooseMarker>> = sql.lines().map(goose_marker).collect();
    let up = lines.iter().position(|m| *m == Some(GooseMarker::Up));
    let down = lines.iter().position(|m| *m == Some(GooseMarker::Down));
    let Some(up) = up else {
        return Err("no `-- +goose Up` line".into());
    };
    let no_tx = lines.contains(&Some(GooseMarker::NoTransaction));
    let up_end = down.filter(|d| *d > up).unwrap_or(usize::MAX);
    let up_text = keep_lines(sql, |i| i > up && i < up_end);
    let down_text = down.map(|d| {
        let end = if up > d { up } else { usize::MAX };
        keep_lines(sql, |i| i > d && i < end)
    });
    Ok((up_text, down_text, no_tx, no_tx))
}

/// `-- migrate:up` / `-- migrate:down` with options: (is up, transaction:false given).
fn dbmate_marker(line: &str) -> Option<(bool, bool)> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let (up, opts) = if let Some(o) = rest.strip_prefix("migrate:up") {
        (true, o)
    } else if let Some(o) = rest.strip_prefix("migrate:down") {
        (false, o)
    } else {
        return None;
    };
    let no_tx = opts.split_whitespace().any(|o| o == "transaction:false");
    Some((up, no_tx))
}

fn dbmate_sections(sql: &str) -> Result<Sections, String> {
    let marks: Vec<(usize, bool, bool)> = sql
        .lines()
        .enumerate()
        .filter_map(|(i, l)| dbmate_marker(l).map(|(up, no_tx)| (i, up, no_tx)))
        .collect();
    let Some(&(up, _, up_no_tx)) = marks.iter().find(|m| m.1) else {
        return Err("no `-- migrate:up` line".into());
    };
    let down = marks.iter().find(|m| !m.1).copied();
    let up_end = down.map(|d| d.0).filter(|d| *d > up).unwrap_or(usize::MAX);
    let up_text = keep_lines(sql, |i| i > up && i < up_end);
    let down_text = down.map(|(d, _, _)| {
        let end = if up > d { up } else { usize::MAX };
        keep_lines(sql, |i| i > d && i < end)
    });
    Ok((up_text, down_text, up_no_tx, down.is_some_and(|d| d.2)))
}

/// goose and dbmate: `<VERSION>_<desc>.sql`, both directions in one file.
fn sectioned(
    dir: &Path,
    files: Vec<(String, PathBuf, String)>,
    sections: fn(&str) -> Result<Sections, String>,
) -> Source {
    let mut s = Source {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    for (name, path, sql) in files {
        let Some((version, rest)) = leading_version(&name) else {
            s.problems.push(problem(
                &name,
                format!("file name {name:?} does not start with <VERSION>_"),
            ));
            continue;
        };
        if s.migrations
            .iter()
            .any(|m: &Migration| m.version == version)
        {
            s.problems
                .push(problem(&name, format!("duplicate version {version}")));
            continue;
        }
        let (up, down, up_no_tx, down_no_tx) = match sections(&sql) {
            Ok(x) => x,
            Err(e) => {
                s.problems.push(problem(&name, format!("{name}: {e}")));
                continue;
            }
        };
        let file = |sql: String, no_tx: bool| SqlFile {
            path: path.clone(),
            name: name.clone(),
            sql,
            no_tx,
        };
        s.migrations.push(Migration {
            version,
            description: rest.trim_end_matches(".sql").replace('_', " "),
            checksum: checksum(sql.as_bytes()),
            up: file(up, up_no_tx),
            down: down.map(|d| file(d, down_no_tx)),
            simple: false,
        });
    }
    s.migrations.sort_by_key(|m| m.version);
    s
}

/// `V1__x.sql`, `V1.2__x.sql`, `V1_2__x.sql` -> ('V', [1, 2], "x"); `R__x.sql` -> ('R', [], "x").
fn flyway_name(name: &str) -> Option<(char, Vec<u64>, String)> {
    let stem = name.strip_suffix(".sql")?;
    let kind = stem.chars().next()?;
    if !matches!(kind, 'V' | 'U' | 'R') {
        return None;
    }
    let (version, desc) = stem[1..].split_once("__")?;
    let parts: Option<Vec<u64>> = if version.is_empty() {
        Some(vec![])
    } else {
        version.split(['.', '_']).map(|p| p.parse().ok()).collect()
    };
    let parts = parts?;
    if (kind == 'R') != parts.is_empty() {
        return None;
    }
    Some((kind, parts, desc.replace('_', " ")))
}

/// Flyway sends statements one by one; a script runs outside a transaction when its `.conf`
/// says `executeInTransaction=false` or when it holds a statement PostgreSQL refuses inside one
/// (Flyway detects those itself).
fn flyway_no_tx(path: &Path, sql: &str) -> bool {
    let conf = PathBuf::from(format!("{}.conf", path.display()));
    let configured = std::fs::read_to_string(conf).is_ok_and(|c| {
        c.lines().any(|l| {
            l.replace(' ', "")
                .eq_ignore_ascii_case("executeInTransaction=false")
        })
    });
    configured
        || super::split::split(sql)
            .iter()
            .any(|s| s.text.to_uppercase().contains("CONCURRENTLY"))
}

fn flyway(dir: &Path, files: Vec<(String, PathBuf, String)>) -> Source {
    let mut s = Source {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    let mut versioned: Vec<(Vec<u64>, String, SqlFile)> = Vec::new();
    let mut undo: Vec<(Vec<u64>, SqlFile)> = Vec::new();
    let mut repeatable: Vec<(String, SqlFile)> = Vec::new();
    for (name, path, sql) in files {
        let Some((kind, version, desc)) = flyway_name(&name) else {
            s.problems.push(problem(
                &name,
                format!("file name {name:?} is not V<version>__<desc>.sql, U<version>__<desc>.sql or R__<desc>.sql"),
            ));
            continue;
        };
        let file = SqlFile {
            no_tx: flyway_no_tx(&path, &sql),
            path,
            name: name.clone(),
            sql,
        };
        match kind {
            'V' => {
                if versioned.iter().any(|v| v.0 == version) {
                    s.problems
                        .push(problem(&name, format!("duplicate version in {name}")));
                    continue;
                }
                versioned.push((version, desc, file));
            }
            'U' => undo.push((version, file)),
            _ => repeatable.push((desc, file)),
        }
    }
    // Flyway orders versions numerically part by part, then runs repeatables by description.
    versioned.sort_by(|a, b| a.0.cmp(&b.0));
    repeatable.sort_by(|a, b| a.0.cmp(&b.0));
    for (u, f) in &undo {
        if !versioned.iter().any(|v| &v.0 == u) {
            s.problems.push(problem(
                &f.name,
                format!("undo file {} has no versioned migration", f.name),
            ));
        }
    }
    let mut ordinal = 0i64;
    for (version, desc, file) in versioned {
        ordinal += 1;
        let down = undo
            .iter()
            .position(|u| u.0 == version)
            .map(|i| undo.remove(i).1);
        s.migrations.push(Migration {
            version: ordinal,
            description: desc,
            checksum: checksum(file.sql.as_bytes()),
            up: file,
            down,
            simple: true,
        });
    }
    for (desc, file) in repeatable {
        ordinal += 1;
        s.migrations.push(Migration {
            version: ordinal,
            description: desc,
            checksum: checksum(file.sql.as_bytes()),
            up: file,
            down: None,
            simple: true,
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, PathBuf, String)> {
        list.iter()
            .map(|(n, s)| (n.to_string(), PathBuf::from(n), s.to_string()))
            .collect()
    }

    #[test]
    fn goose_sections_keep_line_numbers() {
        let sql = "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n-- +goose Down\nDROP INDEX CONCURRENTLY i;\n";
        let s = sectioned(Path::new("m"), files(&[("3_idx.sql", sql)]), goose_sections);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let m = &s.migrations[0];
        assert_eq!(m.version, 3);
        assert!(m.up.no_tx);
        assert_eq!(
            m.up.sql.lines().nth(2),
            Some("CREATE INDEX CONCURRENTLY i ON t (a);")
        );
        assert!(!m.up.sql.contains("DROP"));
        assert!(m.down.as_ref().unwrap().sql.contains("DROP INDEX"));
        assert!(!m.down.as_ref().unwrap().sql.contains("CREATE"));
    }

    #[test]
    fn dbmate_transaction_option_per_section() {
        let sql = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- migrate:down\nDROP INDEX i;\n";
        let s = sectioned(
            Path::new("m"),
            files(&[("20240101_x.sql", sql)]),
            dbmate_sections,
        );
        let m = &s.migrations[0];
        assert!(m.up.no_tx);
        assert!(!m.down.as_ref().unwrap().no_tx);
        let bad = sectioned(
            Path::new("m"),
            files(&[("1_x.sql", "SELECT 1;")]),
            dbmate_sections,
        );
        assert_eq!(bad.problems.len(), 1);
    }

    #[test]
    fn flyway_names_and_order() {
        assert_eq!(
            flyway_name("V1_2__add_x.sql"),
            Some(('V', vec![1, 2], "add x".into()))
        );
        assert_eq!(
            flyway_name("R__views.sql"),
            Some(('R', vec![], "views".into()))
        );
        assert_eq!(flyway_name("V__x.sql"), None);
        assert_eq!(flyway_name("1_x.sql"), None);
        let s = flyway(
            Path::new("m"),
            files(&[
                ("R__views.sql", "CREATE OR REPLACE VIEW v AS SELECT 1;"),
                ("V10__b.sql", "SELECT 10;"),
                ("V2__a.sql", "SELECT 2;"),
                ("U2__a.sql", "SELECT -2;"),
                ("V3__idx.sql", "CREATE INDEX CONCURRENTLY i ON t (a);"),
            ]),
        );
        let names: Vec<&str> = s.migrations.iter().map(|m| m.up.name.as_str()).collect();
        assert_eq!(
            names,
            ["V2__a.sql", "V3__idx.sql", "V10__b.sql", "R__views.sql"]
        );
        assert!(s.migrations[0].down.is_some());
        assert!(s.migrations[1].up.no_tx);
        assert!(!s.migrations[0].up.no_tx);
    }

    #[test]
    fn golang_migrate_single_statement_runs_outside_a_transaction() {
        let s = golang_migrate(
            Path::new("m"),
            files(&[
                ("1_a.up.sql", "CREATE INDEX CONCURRENTLY i ON t (a);"),
                ("1_a.down.sql", "DROP INDEX i;\nSELECT 1;"),
            ]),
        );
        assert!(s.migrations[0].up.no_tx);
        assert!(!s.migrations[0].down.as_ref().unwrap().no_tx);
    }

    #[test]
    fn refuses_tracking_other_layouts_in_one_line() {
        let sqlx = TrackingTable::default();
        assert!(require_trackable(Layout::Sqlx, "apply", &sqlx).is_ok());
        let e = require_trackable(Layout::Goose, "apply", &sqlx)
            .unwrap_err()
            .to_string();
        assert!(e.contains("goose_db_version") && !e.contains('\n'), "{e}");
        // A single file would be tracked in sqlx's table, named as sqlx.toml names it.
        let mine = TrackingTable::parse("app.\"My Mig\"").unwrap();
        let e = require_trackable(Layout::File, "apply", &mine)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tracked in app.\"My Mig\","), "{e}");
    }
}
