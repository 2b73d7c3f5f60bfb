//! One screen of `doctor --monitor`, like `top`: a header with QPS, latency, connections and
//! waits, the top statements of the last interval, then the active findings — exactly `rows`
//! lines or fewer, none wider than `cols`.

use std::collections::BTreeMap;

use crate::analyze::report::DoctorReport;
use crate::collect::activity::ActivitySnapshot;
use crate::render::document::{connection_states, word};
use crate::render::terminal::{fit, thousands, Style};

/// Active sessions waiting, by wait event type (`Lock 2, IO 1`), busiest first.
pub fn waits(activity: &ActivitySnapshot) -> Vec<(String, usize)> {
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for s in activity.sessions.as_deref().unwrap_or(&[]) {
        if s.state.as_deref() != Some("active") {
            continue;
        }
        if let Some(t) = &s.wait_event_type {
            *by.entry(t.clone()).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// What the frame shows besides the report.
pub struct Frame<'a> {
    pub report: &'a DoctorReport,
    pub waits: &'a [(String, usize)],
    /// `5s`: the interval the statements were measured over.
    pub interval: &'a str,
    pub cols: usize,
    pub rows: usize,
    pub color: bool,
}

/// The frame's lines (no line ends), at most `rows` of them, each at most `cols` wide.
pub fn lines(f: &Frame) -> Vec<String> {
    let style = Style { color: f.color };
    let r = f.report;
    let w = f.cols.max(20);
    let mut out: Vec<String> = Vec::new();
    let title = format!(
        "dbdoctor monitor · {} · {} · every {} · q or Ctrl-C quits",
        r.target,
        r.generated_at.format("%H:%M:%S UTC"),
        f.interval
    );
    out.push(style.bold(&fit(&title, w)));
    let load = match &r.queries {
        Some(q) => format!(
            "QPS {} · latency mean {:.2} ms, ~p95 {:.2} ms, ~p99 {:.2} ms (estimated)",
            q.qps.map_or("n/a".into(), |v| format!("{v:.1}")),
            q.latency.mean_ms,
            q.latency.p95_ms,
            q.latency.p99_ms
        ),
        None => "QPS n/a · latency n/a (no pg_stat_statements)".to_string(),
    };
    out.push(fit(&load, w));
    let conns = r
        .resources
        .as_ref()
        .and_then(|res| res.connections.as_ref())
        .map(|c| {
            format!(
                "connections {} of {} ({:.0}%): {}",
                c.total,
                c.usable,
                c.used_pct,
                connection_states(c)
            )
        })
        .unwrap_or_else(|| "connections n/a".into());
    let waits = if f.waits.is_empty() {
        "waits: none".to_string()
    } else {
        let parts: Vec<String> = f.waits.iter().map(|(k, v)| format!("{k} {v}")).collect();
        format!("waits: {}", parts.join(", "))
    };
    out.push(fit(&format!("{conns} · {waits}"), w));

    let budget = f.rows.saturating_sub(out.len());
    // Statements get up to half of what is left; findings the rest.
    let statements: Vec<String> = match &r.queries {
        Some(q) if !q.statements.is_empty() => {
            let mut v = vec![style.dim(&fit(
                &format!(
                    "{:>6}  {:>8}  {:>9}  statement (last {})",
                    "share", "calls", "mean ms", f.interval
                ),
                w,
            ))];
            for s in &q.statements {
                let head = format!(
                    "{:>5.1}%  {:>8}  {:>9.2}  ",
                    s.share_of_total_time_pct,
                    thousands(s.latency.calls as i64),
                    s.latency.mean_ms
                );
                let room = w.saturating_sub(head.chars().count());
                v.push(format!("{head}{}", fit(&s.query, room)));
            }
            v
        }
        _ => vec![fit("no statements ran in the last interval", w)],
    };
    let findings: Vec<String> = {
        let mut v = vec![style.bold(&fit(&format!("active findings ({})", r.findings.len()), w))];
        for x in &r.findings {
            let sev = word(x.severity);
            let plain = format!("{sev}[{}] {} — {}", x.check, x.object, x.message);
            let cut = fit(&plain, w);
            // Colour only the severity word, after cutting (escapes take no columns).
            let shown = match cut.strip_prefix(&sev) {
                Some(rest) => format!("{}{rest}", style.severity(x.severity, &sev)),
                None => cut,
            };
            v.push(shown);
        }
        v
    };
    if budget == 0 {
        out.truncate(f.rows);
        return out;
    }
    // One blank line between the parts when there is room for it.
    let gap = usize::from(budget > 6);
    let room = budget - gap;
    let st_rows = statements.len().min(room.div_ceil(2).max(1));
    let fi_rows = findings.len().min(room - st_rows);
    let st_rows = statements.len().min(room - fi_rows);
    out.extend(statements.into_iter().take(st_rows));
    if gap == 1 && fi_rows > 0 {
        out.push(String::new());
    }
    out.extend(findings.into_iter().take(fi_rows));
    out.truncate(f.rows);
    out
}

/// The frame as bytes for `out`. On a terminal (`tty`): cursor home, each line cleared to its
/// end, then the rest of the screen, so one write replaces the last frame with no blank flash.
/// Elsewhere: the lines, then a blank line between frames.
pub fn frame_bytes(f: &Frame, tty: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    if tty {
        buf.extend_from_slice(b"\x1b[H");
        for (i, l) in lines(f).iter().enumerate() {
            if i > 0 {
                buf.extend_from_slice(b"\r\n");
            }
            buf.extend_from_slice(l.as_bytes());
            buf.extend_from_slice(b"\x1b[K");
        }
        buf.extend_from_slice(b"\x1b[J");
    } else {
        for l in lines(f) {
            buf.extend_from_slice(l.as_bytes());
            buf.push(b'\n');
        }
        buf.push(b'\n');
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::doctor::CheckSelection;
    use crate::analyze::report::{doctor_report, ReportOptions};
    use crate::analyze::testdata::sample_snapshot;
    use crate::analyze::thresholds::Thresholds;
    use crate::render::terminal::width_of;

    fn report() -> (DoctorReport, Vec<(String, usize)>) {
        let snap = sample_snapshot();
        let r = doctor_report(
            &snap,
            &Thresholds::default(),
            &CheckSelection::default(),
            &ReportOptions::default(),
        );
        (r, waits(&snap.activity))
    }

    fn frame<'a>(
        r: &'a DoctorReport,
        w: &'a [(String, usize)],
        cols: usize,
        rows: usize,
    ) -> Frame<'a> {
        Frame {
            report: r,
            waits: w,
            interval: "5s",
            cols,
            rows,
            color: false,
        }
    }

    #[test]
    fn the_frame_fits_the_screen_at_every_size() {
        let (r, w) = report();
        for (cols, rows) in [(80, 24), (80, 50), (120, 40), (40, 10), (200, 5)] {
            let f = frame(&r, &w, cols, rows);
            let l = lines(&f);
            assert!(l.len() <= rows, "{cols}x{rows}: {} lines", l.len());
            assert!(
                l.iter().all(|x| width_of(x) <= cols),
                "{cols}x{rows}: {l:#?}"
            );
            assert!(l[0].starts_with("dbdoctor monitor"));
        }
    }

    #[test]
    fn a_tall_screen_shows_the_header_statements_and_every_finding() {
        let (r, w) = report();
        let f = frame(&r, &w, 100, 80);
        let l = lines(&f);
        assert!(l[1].starts_with("QPS 31.7"), "{}", l[1]);
        assert!(l[2].contains("connections 5 of 97"), "{}", l[2]);
        assert!(l.iter().any(|x| x.contains("statement (last 5s)")));
        let shown = l
            .iter()
            .filter(|x| x.contains('[') && x.contains("] "))
            .count();
        assert_eq!(shown, r.findings.len(), "{l:#?}");
    }

    #[test]
    fn frames_redraw_in_place_on_a_terminal_and_follow_each_other_elsewhere() {
        let (r, w) = report();
        let f = frame(&r, &w, 80, 10);
        let n = lines(&f).len();
        let tty = String::from_utf8(frame_bytes(&f, true)).unwrap();
        assert!(
            tty.starts_with("\x1b[H") && tty.ends_with("\x1b[J"),
            "{tty:?}"
        );
        assert_eq!(tty.matches("\x1b[K").count(), n);
        assert_eq!(tty.matches("\r\n").count(), n - 1);
        let plain = String::from_utf8(frame_bytes(&f, false)).unwrap();
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(plain.ends_with("\n\n"));
        assert_eq!(plain.lines().count(), n + 1);
    }
}
