//! The capabilities probe: what this server, database and role can tell us, read once per command.

use crate::collect::{decode, CollectError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An extension as this database sees it; the row of `extensions.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Extension {
    pub name: String,
    /// Installed version, `None` when only available.
    pub installed_version: Option<String>,
    /// Schema it is installed in (pg_stat_statements may live anywhere).
    pub schema: Option<String>,
    /// The version `CREATE EXTENSION` would install on this server.
    pub default_version: Option<String>,
}

/// What the server, database and role allow dbdoctor to see; the row of `capabilities.sql`, and
/// the rows of `extensions.sql` in `extensions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Capabilities {
    pub server_version_num: i32,
    pub server_version: String,
    pub is_replica: bool,
    pub database: String,
    pub role: String,
    pub superuser: bool,
    pub pg_monitor: bool,
    pub pg_read_all_stats: bool,
    pub pg_read_all_settings: bool,
    /// `None` when the role may not read it.
    pub shared_preload_libraries: Option<String>,
    /// pg_stat_statements' library is loaded (its settings exist), whatever the role may read.
    #[sqlx(rename = "pgss_loaded")]
    pub pg_stat_statements_loaded: bool,
    #[sqlx(rename = "pgss_track")]
    pub pg_stat_statements_track: Option<String>,
    pub track_io_timing: bool,
    pub max_connections: i32,
    /// Statistics reset time of the current database (pg_stat_database.stats_reset).
    pub stats_reset: Option<DateTime<Utc>>,
    pub server_started: DateTime<Utc>,
    pub server_now: DateTime<Utc>,
    /// Replicas: bytes of WAL received but not yet replayed (`None` on a primary).
    #[serde(default)]
    pub replay_lag_bytes: Option<i64>,
    /// Replicas: seconds since the last replayed transaction, 0 when fully replayed.
    #[serde(default)]
    pub replay_lag_seconds: Option<f64>,
    /// Installed extensions, plus pg_stat_statements and hypopg when available but not installed.
    #[sqlx(skip)]
    pub extensions: Vec<Extension>,
}

impl Capabilities {
    pub fn extension(&self, name: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.name == name)
    }

    /// pg_stat_statements when installed in this database.
    pub fn pg_stat_statements(&self) -> Option<&Extension> {
        self.extension("pg_stat_statements")
            .filter(|e| e.installed_version.is_some())
    }

    /// Whether shared_preload_libraries names pg_stat_statements; `None` when it cannot be read.
    pub fn pg_stat_statements_preloaded(&self) -> Option<bool> {
        self.shared_preload_libraries.as_ref().map(|s| {
            s.split(',')
                .map(|p| p.trim().trim_matches('"'))
                .any(|p| p == "pg_stat_statements" || p.ends_with("/pg_stat_statements"))
        })
    }

    /// Can read other roles' query texts and activity.
    pub fn can_read_all_stats(&self) -> bool {
        self.superuser || self.pg_read_all_stats || self.pg_monitor
    }

    /// Server major version (13, 14, ...).
    pub fn major(&self) -> i32 {
        self.server_version_num / 10000
    }

    pub fn hypopg_available(&self) -> bool {
        self.extension("hypopg").is_some()
    }
}

/// Run the probe.
pub async fn probe(pool: &sqlx::PgPool) -> Result<Capabilities, CollectError> {
    const Q: &str = include_str!("../sql/capabilities.sql");
    const E: &str = include_str!("../sql/extensions.sql");
    let row = sqlx::query(Q)
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query("capabilities", e))?;
    let ext_rows = sqlx::query(E)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("extensions", e))?;
    let extensions = ext_rows
        .iter()
        .map(|r| decode("extensions", r))
        .collect::<Result<Vec<Extension>, _>>()?;
    Ok(Capabilities {
        extensions,
        ..decode("capabilities", &row)?
    })
}
