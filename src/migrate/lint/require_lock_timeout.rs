//! require-lock-timeout (opt-in): set lock_timeout before the first statement that takes a lock.

use pg_query::NodeEnum;

use super::{require_timeout_settings::missing, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-lock-timeout"
    }
    fn opt_in(&self) -> bool {
        true
    }
    fn help(&self) -> &'static str {
        HELP
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if missing(stmt, cx, "lock_timeout") {
            vec!["no SET lock_timeout before the first statement that takes a lock".into()]
        } else {
            vec![]
        }
    }
}

const HELP: &str = "Without lock_timeout, a statement waiting for its lock queues every later query on the table behind it. `dbdoctor migrate apply` sets it (--lock-timeout); for files another runner applies, start with SET lock_timeout = '1s'. Opt-in: `-- dbdoctor:include require-lock-timeout` (or require-timeout-settings).";
