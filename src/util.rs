//! Small shared helpers: duration and percentage parsing, identifier quoting, byte formatting.

use std::time::Duration;

use crate::error::Error;

/// Parse `500ms`, `5s`, `2m`, `1h` (a bare number means seconds).
pub fn parse_duration(flag: &str, s: &str) -> Result<Duration, Error> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "s"),
    };
    let n: f64 = num.parse().map_err(|_| {
        Error::Usage(format!(
            "{flag}: invalid duration '{s}' (use e.g. 500ms, 5s, 2m)"
        ))
    })?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" | "secs" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => {
            return Err(Error::Usage(format!(
                "{flag}: invalid duration unit in '{s}' (use ms, s, m or h)"
            )))
        }
    };
    if !(secs > 0.0 && secs <= 7.0 * 86_400.0) {
        return Err(Error::Usage(format!(
            "{flag}: duration '{s}' must be positive"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
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

#[cfg(test)]
mod tests {
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
}
