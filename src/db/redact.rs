//! Keeps secrets out of every message and report, by structure: URLs rebuilt from their parts,
//! SQL texts masked token by token with PostgreSQL's own scanner.

use pg_query::protobuf::Token;

/// What replaces a secret.
pub const MASK: &str = "***";

/// Option keys whose values are secrets (`OPTIONS (password '…')`, conninfo `password=…`).
const SECRET_KEYS: &[&str] = &["password", "passfile", "sslpassword", "sslkey"];

/// Free text (an error message, a tool's output) with every URL in it shown without its
/// password and every `password=` value masked. URLs are found by their `://`; one that parses
/// is rebuilt without the password, one that does not loses its whole user-info.
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        // The scheme: the letters right before `://`.
        let scheme_start = rest[..i]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map(|(j, _)| j)
            .unwrap_or(i);
        out.push_str(&rest[..scheme_start]);
        let url_end = rest[i..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .map(|e| i + e)
            .unwrap_or(rest.len());
        let mut url_end = url_end;
        let candidate = &rest[scheme_start..url_end];
        if !candidate.contains('@') && url::Url::parse(candidate).is_err() {
            // A password with a space or a quote cuts the URL short: when an '@' follows on the
            // same line, everything up to it is user-info.
            let line_end = rest[url_end..]
                .find(['\n', '\r'])
                .map(|e| url_end + e)
                .unwrap_or(rest.len());
            let next_url = rest[url_end..line_end]
                .find("://")
                .map(|e| url_end + e)
                .unwrap_or(line_end);
            if let Some(at) = rest[url_end..next_url].rfind('@') {
                let at = url_end + at;
                url_end = rest[at..]
                    .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
                    .map(|e| at + e)
                    .unwrap_or(rest.len());
            }
        }
        let candidate = &rest[scheme_start..url_end];
        out.push_str(&url_without_password(candidate));
        rest = &rest[url_end..];
    }
    out.push_str(rest);
    mask_password_params(&out)
}

/// One URL without its password.
fn url_without_password(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            if parsed.set_password(None).is_ok() {
                parsed.to_string()
            } else {
                crate::db::conninfo::display_unparsed(u)
            }
        }
        Ok(_) => u.to_string(),
        Err(_) => crate::db::conninfo::display_unparsed(u),
    }
}

