//! Performance budgets: budgets.toml, classification, probes and verdicts.

pub mod classify;
pub mod config;
