//! dbdoctor: PostgreSQL health reports, query performance budgets and safe migrations.
//!
//! Data flows one way: settings -> connect -> capabilities -> collect -> snapshot -> analyze ->
//! report -> render -> exit code (see ARCHITECTURE.md).

pub mod advisor;
pub mod analyze;
pub mod budget;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod db;
pub mod error;
pub mod exit;
pub mod migrate;
pub mod plans;
pub mod render;
pub mod settings;
pub mod snapshot;
pub mod stats;
pub mod suggest;
pub mod util;
