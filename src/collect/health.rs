//! Health-check collector: the catalog facts the one-module-per-check health checks need beyond
//! the schema collector's (index key column types, both sides of foreign keys, NOT VALID
//! constraints, json columns, integer primary keys with their sequences), as plain data.

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use crate::collect::schema::FedColumn;
use crate::collect::statements::tag;
use crate::collect::CollectError;

/// Key column facts of one index (joined to `IndexInfo` by `oid`); empty strings and `false` for
/// an expression column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexColumns {
    pub oid: i64,
    /// `format_type` of each key column (`text[]`, `boolean`, ...).
    pub key_types: Vec<String>,
    /// `pg_type.typcategory` of each key column: `A` array, `B` boolean, ...
    pub key_categories: Vec<String>,
    pub key_not_null: Vec<bool>,
    /// The key column uses its type's default operator class.
    #[serde(default)]
    pub key_default_opclass: Vec<bool>,
    /// Partial indexes only: the table's NOT NULL columns.
    #[serde(default)]
    pub table_not_null_columns: Option<Vec<String>>,
}

/// A foreign key with both sides' columns and types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FkDetail {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: String,
    pub table: String,
    pub name: String,
    pub ref_table_oid: i64,
    pub ref_schema: String,
    pub ref_table: String,
    pub columns: Vec<String>,
    pub column_types: Vec<String>,
    pub ref_columns: Vec<String>,
    pub ref_column_types: Vec<String>,
    pub validated: bool,
    /// `pg_get_constraintdef`: what re-creates it.
    pub definition: String,
}

/// A CHECK (`c`) or FOREIGN KEY (`f`) constraint never validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotValidConstraint {
    pub schema: String,
    pub table: String,
    pub name: String,
    pub kind: String,
    pub definition: String,
}

/// One column of a user table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnName {
    pub schema: String,
    pub table: String,
    pub column: String,
}

/// A smallint/integer primary key fed by a sequence, or a bigint one fed by a serial's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntPrimaryKey {
    pub schema: String,
    pub table: String,
    pub column: String,
    /// `smallint`, `integer` or (serial only) `bigint`.
    pub data_type: String,
    /// Fed by a serial's owned sequence (not an identity column).
    #[serde(default)]
    pub serial: bool,
    pub sequence_schema: String,
    pub sequence_name: String,
    /// `None` when never called or not readable by this role.
    pub last_value: Option<i64>,
    /// Rows inserted since the statistics were reset.
    pub inserted: i64,
    /// Single-column foreign keys that reference this key.
    pub referencing: Vec<FedColumn>,
}

/// Everything this collector read; a part that failed is `None` and listed in `skipped`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthSnapshot {
    #[serde(default)]
    pub index_columns: Option<Vec<IndexColumns>>,
    #[serde(default)]
    pub foreign_keys: Option<Vec<FkDetail>>,
    #[serde(default)]
    pub not_valid_constraints: Option<Vec<NotValidConstraint>>,
    #[serde(default)]
    pub json_columns: Option<Vec<ColumnName>>,
    #[serde(default)]
    pub int_primary_keys: Option<Vec<IntPrimaryKey>>,
}

/// Each part's result, for the caller to keep or turn into a skipped entry.
pub struct HealthParts {
    pub index_columns: Result<Vec<IndexColumns>, CollectError>,
    pub foreign_keys: Result<Vec<FkDetail>, CollectError>,
    pub not_valid_constraints: Result<Vec<NotValidConstraint>, CollectError>,
    pub json_columns: Result<Vec<ColumnName>, CollectError>,
    pub int_primary_keys: Result<Vec<IntPrimaryKey>, CollectError>,
}

const Q_INDEX_COLUMNS: &str = include_str!("../sql/health_index_columns.sql");
const Q_FOREIGN_KEYS: &str = include_str!("../sql/health_foreign_keys.sql");
const Q_NOT_VALID: &str = include_str!("../sql/health_not_valid_constraints.sql");
const Q_JSON_COLUMNS: &str = include_str!("../sql/health_json_columns.sql");
const Q_INT_PKS: &str = include_str!("../sql/health_int_primary_keys.sql");

