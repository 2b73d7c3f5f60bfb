//! Facts about indexes that several index checks share: names, what an index enforces, which
//! foreign keys it serves, which indexes are identical or cover one another, and leftovers of
//! failed concurrent builds. Pure functions over the snapshot's index list.

use crate::analyze::{Finding, Priority, Severity};
use crate::checks::CheckId;
use std::collections::{HashMap, HashSet};

use crate::collect::health::IndexColumns;
use crate::collect::schema::{ForeignKey, IndexInfo};
use crate::snapshot::Snapshot;
use crate::util::qualified;

/// An index this big is worth acting on soon.
pub const BIG_INDEX_BYTES: i64 = 100 * 1024 * 1024;

/// The index's schema-qualified name.
pub fn obj(ix: &IndexInfo) -> String {
    qualified(&ix.schema, &ix.name)
}

/// The index's table, schema-qualified.
pub fn table_of(ix: &IndexInfo) -> String {
    qualified(&ix.schema, &ix.table)
}

/// A finding about index `ix`: its object the index, its table the index's table.
pub fn index_finding(
    id: CheckId,
    severity: Severity,
    priority: Priority,
    ix: &IndexInfo,
    message: String,
) -> Finding {
    Finding::new(id, severity, priority, obj(ix), message).table(table_of(ix))
}

/// Backs a PRIMARY KEY, UNIQUE or EXCLUDE constraint, or enforces uniqueness itself.
pub fn enforces_something(ix: &IndexInfo) -> bool {
    ix.is_primary || ix.is_unique || ix.is_exclusion || ix.constraint_name.is_some()
}

/// The foreign keys of this index's table whose columns this index's leading key columns cover
/// (in any order), so the index serves the FK's lookups.
pub fn supported_fks<'a>(ix: &IndexInfo, fks: &'a [ForeignKey]) -> Vec<&'a ForeignKey> {
    fks.iter()
        .filter(|fk| fk.table_oid == ix.table_oid && index_covers_fk(ix, fk))
        .collect()
}

/// The index's first key columns are the foreign key's columns (as a set), and it can serve
/// the key's lookups (valid, not partial, btree or single-column hash).
pub fn index_covers_fk(ix: &IndexInfo, fk: &ForeignKey) -> bool {
    if !ix.is_valid || ix.predicate.is_some() {
        return false;
    }
    let n = fk.attnums.len();
    let keys = ix.key_attnums();
    let usable_method = ix.method == "btree" || (ix.method == "hash" && n == 1);
    if !usable_method || keys.len() < n {
        return false;
    }
    let mut lead: Vec<i16> = keys[..n].to_vec();
    let mut want: Vec<i16> = fk.attnums.to_vec();
    lead.sort_unstable();
    want.sort_unstable();
    lead == want
}

/// Everything that makes two indexes interchangeable, uniqueness aside.
type DefKey<'a> = (
    i64,
    &'a str,
    &'a [i16],
    i32,
    &'a [i64],
    &'a [i64],
    &'a [i16],
    Option<&'a str>,
    Option<&'a str>,
);

fn def_key(ix: &IndexInfo) -> DefKey<'_> {
    (
        ix.table_oid,
        ix.method.as_str(),
        ix.attnums.as_slice(),
        ix.key_count,
        ix.opclasses.as_slice(),
        ix.collations.as_slice(),
        ix.options.as_slice(),
        ix.expressions.as_deref(),
        ix.predicate.as_deref(),
    )
}

/// `a`'s btree keys are a strict left prefix of btree `b`'s, with the same operator classes,
/// collations, order, expressions and predicate (`a` has no INCLUDE columns).
pub fn left_prefix_of(a: &IndexInfo, b: &IndexInfo) -> bool {
    let ak = a.key_attnums();
    let bk = b.key_attnums();
    a.method == "btree"
        && b.method == "btree"
        && a.key_count as usize == a.attnums.len()
        && bk.len() > ak.len()
        && bk[..ak.len()] == *ak
        && b.opclasses.get(..ak.len()) == a.opclasses.get(..ak.len())
        && b.collations.get(..ak.len()) == a.collations.get(..ak.len())
        && b.options.get(..ak.len()) == a.options.get(..ak.len())
        && b.expressions == a.expressions
        && b.predicate == a.predicate
}

/// `b` answers every query `a` answers and enforces whatever `a` enforces: it is identical to
/// `a` (uniqueness aside, unless `a` is unique), or `a`'s btree keys are a left prefix of `b`'s
/// with the same operator classes, collations, order, expressions and predicate.
pub fn covers(b: &IndexInfo, a: &IndexInfo) -> bool {
    if b.oid == a.oid || b.table_oid != a.table_oid || !b.is_valid {
        return false;
    }
    if def_key(a) == def_key(b) {
        return b.is_unique || !a.is_unique;
    }
    !a.is_unique && left_prefix_of(a, b)
}

/// Which of two identical indexes to keep: the constraint's, then a unique one, then the more
/// used, then the older.
fn keep_rank(ix: &IndexInfo) -> (bool, bool, bool, i64, i64) {
    (
        ix.constraint_name.is_some() || ix.is_primary,
        ix.is_unique,
        ix.is_exclusion,
        ix.idx_scan,
        -ix.oid,
    )
}

