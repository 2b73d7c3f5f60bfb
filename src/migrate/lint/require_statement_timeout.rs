//! require-statement-timeout (opt-in): set statement_timeout before the first statement that takes a lock.

use pg_query::NodeEnum;

use super::{require_timeout_settings::missing, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-statement-timeout"
    }
    fn opt_in(&self) -> bool {
        true
    }
    fn help(&self) -> &'static str {
        HELP
    }
    fn check(&self, stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        if missing(stmt, cx, "statement_timeout") {
            vec!["no SET statement_timeout before the first statement that takes a lock".into()]
        } else {
            vec![]
        }
    }
}

const HELP: &str = "Without statement_timeout, a slow statement holds its locks for as long as it runs. For files another runner applies, start with SET statement_timeout. Opt-in: `-- dbdoctor:include require-statement-timeout` (or require-timeout-settings).";