/// Run a query with the schema filter and decode each row as it arrives.
async fn fetch_map<T>(
    pool: &PgPool,
    name: &'static str,
    sql: &'static str,
    schemas: &[String],
    decode: impl Fn(&PgRow) -> Result<T, CollectError>,
) -> Result<Vec<T>, CollectError> {
    use futures_util::TryStreamExt;
    let sql = tag(sql);
    let filter: Option<Vec<String>> = (!schemas.is_empty()).then(|| schemas.to_vec());
    let mut rows = sqlx::query(&sql).bind(filter).fetch(pool);
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

pub async fn index_columns(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<IndexColumns>, CollectError> {
    const N: &str = "health_index_columns";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_INDEX_COLUMNS, schemas, |r| {
        Ok(IndexColumns {
            oid: r.try_get("oid").map_err(d)?,
            key_types: r.try_get("key_types").map_err(d)?,
            key_categories: r.try_get("key_categories").map_err(d)?,
            key_not_null: r.try_get("key_not_null").map_err(d)?,
            key_default_opclass: r.try_get("key_default_opclass").map_err(d)?,
            table_not_null_columns: r.try_get("table_not_null_columns").map_err(d)?,
        })
    })
    .await
}

pub async fn foreign_keys(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<FkDetail>, CollectError> {
    const N: &str = "health_foreign_keys";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_FOREIGN_KEYS, schemas, |r| {
        Ok(FkDetail {
            oid: r.try_get("oid").map_err(d)?,
            table_oid: r.try_get("table_oid").map_err(d)?,
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
            ref_table_oid: r.try_get("ref_table_oid").map_err(d)?,
            ref_schema: r.try_get("ref_schema").map_err(d)?,
            ref_table: r.try_get("ref_table").map_err(d)?,
            columns: r.try_get("columns").map_err(d)?,
            column_types: r.try_get("column_types").map_err(d)?,
            ref_columns: r.try_get("ref_columns").map_err(d)?,
            ref_column_types: r.try_get("ref_column_types").map_err(d)?,
            validated: r.try_get("validated").map_err(d)?,
            definition: r.try_get("definition").map_err(d)?,
        })
    })
    .await
}

pub async fn not_valid_constraints(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<NotValidConstraint>, CollectError> {
    const N: &str = "health_not_valid_constraints";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_NOT_VALID, schemas, |r| {
        Ok(NotValidConstraint {
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            name: r.try_get("name").map_err(d)?,
            kind: r.try_get("kind").map_err(d)?,
            definition: r.try_get("definition").map_err(d)?,
        })
    })
    .await
}

pub async fn json_columns(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<ColumnName>, CollectError> {
    const N: &str = "health_json_columns";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_JSON_COLUMNS, schemas, |r| {
        Ok(ColumnName {
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            column: r.try_get("column_name").map_err(d)?,
        })
    })
    .await
}

pub async fn int_primary_keys(
    pool: &PgPool,
    schemas: &[String],
) -> Result<Vec<IntPrimaryKey>, CollectError> {
    const N: &str = "health_int_primary_keys";
    let d = |e| CollectError::decode(N, e);
    fetch_map(pool, N, Q_INT_PKS, schemas, |r| {
        let refs: String = r.try_get("referencing").map_err(d)?;
        let referencing: Vec<FedColumn> = serde_json::from_str(&refs)
            .map_err(|e| CollectError::decode(N, sqlx::Error::Decode(Box::new(e))))?;
        Ok(IntPrimaryKey {
            schema: r.try_get("schema").map_err(d)?,
            table: r.try_get("table_name").map_err(d)?,
            column: r.try_get("column_name").map_err(d)?,
            data_type: r.try_get("data_type").map_err(d)?,
            serial: r.try_get("serial").map_err(d)?,
            sequence_schema: r.try_get("sequence_schema").map_err(d)?,
            sequence_name: r.try_get("sequence_name").map_err(d)?,
            last_value: r.try_get("last_value").map_err(d)?,
            inserted: r.try_get("inserted").map_err(d)?,
            referencing,
        })
    })
    .await
}

/// Every part, one query after another (they are small next to the schema collector's).
pub async fn collect(pool: &PgPool, schemas: &[String]) -> HealthParts {
    HealthParts {
        index_columns: index_columns(pool, schemas).await,
        foreign_keys: foreign_keys(pool, schemas).await,
        not_valid_constraints: not_valid_constraints(pool, schemas).await,
        json_columns: json_columns(pool, schemas).await,
        int_primary_keys: int_primary_keys(pool, schemas).await,
    }
}
