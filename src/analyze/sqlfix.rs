//! Fix and rollback SQL shared by the checks: identifiers quoted, CONCURRENTLY wherever
//! PostgreSQL allows it.

use crate::collect::schema::IndexInfo;
use crate::util::{qualified, quote_ident};

/// `DROP INDEX CONCURRENTLY IF EXISTS s.i;` (no CONCURRENTLY on a partitioned table's index,
/// which PostgreSQL refuses).
pub fn drop_index(ix: &IndexInfo) -> String {
    let conc = if ix.on_partitioned_table {
        ""
    } else {
        " CONCURRENTLY"
    };
    format!(
        "DROP INDEX{conc} IF EXISTS {};",
        qualified(&ix.schema, &ix.name)
    )
}

/// The index's own definition (pg_get_indexdef) rebuilt without blocking writes.
pub fn create_index(ix: &IndexInfo) -> String {
    let def = ix.definition.trim_end_matches(';');
    if ix.on_partitioned_table {
        return format!("{def};");
    }
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = def.strip_prefix(prefix) {
            return format!("{}CONCURRENTLY {rest};", prefix);
        }
    }
    format!("{def};")
}

/// `REINDEX INDEX CONCURRENTLY s.i;` (plain REINDEX for partitioned indexes).
pub fn reindex(ix: &IndexInfo) -> String {
    let conc = if ix.on_partitioned_table {
        ""
    } else {
        " CONCURRENTLY"
    };
    format!("REINDEX INDEX{conc} {};", qualified(&ix.schema, &ix.name))
}

/// A new index name `<table>_<col>_<col>_idx`, cut to PostgreSQL's 63-byte limit on a char
/// boundary.
pub fn index_name(table: &str, columns: &[String]) -> String {
    let mut name = format!("{}_{}_idx", table, columns.join("_"));
    if name.len() > 63 {
        let mut cut = 59;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name.push_str("_idx");
    }
    name
}

/// `CREATE INDEX CONCURRENTLY IF NOT EXISTS name ON s.t (cols);` and its rollback.
pub fn create_btree(
    schema: &str,
    table: &str,
    columns: &[String],
    partitioned: bool,
) -> (String, String) {
    let name = index_name(table, columns);
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
    let conc = if partitioned { "" } else { " CONCURRENTLY" };
    (
        format!(
            "CREATE INDEX{conc} IF NOT EXISTS {} ON {} ({});",
            quote_ident(&name),
            qualified(schema, table),
            cols.join(", ")
        ),
        format!("DROP INDEX{conc} IF EXISTS {};", qualified(schema, &name)),
    )
}

/// A no-op statement for fixes that leave nothing to undo, saying why.
pub fn nothing_to_undo(why: &str) -> String {
    format!("-- nothing to roll back: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weird_names_are_quoted_and_concurrent() {
        let (fix, rb) = create_btree("my schema", "Weird \"Name\"", &["user id".into()], false);
        assert_eq!(
            fix,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Weird \"\"Name\"\"_user id_idx\" ON \"my schema\".\"Weird \"\"Name\"\"\" (\"user id\");"
        );
        assert_eq!(
            rb,
            "DROP INDEX CONCURRENTLY IF EXISTS \"my schema\".\"Weird \"\"Name\"\"_user id_idx\";"
        );
        let long = index_name(&"t".repeat(60), &["é".repeat(10)]);
        assert!(long.len() <= 63 && long.ends_with("_idx"));
    }
}
