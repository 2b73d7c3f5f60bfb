//! Everything about reaching PostgreSQL: connection options, the pool, session guards, redaction,
//! and the throwaway cluster used by `demo` and the tests.

pub mod connect;
pub mod conninfo;
pub mod ephemeral;
pub mod lanes;
pub mod redact;

pub use connect::{connect, ConnectSettings, Db, SessionMode};
