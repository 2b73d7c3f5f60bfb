//! Table and btree index bloat estimates from pg_stats widths and null fractions (the
//! ioguix/jberkus method most tools use), computed here instead of in SQL so pg_stats is read once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::collect::schema::{ColumnStats, IndexInfo, TableInfo};

/// Page header, btree special space, heap tuple header, index tuple header, alignment (bytes).
const PAGE_HEADER: f64 = 24.0;
const BTREE_SPECIAL: f64 = 16.0;
const HEAP_TUPLE_HEADER: f64 = 23.0;
const INDEX_TUPLE_HEADER: f64 = 8.0;
const ITEM_POINTER: f64 = 4.0;
const MAXALIGN: f64 = 8.0;
/// Heap tables default to fillfactor 100, btree indexes to 90.
const HEAP_FILLFACTOR: f64 = 100.0;
const BTREE_FILLFACTOR: f64 = 90.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BloatEstimate {
    pub actual_bytes: i64,
    pub expected_bytes: i64,
    pub bloat_bytes: i64,
    pub bloat_pct: f64,
}

/// Column statistics keyed by (schema, table, column).
pub struct ColumnIndex<'a> {
    by_table: HashMap<&'a str, HashMap<&'a str, Vec<&'a ColumnStats>>>,
}

impl<'a> ColumnIndex<'a> {
    pub fn new(cols: &'a [ColumnStats]) -> Self {
        let mut by_table: HashMap<&str, HashMap<&str, Vec<&ColumnStats>>> = HashMap::new();
        for c in cols {
            by_table
                .entry(c.schema.as_str())
                .or_default()
                .entry(c.table.as_str())
                .or_default()
                .push(c);
        }
        ColumnIndex { by_table }
    }

    fn table(&self, schema: &str, table: &str) -> &[&'a ColumnStats] {
        self.by_table
            .get(schema)
            .and_then(|t| t.get(table))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }
}

fn align(x: f64) -> f64 {
    (x / MAXALIGN).ceil() * MAXALIGN
}

fn fillfactor(reloptions: &[String], default: f64) -> f64 {
    reloptions
        .iter()
        .find_map(|o| o.strip_prefix("fillfactor="))
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0 && *v <= 100.0)
        .unwrap_or(default)
}

fn estimate(relpages: i64, expected_pages: f64, block_size: f64) -> BloatEstimate {
    let expected_pages = expected_pages.max(1.0).min(relpages as f64);
    let bloat_pages = relpages as f64 - expected_pages;
    BloatEstimate {
        actual_bytes: (relpages as f64 * block_size) as i64,
        expected_bytes: (expected_pages * block_size) as i64,
        bloat_bytes: (bloat_pages * block_size) as i64,
        bloat_pct: if relpages > 0 {
            bloat_pages / relpages as f64 * 100.0
        } else {
            0.0
        },
    }
}

/// The server's block size (8 kB when the settings were not read).
pub fn block_size(snap: &crate::snapshot::Snapshot) -> i32 {
    snap.schema.settings.as_ref().map_or(8192, |s| s.block_size)
}

/// Heap bloat; `None` when the table is tiny, never analysed, or some columns have no stats.
pub fn table(t: &TableInfo, cols: &ColumnIndex, block_size: i32) -> Option<BloatEstimate> {
    if !(t.kind == "r" || t.kind == "m") || t.relpages < 10 || t.reltuples < 0.0 {
        return None;
    }
    let stats = cols.table(&t.schema, &t.name);
    if stats.is_empty() || stats.len() < t.ncolumns.max(0) as usize {
        return None;
    }
    let bs = f64::from(block_size);
    let has_nulls = stats.iter().any(|c| c.null_frac > 0.0);
    let header = HEAP_TUPLE_HEADER
        + if has_nulls {
            ((t.ncolumns as f64) / 8.0).ceil()
        } else {
            0.0
        };
    let data: f64 = stats
        .iter()
        .map(|c| (1.0 - c.null_frac) * f64::from(c.avg_width))
        .sum();
    let tuple = ITEM_POINTER + align(header) + align(data);
    let ff = fillfactor(&t.reloptions, HEAP_FILLFACTOR);
    let per_page = ((bs - PAGE_HEADER) * ff / 100.0 / tuple).floor().max(1.0);
    let expected = (t.reltuples / per_page).ceil();
    Some(estimate(t.relpages, expected, bs))
}

/// Btree index bloat; `None` for other methods, expression indexes, tiny or unanalysed indexes.
pub fn index(ix: &IndexInfo, cols: &ColumnIndex, block_size: i32) -> Option<BloatEstimate> {
    if ix.method != "btree" || ix.relpages < 10 || ix.reltuples < 0.0 || ix.expressions.is_some() {
        return None;
    }
    let stats = cols.table(&ix.schema, &ix.table);
    let mut data = 0.0;
    let mut has_nulls = false;
    for name in &ix.columns {
        let name = name.as_deref()?;
        let c = stats.iter().find(|c| c.column == name)?;
        data += (1.0 - c.null_frac) * f64::from(c.avg_width);
        has_nulls |= c.null_frac > 0.0;
    }
    let bs = f64::from(block_size);
    let header = INDEX_TUPLE_HEADER + if has_nulls { 4.0 } else { 0.0 };
    let tuple = ITEM_POINTER + align(header + data);
    let ff = fillfactor(&ix.reloptions, BTREE_FILLFACTOR);
    let usable = (bs - PAGE_HEADER - BTREE_SPECIAL) * ff / 100.0;
    // One metapage, plus the leaf pages (upper levels are a rounding error at this precision).
    let expected = (ix.reltuples * tuple / usable).ceil() + 1.0;
    Some(estimate(ix.relpages, expected, bs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(t: &str, c: &str, w: i32, nf: f64) -> ColumnStats {
        ColumnStats {
            schema: "public".into(),
            table: t.into(),
            column: c.into(),
            null_frac: nf,
            avg_width: w,
        }
    }

    #[test]
    fn tight_table_has_little_bloat_and_a_sparse_one_has_much() {
        let cols = vec![col("t", "id", 4, 0.0), col("t", "pad", 36, 0.0)];
        let idx = ColumnIndex::new(&cols);
        let mut t: TableInfo =
            serde_json::from_value(crate::analyze::testdata::table_json("t")).unwrap();
        t.ncolumns = 2;
        // 4 + 24 + 40 = 68 bytes per row -> 120 rows per 8 kB page.
        t.reltuples = 120_000.0;
        t.relpages = 1000;
        let e = table(&t, &idx, 8192).unwrap();
        assert!(e.bloat_pct < 5.0, "{e:?}");
        t.relpages = 4000;
        let e = table(&t, &idx, 8192).unwrap();
        assert!((e.bloat_pct - 75.0).abs() < 2.0, "{e:?}");
        // A column without statistics: no estimate rather than a wrong one.
        t.ncolumns = 3;
        assert!(table(&t, &idx, 8192).is_none());
    }
}
