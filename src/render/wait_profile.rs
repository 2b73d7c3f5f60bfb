//! The short "where the time goes" summary of a wait profile, shared by the terminal and
//! markdown doctor reports.

use crate::analyze::wait_profile::WaitProfile;

/// Rows shown per list in the summary (JSON keeps ten).
const SHOWN: usize = 5;

/// The title line and the lines under it, each at most `width` characters.
pub fn summary_lines(p: &WaitProfile, width: usize) -> (String, Vec<String>) {
    let title = format!(
        "Where the time goes ({} samples every {} ms over {:.1} s, {:.2} active sessions on average)",
        p.samples,
        p.interval_ms,
        p.window_ms / 1000.0,
        p.average_active_sessions
    );
    let mut lines = Vec::new();
    if p.session_samples == 0 {
        lines.push("no session was running a statement in any sample".to_string());
    }
    for w in p.by_wait.iter().take(SHOWN) {
        let name = if w.wait_event_type == w.wait_event {
            w.wait_event_type.clone()
        } else {
            format!("{}:{}", w.wait_event_type, w.wait_event)
        };
        lines.push(format!("{:>5.1}%  {name}", w.pct));
    }
    if !p.by_statement.is_empty() {
        lines.push("by statement:".to_string());
    }
    for s in p.by_statement.iter().take(SHOWN) {
        let text = s.query.split_whitespace().collect::<Vec<_>>().join(" ");
        lines.push(format!("{:>5.1}%  {}  {text}", s.pct, s.top_wait));
    }
    if p.capped_samples > 0 {
        lines.push(format!(
            "{} samples read only the first sessions (row cap)",
            p.capped_samples
        ));
    }
    let cut = |l: String| -> String {
        if l.chars().count() > width {
            let mut c: String = l.chars().take(width.saturating_sub(1)).collect();
            c.push('…');
            c
        } else {
            l
        }
    };
    (title, lines.into_iter().map(cut).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::wait_profile::{StatementShare, WaitShare};

    #[test]
    fn names_the_waits_and_statements_within_the_width() {
        let p = WaitProfile {
            samples: 50,
            interval_ms: 100,
            window_ms: 5000.0,
            session_samples: 200,
            average_active_sessions: 4.0,
            capped_samples: 0,
            sampling_overhead_pct: 1.0,
            by_wait_type: vec![],
            by_wait: vec![
                WaitShare {
                    wait_event_type: "Lock".into(),
                    wait_event: "transactionid".into(),
                    session_samples: 150,
                    pct: 75.0,
                },
                WaitShare {
                    wait_event_type: "CPU".into(),
                    wait_event: "CPU".into(),
                    session_samples: 50,
                    pct: 25.0,
                },
            ],
            by_statement: vec![StatementShare {
                queryid: Some(1),
                query: "UPDATE t\n SET v = $1 WHERE id = $2 AND a_very_long_column_name = $3"
                    .into(),
                session_samples: 150,
                pct: 75.0,
                top_wait: "Lock:transactionid".into(),
            }],
        };
        let (title, lines) = summary_lines(&p, 50);
        assert!(title.starts_with("Where the time goes (50 samples every 100 ms over 5.0 s"));
        assert_eq!(lines[0], " 75.0%  Lock:transactionid");
        assert_eq!(lines[1], " 25.0%  CPU");
        assert!(lines[3].starts_with(" 75.0%  Lock:transactionid  UPDATE t SET v"));
        assert!(lines.iter().all(|l| l.chars().count() <= 50), "{lines:?}");
    }
}
