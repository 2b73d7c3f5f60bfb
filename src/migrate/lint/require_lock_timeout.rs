//! require-lock-timeout (style unless the file includes it): set lock_timeout before the first statement that takes a lock.

use pg_query::NodeEnum;

use super::{require_timeout_settings::missing, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "require-lock-timeout"
    }
    fn style_unless_included(&self) -> bool {
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

const HELP: &str = "Without lock_timeout, a statement waiting for its lock queues every later query on the table behind it. For files another runner applies, start with SET lock_timeout = '1s'. A style note by default, because `dbdoctor migrate apply` sends SET lock_timeout itself (--lock-timeout); `-- dbdoctor:include require-lock-timeout` (or require-timeout-settings) makes it a warning.";
