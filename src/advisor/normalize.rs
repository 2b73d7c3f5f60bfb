//! Turns a pg_stat_statements text into one the server can EXPLAIN: typed-literal parameters
//! (`interval $2`, `date $1`, `timestamptz $3`, any `typename $n`) become casts (`$2::interval`).
//!
//! pg_stat_statements replaces the string of a typed literal (`interval '30 days'`) by `$n` but
//! keeps the type name in front of it. PostgreSQL's grammar accepts a type name before a string
//! constant only, so PREPARE and EXPLAIN reject the text; libpg_query's parser accepts it and
//! its deparser writes the same tree back as an explicit cast, which PostgreSQL accepts.

use std::sync::OnceLock;

use regex::Regex;

/// A word followed by a parameter (`interval $2`, `with time zone $1`): possibly a typed literal.
fn typed_param() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)[a-z_][a-z0-9_]*\s+\$[0-9]+").expect("valid regex"))
}

/// A range bound relative to the clock and a parameter (`created_at > now() - interval $2`,
/// `at >= current_date - $1`).
fn clock_window() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)[<>]=?\s*\(?\s*(now\(\s*\)|current_timestamp|current_date|localtimestamp|clock_timestamp\(\s*\)|statement_timestamp\(\s*\)|transaction_timestamp\(\s*\))\s*-\s*(\(\s*)?([a-z_ ]+\s+)?\$[0-9]+",
        )
        .expect("valid regex")
    })
}

/// The statement filters on a window that ends now and reaches back a parameter's length. A
/// generic plan cannot know that length and assumes the planner's default of a third of the
/// table for the range; hand-written windows ("the last 30 days") are nearly always far
/// narrower, so the planner's saving for an index on it is a lower bound.
pub fn relative_time_window(sql: &str) -> bool {
    clock_window().is_match(sql)
}

/// The text to EXPLAIN for `sql`: the deparsed parse tree when the text may hold a typed-literal
/// parameter, else `sql` unchanged (so every other statement is explained exactly as it ran).
/// A text the parser or deparser refuses is returned unchanged; EXPLAIN then reports why.
pub fn explainable(sql: &str) -> String {
    if !typed_param().is_match(sql) {
        return sql.to_string();
    }
    match pg_query::parse(sql).and_then(|tree| tree.deparse()) {
        Ok(text) => text,
        Err(_) => sql.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_literals_become_casts() {
        let out = explainable(
            "SELECT id FROM orders WHERE status = $1 AND created_at > now() - interval $2",
        );
        assert!(out.contains("$2::interval"), "{out}");
        assert!(!out.contains("interval $2"), "{out}");
        for (text, cast) in [
            ("SELECT 1 FROM t WHERE d = date $1", "$1::date"),
            ("SELECT 1 FROM t WHERE ts < timestamp $1", "$1::timestamp"),
            (
                "SELECT 1 FROM t WHERE ts < timestamptz $1",
                "$1::timestamptz",
            ),
            ("SELECT 1 FROM t WHERE x = numeric $1", "$1::numeric"),
            ("SELECT 1 FROM t WHERE x = time $1", "$1::time"),
        ] {
            let out = explainable(text);
            assert!(out.contains(cast), "{text} -> {out}");
        }
    }

    #[test]
    fn clock_relative_windows() {
        assert!(relative_time_window(
            "SELECT 1 FROM t WHERE s = $1 AND created_at > now() - interval $2"
        ));
        assert!(relative_time_window(
            "SELECT 1 FROM t WHERE d >= CURRENT_DATE - $1"
        ));
        assert!(relative_time_window(
            "SELECT 1 FROM t WHERE d >= now() - $1::interval"
        ));
        assert!(!relative_time_window("SELECT 1 FROM t WHERE d >= $1"));
        assert!(!relative_time_window(
            "SELECT 1 FROM t WHERE d BETWEEN $1 AND $2"
        ));
        assert!(!relative_time_window("SELECT now() - interval $1 FROM t"));
    }

    #[test]
    fn other_texts_are_left_alone() {
        let sql = "SELECT id FROM orders WHERE user_id = $1 AND created_at > $2::timestamptz";
        assert_eq!(explainable(sql), sql);
        // Unparseable: unchanged, EXPLAIN will say why.
        assert_eq!(explainable("SELEC x FROM $1"), "SELEC x FROM $1");
    }
}
