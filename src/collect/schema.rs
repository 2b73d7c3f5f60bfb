//! Schema collector: tables, indexes, foreign keys, sequences, column statistics and the server
//! settings the checks need, as plain numbers (sizes in bytes, counters as counts).

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use sqlx::postgres::PgRow;
use sqlx::PgPool;

use crate::collect::health::{FkDetail, IndexColumns};
use crate::collect::statements::tag;
use crate::collect::{decode, CollectError};

/// A user table (ordinary, partitioned or materialized view); the row of `doctor_tables.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TableInfo {
    pub oid: i64,
    pub schema: CompactString,
    pub name: CompactString,
    /// `r` table, `p` partitioned table, `m` materialized view.
    pub kind: CompactString,
    pub is_partition: bool,
    /// Planner row estimate (pg_class.reltuples; -1 when never vacuumed or analysed).
    pub reltuples: f64,
    pub relpages: i64,
    pub ncolumns: i32,
    /// Heap + TOAST: exact (with the free space and visibility maps) when `size_exact`, else
    /// relpages x block size as of the last VACUUM/ANALYZE.
    pub table_bytes: i64,
    pub toast_bytes: i64,
    #[serde(default)]
    #[sqlx(skip)]
    pub size_exact: bool,
    pub reloptions: Vec<String>,
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    pub n_tup_ins: i64,
    pub n_tup_upd: i64,
    pub n_tup_del: i64,
    pub n_tup_hot_upd: i64,
    pub n_live_tup: i64,
    pub n_dead_tup: i64,
    pub n_mod_since_analyze: i64,
    pub n_ins_since_vacuum: i64,
    pub last_vacuum: Option<DateTime<Utc>>,
    pub last_autovacuum: Option<DateTime<Utc>>,
    pub last_analyze: Option<DateTime<Utc>>,
    pub last_autoanalyze: Option<DateTime<Utc>>,
    pub vacuum_count: i64,
    pub autovacuum_count: i64,
    pub heap_blks_hit: i64,
    pub heap_blks_read: i64,
    /// Age of the oldest unfrozen transaction ID (table or its TOAST table); `None` for partitioned.
    pub xid_age: Option<i64>,
    pub mxid_age: Option<i64>,
}

/// An index of a user table, described from the catalog (not by parsing its definition); the row
/// of `doctor_indexes.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct IndexInfo {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: CompactString,
    #[sqlx(rename = "table_name")]
    pub table: CompactString,
    pub name: CompactString,
    /// Access method: btree, hash, gin, gist, brin, ...
    pub method: CompactString,
    pub is_unique: bool,
    pub is_primary: bool,
    pub is_exclusion: bool,
    pub is_valid: bool,
    pub is_ready: bool,
    /// Number of key columns (the rest are INCLUDE columns).
    pub key_count: i32,
    /// Table attribute numbers, key columns first; 0 marks an expression.
    #[sqlx(try_from = "Vec<i16>")]
    pub attnums: SmallVec<[i16; 8]>,
    /// Column names in the same order; `None` for an expression.
    #[sqlx(try_from = "Vec<Option<CompactString>>")]
    pub columns: SmallVec<[Option<CompactString>; 1]>,
    /// Whether each column (same order) is declared NOT NULL; false for an expression.
    #[serde(default)]
    #[sqlx(try_from = "Vec<bool>")]
    pub not_null: SmallVec<[bool; 16]>,
    #[sqlx(try_from = "Vec<i64>")]
    pub opclasses: SmallVec<[i64; 2]>,
    #[sqlx(try_from = "Vec<i64>")]
    pub collations: SmallVec<[i64; 2]>,
    /// Per-column flags (DESC, NULLS FIRST).
    #[sqlx(try_from = "Vec<i16>")]
    pub options: SmallVec<[i16; 8]>,
    pub expressions: Option<String>,
    pub predicate: Option<String>,
    pub definition: String,
    /// The PRIMARY KEY, UNIQUE or EXCLUDE constraint this index backs.
    pub constraint_name: Option<CompactString>,
    pub constraint_type: Option<CompactString>,
    /// A partition's index attached to an index of the partitioned parent (dropped with it).
    #[serde(default)]
    pub attached_to_parent: bool,
    /// The index belongs to a partitioned table (no CONCURRENTLY for it).
    #[serde(default)]
    pub on_partitioned_table: bool,
    pub bytes: i64,
    pub reltuples: f64,
    pub relpages: i64,
    pub reloptions: Vec<String>,
    pub idx_scan: i64,
    pub idx_tup_read: i64,
    pub idx_tup_fetch: i64,
    pub idx_blks_hit: i64,
    pub idx_blks_read: i64,
    /// PostgreSQL 16+: when the index was last scanned (read by its own query).
    #[serde(default)]
    #[sqlx(skip)]
    pub last_idx_scan: Option<DateTime<Utc>>,
}

