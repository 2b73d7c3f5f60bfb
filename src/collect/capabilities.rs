//! The capabilities probe: what this server, database and role can tell us, read once per command.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::collect::CollectError;

/// An extension as this database sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    /// Installed version, `None` when only available.
    pub installed_version: Option<String>,
    /// Schema it is installed in (pg_stat_statements may live anywhere).
    pub schema: Option<String>,
    /// The version `CREATE EXTENSION` would install on this server.
    pub default_version: Option<String>,
}

/// What the server, database and role allow dbdoctor to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub pg_stat_statements_loaded: bool,
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
    let dec = |e: sqlx::Error| CollectError::decode("capabilities", e);
    let ext_rows = sqlx::query(E)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("extensions", e))?;
    let mut extensions = Vec::with_capacity(ext_rows.len());
    for r in ext_rows {
        let dec = |e: sqlx::Error| CollectError::decode("extensions", e);
        extensions.push(Extension {
            name: r.try_get("name").map_err(dec)?,
            installed_version: r.try_get("installed_version").map_err(dec)?,
            schema: r.try_get("schema").map_err(dec)?,
            default_version: r.try_get("default_version").map_err(dec)?,
        });
    }
    Ok(Capabilities {
        server_version_num: row.try_get("server_version_num").map_err(dec)?,
        server_version: row.try_get("server_version").map_err(dec)?,
        is_replica: row.try_get("is_replica").map_err(dec)?,
        database: row.try_get("database").map_err(dec)?,
        role: row.try_get("role").map_err(dec)?,
        superuser: row.try_get("superuser").map_err(dec)?,
        pg_monitor: row.try_get("pg_monitor").map_err(dec)?,
        pg_read_all_stats: row.try_get("pg_read_all_stats").map_err(dec)?,
        pg_read_all_settings: row.try_get("pg_read_all_settings").map_err(dec)?,
        shared_preload_libraries: row.try_get("shared_preload_libraries").map_err(dec)?,
        pg_stat_statements_loaded: row.try_get("pgss_loaded").map_err(dec)?,
        pg_stat_statements_track: row.try_get("pgss_track").map_err(dec)?,
        track_io_timing: row.try_get("track_io_timing").map_err(dec)?,
        max_connections: row.try_get("max_connections").map_err(dec)?,
        stats_reset: row.try_get("stats_reset").map_err(dec)?,
        server_started: row.try_get("server_started").map_err(dec)?,
        server_now: row.try_get("server_now").map_err(dec)?,
        replay_lag_bytes: row.try_get("replay_lag_bytes").map_err(dec)?,
        replay_lag_seconds: row.try_get("replay_lag_seconds").map_err(dec)?,
        extensions,
    })
}
