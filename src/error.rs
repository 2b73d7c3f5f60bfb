//! Expected failures of dbdoctor, each mapped to one documented exit code.

use crate::exit;

/// An expected failure. `main` prints it as one line on stderr and exits with [`Error::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flag value, bad configuration file, missing tool.
    #[error("{0}")]
    Usage(String),
    /// Cannot reach or log in to the server, or a privilege is missing.
    #[error("{0}")]
    Connect(String),
    /// Migration files failed validation.
    #[error("{0}")]
    MigrationInvalid(String),
    /// A migration failed while being applied.
    #[error("{0}")]
    MigrationFailed(String),
    /// The server answered with an error that is neither a connection nor a privilege problem.
    #[error("{0}")]
    Database(String),
    /// Anything unexpected, with context.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Connect(_) => exit::CONNECT,
            Error::MigrationInvalid(_) => exit::MIGRATION_INVALID,
            Error::MigrationFailed(_) => exit::MIGRATION_FAILED,
            Error::Database(_) => exit::DATABASE_ERROR,
            Error::Other(e) => {
                let sqlx_err = e.chain().find_map(|c| c.downcast_ref::<sqlx::Error>());
                match sqlx_err {
                    // An sqlx error buried in context still means the database is out of reach.
                    Some(
                        sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed,
                    ) => exit::CONNECT,
                    Some(s) if crate::db::connect::is_connection_lost(s) => exit::CONNECT,
                    Some(sqlx::Error::Database(d)) if is_privilege_code(d.code().as_deref()) => {
                        exit::CONNECT
                    }
                    Some(sqlx::Error::Database(_)) => exit::DATABASE_ERROR,
                    _ => exit::USAGE,
                }
            }
        }
    }
}

/// SQLSTATEs that mean the role may not do this: insufficient_privilege and the
/// invalid-authorization class.
pub fn is_privilege_code(code: Option<&str>) -> bool {
    matches!(code, Some(c) if c == "42501" || c.starts_with("28"))
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}
