//! Connection settings (URL or libpq variables), the one pool, and the guards every session of
//! ours carries: application_name, statement_timeout, lock_timeout and, for read-only commands,
//! read-only transactions.

use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::db::conninfo::{process_env, ConnInfo, Host};
use crate::error::Error;

/// Whether our sessions may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionMode {
    /// `default_transaction_read_only = on`: `doctor`, `budget`, `snapshot`.
    ReadOnly,
    /// Migrations: writes allowed, and no lock_timeout of ours (the migration sets its own).
    ReadWrite,
}

/// Validated connection settings, built before any I/O.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// The parsed target: sqlx's options and every child process's environment come from it.
    pub info: ConnInfo,
    pub options: PgConnectOptions,
    /// Password-free description used in every message: `postgres://user@host:port/db`.
    pub display: String,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    /// The decoded password (for child processes' `PGPASSWORD`; never shown).
    pub password: Option<String>,
}

impl ConnectSettings {
    /// From `--database-url`/`DATABASE_URL` when given, else from the libpq `PG*` variables;
    /// parts a URL leaves out come from the `PG*` variables too, as in libpq.
    pub fn resolve(
        url: Option<&str>,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Result<Self, Error> {
        let info = match url {
            Some(u) if !u.trim().is_empty() => ConnInfo::from_url(u.trim(), &process_env)?,
            _ => ConnInfo::from_env(&process_env)?,
        };
        Ok(Self::from_info(info, connect_timeout, statement_timeout))
    }

    /// From an already parsed target.
    pub fn from_info(
        info: ConnInfo,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Self {
        ConnectSettings {
            options: info.pg_options(),
            display: info.display(),
            // A connect_timeout in the URL or PGCONNECT_TIMEOUT wins over the flag's default.
            connect_timeout: info.connect_timeout.unwrap_or(connect_timeout),
            statement_timeout,
            lock_timeout: Duration::from_secs(1),
            password: info.password.clone(),
            info,
        }
    }

    /// From sqlx options built elsewhere (a pool's). Child processes get no password from these.
    pub fn from_options(
        options: PgConnectOptions,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Self {
        let info = ConnInfo {
            host: match options.get_socket() {
                Some(dir) => Host::Socket(dir.clone()),
                None if options.get_host().starts_with('/') => {
                    Host::Socket(options.get_host().into())
                }
                None => Host::Tcp(options.get_host().to_string()),
            },
            port: options.get_port(),
            user: options.get_username().to_string(),
            password: None,
            database: options
                .get_database()
                .unwrap_or(options.get_username())
                .to_string(),
            sslmode: None,
            sslrootcert: None,
            sslcert: None,
            sslkey: None,
            connect_timeout: None,
            options: None,
        };
        ConnectSettings {
            display: info.display(),
            options,
            connect_timeout,
            statement_timeout,
            lock_timeout: Duration::from_secs(1),
            password: None,
            info,
        }
    }

    pub fn host(&self) -> String {
        match &self.info.host {
            Host::Tcp(h) => h.clone(),
            Host::Socket(d) => d.display().to_string(),
        }
    }

    pub fn is_local(&self) -> bool {
        self.info.is_local()
    }

    fn session_options(&self, mode: SessionMode) -> PgConnectOptions {
        let mut opts: Vec<(&str, String)> = vec![("statement_timeout", ms(self.statement_timeout))];
        if mode == SessionMode::ReadOnly {
            opts.push(("lock_timeout", ms(self.lock_timeout)));
            opts.push(("default_transaction_read_only", "on".to_string()));
        }
        self.options.clone().options(opts)
    }
}

fn ms(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// A connected database: the pool plus what it took to connect.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: PgPool,
    pub settings: ConnectSettings,
    pub mode: SessionMode,
    /// Time to establish the first connection.
    pub connect_time: Duration,
}

/// Connections the pool opens at most. Its acquire deadline is `--connect-timeout`, which is
/// meant for connecting: code that runs queries side by side keeps at most this many in flight
/// (`db::lanes`), so that none waits in the pool for another's query.
pub const POOL_CONNECTIONS: usize = 4;

/// Connect once directly (to report a precise error), then build the pool lazily.
pub async fn connect(settings: &ConnectSettings, mode: SessionMode) -> Result<Db, Error> {
    let opts = settings.session_options(mode);
    let started = Instant::now();
    let first = connect_once(settings, &opts, " (is the host reachable?)").await?;
    let connect_time = started.elapsed();
    first.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(POOL_CONNECTIONS as u32)
        .min_connections(0)
        .acquire_timeout(settings.connect_timeout)
        .connect_lazy_with(opts);
    Ok(Db {
        pool,
        settings: settings.clone(),
        mode,
        connect_time,
    })
}

/// One connection with `opts`, given up after the connect timeout; `timeout_hint` ends the
/// message of a connection that got no answer.
pub async fn connect_once(
    settings: &ConnectSettings,
    opts: &PgConnectOptions,
    timeout_hint: &str,
) -> Result<PgConnection, Error> {
    tokio::time::timeout(settings.connect_timeout, PgConnection::connect_with(opts))
        .await
        .map_err(|_| {
            Error::Connect(format!(
                "cannot connect to {}: no answer within {:.1}s{timeout_hint}",
                settings.display,
                settings.connect_timeout.as_secs_f64()
            ))
        })?
        .map_err(|e| connect_error(settings, &e))
}

/// One line naming the target (never the password) and what went wrong.
pub fn connect_error(settings: &ConnectSettings, e: &sqlx::Error) -> Error {
    let target = &settings.display;
    let why = match e {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => format!(
                "password authentication failed for user \"{}\"",
                settings.options.get_username()
            ),
            Some("3D000") => format!(
                "database \"{}\" does not exist",
                settings.options.get_database().unwrap_or("")
            ),
            Some("28000") => format!("access rejected: {}", db.message()),
            Some("53300") => {
                "the server has no free connection slots (max_connections reached)".to_string()
            }
            Some("57P03") => "the server is starting up or shutting down".to_string(),
            _ => db.message().to_string(),
        },
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is PostgreSQL running and listening on that port?)".to_string()
            }
            std::io::ErrorKind::NotFound => "no such host or socket".to_string(),
            _ => io.to_string(),
        },
        sqlx::Error::Tls(t) => format!("TLS error: {t}"),
        other => other.to_string(),
    };
    // The reason comes from the server or the network, never from our URL; mask by structure
    // anyway in case a message quotes a connection string.
    let msg = crate::db::redact::redact_url(&format!("cannot connect to {target}: {why}"));
    Error::Connect(msg.replace('\n', " "))
}

