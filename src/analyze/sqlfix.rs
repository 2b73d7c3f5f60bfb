//! Fix and rollback SQL shared by the checks: identifiers quoted, CONCURRENTLY wherever
//! PostgreSQL allows it.

use std::borrow::Borrow;

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
        // pg_get_indexdef says `ON ONLY` for a partitioned table's index: built that way it
        // stays invalid with no partition index attached. Without ONLY it recurses.
        return format!("{};", def.replacen(" ON ONLY ", " ON ", 1));
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

/// PostgreSQL keeps at most this many bytes of an identifier.
pub const MAX_IDENT_BYTES: usize = 63;

/// A new index name `<table>_<col>_<col>_idx`; when longer than 63 bytes it is cut on a char
/// boundary and ends with `_<8 hex digits of a hash of schema, table and columns>_idx`, so two
/// long names that share their first 50 bytes still differ.
pub fn index_name<S: Borrow<str>>(schema: &str, table: &str, columns: &[S]) -> String {
    let base = format!("{}_{}_idx", table, columns.join("_"));
    fit_name(
        &base,
        &format!("{schema}\u{0}{table}\u{0}{}", columns.join("\u{0}")),
    )
}

/// `base` itself when it fits in 63 bytes, else its start plus `_<hash of seed>_idx`.
pub fn fit_name(base: &str, seed: &str) -> String {
    if base.len() <= MAX_IDENT_BYTES {
        return base.to_string();
    }
    shortened(base, seed)
}

/// `base` cut so that `_<8 hex>_idx` fits after it within 63 bytes.
pub fn shortened(base: &str, seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let stem = base.strip_suffix("_idx").unwrap_or(base);
    let mut cut = (MAX_IDENT_BYTES - hash.len() - 5).min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}_idx", &stem[..cut])
}

/// A name for a new index in a schema that is free: `wanted` when nobody uses it, else a
/// hashed variant that no relation in `taken` uses. The chosen name is added to `taken`.
pub fn free_name(
    wanted: &str,
    seed: &str,
    taken: &mut std::collections::HashSet<String>,
) -> String {
    let name = free_name_by(wanted, seed, |n| taken.contains(n));
    taken.insert(name.clone());
    name
}

/// [`free_name`] against any notion of taken; the caller records the name it keeps.
pub fn free_name_by(wanted: &str, seed: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = fit_name(wanted, seed);
    let mut round = 0u32;
    while taken(&name) {
        round += 1;
        name = shortened(wanted, &format!("{seed}\u{0}{round}"));
    }
    name
}

/// `CREATE INDEX CONCURRENTLY IF NOT EXISTS name ON s.t (cols);` and its rollback.
pub fn create_btree<S: Borrow<str>>(
    schema: &str,
    table: &str,
    columns: &[S],
    partitioned: bool,
) -> (String, String) {
    let name = index_name(schema, table, columns);
    let cols: Vec<String> = columns.iter().map(|c| quote_ident(c.borrow())).collect();
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

/// The rollback of a fix that leaves nothing to undo: a comment saying why, then a statement
/// that does nothing, so every rollback is a terminated script a migration tool can run.
pub fn nothing_to_undo(why: &str) -> String {
    format!("-- nothing to roll back: {why}\nSELECT 1;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weird_names_are_quoted_and_concurrent() {
        let (fix, rb) = create_btree("my schema", "Weird \"Name\"", &["user id"], false);
        assert_eq!(
            fix,
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"Weird \"\"Name\"\"_user id_idx\" ON \"my schema\".\"Weird \"\"Name\"\"\" (\"user id\");"
        );
        assert_eq!(
            rb,
            "DROP INDEX CONCURRENTLY IF EXISTS \"my schema\".\"Weird \"\"Name\"\"_user id_idx\";"
        );
        let long = index_name("public", &"t".repeat(60), &["é".repeat(10)]);
        assert!(long.len() <= 63 && long.ends_with("_idx"), "{long}");
    }

    #[test]
    fn long_names_differ_by_hash_and_avoid_taken_names() {
        let t = "t".repeat(50);
        let a = index_name("public", &t, &["customer_id"]);
        let b = index_name("public", &t, &["customer_region"]);
        assert!(a.len() <= 63 && b.len() <= 63, "{a} {b}");
        assert_ne!(a, b);
        let mut taken: std::collections::HashSet<String> = ["orders_id_idx".to_string()].into();
        let n = free_name("orders_id_idx", "s", &mut taken);
        assert_ne!(n, "orders_id_idx");
        assert!(n.starts_with("orders_id_") && n.ends_with("_idx") && n.len() <= 63);
        let m = free_name("orders_id_idx", "s", &mut taken);
        assert!(m != n && m != "orders_id_idx");
        // A short name that is free stays as asked.
        assert_eq!(free_name("x_idx", "s", &mut taken), "x_idx");
    }
}
