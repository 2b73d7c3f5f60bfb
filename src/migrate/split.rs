//! Splits a migration file into statements with their 1-based line and column, using
//! PostgreSQL's own scanner and parser (dollar quotes, nested comments, E'' strings all handled).

use pg_query::protobuf::Token;

use crate::util::line_col;

/// One statement of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text, without the comments before it and without the final `;`.
    pub text: String,
    /// Byte offset of `text` in the file.
    pub offset: usize,
    /// 1-based line and column (in characters) of the first token.
    pub line: usize,
    pub column: usize,
    /// Comments and blank space between the previous statement and this one (where
    /// `-- dbdoctor:allow <rule>` lives).
    pub leading: String,
}

/// Split `sql` into statements. A file that does not parse is split by the scanner alone, so a
/// syntax error in one statement still leaves the others checkable.
pub fn split(sql: &str) -> Vec<Statement> {
    let pieces = match pg_query::split_with_parser(sql) {
        Ok(p) => p,
        Err(_) => split_on_semicolons(sql),
    };
    let base = sql.as_ptr() as usize;
    let mut out = Vec::new();
    let mut prev_end = 0usize;
    for piece in pieces {
        let piece_offset = (piece.as_ptr() as usize).saturating_sub(base);
        let Some(first) = first_token(piece) else {
            continue;
        };
        let start = piece_offset + first;
        let text = piece[first..].trim_end();
        if text.is_empty() {
            continue;
        }
        let (line, column) = line_col(sql, start);
        let leading = sql
            .get(prev_end.min(start)..start)
            .unwrap_or("")
            .to_string();
        prev_end = start + text.len();
        out.push(Statement {
            text: text.to_string(),
            offset: start,
            line,
            column,
            leading,
        });
    }
    out
}

/// Fallback for a file that does not parse: cut at every `;` token (the scanner already skips
/// those inside strings, dollar quotes and comments).
fn split_on_semicolons(sql: &str) -> Vec<&str> {
    let Ok(scan) = pg_query::scan(sql) else {
        return vec![sql];
    };
    let mut out = Vec::new();
    let mut start = 0usize;
    for t in &scan.tokens {
        if t.token == Token::Ascii59 as i32 {
            out.push(&sql[start..t.start as usize]);
            start = t.end as usize;
        }
    }
    if start < sql.len() {
        out.push(&sql[start..]);
    }
    out
}

/// Byte offset of the first token that is not a comment.
fn first_token(piece: &str) -> Option<usize> {
    match pg_query::scan(piece) {
        Ok(scan) => scan
            .tokens
            .iter()
            .find(|t| t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32)
            .map(|t| t.start as usize),
        Err(_) => {
            let trimmed = piece.trim_start();
            (!trimmed.is_empty()).then(|| piece.len() - trimmed.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_positions() {
        let sql = "-- first\nCREATE TABLE t (a int);\n\n  /* c; */ INSERT INTO t VALUES (1);\nSELECT 'a;b', $x$ ; $x$;";
        let s = split(sql);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].text, "CREATE TABLE t (a int)");
        assert_eq!((s[0].line, s[0].column), (2, 1));
        assert!(s[0].leading.contains("-- first"));
        assert_eq!(s[1].text, "INSERT INTO t VALUES (1)");
        assert_eq!((s[1].line, s[1].column), (4, 12));
        assert!(s[1].leading.contains("/* c; */"));
        assert_eq!(s[2].text, "SELECT 'a;b', $x$ ; $x$");
        assert_eq!(s[2].line, 5);
    }

    #[test]
    fn dollar_quoted_function_body_is_one_statement() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;\nSELECT 1;";
        let s = split(sql);
        assert_eq!(s.len(), 2);
        assert!(s[0].text.ends_with("plpgsql"));
    }

    #[test]
    fn broken_file_still_splits() {
        let s = split("SELECT 1;\nCREATE INDEX i ON t (a,;\nSELECT 2;");
        assert!(s.len() >= 2, "{s:?}");
        assert_eq!(s[0].text, "SELECT 1");
    }
}
