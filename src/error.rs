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
    /// A subcommand or option that is not built yet.
    #[error("{0} is not available yet in this version of dbdoctor")]
    NotBuilt(String),
    /// Anything unexpected, with context.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::NotBuilt(_) => exit::USAGE,
            Error::Connect(_) => exit::CONNECT,
            Error::MigrationInvalid(_) => exit::MIGRATION_INVALID,
            Error::MigrationFailed(_) => exit::MIGRATION_FAILED,
            Error::Other(e) => {
                // An sqlx error buried in context still means the database is out of reach.
                if e.chain().any(|c| {
                    c.downcast_ref::<sqlx::Error>().is_some_and(|s| {
                        matches!(
                            s,
                            sqlx::Error::Io(_)
                                | sqlx::Error::Tls(_)
                                | sqlx::Error::PoolTimedOut
                                | sqlx::Error::PoolClosed
                        )
                    })
                }) {
                    exit::CONNECT
                } else {
                    exit::USAGE
                }
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}
