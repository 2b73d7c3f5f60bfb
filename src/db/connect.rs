//! Connection settings (URL or libpq variables), the one pool, and the guards every session of
//! ours carries: application_name, statement_timeout, lock_timeout and, for read-only commands,
//! read-only transactions.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::db::redact::redact_url;
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
    pub options: PgConnectOptions,
    /// Password-free description used in every message: `postgres://user@host:port/db`.
    pub display: String,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub password: Option<String>,
}

impl ConnectSettings {
    /// From `--database-url`/`DATABASE_URL` when given, else from the libpq `PG*` variables.
    pub fn resolve(
        url: Option<&str>,
        connect_timeout: Duration,
        statement_timeout: Duration,
    ) -> Result<Self, Error> {
        let (options, password) = match url {
            Some(u) if !u.trim().is_empty() => {
                if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                    return Err(Error::Usage(format!(
                        "invalid database URL {}: it must start with postgres:// or postgresql://",
                        redact_url(u)
                    )));
                }
                let opts = PgConnectOptions::from_str(u).map_err(|e| {
                    Error::Usage(format!(
                        "invalid database URL {}: {}",
                        redact_url(u),
                        crate::db::redact::scrub(&e.to_string(), None)
                    ))
                })?;
                let password = url::Url::parse(u)
                    .ok()
                    .and_then(|p| p.password().map(|s| s.to_string()))
                    .or_else(|| std::env::var("PGPASSWORD").ok());
                (opts, password)
            }
            // PgConnectOptions::new() reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE,
            // PGSSLMODE, PGSSLROOTCERT and friends, exactly as libpq does.
            _ => (PgConnectOptions::new(), std::env::var("PGPASSWORD").ok()),
        };
        let options = options.application_name("dbdoctor");
        let display = describe(&options);
        Ok(ConnectSettings {
            options,
            display,
            connect_timeout,
            statement_timeout,
            lock_timeout: Duration::from_secs(1),
            password,
        })
    }

    pub fn host(&self) -> String {
        self.options.get_host().to_string()
    }

    pub fn is_local(&self) -> bool {
        let h = self.options.get_host();
        self.options.get_socket().is_some()
            || h.starts_with('/')
            || h == "localhost"
            || h == "127.0.0.1"
            || h == "::1"
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

/// `postgres://user@host:port/db` — never the password.
pub fn describe(o: &PgConnectOptions) -> String {
    // A unix socket (`?host=/dir`) is kept apart from the host name by sqlx.
    let socket = o.get_socket().map(|p| p.display().to_string());
    let host = socket.as_deref().unwrap_or(o.get_host());
    let db = o.get_database().unwrap_or(o.get_username());
    if host.starts_with('/') {
        format!(
            "postgres://{}@localhost/{}?host={}&port={}",
            o.get_username(),
            db,
            host,
            o.get_port()
        )
    } else if host.contains(':') {
        format!(
            "postgres://{}@[{}]:{}/{}",
            o.get_username(),
            host,
            o.get_port(),
            db
        )
    } else {
        format!(
            "postgres://{}@{}:{}/{}",
            o.get_username(),
            host,
            o.get_port(),
            db
        )
    }
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

/// Connect once directly (to report a precise error), then build the pool lazily.
pub async fn connect(settings: &ConnectSettings, mode: SessionMode) -> Result<Db, Error> {
    let opts = settings.session_options(mode);
    let started = Instant::now();
    let first = tokio::time::timeout(settings.connect_timeout, PgConnection::connect_with(&opts))
        .await
        .map_err(|_| {
            Error::Connect(format!(
                "cannot connect to {}: no answer within {:.1}s (is the host reachable?)",
                settings.display,
                settings.connect_timeout.as_secs_f64()
            ))
        })?
        .map_err(|e| connect_error(settings, &e))?;
    let connect_time = started.elapsed();
    first.close().await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(4)
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

/// One line naming the target (never the password) and what went wrong.
pub fn connect_error(settings: &ConnectSettings, e: &sqlx::Error) -> Error {
    let target = &settings.display;
    let pw = settings.password.as_deref();
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
    let msg = crate::db::redact::scrub(&format!("cannot connect to {target}: {why}"), pw);
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
    fn malformed_url_is_a_usage_error_without_password() {
        let e = settings("mysql://u:pw@h/d").unwrap_err();
        assert!(matches!(e, Error::Usage(_)));
        assert!(!e.to_string().contains("pw@"));
        let e = settings("postgres://u:pw@h:notaport/d").unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(!e.to_string().contains(":pw"), "{e}");
    }
}
