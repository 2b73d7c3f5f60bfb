//! require-statement-timeout (style unless the file includes it): set statement_timeout before the first statement that takes a lock.

use pg_query::NodeEnum;

use super::{require_timeout_settings::missing, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-statement-timeout"
    }
    fn style_unless_included(&self) -> bool {
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

const HELP: &str = "Without statement_timeout, a slow statement holds its locks for as long as it runs. For files another runner applies, start with SET statement_timeout. A style note by default, as for require-lock-timeout: `dbdoctor migrate apply` bounds the wait for locks itself and lets a long statement finish; `-- dbdoctor:include require-statement-timeout` (or require-timeout-settings) makes it a warning.";
