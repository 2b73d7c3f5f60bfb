//! Small shared helpers: duration and percentage parsing, identifier quoting, byte formatting,
//! and text helpers for one-line messages and source positions.

use std::time::Duration;

use crate::error::Error;

/// The longest duration any option accepts.
const MAX_DURATION: Duration = Duration::from_secs(7 * 86_400);

/// The one duration syntax of every time option and budgets.toml key: a bare number is seconds
/// (`7`, `0.5`), anything else is humantime (`500ms`, `5s`, `2m`, `1h 30m`). Positive, at most
/// 7 days.
pub fn duration_from_text(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let d = match t.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_DURATION.as_secs_f64() => {
            Duration::from_secs_f64(secs)
        }
        Ok(_) => {
            return Err(format!(
                "duration '{s}' must be positive and at most 7 days"
            ))
        }
        Err(_) => humantime::parse_duration(t)
            .map_err(|e| format!("invalid duration '{s}' ({e}; use e.g. 500ms, 5s, 2m)"))?,
    };
    if d.is_zero() || d > MAX_DURATION {
        return Err(format!(
            "duration '{s}' must be positive and at most 7 days"
        ));
    }
    Ok(d)
}

/// Parse a duration given to `flag` (see `duration_from_text`).
pub fn parse_duration(flag: &str, s: &str) -> Result<Duration, Error> {
    duration_from_text(s).map_err(|m| Error::Usage(format!("{flag}: {m}")))
}

/// clap value parser: a duration.
pub fn duration_arg(s: &str) -> Result<Duration, String> {
    duration_from_text(s)
}

/// clap value parser for options whose commands keep the text: checked now, so a bad duration
/// is a usage error before anything runs.
pub fn duration_text_arg(s: &str) -> Result<String, String> {
    duration_from_text(s).map(|_| s.trim().to_string())
}

/// Parse `20%` or `20` as a percentage.
pub fn parse_percent(flag: &str, s: &str) -> Result<f64, Error> {
    let t = s.trim().trim_end_matches('%').trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(Error::Usage(format!(
            "{flag}: invalid percentage '{s}' (use e.g. 20%)"
        ))),
    }
}

/// Quote an SQL identifier when needed (always safe to use in generated DDL).
pub fn quote_ident(name: &str) -> String {
    let simple = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !is_reserved(name);
    if simple {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `schema.name`, each part quoted as needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// Quote a string literal for generated SQL shown to users (never for executed queries with
/// user values: those are bound as parameters).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn is_reserved(word: &str) -> bool {
    // PostgreSQL reserved key words (and those that cannot be column/table names).
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&word)
}

/// `x` rounded to two decimals (the precision of figures in `detail`).
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Human bytes: 1.5 MB (powers of 1024, like pg_size_pretty).
pub fn human_bytes(b: i64) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
    let mut v = b as f64;
    let mut u = 0;
    while v.abs() >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// The process's peak resident memory so far, in MiB (`VmHWM`; Linux only, `None` elsewhere).
pub fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}

/// `s` on one line: every run of whitespace (line breaks included) becomes one space, and the
/// ends are trimmed. For messages from other programs that must fit one error line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The non-empty lines of `s`, each trimmed, joined by `sep`: like [`one_line`], but where a line
/// break separates clauses (a parser's message and its note) and should stay visible as `sep`.
pub fn join_lines(s: &str, sep: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// The 1-based line and column (in characters) of byte `offset` in `text`. An offset past the
/// end means the end; one inside a multi-byte character means that character.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let mib = super::peak_rss_mib().expect("VmHWM in /proc/self/status");
            assert!(mib > 0 && mib < 1 << 20, "{mib}");
        }
    }

    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("x", "500ms").unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(parse_duration("x", "2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("x", "7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("x", "5 parsecs").is_err());
        assert!(parse_duration("x", "0s").is_err());
        assert!(parse_duration("x", "-1s").is_err());
    }

    #[test]
    fn identifiers() {
        assert_eq!(quote_ident("meals"), "meals");
        assert_eq!(quote_ident("Meals"), "\"Meals\"");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Weird \"Name\""), "\"Weird \"\"Name\"\"\"");
        assert_eq!(qualified("my schema", "t"), "\"my schema\".t");
        assert_eq!(quote_ident("ümlaut"), "\"ümlaut\"");
    }

    #[test]
    fn percent_and_bytes() {
        assert_eq!(parse_percent("x", "20%").unwrap(), 20.0);
        assert!(parse_percent("x", "abc").is_err());
        assert_eq!(human_bytes(512), "512 bytes");
        assert_eq!(human_bytes(1536), "1.5 kB");
    }
    #[test]
    fn one_line_collapses_every_whitespace_run() {
        assert_eq!(
            one_line("  initdb: error\n\tdirectory  exists \n"),
            "initdb: error directory exists"
        );
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn join_lines_keeps_line_breaks_as_the_separator() {
        assert_eq!(
            join_lines("bad value\n\n  expected a number  \n", "; "),
            "bad value; expected a number"
        );
        assert_eq!(join_lines("one  spaced line", "; "), "one  spaced line");
    }

    #[test]
    fn line_col_counts_characters_and_clamps() {
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
        assert_eq!(line_col("ab", 99), (1, 3));
        assert_eq!(line_col("é\nab", 4), (2, 2));
        // Inside the two bytes of é: the position of é itself.
        assert_eq!(line_col("aé", 2), (1, 2));
    }
}
