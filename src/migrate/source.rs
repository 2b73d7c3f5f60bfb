//! Reads a migrations folder in sqlx's format: `<VERSION>_<desc>.sql`, or `.up.sql` + `.down.sql`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha384};

/// The byte prefix sqlx checks to run a file outside a transaction.
pub const NO_TX_DIRECTIVE: &str = "-- no-transaction";

/// One file of a migration (the up file or the down file).
#[derive(Debug, Clone)]
pub struct SqlFile {
    pub path: PathBuf,
    /// File name only, used in messages.
    pub name: String,
    pub sql: String,
    /// First bytes are `-- no-transaction`, exactly as sqlx tests it.
    pub no_tx: bool,
}

/// One migration: a simple file, or an up file with its down file.
#[derive(Debug, Clone)]
pub struct Migration {
    pub version: i64,
    /// As sqlx derives it: the file name after the version, suffix removed, `_` turned into spaces.
    pub description: String,
    pub up: SqlFile,
    pub down: Option<SqlFile>,
    /// SHA-384 of the exact bytes of the up (or simple) file, as sqlx stores it.
    pub checksum: Vec<u8>,
    /// `<VERSION>_<desc>.sql` rather than `.up.sql` + `.down.sql`.
    pub simple: bool,
}

/// A problem with the folder itself: a bad name, a duplicate, a missing half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceProblem {
    pub file: String,
    pub message: String,
    /// Errors stop `apply`; warnings (a missing down file) do not.
    pub is_error: bool,
}

/// Everything read from the folder, sorted by version.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub dir: PathBuf,
    pub migrations: Vec<Migration>,
    pub problems: Vec<SourceProblem>,
}

impl Source {
    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.migrations.iter().find(|m| m.version == version)
    }

    pub fn errors(&self) -> impl Iterator<Item = &SourceProblem> {
        self.problems.iter().filter(|p| p.is_error)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Simple,
    Up,
    Down,
}

/// Split `20240101_add_x.up.sql` into (version, description, kind), or say what is wrong.
fn parse_name(name: &str) -> Result<Option<(i64, String, Kind)>, String> {
    if !name.ends_with(".sql") {
        return Ok(None);
    }
    let Some((version, rest)) = name.split_once('_') else {
        return Err(format!(
            "file name {name:?} does not follow <VERSION>_<description>.sql (sqlx would ignore it)"
        ));
    };
    let version: i64 = version.parse().map_err(|_| {
        format!(
            "file name {name:?}: the version {version:?} before the first '_' is not an integer"
        )
    })?;
    let (kind, suffix) = if rest.ends_with(".up.sql") {
        (Kind::Up, ".up.sql")
    } else if rest.ends_with(".down.sql") {
        (Kind::Down, ".down.sql")
    } else {
        (Kind::Simple, ".sql")
    };
    let description = rest.trim_end_matches(suffix).replace('_', " ");
    Ok(Some((version, description, kind)))
}

/// SHA-384 of the exact bytes (less sqlx.toml's `ignored-chars`), as sqlx computes
/// `Migration::checksum`.
pub fn checksum(bytes: &[u8]) -> Vec<u8> {
    Sha384::digest(crate::migrate::sqlx_config::checksum_input(bytes)).to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read the folder. I/O failures are errors; naming problems are collected in `problems`.
pub fn load(dir: &Path) -> Result<Source, crate::error::Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        crate::error::Error::Usage(format!(
            "cannot read the migrations folder {}: {e} (use --source DIR)",
            dir.display()
        ))
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            crate::error::Error::Usage(format!("cannot list {}: {e}", dir.display()))
        })?;
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            names.push(entry.file_name().to_string_lossy().to_string());
        }
    }
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let path = dir.join(&name);
        if !name.ends_with(".sql") {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            crate::error::Error::Usage(format!("cannot read {}: {e}", path.display()))
        })?;
        let sql = String::from_utf8(bytes).map_err(|_| {
            crate::error::Error::MigrationInvalid(format!("{}: not valid UTF-8", path.display()))
        })?;
        files.push((name, path, sql));
    }
    Ok(from_files(dir, files))
}

/// The warning for a simple migration that `revert` (and `--replay`) cannot go below.
pub fn not_reversible(file: &str, version: i64) -> SourceProblem {
    SourceProblem {
        file: file.to_string(),
        message: format!(
            "migration {version} has no .down.sql: not reversible (rename it to .up.sql and add a .down.sql to revert it)"
        ),
        is_error: false,
    }
}

