//! The name of sqlx's tracking table (sqlx.toml's `[migrate] table-name`), read the way
//! PostgreSQL reads the identifier sqlx pastes into its SQL, and written back quoted.

use std::fmt;

use crate::util::quote_ident;

/// sqlx's table when sqlx.toml names none.
pub const DEFAULT_NAME: &str = "_sqlx_migrations";
/// dbdoctor's extra record, kept in the same schema as sqlx's table.
pub const EXTRA_NAME: &str = "_dbdoctor_migrations";
/// PostgreSQL keeps the first 63 bytes of an identifier (NAMEDATALEN - 1).
const MAX_IDENT_BYTES: usize = 63;

/// A table name, optionally schema-qualified. Without a schema it is found through the
/// session's search_path, as sqlx's own unqualified name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingTable {
    pub schema: Option<String>,
    pub name: String,
}

impl Default for TrackingTable {
    fn default() -> Self {
        TrackingTable {
            schema: None,
            name: DEFAULT_NAME.to_string(),
        }
    }
}

impl fmt::Display for TrackingTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ident())
    }
}

impl TrackingTable {
    /// Read `table-name` as SQL text: `name`, `schema.name`, each part either a bare identifier
    /// (folded to lower case) or a double-quoted one (`"My ""Table"""`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = identifiers(text)?;
        match parts.len() {
            1 => Ok(TrackingTable {
                schema: None,
                name: parts.remove(0),
            }),
            2 => {
                let name = parts.remove(1);
                Ok(TrackingTable {
                    schema: Some(parts.remove(0)),
                    name,
                })
            }
            n => Err(format!(
                "has {n} dot-separated parts; write `table` or `schema.table`"
            )),
        }
    }

    /// The table as it appears in SQL: each part quoted where it needs to be.
    pub fn ident(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&self.name)),
            None => quote_ident(&self.name),
        }
    }

    /// dbdoctor's own record, beside this table.
    pub fn extra(&self) -> TrackingTable {
        TrackingTable {
            schema: self.schema.clone(),
            name: EXTRA_NAME.to_string(),
        }
    }
}

/// One schema name of `create-schemas`, read like a part of `table-name`.
pub fn parse_schema(text: &str) -> Result<String, String> {
    let mut parts = identifiers(text)?;
    if parts.len() != 1 {
        return Err(format!(
            "has {} dot-separated parts; a schema name has one",
            parts.len()
        ));
    }
    Ok(parts.remove(0))
}

fn ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || !c.is_ascii()
}

fn ident_cont(c: char) -> bool {
    ident_start(c) || c.is_ascii_digit() || c == '$'
}

/// Split dotted SQL identifier text into its parts, unquoted and case-folded as PostgreSQL does.
fn identifiers(text: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let part = match chars.peek().copied() {
            None if parts.is_empty() => return Err("is empty".into()),
            None => return Err("ends with a dot".into()),
            Some('.') => return Err("has an empty part before a dot".into()),
            Some('"') => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("has an unterminated double quote".into()),
                        Some('"') if chars.next_if_eq(&'"').is_some() => s.push('"'),
                        Some('"') => break,
                        Some(c) => s.push(c),
                    }
                }
                if s.is_empty() {
                    return Err("has an empty quoted identifier \"\"".into());
                }
                s
            }
            Some(c) if ident_start(c) => {
                let mut s = String::new();
                while let Some(c) = chars.next_if(|c| ident_cont(*c)) {
                    s.push(c.to_ascii_lowercase());
                }
                let plain = s
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
                if plain && quote_ident(&s) != s {
                    return Err(format!(
                        "uses the reserved word {s} unquoted (PostgreSQL would reject it; write it in double quotes)"
                    ));
                }
                s
            }
            Some(c) => {
                return Err(format!(
                    "has {c:?} where a name should start (write the name in double quotes)"
                ))
            }
        };
        if part.len() > MAX_IDENT_BYTES {
            return Err(format!(
                "has a name longer than {MAX_IDENT_BYTES} bytes (PostgreSQL would truncate it)"
            ));
        }
        parts.push(part);
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            None => return Ok(parts),
            Some('.') => continue,
            Some(c) => {
                return Err(format!(
                    "has {c:?} after a name (write the name in double quotes)"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(schema: Option<&str>, name: &str) -> TrackingTable {
        TrackingTable {
            schema: schema.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn the_default_renders_exactly_as_before() {
        let d = TrackingTable::default();
        assert_eq!(d.ident(), "_sqlx_migrations");
        assert_eq!(d.extra().ident(), "_dbdoctor_migrations");
        assert_eq!(TrackingTable::parse("_sqlx_migrations").unwrap(), d);
    }

    #[test]
    fn bare_names_fold_to_lower_case_and_may_be_qualified() {
        assert_eq!(
            TrackingTable::parse("My_Migrations").unwrap(),
            t(None, "my_migrations")
        );
        let q = TrackingTable::parse("foo._sqlx_migrations").unwrap();
        assert_eq!(q, t(Some("foo"), "_sqlx_migrations"));
        assert_eq!(q.ident(), "foo._sqlx_migrations");
        assert_eq!(q.extra().ident(), "foo._dbdoctor_migrations");
        assert_eq!(
            TrackingTable::parse(" app . mig$1 ").unwrap(),
            t(Some("app"), "mig$1")
        );
    }

    #[test]
    fn quoted_names_keep_case_spaces_and_quotes() {
        let q = TrackingTable::parse(r#""Mig ""Table""""#).unwrap();
        assert_eq!(q, t(None, r#"Mig "Table""#));
        assert_eq!(q.ident(), r#""Mig ""Table""""#);
        let q = TrackingTable::parse(r#""Tenant A"."a.b""#).unwrap();
        assert_eq!(q, t(Some("Tenant A"), "a.b"));
        assert_eq!(q.ident(), r#""Tenant A"."a.b""#);
        // A reserved word is fine quoted.
        assert_eq!(
            TrackingTable::parse(r#""user""#).unwrap().ident(),
            r#""user""#
        );
    }

    #[test]
    fn bad_names_say_what_is_wrong() {
        for (text, want) in [
            ("", "is empty"),
            ("   ", "is empty"),
            ("a.b.c", "3 dot-separated parts"),
            ("a.", "ends with a dot"),
            (".a", "empty part"),
            ("a..b", "empty part"),
            ("\"\"", "empty quoted"),
            ("\"abc", "unterminated"),
            ("my-table", "'-' after a name"),
            ("1abc", "'1' where a name should start"),
            ("user", "reserved word user"),
            ("\"x\"y", "'y' after a name"),
        ] {
            let e = TrackingTable::parse(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let long = "a".repeat(64);
        assert!(TrackingTable::parse(&long)
            .unwrap_err()
            .contains("63 bytes"));
        assert!(TrackingTable::parse(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn schema_names_have_one_part() {
        assert_eq!(parse_schema("Foo").unwrap(), "foo");
        assert_eq!(parse_schema("\"Foo\"").unwrap(), "Foo");
        assert!(parse_schema("a.b").unwrap_err().contains("one"));
    }
}
