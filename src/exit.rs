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
/// Migration apply failed; the database is left as it was before the failing migration.
pub const MIGRATION_FAILED: i32 = 5;
/// Interrupted by Ctrl-C (SIGINT); everything dbdoctor started was stopped and removed.
pub const INTERRUPTED: i32 = 130;
