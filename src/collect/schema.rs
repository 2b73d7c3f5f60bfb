//! Schema collector: tables, indexes, foreign keys, sequences, column statistics and the server
//! settings the checks need, as plain numbers (sizes in bytes, counters as counts).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::collect::statements::tag;
use crate::collect::CollectError;

/// A user table (ordinary, partitioned or materialized view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    pub oid: i64,
    pub schema: String,
    pub name: String,
    /// `r` table, `p` partitioned table, `m` materialized view.
    pub kind: String,
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

/// An index of a user table, described from the catalog (not by parsing its definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexInfo {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: String,
    pub table: String,
    pub name: String,
    /// Access method: btree, hash, gin, gist, brin, ...
    pub method: String,
    pub is_unique: bool,
    pub is_primary: bool,
    pub is_exclusion: bool,
    pub is_valid: bool,
    pub is_ready: bool,
    /// Number of key columns (the rest are INCLUDE columns).
    pub key_count: i32,
    /// Table attribute numbers, key columns first; 0 marks an expression.
    pub attnums: Vec<i16>,
    /// Column names in the same order; `None` for an expression.
    pub columns: Vec<Option<String>>,
    /// Whether each column (same order) is declared NOT NULL; false for an expression.
    #[serde(default)]
    pub not_null: Vec<bool>,
    pub opclasses: Vec<i64>,
    pub collations: Vec<i64>,
    /// Per-column flags (DESC, NULLS FIRST).
    pub options: Vec<i16>,
    pub expressions: Option<String>,
    pub predicate: Option<String>,
    pub definition: String,
    /// The PRIMARY KEY, UNIQUE or EXCLUDE constraint this index backs.
    pub constraint_name: Option<String>,
    pub constraint_type: Option<String>,
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
    /// PostgreSQL 16+: when the index was last scanned.
    #[serde(default)]
    pub last_idx_scan: Option<DateTime<Utc>>,
}

impl IndexInfo {
    /// Key column attribute numbers (INCLUDE columns left out).
    pub fn key_attnums(&self) -> &[i16] {
        let n = (self.key_count.max(0) as usize).min(self.attnums.len());
        &self.attnums[..n]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: String,
    pub table: String,
    pub name: String,
    pub attnums: Vec<i16>,
    pub columns: Vec<String>,
    pub ref_schema: String,
    pub ref_table: String,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// START WITH: the next value of a sequence never called (or reset by RESTART).
    #[serde(default)]
    pub start_value: Option<i64>,
    pub readable: bool,
    pub fed_columns: Vec<FedColumn>,
}

/// Null fraction and average width of one analysed column (from pg_stats).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    pub schema: String,
    pub table: String,
    pub column: String,
    pub null_frac: f64,
    pub avg_width: i32,
}

/// Server settings the table and vacuum checks depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// One relation's schema and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationName {
    pub schema: String,
    pub name: String,
}

const Q_RELATION_NAMES: &str = include_str!("../sql/doctor_relation_names.sql");

pub async fn relation_names(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<RelationName>, CollectError> {
    const N: &str = "doctor_relation_names";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_RELATION_NAMES, schemas, |r| {
        Ok(RelationName {
            schema: r.try_get("schema").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
        })
    })
    .await
}

const Q_TABLES: &str = include_str!("../sql/doctor_tables.sql");
const Q_INDEXES: &str = include_str!("../sql/doctor_indexes.sql");
const Q_INDEX_LAST_SCAN_16: &str = include_str!("../sql/doctor_index_last_scan_16.sql");
const Q_FOREIGN_KEYS: &str = include_str!("../sql/doctor_foreign_keys.sql");
const Q_SEQUENCES: &str = include_str!("../sql/doctor_sequences.sql");
const Q_COLUMN_STATS: &str = include_str!("../sql/doctor_column_stats.sql");
const Q_SETTINGS: &str = include_str!("../sql/doctor_settings.sql");
const Q_TABLE_SIZES: &str = include_str!("../sql/doctor_table_sizes.sql");

/// How many of the largest tables (by estimate) get an exact size.
pub const EXACT_SIZE_TABLES: usize = 50;

