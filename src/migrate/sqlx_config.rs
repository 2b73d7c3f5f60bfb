//! sqlx.toml's `[migrate]` settings (migrations folder, tracking table, characters left out of
//! checksums), read so that sqlx and dbdoctor keep agreeing about the same migrations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::Error;

/// The file sqlx-cli reads from the current directory.
pub const FILE: &str = "sqlx.toml";
/// The folder and table sqlx uses when sqlx.toml says nothing.
pub const DEFAULT_DIR: &str = "migrations";
pub const DEFAULT_TABLE: &str = "_sqlx_migrations";

/// The `[migrate]` table. Keys dbdoctor does not act on but sqlx knows are accepted; anything
/// else is an error, as sqlx itself treats it.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct MigrateConfig {
    pub migrations_dir: Option<PathBuf>,
    pub table_name: Option<String>,
    pub ignored_chars: BTreeSet<char>,
    pub create_schemas: Vec<String>,
    pub defaults: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    migrate: Option<MigrateConfig>,
}

/// Parse sqlx.toml text; `file` only names it in messages.
pub fn parse(file: &str, text: &str) -> Result<MigrateConfig, Error> {
    let f: File = toml::from_str(text).map_err(|e| {
        let msg = e.message().lines().next().unwrap_or("").to_string();
        let hint = msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
            .map(|k| {
                crate::suggest::hint(
                    k,
                    [
                        "migrations-dir",
                        "table-name",
                        "ignored-chars",
                        "create-schemas",
                        "defaults",
                    ],
                )
            })
            .unwrap_or_default();
        Error::Usage(format!("{file}: [migrate]: {msg}{hint}"))
    })?;
    let cfg = f.migrate.unwrap_or_default();
    if let Some(t) = cfg.table_name.as_deref() {
        // The tracking table's name is fixed in dbdoctor's SQL; refusing is better than
        // reading the wrong table and re-running every migration.
        if t != DEFAULT_TABLE {
            return Err(Error::Usage(format!(
                "{file}: [migrate] table-name = \"{t}\" is not supported (dbdoctor tracks migrations in {DEFAULT_TABLE})"
            )));
        }
    }
    Ok(cfg)
}

/// sqlx.toml of the current directory, when there is one.
pub fn load_here() -> Result<Option<MigrateConfig>, Error> {
    load_from(Path::new(FILE))
}

pub fn load_from(path: &Path) -> Result<Option<MigrateConfig>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&path.display().to_string(), &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Usage(format!("cannot read {}: {e}", path.display()))),
    }
}

impl MigrateConfig {
    /// The migrations folder: sqlx.toml's `migrations-dir`, else `migrations`.
    pub fn migrations_dir(&self) -> PathBuf {
        self.migrations_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
    }
}

static IGNORED: OnceLock<BTreeSet<char>> = OnceLock::new();

/// Make checksums leave out these characters, as sqlx does with `ignored-chars` (set once, at
/// start-up, before any migration is read).
pub fn set_ignored_chars(chars: BTreeSet<char>) {
    let _ = IGNORED.set(chars);
}

/// The bytes sqlx hashes: the file's text without the ignored characters.
pub fn checksum_input(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match IGNORED.get().filter(|s| !s.is_empty()) {
        None => std::borrow::Cow::Borrowed(bytes),
        Some(set) => {
            let text = String::from_utf8_lossy(bytes);
            let kept: String = text.chars().filter(|c| !set.contains(c)).collect();
            std::borrow::Cow::Owned(kept.into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_folder_and_ignored_chars() {
        let c = parse(
            "sqlx.toml",
            "[migrate]\nmigrations-dir = \"db/migrations\"\nignored-chars = [\"\\r\"]\ntable-name = \"_sqlx_migrations\"\n",
        )
        .unwrap();
        assert_eq!(c.migrations_dir(), PathBuf::from("db/migrations"));
        assert_eq!(c.ignored_chars, BTreeSet::from(['\r']));
        assert_eq!(
            parse("sqlx.toml", "").unwrap().migrations_dir(),
            PathBuf::from("migrations")
        );
        // Other tables of sqlx.toml are not ours.
        assert!(parse("sqlx.toml", "[common]\ndatabase-url-var = \"X\"\n").is_ok());
    }

    #[test]
    fn unknown_keys_and_other_tables_are_refused_by_name() {
        let e = parse("sqlx.toml", "[migrate]\nmigration-dir = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("migration-dir"), "{e}");
        assert!(e.contains("did you mean \"migrations-dir\""), "{e}");
        let e = parse("sqlx.toml", "[migrate]\ntable-name = \"app.migrations\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("table-name") && e.contains("app.migrations"),
            "{e}"
        );
    }
}