/// Groups of identical indexes, the one to keep first.
pub fn duplicate_groups(indexes: &[IndexInfo]) -> Vec<Vec<&IndexInfo>> {
    // Sorted by definition, identical indexes sit side by side: no hashing of 30,000 keys.
    let mut keyed: Vec<(DefKey, &IndexInfo)> = indexes
        .iter()
        .filter(|i| i.is_valid && !i.attached_to_parent)
        .map(|i| (def_key(i), i))
        .collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut groups: Vec<Vec<&IndexInfo>> = keyed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|g| g.len() > 1)
        .map(|g| g.iter().map(|(_, i)| *i).collect())
        .collect();
    groups.sort_by_key(|g| g.iter().map(|i| i.oid).min());
    for g in &mut groups {
        g.sort_by_key(|b| std::cmp::Reverse(keep_rank(b)));
    }
    groups
}

/// The oids of the indexes that `duplicate_index` reports (every group member but the kept
/// one): other checks leave those to it.
pub fn duplicate_copies(indexes: &[IndexInfo]) -> HashSet<i64> {
    duplicate_groups(indexes)
        .iter()
        .flat_map(|g| g[1..].iter().map(|i| i.oid))
        .collect()
}

/// The original when `ix` is the leftover of a failed `REINDEX CONCURRENTLY` or
/// `CREATE INDEX CONCURRENTLY` rebuild (`<name>_ccnew[N]`, `<name>_ccold[N]`): an invalid index
/// with that suffix whose table holds another index of the same columns, expressions and
/// predicate.
pub fn leftover_of<'a>(ix: &IndexInfo, indexes: &'a [IndexInfo]) -> Option<&'a IndexInfo> {
    if ix.is_valid {
        return None;
    }
    let stem = ix.name.trim_end_matches(|c: char| c.is_ascii_digit());
    let base = stem
        .strip_suffix("_ccnew")
        .or_else(|| stem.strip_suffix("_ccold"))?;
    indexes.iter().find(|o| {
        o.oid != ix.oid
            && o.table_oid == ix.table_oid
            && o.attnums == ix.attnums
            && o.expressions == ix.expressions
            && o.predicate == ix.predicate
            && o.method == ix.method
            // PostgreSQL cuts a long name before adding the suffix.
            && (o.name == base || o.name.starts_with(base))
    })
}

/// An invalid unique index (not a leftover) whose rebuild fails if the table holds duplicate
/// keys: the collector counts them before doctor proposes a rebuild.
pub fn needs_duplicate_check(ix: &IndexInfo, indexes: &[IndexInfo]) -> bool {
    !ix.is_valid && ix.is_unique && !ix.on_partitioned_table && leftover_of(ix, indexes).is_none()
}

/// The missing-part test for checks that read indexes and their key column facts.
pub fn needs_index_columns(s: &Snapshot) -> Option<&'static str> {
    if let Some(part) = super::predates_health(s) {
        Some(part)
    } else if s.schema.indexes.is_none() {
        Some("indexes")
    } else if s.health.index_columns.is_none() {
        Some("index_columns")
    } else {
        None
    }
}

/// Each index with its key column facts (indexes without facts are left out).
pub fn indexes_with_columns(s: &Snapshot) -> Vec<(&IndexInfo, &IndexColumns)> {
    let facts: HashMap<i64, &IndexColumns> = s
        .health
        .index_columns
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|c| (c.oid, c))
        .collect();
    s.schema
        .indexes
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter_map(|ix| facts.get(&ix.oid).map(|c| (ix, *c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testdata::index_json;

    fn ix(oid: i64, name: &str, cols: &[(i16, &str)]) -> IndexInfo {
        serde_json::from_value(index_json(oid, 1, "public", "t", name, cols)).unwrap()
    }

    #[test]
    fn identical_indexes_group_with_the_constraint_first() {
        let a = ix(1, "a", &[(1, "x")]);
        let mut b = ix(2, "b", &[(1, "x")]);
        b.constraint_name = Some("b".into());
        let c = ix(3, "c", &[(2, "y")]);
        let all = [a, b, c];
        let g = duplicate_groups(&all);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0][0].oid, 2);
        assert_eq!(duplicate_copies(&all), HashSet::from([1]));
    }

    #[test]
    fn a_left_prefix_is_covered_but_not_the_reverse() {
        let a = ix(1, "a", &[(1, "x")]);
        let b = ix(2, "b", &[(1, "x"), (2, "y")]);
        assert!(covers(&b, &a));
        assert!(!covers(&a, &b));
        let mut unique = a.clone();
        unique.is_unique = true;
        assert!(
            !covers(&b, &unique),
            "a wider index does not enforce uniqueness"
        );
    }

    #[test]
    fn leftovers_of_concurrent_builds_are_recognised() {
        let orig = ix(1, "t_x_idx", &[(1, "x")]);
        let mut left = ix(2, "t_x_idx_ccnew1", &[(1, "x")]);
        left.is_valid = false;
        let all = [orig, left.clone()];
        assert_eq!(leftover_of(&left, &all).map(|o| o.oid), Some(1));
        let mut other = ix(3, "t_y_idx_ccnew", &[(2, "y")]);
        other.is_valid = false;
        assert!(leftover_of(&other, &all).is_none());
    }
}