impl IndexInfo {
    /// Key column attribute numbers (INCLUDE columns left out).
    pub fn key_attnums(&self) -> &[i16] {
        let n = (self.key_count.max(0) as usize).min(self.attnums.len());
        &self.attnums[..n]
    }

    /// The name of the column at `pos`; `None` for an expression or past the end.
    pub fn column_name(&self, pos: usize) -> Option<&str> {
        self.columns.get(pos)?.as_deref()
    }
}

/// A foreign key; the row of `doctor_foreign_keys.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ForeignKey {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: CompactString,
    #[sqlx(rename = "table_name")]
    pub table: CompactString,
    pub name: CompactString,
    #[sqlx(try_from = "Vec<i16>")]
    pub attnums: SmallVec<[i16; 8]>,
    #[sqlx(try_from = "Vec<CompactString>")]
    pub columns: SmallVec<[CompactString; 1]>,
    pub ref_schema: CompactString,
    pub ref_table: CompactString,
    pub validated: bool,
}

/// A column a sequence feeds (owned-by, identity or column default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FedColumn {
    pub schema: String,
    pub table: String,
    pub column: String,
    /// `smallint`, `integer`, `bigint`, `numeric`, ...
    pub data_type: String,
}

/// A sequence; the row of `doctor_sequences.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct SequenceInfo {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub min_value: i64,
    pub max_value: i64,
    pub increment: i64,
    pub cycle: bool,
    /// `None` when never called or when the role may not read it (see `readable`).
    pub last_value: Option<i64>,
    /// START WITH: the next value of a sequence never called (or reset by RESTART). Always
    /// read (`None` only in snapshot files written before it was): NULL is a decode error.
    #[serde(default)]
    #[sqlx(try_from = "i64")]
    pub start_value: Option<i64>,
    pub readable: bool,
    /// Sent as one JSON array.
    #[sqlx(json)]
    pub fed_columns: Vec<FedColumn>,
}

/// Null fraction and average width of one analysed column (from pg_stats); the row of
/// `doctor_column_stats.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ColumnStats {
    pub schema: CompactString,
    #[sqlx(rename = "table_name")]
    pub table: CompactString,
    #[sqlx(rename = "column_name")]
    pub column: CompactString,
    pub null_frac: f64,
    pub avg_width: i32,
}

/// Server settings the table and vacuum checks depend on; the row of `doctor_settings.sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct ServerSettings {
    pub block_size: i32,
    pub autovacuum: bool,
    pub autovacuum_vacuum_threshold: i64,
    pub autovacuum_vacuum_scale_factor: f64,
    pub autovacuum_freeze_max_age: i64,
    pub autovacuum_multixact_freeze_max_age: i64,
    pub superuser_reserved_connections: i32,
    pub track_counts: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            block_size: 8192,
            autovacuum: true,
            autovacuum_vacuum_threshold: 50,
            autovacuum_vacuum_scale_factor: 0.2,
            autovacuum_freeze_max_age: 200_000_000,
            autovacuum_multixact_freeze_max_age: 400_000_000,
            superuser_reserved_connections: 3,
            track_counts: true,
        }
    }
}