/// Replace the estimates of the largest tables by exact sizes. Fails (leaving the estimates)
/// when one of them is locked by another session beyond our lock_timeout.
pub async fn exact_table_sizes(
    pool: &PgPool,
    tables: &mut [TableInfo],
) -> Result<(), CollectError> {
    const N: &str = "doctor_table_sizes";
    let mut order: Vec<usize> = (0..tables.len())
        .filter(|&i| tables[i].kind != "p")
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tables[i].table_bytes));
    order.truncate(EXACT_SIZE_TABLES);
    if order.is_empty() {
        return Ok(());
    }
    let oids: Vec<i64> = order.iter().map(|&i| tables[i].oid).collect();
    let rows = sqlx::query(&tag(Q_TABLE_SIZES))
        .bind(&oids)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query(N, e))?;
    let d = |e| CollectError::decode(N, e);
    let mut sizes = std::collections::HashMap::with_capacity(rows.len());
    for r in &rows {
        let oid: i64 = r.try_get("oid").map_err(d)?;
        let tb: i64 = r.try_get("table_bytes").map_err(d)?;
        let toast: i64 = r.try_get("toast_bytes").map_err(d)?;
        sizes.insert(oid, (tb, toast));
    }
    for &i in &order {
        if let Some((tb, toast)) = sizes.get(&tables[i].oid) {
            tables[i].table_bytes = *tb;
            tables[i].toast_bytes = *toast;
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

async fn fetch(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    schemas: &[String],
) -> Result<Vec<PgRow>, CollectError> {
    sqlx::query(&tag(sql))
        .bind(schemas_param(schemas))
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query(name, e))
}

/// Run a catalog query and decode each row as it arrives, so the raw rows of a large catalog
/// are never all held at once next to their decoded form.
async fn fetch_map<T>(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    schemas: &[String],
    decode: impl Fn(&PgRow) -> Result<T, CollectError>,
) -> Result<Vec<T>, CollectError> {
    use futures_util::TryStreamExt;
    let sql = tag(sql);
    let mut rows = sqlx::query(&sql).bind(schemas_param(schemas)).fetch(pool);
    let mut out = Vec::new();
    while let Some(r) = rows
        .try_next()
        .await
        .map_err(|e| CollectError::query(name, e))?
    {
        out.push(decode(&r)?);
    }
    Ok(out)
}

pub async fn settings(pool: &PgPool) -> Result<ServerSettings, CollectError> {
    const N: &str = "doctor_settings";
    let r = sqlx::query(&tag(Q_SETTINGS))
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query(N, e))?;
    let d = |e| CollectError::decode(N, e);
    Ok(ServerSettings {
        block_size: r.try_get("block_size").map_err(d)?,
        autovacuum: r.try_get("autovacuum").map_err(d)?,
        autovacuum_vacuum_threshold: r.try_get("autovacuum_vacuum_threshold").map_err(d)?,
        autovacuum_vacuum_scale_factor: r.try_get("autovacuum_vacuum_scale_factor").map_err(d)?,
        autovacuum_freeze_max_age: r.try_get("autovacuum_freeze_max_age").map_err(d)?,
        autovacuum_multixact_freeze_max_age: r
            .try_get("autovacuum_multixact_freeze_max_age")
            .map_err(d)?,
        superuser_reserved_connections: r.try_get("superuser_reserved_connections").map_err(d)?,
        track_counts: r.try_get("track_counts").map_err(d)?,
    })
}

pub async fn tables(pool: &PgPool, schemas: &[String]) -> Result<Vec<TableInfo>, CollectError> {
    const N: &str = "doctor_tables";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_TABLES, schemas, |r| {
        Ok(TableInfo {
            oid: r.try_get("oid").map_err(d)?,
            schema: r.try_get("schema").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
            kind: r.try_get("kind").map_err(d)?,
            is_partition: r.try_get("is_partition").map_err(d)?,
            reltuples: r.try_get("reltuples").map_err(d)?,
            relpages: r.try_get("relpages").map_err(d)?,
            ncolumns: r.try_get("ncolumns").map_err(d)?,
            table_bytes: r.try_get("table_bytes").map_err(d)?,
            toast_bytes: r.try_get("toast_bytes").map_err(d)?,
            size_exact: false,
            reloptions: r.try_get("reloptions").map_err(d)?,
            seq_scan: r.try_get("seq_scan").map_err(d)?,
            seq_tup_read: r.try_get("seq_tup_read").map_err(d)?,
            n_tup_ins: r.try_get("n_tup_ins").map_err(d)?,
            n_tup_upd: r.try_get("n_tup_upd").map_err(d)?,
            n_tup_del: r.try_get("n_tup_del").map_err(d)?,
            n_tup_hot_upd: r.try_get("n_tup_hot_upd").map_err(d)?,
            n_live_tup: r.try_get("n_live_tup").map_err(d)?,
            n_dead_tup: r.try_get("n_dead_tup").map_err(d)?,
            n_mod_since_analyze: r.try_get("n_mod_since_analyze").map_err(d)?,
            n_ins_since_vacuum: r.try_get("n_ins_since_vacuum").map_err(d)?,
            last_vacuum: r.try_get("last_vacuum").map_err(d)?,
            last_autovacuum: r.try_get("last_autovacuum").map_err(d)?,
            last_analyze: r.try_get("last_analyze").map_err(d)?,
            last_autoanalyze: r.try_get("last_autoanalyze").map_err(d)?,
            vacuum_count: r.try_get("vacuum_count").map_err(d)?,
            autovacuum_count: r.try_get("autovacuum_count").map_err(d)?,
            heap_blks_hit: r.try_get("heap_blks_hit").map_err(d)?,
            heap_blks_read: r.try_get("heap_blks_read").map_err(d)?,
            xid_age: r.try_get("xid_age").map_err(d)?,
            mxid_age: r.try_get("mxid_age").map_err(d)?,
        })
    })
    .await
}

