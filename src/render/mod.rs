//! Rendering: finished reports to bytes, one writer per format.

pub mod budget_github;
pub mod budget_json;
pub mod budget_junit;
pub mod budget_markdown;
pub mod budget_table;

pub mod doctor_json;
pub mod doctor_markdown;
pub mod doctor_monitor;
pub mod doctor_table;
pub mod doctor_terminal;
pub mod migrate_validate;
pub mod terminal;
