//! Width-bounded text primitives for terminal output: truncation, wrapping, aligned grids, colour.

use std::io::{self, Write};

use crate::analyze::Severity;
use crate::render::table::Table;

/// Width used when stdout is not a terminal and `--width` is not given.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower than this and nothing useful fits; `--width` below it is raised to it.
pub const MIN_WIDTH: usize = 40;
/// No column other than the flexible one grows beyond this.
const MAX_FIXED_COLUMN: usize = 40;

/// The width to lay out for: `--width`, else the terminal's when stdout is one, else 100.
pub fn choose_width(flag: Option<usize>, stdout_is_terminal: bool) -> usize {
    let w = flag
        .or_else(|| {
            stdout_is_terminal
                .then(terminal_size)
                .flatten()
                .map(|(c, _)| c)
        })
        .unwrap_or(DEFAULT_WIDTH);
    w.max(MIN_WIDTH)
}

/// (columns, rows) of the terminal on stdout, when it is one.
pub fn terminal_size() -> Option<(usize, usize)> {
    // SAFETY: TIOCGWINSZ fills a plain struct we own; a failure leaves it zeroed.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_col > 0).then_some((ws.ws_col as usize, ws.ws_row as usize))
}

/// Characters a string takes on screen (identifiers and SQL are overwhelmingly one column per
/// char; escape sequences are never passed here).
pub fn width_of(s: &str) -> usize {
    s.chars().count()
}

/// `s` on one line (whitespace runs collapsed), cut to `max` characters with an ellipsis.
pub fn fit(s: &str, max: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if width_of(&one) <= max {
        return one;
    }
    if max == 0 {
        return String::new();
    }
    let mut cut: String = one.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// Greedy word wrap of `text` to `width`, the first line prefixed by `first`, the rest by `rest`
/// (both count towards the width). A word longer than a line is cut with an ellipsis.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        let indent = if lines.is_empty() { first } else { rest };
        let room = width.saturating_sub(width_of(indent)).max(10);
        let word = fit(word, room);
        let needed = width_of(&line) + usize::from(!empty) + width_of(&word);
        if !empty && needed > width {
            lines.push(line);
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(&word);
        empty = false;
    }
    if !empty || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// `1234567` -> `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// ANSI styling that is a no-op without colour.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn sgr(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.sgr("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.sgr("2", s)
    }
    pub fn severity(&self, sev: Severity, s: &str) -> String {
        let code = match sev {
            Severity::Critical => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.sgr(code, s)
    }
}

/// Rows under a header, columns two spaces apart, every line within `width`. Column `flex`
/// takes the room the others leave (its cells cut with an ellipsis); the others are capped at
/// 40 characters, and the last of them are left out when even that does not fit. Rows are
/// indented by `indent` spaces.
pub fn grid(
    out: &mut dyn Write,
    table: &Table,
    flex: usize,
    width: usize,
    indent: usize,
    style: Style,
) -> io::Result<()> {
    let cells = &table.rows;
    let natural = |i: usize| {
        cells
            .iter()
            .map(|row| width_of(&fit(&row[i], usize::MAX)))
            .chain([width_of(table.headers[i])])
            .max()
            .unwrap_or(0)
    };
    let columns = table.headers.len();
    let mut widths: Vec<usize> = (0..columns)
        .map(|i| natural(i).min(MAX_FIXED_COLUMN))
        .collect();
    // Too narrow for every column: leave out the last ones (never the flexible one) until the
    // rest fit with at least 8 characters for the flexible one.
    let mut keep: Vec<usize> = (0..columns).collect();
    let needed = |keep: &[usize], widths: &[usize]| -> usize {
        let gaps = 2 * keep.len().saturating_sub(1);
        indent
            + gaps
            + keep
                .iter()
                .filter(|i| **i != flex)
                .map(|i| widths[*i])
                .sum::<usize>()
            + 8
    };
    while needed(&keep, &widths) > width && keep.len() > 1 {
        let Some(pos) = keep.iter().rposition(|i| *i != flex) else {
            break;
        };
        keep.remove(pos);
    }
    let room = width.saturating_sub(needed(&keep, &widths) - 8).max(8);
    widths[flex] = natural(flex).min(room);
    let line = |out: &mut dyn Write, row: &[String], header: bool| -> io::Result<()> {
        let mut s = " ".repeat(indent);
        for (n, i) in keep.iter().enumerate() {
            let (cell, w) = (&row[*i], widths[*i]);
            let cell = fit(cell, w);
            let pad = w.saturating_sub(width_of(&cell));
            if n > 0 {
                s.push_str("  ");
            }
            if table.numeric[*i] {
                s.push_str(&" ".repeat(pad));
                s.push_str(&cell);
            } else {
                s.push_str(&cell);
                s.push_str(&" ".repeat(pad));
            }
        }
        let s = s.trim_end();
        if header {
            writeln!(out, "{}", style.dim(s))
        } else {
            writeln!(out, "{s}")
        }
    };
    let headers: Vec<String> = table.headers.iter().map(|h| h.to_string()).collect();
    line(out, &headers, true)?;
    for row in cells {
        line(out, row, false)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_long_text_with_an_ellipsis_and_keeps_short_text() {
        let long = "x".repeat(1000);
        assert_eq!(width_of(&fit(&long, 30)), 30);
        assert!(fit(&long, 30).ends_with('…'));
        assert_eq!(fit("SELECT  1\n FROM t", 40), "SELECT 1 FROM t");
    }

    #[test]
    fn wrap_keeps_every_line_within_the_width() {
        let text = "an index that is never scanned still costs writes ".repeat(20);
        let lines = wrap(&text, 50, "   why: ", "        ");
        assert!(lines.len() > 5);
        assert!(lines.iter().all(|l| width_of(l) <= 50), "{lines:#?}");
        assert!(lines[0].starts_with("   why: an index"));
        assert!(lines[1].starts_with("        "));
        let giant = wrap(&"y".repeat(500), 50, "", "");
        assert!(giant.iter().all(|l| width_of(l) <= 50));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(9990), "9,990");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(-1234567), "-1,234,567");
    }

    struct Row(&'static str, i64);

    #[test]
    fn grid_lines_fit_the_width_and_numbers_align_right() {
        use crate::render::table::{number, text};
        let cols = [
            text::<Row>("statement", |r| r.0.to_string()),
            number("calls", |r| thousands(r.1)),
        ];
        let q = Box::leak("SELECT ".repeat(300).into_boxed_str());
        let rows = [Row(q, 5), Row("SELECT 1", 120_000)];
        let mut out = Vec::new();
        let table = Table::build(&cols, &rows);
        grid(&mut out, &table, 0, 60, 2, Style { color: false }).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| width_of(l) <= 60), "{text}");
        assert!(lines[1].ends_with("      5"), "{text}");
        assert!(lines[2].ends_with("120,000"), "{text}");
        assert!(lines[1].contains('…'));
    }
}
