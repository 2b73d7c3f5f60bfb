//! The SQL stream as recorded in the report (what `--dry-run` prints): statements with their
//! locks, and the tracking writes that go with each migration.

use super::session::Session;
use super::statements::Planned;
use super::Direction;
use crate::migrate::source::{hex, Migration};

pub(super) fn sql_literal_bytes(b: &[u8]) -> String {
    format!("'\\x{}'::bytea", hex(b))
}

pub(super) fn stmt_step(sess: &mut Session, version: i64, p: &Planned) {
    let step = sess.record(
        "statement",
        Some(version),
        crate::db::redact::redact_sql_secrets(&p.stmt.text),
    );
    step.lock = p
        .lock
        .as_ref()
        .map(|l| format!("{} ({})", l.describe(), l.level.blocks()));
}

/// Record (not run) the tracking writes in the stream.
pub(super) fn tracking_steps(
    sess: &mut Session,
    m: &Migration,
    dir: Direction,
    total: usize,
    backup: Option<&str>,
) {
    let v = m.version;
    let table = sess.table.clone();
    let extra = table.extra();
    match dir {
        Direction::Up => {
            sess.record(
                "tracking",
                Some(v),
                format!(
                    "INSERT INTO {table} (version, description, success, checksum, execution_time) VALUES ({v}, {}, TRUE, {}, <elapsed ns>)",
                    crate::util::quote_literal(&m.description),
                    sql_literal_bytes(&m.checksum)
                ),
            );
            sess.record(
                "tracking",
                Some(v),
                format!(
                    "INSERT INTO {extra} (version, statements_applied, statements_total, success, backup_location, ...) VALUES ({v}, {total}, {total}, TRUE, {}, ...) ON CONFLICT (version) DO UPDATE ...",
                    backup.map(crate::util::quote_literal).unwrap_or_else(|| "NULL".into())
                ),
            );
        }
        Direction::Down => {
            sess.record(
                "tracking",
                Some(v),
                format!("DELETE FROM {table} WHERE version = {v}"),
            );
            sess.record(
                "tracking",
                Some(v),
                format!("DELETE FROM {extra} WHERE version = {v}"),
            );
        }
    }
}

/// The tracking writes of a no-transaction file as they appear in the stream: in a transaction
/// of their own, after the last statement.
pub(super) fn tracking_steps_record_only(
    sess: &mut Session,
    m: &Migration,
    dir: Direction,
    total: usize,
    backup: Option<&str>,
) {
    sess.record("begin", Some(m.version), "BEGIN").note = Some(format!(
        "recording migration {} once every statement succeeded",
        m.version
    ));
    tracking_steps(sess, m, dir, total, backup);
    sess.record("commit", Some(m.version), "COMMIT");
}