pub async fn indexes(
    pool: &PgPool,
    schemas: &[String],
    server_version_num: i32,
) -> Result<Vec<IndexInfo>, CollectError> {
    const N: &str = "doctor_indexes";
    let d = |e| CollectError::decode(N, e);
    let mut out = fetch_map(pool, N, Q_INDEXES, schemas, |r| {
        Ok(IndexInfo {
            oid: r.try_get("oid").map_err(d)?,
            table_oid: r.try_get("table_oid").map_err(d)?,
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
            method: r.try_get("method").map_err(d)?,
            is_unique: r.try_get("is_unique").map_err(d)?,
            is_primary: r.try_get("is_primary").map_err(d)?,
            is_exclusion: r.try_get("is_exclusion").map_err(d)?,
            is_valid: r.try_get("is_valid").map_err(d)?,
            is_ready: r.try_get("is_ready").map_err(d)?,
            key_count: r.try_get("key_count").map_err(d)?,
            attnums: r.try_get("attnums").map_err(d)?,
            columns: r.try_get("columns").map_err(d)?,
            not_null: r.try_get("not_null").map_err(d)?,
            opclasses: r.try_get("opclasses").map_err(d)?,
            collations: r.try_get("collations").map_err(d)?,
            options: r.try_get("options").map_err(d)?,
            expressions: r.try_get("expressions").map_err(d)?,
            predicate: r.try_get("predicate").map_err(d)?,
            definition: r.try_get("definition").map_err(d)?,
            constraint_name: r.try_get("constraint_name").map_err(d)?,
            constraint_type: r.try_get("constraint_type").map_err(d)?,
            attached_to_parent: r.try_get("attached_to_parent").map_err(d)?,
            on_partitioned_table: r.try_get("on_partitioned_table").map_err(d)?,
            bytes: r.try_get("bytes").map_err(d)?,
            reltuples: r.try_get("reltuples").map_err(d)?,
            relpages: r.try_get("relpages").map_err(d)?,
            reloptions: r.try_get("reloptions").map_err(d)?,
            idx_scan: r.try_get("idx_scan").map_err(d)?,
            idx_tup_read: r.try_get("idx_tup_read").map_err(d)?,
            idx_tup_fetch: r.try_get("idx_tup_fetch").map_err(d)?,
            idx_blks_hit: r.try_get("idx_blks_hit").map_err(d)?,
            idx_blks_read: r.try_get("idx_blks_read").map_err(d)?,
            last_idx_scan: None,
        })
    })
    .await?;
    if server_version_num >= 160000 {
        const N16: &str = "doctor_index_last_scan_16";
        let rows = fetch(pool, N16, Q_INDEX_LAST_SCAN_16, schemas).await?;
        let d = |e| CollectError::decode(N16, e);
        let mut last = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            let oid: i64 = r.try_get("oid").map_err(d)?;
            let at: Option<DateTime<Utc>> = r.try_get("last_idx_scan").map_err(d)?;
            last.insert(oid, at);
        }
        for ix in &mut out {
            ix.last_idx_scan = last.get(&ix.oid).copied().flatten();
        }
    }
    Ok(out)
}

pub async fn foreign_keys(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<ForeignKey>, CollectError> {
    const N: &str = "doctor_foreign_keys";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_FOREIGN_KEYS, schemas, |r| {
        Ok(ForeignKey {
            oid: r.try_get("oid").map_err(d)?,
            table_oid: r.try_get("table_oid").map_err(d)?,
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
            attnums: r.try_get("attnums").map_err(d)?,
            columns: r.try_get("columns").map_err(d)?,
            ref_schema: r.try_get("ref_schema").map_err(d)?,
            ref_table: r.try_get("ref_table").map_err(d)?,
            validated: r.try_get("validated").map_err(d)?,
        })
    })
    .await
}

pub async fn sequences(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<SequenceInfo>, CollectError> {
    const N: &str = "doctor_sequences";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_SEQUENCES, schemas, |r| {
        let fed: String = r.try_get("fed_columns").map_err(d)?;
        let fed_columns: Vec<FedColumn> = serde_json::from_str(&fed)
            .map_err(|e| CollectError::decode(N, sqlx::Error::Decode(Box::new(e))))?;
        Ok(SequenceInfo {
            schema: r.try_get("schema").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
            data_type: r.try_get("data_type").map_err(d)?,
            min_value: r.try_get("min_value").map_err(d)?,
            max_value: r.try_get("max_value").map_err(d)?,
            increment: r.try_get("increment").map_err(d)?,
            cycle: r.try_get("cycle").map_err(d)?,
            last_value: r.try_get("last_value").map_err(d)?,
            start_value: Some(r.try_get("start_value").map_err(d)?),
            readable: r.try_get("readable").map_err(d)?,
            fed_columns,
        })
    })
    .await
}

pub async fn column_stats(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<ColumnStats>, CollectError> {
    const N: &str = "doctor_column_stats";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_COLUMN_STATS, schemas, |r| {
        Ok(ColumnStats {
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            column: r.try_get("column_name").map_err(d)?,
            null_frac: r.try_get("null_frac").map_err(d)?,
            avg_width: r.try_get("avg_width").map_err(d)?,
        })
    })
    .await
}
