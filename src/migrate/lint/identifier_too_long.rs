//! identifier-too-long: PostgreSQL silently cuts identifiers longer than 63 bytes.

use pg_query::protobuf::Token;
use pg_query::NodeEnum;

use super::FileContext;

pub struct Rule;

/// NAMEDATALEN - 1 in a default PostgreSQL build.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// The identifier a token spells (quotes removed, `""` unescaped, unquoted names folded).
fn identifier(raw: &str) -> String {
    match raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => raw.to_lowercase(),
    }
}

/// Identifiers over the limit in a statement's text, each once, in order.
pub fn long_identifiers(sql: &str) -> Vec<String> {
    let Ok(scan) = pg_query::scan(sql) else {
        return vec![];
    };
    let mut out: Vec<String> = Vec::new();
    for t in &scan.tokens {
        if t.token != Token::Ident as i32 {
            continue;
        }
        let Some(raw) = sql.get(t.start as usize..t.end as usize) else {
            continue;
        };
        let name = identifier(raw);
        if name.len() > MAX_IDENTIFIER_BYTES && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "identifier-too-long"
    }
    fn help(&self) -> &'static str {
        "PostgreSQL truncates identifiers to 63 bytes without an error, so two long names can collide and the name in the database differs from the one in the code. Shorten the name."
    }
    fn check(&self, _stmt: &NodeEnum, cx: &FileContext) -> Vec<String> {
        long_identifiers(&cx.text)
            .into_iter()
            .map(|n| {
                let mut cut = MAX_IDENTIFIER_BYTES;
                while !n.is_char_boundary(cut) {
                    cut -= 1;
                }
                format!(
                    "identifier {n:?} is {} bytes and will be truncated to {:?}",
                    n.len(),
                    &n[..cut]
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_names_over_63_bytes() {
        let long = "x".repeat(64);
        assert_eq!(
            count(&Rule, &format!("CREATE TABLE {long} (id bigint);")),
            1
        );
        assert_eq!(count(&Rule, &format!("DROP TABLE \"{long}\";")), 1);
        // Four family emojis are 25 bytes each.
        let emoji = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}".repeat(3);
        assert_eq!(
            count(&Rule, &format!("CREATE TABLE \"{emoji}\" (id bigint);")),
            1
        );
        let exact = "x".repeat(63);
        assert!(silent(&Rule, &format!("CREATE TABLE {exact} (id bigint);")));
        // `""` inside quotes is one byte.
        let escaped = format!("\"{}\"\"\"", "a".repeat(62));
        assert!(silent(
            &Rule,
            &format!("CREATE TABLE {escaped} (id bigint);")
        ));
    }
}