/// Mask `password=…` (and the other secret keys) in query strings and keyword/value strings.
pub fn mask_password_params(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut search = 0;
    while search < s.len() {
        let found = SECRET_KEYS
            .iter()
            .filter_map(|k| lower[search..].find(k).map(|p| (search + p, k.len())))
            .min();
        let Some((pos, len)) = found else { break };
        // A key must start a word (`sslpassword` is its own key, `mypassword` is not a key).
        let word_start = pos == 0 || !is_word_byte(lower.as_bytes()[pos - 1]);
        let mut j = pos + len;
        let b = s.as_bytes();
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        if !word_start || b.get(j) != Some(&b'=') {
            search = pos + len;
            continue;
        }
        j += 1;
        while j < b.len() && b[j] == b' ' {
            j += 1;
        }
        let end = if matches!(b.get(j), Some(b'\'') | Some(b'"')) {
            // A quoted conninfo value may hold spaces: mask to the end of the text.
            s.len()
        } else {
            s[j..]
                .find(|c: char| c.is_whitespace() || matches!(c, '&' | '#' | '\'' | '"' | ')'))
                .map(|e| j + e)
                .unwrap_or(s.len())
        };
        out.push_str(&s[copied..j]);
        if end > j {
            out.push_str(MASK);
        }
        copied = end;
        search = end.max(pos + len);
    }
    out.push_str(&s[copied..]);
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Server-provided SQL (pg_stat_statements keeps utility statements verbatim before PostgreSQL
/// 16; pg_stat_activity always does) with its secrets masked, read with PostgreSQL's scanner:
/// - every string constant, in any quoting form, after `PASSWORD` (roles, user mappings);
/// - the value after an option key `password`, `passfile`, `sslpassword` or `sslkey`;
/// - `password=…` inside any string constant (conninfo of `CONNECTION '…'`, dblink, FDWs) and
///   the password of a URL inside one.
///
/// Text the scanner rejects (e.g. cut off by `track_activity_query_size`) is masked from the
/// first secret key to its end.
pub fn redact_sql_secrets(sql: &str) -> String {
    // Every rule below needs one of these words (or a URL): most statements skip the scanner.
    let lower = sql.to_ascii_lowercase();
    if !["password", "passfile", "sslkey", "://"]
        .iter()
        .any(|k| lower.contains(k))
    {
        return sql.to_string();
    }
    let Ok(scan) = pg_query::scan(sql) else {
        return mask_after_secret_key(sql);
    };
    // Comments are not part of the grammar: skip them when looking at neighbours.
    let tokens: Vec<(usize, usize, Token)> = scan
        .tokens
        .iter()
        .filter_map(|t| {
            let tok = Token::try_from(t.token).ok()?;
            if matches!(tok, Token::SqlComment | Token::CComment) {
                return None;
            }
            Some((t.start as usize, t.end as usize, tok))
        })
        .filter(|(s, e, _)| s <= e && *e <= sql.len())
        .collect();
    let is_string = |t: Token| matches!(t, Token::Sconst | Token::Usconst);
    let mut masks: Vec<(usize, usize, String)> = Vec::new();
    for (i, &(start, end, tok)) in tokens.iter().enumerate() {
        if is_string(tok) {
            // A secret key right before (optionally with `=`) makes the whole constant secret.
            let prev = i.checked_sub(1).map(|k| tokens[k]);
            let before_prev = i.checked_sub(2).map(|k| tokens[k]);
            let key_before = match prev {
                Some((_, _, Token::Ascii61)) => {
                    before_prev.is_some_and(|(s, e, t)| is_secret_key(sql, s, e, t))
                }
                Some((s, e, t)) => is_secret_key(sql, s, e, t),
                None => false,
            };
            if key_before {
                masks.push((start, end, format!("'{MASK}'")));
                continue;
            }
            let text = &sql[start..end];
            let masked = redact_url(text);
            if masked != text {
                masks.push((start, end, close_literal(text, &masked)));
            }
        }
    }
    if masks.is_empty() {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for (s, e, m) in masks {
        if s < copied {
            continue;
        }
        out.push_str(&sql[copied..s]);
        out.push_str(&m);
        copied = e;
    }
    out.push_str(&sql[copied..]);
    out
}

/// `PASSWORD` (keyword) or an identifier / keyword spelling one of the secret option keys.
fn is_secret_key(sql: &str, start: usize, end: usize, tok: Token) -> bool {
    if tok == Token::Password {
        return true;
    }
    let word = sql.get(start..end).unwrap_or("");
    let word = word.trim_matches('"').to_ascii_lowercase();
    SECRET_KEYS.contains(&word.as_str())
}

/// A constant whose inside was masked up to its end still needs its closing delimiter.
fn close_literal(original: &str, masked: &str) -> String {
    let closer: String = if original.ends_with("$$") || original.ends_with('$') {
        // $tag$…$tag$: the closing tag is the opening one.
        let open_end = original[1..].find('$').map(|i| i + 2).unwrap_or(1);
        original[..open_end].to_string()
    } else {
        "'".to_string()
    };
    if masked.ends_with(&closer) && masked.len() > closer.len() {
        masked.to_string()
    } else {
        format!("{masked}{closer}")
    }
}

/// Fallback for text the scanner cannot read: keep what comes before the first secret key.
fn mask_after_secret_key(sql: &str) -> String {
    let lower = sql.to_ascii_lowercase();
    let first = SECRET_KEYS
        .iter()
        .chain(["connection", "dblink", "options"].iter())
        .filter_map(|k| lower.find(k).map(|p| p + k.len()))
        .min();
    match first {
        Some(p) => format!("{} {MASK}", &sql[..p]),
        None => sql.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(sql: &str, secret: &str) -> String {
        let out = redact_sql_secrets(sql);
        assert!(!out.contains(secret), "{secret} kept in {out}");
        out
    }

    #[test]
    fn url_password_is_dropped_and_the_rest_kept() {
        assert_eq!(
            redact_url("cannot connect to postgres://app:s3cret@db.example:5432/shop: refused"),
            "cannot connect to postgres://app@db.example:5432/shop: refused"
        );
        assert_eq!(
            redact_url("postgres://app@db/shop"),
            "postgres://app@db/shop"
        );
        assert_eq!(
            redact_url("postgres:///shop?host=/tmp"),
            "postgres:///shop?host=/tmp"
        );
    }

    #[test]
    fn same_user_and_password_does_not_mangle_the_message() {
        assert_eq!(
            redact_url(
                "cannot connect to postgres://postgres:postgres@nohost.invalid:5432/postgres"
            ),
            "cannot connect to postgres://postgres@nohost.invalid:5432/postgres"
        );
    }

    #[test]
    fn unparsable_url_loses_user_info() {
        let out = redact_url("invalid database URL postgres://app:s3cr/et@host/x");
        assert_eq!(out, "invalid database URL postgres://host/x");
        let out = redact_url("postgresql://u:p@ss@h/d?password=zz&sslmode=require");
        assert!(!out.contains("p@ss") && !out.contains("zz"), "{out}");
        assert!(out.contains("sslmode=require"), "{out}");
    }

    #[test]
    fn every_quoting_form_after_password_is_masked() {
        for lit in [
            "'it''s secret'",
            "E'it\\'s secret'",
            "$$it's secret$$",
            "$tag$it's $$ secret$tag$",
            "U&'it\\0027s secret'",
            "e'secret\\n'",
        ] {
            let out = masked(
                &format!("CREATE ROLE app LOGIN PASSWORD {lit} VALID UNTIL 'x'"),
                "secret",
            );
            assert_eq!(
                out, "CREATE ROLE app LOGIN PASSWORD '***' VALID UNTIL 'x'",
                "{lit}"
            );
        }
        assert_eq!(
            masked("alter user bob with encrypted password 'p4ss'", "p4ss"),
            "alter user bob with encrypted password '***'"
        );
        assert_eq!(
            masked("ALTER ROLE x PASSWORD /* c */ 'p4ss'", "p4ss"),
            "ALTER ROLE x PASSWORD /* c */ '***'"
        );
    }

    #[test]
    fn options_and_conninfo_values_are_masked() {
        assert_eq!(
            masked(
                "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password $$pw1$$)",
                "pw1"
            ),
            "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '***')"
        );
        assert_eq!(
            masked("ALTER USER MAPPING FOR u SERVER s OPTIONS (SET \"password\" E'pw2', ADD sslkey '/k', ADD sslpassword 'pw3')", "pw"),
            "ALTER USER MAPPING FOR u SERVER s OPTIONS (SET \"password\" '***', ADD sslkey '***', ADD sslpassword '***')"
        );
        assert_eq!(
            masked(
                "SELECT dblink_connect('host=h password=hunter2 dbname=d')",
                "hunter2"
            ),
            "SELECT dblink_connect('host=h password=*** dbname=d')"
        );
        let out = masked(
            "CREATE SUBSCRIPTION s CONNECTION $c$host=h password = 'a b''c' dbname=d$c$ PUBLICATION p",
            "a b",
        );
        assert!(
            out.starts_with("CREATE SUBSCRIPTION s CONNECTION $c$host=h password = ***"),
            "{out}"
        );
        assert!(out.ends_with("$c$ PUBLICATION p"), "{out}");
        let out = masked(
            "SELECT dblink('postgres://u:hunter3@h/d', 'select 1')",
            "hunter3",
        );
        assert!(out.contains("postgres://u@h/d"), "{out}");
    }

    #[test]
    fn ordinary_sql_is_unchanged() {
        for sql in [
            "SELECT password FROM users WHERE id = $1",
            "SELECT 'password' AS label, $$x$$",
            "CREATE ROLE app PASSWORD $1",
            "CREATE ROLE app PASSWORD NULL",
        ] {
            assert_eq!(redact_sql_secrets(sql), sql);
        }
    }

    #[test]
    fn text_the_scanner_rejects_is_masked_after_the_key() {
        let out = redact_sql_secrets("ALTER ROLE x PASSWORD 'unterminated secr");
        assert!(!out.contains("secr"), "{out}");
        assert!(out.starts_with("ALTER ROLE x PASSWORD"), "{out}");
    }

    #[test]
    fn params_are_masked_by_key() {
        assert_eq!(
            mask_password_params("host=h password=x sslpassword=y mypassword=z"),
            "host=h password=*** sslpassword=*** mypassword=z"
        );
    }
}
