//! Migrations: source files, plan, lint rules, the executor and the tracking table.

pub mod apply;
pub mod backup;
pub mod layout;
pub mod lint;
pub mod locks;
pub mod plan;
pub mod source;
pub mod split;
pub mod sqlx_config;
pub mod status;
pub mod trace;
pub mod trace_run;
pub mod tracking;
pub mod tracking_table;
