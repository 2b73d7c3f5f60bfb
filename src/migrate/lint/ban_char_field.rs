//! ban-char-field: `char(n)` pads with blanks and is never faster than text or varchar.

use pg_query::NodeEnum;

use super::{is_builtin_type, typed_columns, FileContext};

pub struct Rule;

impl super::Rule for Rule {
    fn name(&self) -> &'static str {
        "ban-char-field"
    }
    fn help(&self) -> &'static str {
        "char(n) pads values with blanks, compares in surprising ways and is no faster than text. Use text (with a CHECK on length if needed) or varchar."
    }
    fn check(&self, stmt: &NodeEnum, _cx: &FileContext) -> Vec<String> {
        typed_columns(stmt)
            .into_iter()
            // `char`, `character` and `nchar` all parse to bpchar; a quoted "char" is the
            // one-byte internal type and is left alone.
            .filter(|(_, t)| is_builtin_type(t, &["bpchar"]))
            .map(|(col, _)| format!("column {col} is char(n): use text or varchar"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{count, silent};
    use super::Rule;

    #[test]
    fn flags_char_columns() {
        assert_eq!(
            count(
                &Rule,
                "CREATE TABLE t (a char(10), b character, c Char, d char[], e nchar);"
            ),
            5
        );
        assert_eq!(count(&Rule, "ALTER TABLE t ADD COLUMN c char;"), 1);
        assert!(silent(
            &Rule,
            "CREATE TABLE t (a varchar(10), b text, c \"char\");"
        ));
    }
}