/// Everything the schema collector read. Parts that failed are `None`/empty and listed in
/// `Snapshot::skipped`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaSnapshot {
    /// The `--schema` filter in force when collected (empty: every non-system schema).
    #[serde(default)]
    pub schema_filter: Vec<String>,
    pub settings: Option<ServerSettings>,
    pub tables: Option<Vec<TableInfo>>,
    pub indexes: Option<Vec<IndexInfo>>,
    pub foreign_keys: Option<Vec<ForeignKey>>,
    pub sequences: Option<Vec<SequenceInfo>>,
    pub column_stats: Option<Vec<ColumnStats>>,
    /// Every relation name (tables, indexes, sequences, views, ...) per schema, so generated
    /// index names never collide with one.
    #[serde(default)]
    pub relation_names: Option<Vec<RelationName>>,
    /// Read-only data checks a fix depends on (duplicate keys, NULLs in key columns).
    #[serde(default)]
    pub fix_checks: Option<crate::collect::fixcheck::FixChecks>,
}

/// One relation's schema and name; the row of `doctor_relation_names.sql`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct RelationName {
    pub schema: CompactString,
    pub name: CompactString,
}

const Q_RELATION_NAMES: &str = include_str!("../sql/doctor_relation_names.sql");

pub async fn relation_names(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<RelationName>, CollectError> {
    fetch_decoded(pool, "doctor_relation_names", Q_RELATION_NAMES, schemas).await
}

const Q_TABLES: &str = include_str!("../sql/doctor_tables.sql");
const Q_INDEXES: &str = include_str!("../sql/doctor_indexes.sql");
const Q_INDEX_LAST_SCAN_16: &str = include_str!("../sql/doctor_index_last_scan_16.sql");
const Q_FOREIGN_KEYS: &str = include_str!("../sql/doctor_foreign_keys.sql");
const Q_SEQUENCES: &str = include_str!("../sql/doctor_sequences.sql");
const Q_COLUMN_STATS: &str = include_str!("../sql/doctor_column_stats.sql");
const Q_COLUMN_STATS_SUPERUSER: &str = include_str!("../sql/doctor_column_stats_superuser.sql");
const Q_SETTINGS: &str = include_str!("../sql/doctor_settings.sql");
const Q_TABLE_SIZES: &str = include_str!("../sql/doctor_table_sizes.sql");
const Q_INDEX_SIZES: &str = include_str!("../sql/doctor_index_sizes.sql");

/// The row of `doctor_index_sizes.sql`.
#[derive(sqlx::FromRow)]
struct IndexSize {
    oid: i64,
    bytes: i64,
}

/// The row of `doctor_table_sizes.sql`.
#[derive(sqlx::FromRow)]
struct TableSize {
    oid: i64,
    table_bytes: i64,
    toast_bytes: i64,
}

/// The row of `doctor_index_last_scan_16.sql`.
#[derive(sqlx::FromRow)]
struct IndexLastScan {
    oid: i64,
    last_idx_scan: Option<DateTime<Utc>>,
}

/// How many of the largest tables (by estimate) get an exact size.
pub const EXACT_SIZE_TABLES: usize = 50;

/// Replace the estimates of the largest tables by exact sizes. Fails (leaving the estimates)
/// when one of them is locked by another session beyond our lock_timeout.
pub async fn exact_table_sizes(
    pool: &PgPool,
    tables: &mut [TableInfo],
) -> Result<(), CollectError> {
    let order = largest(
        EXACT_SIZE_TABLES,
        tables.len(),
        |i| tables[i].kind != "p",
        |i| tables[i].table_bytes,
    );
    if order.is_empty() {
        return Ok(());
    }
    let oids: Vec<i64> = order.iter().map(|&i| tables[i].oid).collect();
    let sizes: std::collections::HashMap<i64, TableSize> =
        exact_sizes::<TableSize>(pool, "doctor_table_sizes", Q_TABLE_SIZES, &oids)
            .await?
            .into_iter()
            .map(|s| (s.oid, s))
            .collect();
    for &i in &order {
        if let Some(size) = sizes.get(&tables[i].oid) {
            tables[i].table_bytes = size.table_bytes;
            tables[i].toast_bytes = size.toast_bytes;
            tables[i].size_exact = true;
        }
    }
    Ok(())
}

fn schemas_param(schemas: &[String]) -> Option<Vec<String>> {
    if schemas.is_empty() {
        None
    } else {
        Some(schemas.to_vec())
    }
}

/// Run a catalog query and hand each row to `each` as it arrives, so the raw rows of a large
/// catalog are never all held at once next to their decoded form.
async fn for_each_row(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    schemas: &[String],
    mut each: impl FnMut(&PgRow) -> Result<(), CollectError>,
) -> Result<(), CollectError> {
    use futures_util::TryStreamExt;
    let sql = tag(sql);
    let mut rows = sqlx::query(&sql).bind(schemas_param(schemas)).fetch(pool);
    while let Some(r) = rows
        .try_next()
        .await
        .map_err(|e| CollectError::query(name, e))?
    {
        each(&r)?;
    }
    Ok(())
}

/// Run a catalog query and decode each row into its row struct as it arrives.
pub(crate) async fn fetch_decoded<T>(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    schemas: &[String],
) -> Result<Vec<T>, CollectError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow>,
{
    let mut out = Vec::new();
    for_each_row(pool, name, sql, schemas, |r| {
        out.push(decode(name, r)?);
        Ok(())
    })
    .await?;
    // A vector grown by doubling holds up to twice its rows: give the slack back.
    out.shrink_to_fit();
    Ok(out)
}

/// `fetch_decoded` for a query whose row gives two structs (each reads its own columns).
async fn fetch_decoded_pair<A, B>(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    schemas: &[String],
) -> Result<(Vec<A>, Vec<B>), CollectError>
where
    A: for<'r> sqlx::FromRow<'r, PgRow>,
    B: for<'r> sqlx::FromRow<'r, PgRow>,
{
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for_each_row(pool, name, sql, schemas, |r| {
        a.push(decode(name, r)?);
        b.push(decode(name, r)?);
        Ok(())
    })
    .await?;
    a.shrink_to_fit();
    b.shrink_to_fit();
    Ok((a, b))
}

/// Schema, table and name order, byte-wise (what ORDER BY on `name` columns gives).
fn by_name<T>(v: &mut [T], key: impl Fn(&T) -> (&str, &str, &str)) {
    v.sort_by(|x, y| key(x).cmp(&key(y)));
}

/// Exact sizes for the given oids, decoded by `T` (`doctor_table_sizes` or
/// `doctor_index_sizes`).
async fn exact_sizes<T>(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    oids: &[i64],
) -> Result<Vec<T>, CollectError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow>,
{
    let rows = sqlx::query(&tag(sql))
        .bind(oids)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query(name, e))?;
    rows.iter().map(|r| decode(name, r)).collect()
}

