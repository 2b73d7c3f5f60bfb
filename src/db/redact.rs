//! Keeps passwords out of every message: URL redaction and password-free descriptions of a target.

/// Replace the password of a `postgres://user:password@host/db` URL (and any `password=` query
/// parameter) with `***`. Text that is not a URL is returned with `password=` values masked.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map(|i| rest_start + i)
            .unwrap_or(out.len());
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                let end = rest_start + at;
                out.replace_range(start..end, "***");
            }
        }
    }
    mask_password_params(&out)
}

/// Mask `password=...` in query strings and keyword/value connection strings.
fn mask_password_params(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(pos) = lower[i..].find("password=") {
        let start = i + pos + "password=".len();
        out.push_str(&s[i..start]);
        let end = s[start..]
            .find(['&', ' ', '#'])
            .map(|e| start + e)
            .unwrap_or(s.len());
        if end > start {
            out.push_str("***");
        }
        i = end;
    }
    out.push_str(&s[i..]);
    out
}

/// Remove a known password from free text (server error messages, tool output), in case a
/// message echoes it back.
pub fn scrub(text: &str, password: Option<&str>) -> String {
    let text = redact_url(text);
    match password {
        Some(p) if !p.is_empty() => text.replace(p, "***"),
        _ => text,
    }
}

/// Mask secrets inside SQL text taken from the server (pg_stat_statements keeps utility
/// statements verbatim before PostgreSQL 16): `PASSWORD '...'` of CREATE/ALTER ROLE/USER, and
/// `password=...` / `password '...'` inside connection strings and user-mapping options.
pub fn redact_sql_secrets(sql: &str) -> String {
    let lower = sql.to_ascii_lowercase();
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(pos) = lower[search..].find("password") {
        let kw_end = search + pos + "password".len();
        // Skip white space (and `=` for option syntax) up to a quoted literal.
        let mut i = kw_end;
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'=') {
            i += 1;
        }
        let quote = bytes.get(i).copied();
        if matches!(quote, Some(b'\'') | Some(b'"')) {
            let q = quote.unwrap_or(b'\'');
            let start = i + 1;
            let mut j = start;
            // A doubled quote is an escaped quote inside the literal.
            while j < bytes.len() {
                if bytes[j] == q {
                    if bytes.get(j + 1) == Some(&q) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            out.push_str(&sql[copied..start]);
            out.push_str("***");
            copied = j.min(sql.len());
            search = copied;
        } else {
            search = kw_end;
        }
    }
    out.push_str(&sql[copied..]);
    mask_password_params(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_masked() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/shop"),
            "postgres://app:***@db.example:5432/shop"
        );
    }

    #[test]
    fn url_without_password_is_unchanged() {
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
    fn password_with_at_sign_and_query_param() {
        assert_eq!(
            redact_url("postgresql://u:p@ss@h/d?password=zz&sslmode=require"),
            "postgresql://u:***@h/d?password=***&sslmode=require"
        );
    }

    #[test]
    fn sql_passwords_are_masked() {
        assert_eq!(
            redact_sql_secrets("CREATE ROLE app LOGIN PASSWORD 'it''s secret' VALID UNTIL 'x'"),
            "CREATE ROLE app LOGIN PASSWORD '***' VALID UNTIL 'x'"
        );
        assert_eq!(
            redact_sql_secrets("alter user bob with encrypted password 'p'"),
            "alter user bob with encrypted password '***'"
        );
        assert_eq!(
            redact_sql_secrets("SELECT dblink_connect('host=h password=hunter2 dbname=d')"),
            "SELECT dblink_connect('host=h password=*** dbname=d')"
        );
        assert_eq!(
            redact_sql_secrets(
                "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password 'pw')"
            ),
            "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password '***')"
        );
        assert_eq!(
            redact_sql_secrets("SELECT password FROM users WHERE id = $1"),
            "SELECT password FROM users WHERE id = $1"
        );
        assert_eq!(
            redact_sql_secrets("ALTER ROLE x PASSWORD 'unterminated"),
            "ALTER ROLE x PASSWORD '***"
        );
    }

    #[test]
    fn scrub_removes_known_password_anywhere() {
        assert_eq!(
            scrub("auth failed for hunter2", Some("hunter2")),
            "auth failed for ***"
        );
    }
}
