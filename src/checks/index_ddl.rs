//! DDL text for existing indexes that several checks propose: build a copy without blocking
//! writes, drop one, rename it, derive a name that fits PostgreSQL's limit.

use crate::collect::schema::IndexInfo;

/// `CREATE INDEX` text of an existing index, built without blocking writes where possible (a
/// partitioned table's index is built without `ONLY`, so it recurses and ends up valid).
pub use crate::analyze::sqlfix::create_index as create_concurrently;

/// `DROP INDEX` of an existing index, without blocking reads and writes where possible.
pub use crate::analyze::sqlfix::drop_index;

/// An index is never advised away when it backs a constraint or is not a plain, valid index
/// of a table (drops stay conservative).
pub fn droppable(ix: &IndexInfo) -> bool {
    ix.is_valid
        && ix.is_ready
        && !ix.is_primary
        && !ix.is_exclusion
        && ix.constraint_name.is_none()
        && !ix.attached_to_parent
}

/// The index's definition with another name (`None` when the name cannot be found in it).
pub fn renamed_definition(ix: &IndexInfo, new_name: &str) -> Option<String> {
    let old = format!(" {} ON ", crate::util::quote_ident(&ix.name));
    let p = ix.definition.find(&old)?;
    Some(format!(
        "{} {} ON {}",
        &ix.definition[..p],
        crate::util::quote_ident(new_name),
        &ix.definition[p + old.len()..]
    ))
}

/// `name` with `suffix`, cut to PostgreSQL's 63-byte identifier limit on a char boundary.
pub fn derived_name(name: &str, suffix: &str) -> String {
    let mut cut = 63usize.saturating_sub(suffix.len()).min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &name[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_fit_postgres() {
        let long = "x".repeat(70);
        assert_eq!(derived_name(&long, "_not_null").len(), 63);
        assert_eq!(derived_name("ix", "_not_null"), "ix_not_null");
    }

    fn index(definition: &str, partitioned: bool) -> IndexInfo {
        let mut v =
            crate::analyze::testdata::index_json(1, 2, "public", "t", "t_a_idx", &[(1, "a")]);
        v["definition"] = definition.into();
        v["on_partitioned_table"] = partitioned.into();
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn copies_build_concurrently_and_partitioned_ones_recurse() {
        let plain = index("CREATE INDEX t_a_idx ON public.t USING btree (a)", false);
        assert_eq!(
            create_concurrently(&plain),
            "CREATE INDEX CONCURRENTLY t_a_idx ON public.t USING btree (a);"
        );
        // pg_get_indexdef says ON ONLY for a partitioned table: built that way the copy would
        // stay invalid until every partition's index is attached.
        let parted = index(
            "CREATE INDEX t_a_idx ON ONLY public.t USING btree (a)",
            true,
        );
        assert_eq!(
            create_concurrently(&parted),
            "CREATE INDEX t_a_idx ON public.t USING btree (a);"
        );
    }
}