/// The positions of the `n` largest by `bytes` among those `keep` admits.
fn largest(
    n: usize,
    len: usize,
    keep: impl Fn(usize) -> bool,
    bytes: impl Fn(usize) -> i64,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).filter(|&i| keep(i)).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(bytes(i)));
    order.truncate(n);
    order
}

pub async fn settings(pool: &PgPool) -> Result<ServerSettings, CollectError> {
    const N: &str = "doctor_settings";
    let r = sqlx::query(&tag(Q_SETTINGS))
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query(N, e))?;
    decode(N, &r)
}

pub async fn tables(pool: &PgPool, schemas: &[String]) -> Result<Vec<TableInfo>, CollectError> {
    fetch_decoded(pool, "doctor_tables", Q_TABLES, schemas).await
}

/// Indexes with their key columns' facts (one row of `doctor_indexes.sql` gives both), sorted by
/// schema, table and name; on PostgreSQL 16+ with the last scan time.
pub async fn indexes(
    pool: &PgPool,
    schemas: &[String],
    server_version_num: i32,
) -> Result<(Vec<IndexInfo>, Vec<IndexColumns>), CollectError> {
    let (mut out, mut cols): (Vec<IndexInfo>, Vec<IndexColumns>) =
        fetch_decoded_pair(pool, "doctor_indexes", Q_INDEXES, schemas).await?;
    by_name(&mut out, |i| (&i.schema, &i.table, &i.name));
    cols.sort_by_key(|c| c.oid);
    if server_version_num >= 160000 {
        const N16: &str = "doctor_index_last_scan_16";
        let scans: Vec<IndexLastScan> =
            fetch_decoded(pool, N16, Q_INDEX_LAST_SCAN_16, schemas).await?;
        let last: std::collections::HashMap<i64, Option<DateTime<Utc>>> = scans
            .into_iter()
            .map(|s| (s.oid, s.last_idx_scan))
            .collect();
        for ix in &mut out {
            ix.last_idx_scan = last.get(&ix.oid).copied().flatten();
        }
    }
    Ok((out, cols))
}

