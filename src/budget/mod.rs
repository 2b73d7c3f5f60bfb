//! Performance budgets: budgets.toml, classification, probes and verdicts.

pub mod classify;
pub mod config;
pub mod probe;
pub mod report;
pub mod resources;
pub mod verdict;