/// Build a source from (name, path, contents) triples; the pure half of [`load`].
pub fn from_files(dir: &Path, files: Vec<(String, PathBuf, String)>) -> Source {
    let mut problems = Vec::new();
    // version -> (simple, up, down) with descriptions
    type Slot = (
        Option<(String, SqlFile)>,
        Option<(String, SqlFile)>,
        Option<(String, SqlFile)>,
    );
    let mut slots: BTreeMap<i64, Slot> = BTreeMap::new();
    for (name, path, sql) in files {
        let (version, description, kind) = match parse_name(&name) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(message) => {
                problems.push(SourceProblem {
                    file: name,
                    message,
                    is_error: true,
                });
                continue;
            }
        };
        let file = SqlFile {
            no_tx: sql.starts_with(NO_TX_DIRECTIVE),
            path,
            name: name.clone(),
            sql,
        };
        let slot = slots.entry(version).or_default();
        let place = match kind {
            Kind::Simple => &mut slot.0,
            Kind::Up => &mut slot.1,
            Kind::Down => &mut slot.2,
        };
        if let Some((_, other)) = place {
            problems.push(SourceProblem {
                file: name,
                message: format!("duplicate version {version}: also used by {}", other.name),
                is_error: true,
            });
            continue;
        }
        *place = Some((description, file));
    }
    // A folder of simple migrations only is forward-only by choice (sqlx's default); a simple
    // migration among reversible ones is likely missing its down file.
    let reversible_folder = slots.values().any(|s| s.1.is_some() || s.2.is_some());
    let mut migrations = Vec::new();
    for (version, (simple, up, down)) in slots {
        match (simple, up, down) {
            (Some((_, s)), Some((_, u)), _) => problems.push(SourceProblem {
                file: u.name.clone(),
                message: format!("duplicate version {version}: also used by {}", s.name),
                is_error: true,
            }),
            (Some((d, s)), None, Some((_, dn))) => problems.push(SourceProblem {
                file: dn.name.clone(),
                message: format!(
                    "down file for version {version} belongs to no .up.sql ({} is a simple migration, {d:?})",
                    s.name
                ),
                is_error: true,
            }),
            (Some((description, file)), None, None) => {
                if reversible_folder {
                    problems.push(not_reversible(&file.name, version));
                }
                migrations.push(Migration {
                    version,
                    description,
                    checksum: checksum(file.sql.as_bytes()),
                    up: file,
                    down: None,
                    simple: true,
                })
            }
            (None, Some((description, file)), down) => {
                if down.is_none() {
                    problems.push(SourceProblem {
                        file: file.name.clone(),
                        message: format!("migration {version} has an .up.sql but no .down.sql"),
                        is_error: true,
                    });
                }
                migrations.push(Migration {
                    version,
                    description,
                    checksum: checksum(file.sql.as_bytes()),
                    up: file,
                    down: down.map(|(_, f)| f),
                    simple: false,
                })
            }
            (None, None, Some((_, dn))) => problems.push(SourceProblem {
                file: dn.name.clone(),
                message: format!("down file for version {version} has no matching .up.sql"),
                is_error: true,
            }),
            (None, None, None) => {}
        }
    }
    Source {
        dir: dir.to_path_buf(),
        migrations,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(files: &[(&str, &str)]) -> Source {
        from_files(
            Path::new("m"),
            files
                .iter()
                .map(|(n, s)| (n.to_string(), PathBuf::from(n), s.to_string()))
                .collect(),
        )
    }

    #[test]
    fn reads_sqlx_names_like_sqlx() {
        let s = src(&[
            (
                "2_add_index.up.sql",
                "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            ),
            ("2_add_index.down.sql", "DROP INDEX i;"),
            ("1_create_t.sql", "CREATE TABLE t (a int);"),
            ("README.md", "x"),
        ]);
        assert_eq!(s.migrations.len(), 2);
        assert_eq!(s.migrations[0].version, 1);
        assert_eq!(s.migrations[0].description, "create t");
        assert!(s.migrations[0].simple);
        assert_eq!(s.migrations[1].description, "add index");
        assert!(s.migrations[1].up.no_tx);
        assert!(!s.migrations[1].down.as_ref().unwrap().no_tx);
        // Only the missing-down warning for the simple file.
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        assert!(!s.problems[0].is_error);
    }

    #[test]
    fn no_transaction_is_a_byte_prefix() {
        let s = src(&[("1_x.sql", "\n-- no-transaction\nSELECT 1;")]);
        assert!(!s.migrations[0].up.no_tx);
    }

    #[test]
    fn checksum_is_sha384_of_the_bytes() {
        // sha384("") is well known.
        assert_eq!(hex(&checksum(b""))[..16], *"38b060a751ac9638");
        let s = src(&[("1_x.sql", "SELECT 1;\r\n")]);
        assert_eq!(s.migrations[0].checksum, checksum(b"SELECT 1;\r\n"));
        assert_eq!(s.migrations[0].checksum.len(), 48);
    }

    #[test]
    fn naming_errors_and_duplicates() {
        let s = src(&[
            ("abc_x.sql", ""),
            ("nounderscore.sql", ""),
            ("3_a.up.sql", ""),
            ("3_a.down.sql", ""),
            ("3_b.sql", ""),
            ("4_only.down.sql", ""),
            ("5_up_only.up.sql", ""),
        ]);
        let msgs: Vec<String> = s
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.file, p.message))
            .collect();
        assert!(
            msgs.iter()
                .any(|m| m.contains("abc_x.sql") && m.contains("not an integer")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("nounderscore.sql")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("duplicate version 3")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter().any(|m| m.contains("4_only.down.sql")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("no .down.sql") && m.contains('5')),
            "{msgs:?}"
        );
        assert!(s.errors().count() >= 5);
    }
}