/// How many of the largest indexes (by estimate) get an exact size.
pub const EXACT_SIZE_INDEXES: usize = 200;

/// Replace the relpages estimates of the largest indexes by exact sizes. Fails (leaving the
/// estimates) when one of them is locked by another session beyond our lock_timeout.
pub async fn exact_index_sizes(
    pool: &PgPool,
    indexes: &mut [IndexInfo],
) -> Result<(), CollectError> {
    let order = largest(
        EXACT_SIZE_INDEXES,
        indexes.len(),
        |i| indexes[i].relpages > 0,
        |i| indexes[i].bytes,
    );
    if order.is_empty() {
        return Ok(());
    }
    let oids: Vec<i64> = order.iter().map(|&i| indexes[i].oid).collect();
    let sizes: std::collections::HashMap<i64, i64> =
        exact_sizes::<IndexSize>(pool, "doctor_index_sizes", Q_INDEX_SIZES, &oids)
            .await?
            .into_iter()
            .map(|s| (s.oid, s.bytes))
            .collect();
    for &i in &order {
        if let Some(&bytes) = sizes.get(&indexes[i].oid) {
            indexes[i].bytes = bytes;
        }
    }
    Ok(())
}

/// Foreign keys, for fk_without_index and (with both sides' columns and types) the health
/// checks: one row of `doctor_foreign_keys.sql` gives both, sorted by schema, table and name.
pub async fn foreign_keys(
    pool: &PgPool,
    schemas: &[String],
) -> Result<(Vec<ForeignKey>, Vec<FkDetail>), CollectError> {
    let (mut keys, mut details): (Vec<ForeignKey>, Vec<FkDetail>) =
        fetch_decoded_pair(pool, "doctor_foreign_keys", Q_FOREIGN_KEYS, schemas).await?;
    by_name(&mut keys, |k| (&k.schema, &k.table, &k.name));
    by_name(&mut details, |k| (&k.schema, &k.table, &k.name));
    Ok((keys, details))
}

pub async fn sequences(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<SequenceInfo>, CollectError> {
    fetch_decoded(pool, "doctor_sequences", Q_SEQUENCES, schemas).await
}

/// Null fraction and width of every analysed column; a superuser's come from pg_statistic
/// directly (the same rows as pg_stats, at half the cost on a large catalog).
pub async fn column_stats(
    pool: &PgPool,
    schemas: &[String],
    superuser: bool,
) -> Result<Vec<ColumnStats>, CollectError> {
    let (name, sql) = if superuser {
        ("doctor_column_stats_superuser", Q_COLUMN_STATS_SUPERUSER)
    } else {
        ("doctor_column_stats", Q_COLUMN_STATS)
    };
    fetch_decoded(pool, name, sql, schemas).await
}
