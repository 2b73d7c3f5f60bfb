//! Hostile input: the budgets.toml loader, the migration folder reader, the SQL statement
//! splitter and the lint rules never panic, whatever bytes they are given, and their errors
//! still name the file with a line and column.

use std::path::PathBuf;

use dbdoctor::budget::config;
use dbdoctor::migrate::{lint, source, split};
use proptest::prelude::*;

const REAL_BUDGETS: &str = include_str!("../budgets.toml");

/// Fragments that make TOML and SQL interesting: quotes, brackets, dollar quotes, comments,
/// unicode, huge numbers, keys that almost exist.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[".to_string()),
        Just("]]".to_string()),
        Just("\"".to_string()),
        Just("'''".to_string()),
        Just("$$".to_string()),
        Just("$tag$".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("= -1".to_string()),
        Just("= 1e309".to_string()),
        Just("= 99999999999999999999".to_string()),
        Just("p95_msx = 3".to_string()),
        Just("[[probes]]\nname=\"x\"\nsql=\"\"".to_string()),
        Just("pattern = '('".to_string()),
        Just("ü€😀".to_string()),
        Just("\u{0}".to_string()),
        Just("CREATE INDEX i ON t (a)".to_string()),
        Just("-- no-transaction\n".to_string()),
        Just("-- dbdoctor:allow ban-drop-table\n".to_string()),
        "[a-zA-Z0-9_ =.\\[\\]\"'$;\n-]{0,20}",
    ]
}

fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (
        0..base.len(),
        0usize..40,
        prop::collection::vec(fragment(), 0..4),
    )
        .prop_map(move |(at, cut, frags)| {
            let mut at = at;
            while !base.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(base.len());
            while !base.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}{}{}", &base[..at], frags.concat(), &base[end..])
        })
}

fn assert_located(err: &dbdoctor::error::Error) {
    let msg = err.to_string();
    assert!(
        msg.starts_with("budgets.toml"),
        "error must name the file: {msg}"
    );
    assert!(!msg.contains('\n'), "error must be one line: {msg:?}");
    assert_eq!(err.exit_code(), 2, "{msg}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn budgets_loader_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        if let Err(e) = config::parse("budgets.toml", &text) {
            assert_located(&e);
        }
    }

    #[test]
    fn budgets_loader_never_panics_on_mutations_of_the_real_file(text in mutated(REAL_BUDGETS)) {
        if let Err(e) = config::parse("budgets.toml", &text) {
            assert_located(&e);
        }
    }

    #[test]
    fn splitter_never_panics_and_stays_in_bounds(parts in prop::collection::vec(fragment(), 0..12)) {
        let sql = parts.concat();
        for st in split::split(&sql) {
            prop_assert!(st.offset <= sql.len());
            prop_assert!(st.line >= 1 && st.column >= 1);
            prop_assert!(sql.is_char_boundary(st.offset));
        }
    }

    #[test]
    fn splitter_never_panics_on_arbitrary_text(sql in "\\PC{0,200}") {
        let _ = split::split(&sql);
    }

    #[test]
    fn migration_reader_and_lint_never_panic(
        names in prop::collection::vec("[0-9]{0,3}(_[a-z]{0,5})?(\\.up|\\.down)?\\.(sql|txt)", 0..6),
        bodies in prop::collection::vec(prop::collection::vec(fragment(), 0..6), 6),
    ) {
        let dir = PathBuf::from("migrations");
        let files: Vec<(String, PathBuf, String)> = names
            .iter()
            .zip(bodies.iter())
            .map(|(n, b)| (n.clone(), dir.join(n), b.concat()))
            .collect();
        let src = source::from_files(&dir, files);
        for p in &src.problems {
            prop_assert!(!p.file.is_empty());
            prop_assert!(!p.message.contains('\n'));
        }
        let _ = lint::lint_source(&src);
    }
}