/// True when an sqlx error means the connection itself is gone or unusable.
pub fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            matches!(
                db.code().as_deref(),
                Some("57P01" | "57P02" | "57P03" | "08006" | "08003")
            )
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> Result<ConnectSettings, Error> {
        ConnectSettings::resolve(Some(url), Duration::from_secs(5), Duration::from_secs(30))
    }

    #[test]
    fn display_never_contains_password() {
        let s = settings("postgres://app:topsecret@db.internal:6543/shop").unwrap();
        assert_eq!(s.display, "postgres://app@db.internal:6543/shop");
        assert_eq!(s.password.as_deref(), Some("topsecret"));
    }

    #[test]
    fn url_connect_timeout_wins_and_application_name_is_ours() {
        let s = settings("postgres://app@db/shop?connect_timeout=7&application_name=mine").unwrap();
        assert_eq!(s.connect_timeout, Duration::from_secs(7));
        assert_eq!(s.options.get_application_name(), Some("dbdoctor"));
        let s = settings("postgres://app@db/shop").unwrap();
        assert_eq!(s.connect_timeout, Duration::from_secs(5));
    }

    #[test]
    fn malformed_url_is_a_usage_error_without_password() {
        let e = settings("mysql://u:pw@h/d").unwrap_err();
        assert!(matches!(e, Error::Usage(_)));
        assert!(!e.to_string().contains("pw@"));
        let e = settings("postgres://u:pw@h:notaport/d").unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(!e.to_string().contains(":pw"), "{e}");
    }
}
