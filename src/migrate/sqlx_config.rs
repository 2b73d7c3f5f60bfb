//! sqlx.toml's `[migrate]` settings (migrations folder, tracking table, characters left out of
//! checksums), read so that sqlx and dbdoctor keep agreeing about the same migrations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use super::tracking_table::{self, TrackingTable};
use crate::error::Error;

/// The file sqlx-cli reads from the current directory.
pub const FILE: &str = "sqlx.toml";
/// The folder sqlx uses when sqlx.toml says nothing.
pub const DEFAULT_DIR: &str = "migrations";

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
    /// `table-name` read as SQL identifier text (the default when absent).
    #[serde(skip)]
    pub tracking: TrackingTable,
    /// `create-schemas` read the same way: created, when missing, before the tracking table.
    #[serde(skip)]
    pub schemas_to_create: Vec<String>,
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
    let mut cfg = f.migrate.unwrap_or_default();
    // sqlx pastes these into its SQL as written, so they are read as PostgreSQL reads them.
    if let Some(t) = cfg.table_name.as_deref() {
        cfg.tracking = TrackingTable::parse(t)
            .map_err(|why| Error::Usage(format!("{file}: [migrate] table-name = {t:?} {why}")))?;
    }
    for s in &cfg.create_schemas {
        let name = tracking_table::parse_schema(s).map_err(|why| {
            Error::Usage(format!("{file}: [migrate] create-schemas: {s:?} {why}"))
        })?;
        cfg.schemas_to_create.push(name);
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
    }

    #[test]
    fn table_name_and_create_schemas_are_read_as_sql_identifiers() {
        let c = parse(
            "sqlx.toml",
            "[migrate]\ntable-name = \"App.Migrations\"\ncreate-schemas = [\"App\", '\"Other\"']\n",
        )
        .unwrap();
        assert_eq!(c.tracking.ident(), "app.migrations");
        assert_eq!(
            c.schemas_to_create,
            vec!["app".to_string(), "Other".to_string()]
        );
        let c = parse("sqlx.toml", "[migrate]\ntable-name = '\"Mig \"\"T\"\"\"'\n").unwrap();
        assert_eq!(c.tracking.name, "Mig \"T\"");
        assert_eq!(
            parse("sqlx.toml", "").unwrap().tracking.ident(),
            "_sqlx_migrations"
        );
    }

    #[test]
    fn bad_table_names_are_one_line_usage_errors_naming_the_key() {
        for (toml, want) in [
            ("table-name = \"\"", "is empty"),
            ("table-name = \"a.b.c\"", "3 dot-separated parts"),
            ("create-schemas = [\"a.b\"]", "create-schemas"),
        ] {
            let e = parse("sqlx.toml", &format!("[migrate]\n{toml}\n")).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{e}");
            let e = e.to_string();
            assert!(e.starts_with("sqlx.toml: [migrate] "), "{e}");
            assert!(e.contains(want) && !e.contains('\n'), "{e}");
        }
    }
}
