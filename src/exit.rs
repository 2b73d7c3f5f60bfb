//! The process exit codes of dbdoctor, one constant each (mirrored in README.md and `--help`).

/// Everything ran and nothing at or above the requested severity was found.
pub const OK: i32 = 0;
/// The check ran and found problems at or above the requested severity, or a budget was breached.
pub const FINDINGS: i32 = 1;
/// Usage or configuration error: bad flag, bad URL syntax, malformed budgets.toml, missing binaries.
pub const USAGE: i32 = 2;
/// Cannot connect to the database, or the role lacks a needed privilege.
pub const CONNECT: i32 = 3;
/// Migration validation failed (bad file names, drift, syntax errors, unsafe statements).
pub const MIGRATION_INVALID: i32 = 4;
/// Migration apply failed. A migration that runs in a transaction is rolled back whole; a
/// `-- no-transaction` file keeps the statements before the failing one (the message names them
/// and `_dbdoctor_migrations` records it as partial). Earlier migrations of the run stay applied.
pub const MIGRATION_FAILED: i32 = 5;
/// The database returned an error that is neither a connection nor a privilege problem (a bug,
/// a corrupt catalog, a statement the server refused for another reason).
pub const DATABASE_ERROR: i32 = 6;
/// Interrupted by Ctrl-C (SIGINT); everything dbdoctor started was stopped and removed.
pub const INTERRUPTED: i32 = 130;
