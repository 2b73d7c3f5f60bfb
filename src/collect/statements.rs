//! pg_stat_statements collector (placeholder until the collector lands).

use serde::{Deserialize, Serialize};

/// Everything read from pg_stat_statements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementsSnapshot {}
