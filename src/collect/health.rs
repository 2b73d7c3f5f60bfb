//! Health-check collector: the catalog facts the one-module-per-check health checks need beyond
//! the schema collector's (index key column types, both sides of foreign keys, NOT VALID
//! constraints, json columns, integer primary keys with their sequences), as plain data.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use sqlx::{FromRow, PgPool};

use crate::collect::schema::FedColumn;
use crate::collect::CollectError;

/// Key column facts of one index, read by `doctor_indexes.sql` with its `IndexInfo` (joined by
/// `oid`); empty strings and `false` for an expression column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct IndexColumns {
    pub oid: i64,
    /// `format_type` of each key column (`text[]`, `boolean`, ...).
    #[sqlx(try_from = "Vec<CompactString>")]
    pub key_types: SmallVec<[CompactString; 1]>,
    /// `pg_type.typcategory` of each key column: `A` array, `B` boolean, ...
    #[sqlx(try_from = "Vec<CompactString>")]
    pub key_categories: SmallVec<[CompactString; 1]>,
    #[sqlx(try_from = "Vec<bool>")]
    pub key_not_null: SmallVec<[bool; 16]>,
    /// The key column uses its type's default operator class.
    #[serde(default)]
    #[sqlx(try_from = "Vec<bool>")]
    pub key_default_opclass: SmallVec<[bool; 16]>,
    /// The input type of each key column's operator class (`timestamp without time zone` for
    /// `date_trunc('day', ts)` too): what an expression column holds.
    #[serde(default)]
    #[sqlx(try_from = "Vec<CompactString>")]
    pub key_opclass_types: SmallVec<[CompactString; 1]>,
    /// Partial indexes only: the table's NOT NULL columns.
    #[serde(default)]
    pub table_not_null_columns: Option<Vec<CompactString>>,
}

/// A foreign key with both sides' columns and types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct FkDetail {
    pub oid: i64,
    pub table_oid: i64,
    pub schema: CompactString,
    #[sqlx(rename = "table_name")]
    pub table: CompactString,
    pub name: CompactString,
    pub ref_table_oid: i64,
    pub ref_schema: CompactString,
    pub ref_table: CompactString,
    #[sqlx(try_from = "Vec<CompactString>")]
    pub columns: SmallVec<[CompactString; 1]>,
    #[sqlx(try_from = "Vec<CompactString>")]
    pub column_types: SmallVec<[CompactString; 1]>,
    #[sqlx(try_from = "Vec<CompactString>")]
    pub ref_columns: SmallVec<[CompactString; 1]>,
    #[sqlx(try_from = "Vec<CompactString>")]
    pub ref_column_types: SmallVec<[CompactString; 1]>,
    pub validated: bool,
    /// `pg_get_constraintdef`: what re-creates it.
    pub definition: String,
    /// NOT NULL of each referencing column, in key order.
    #[serde(default)]
    #[sqlx(try_from = "Vec<bool>")]
    pub column_not_null: SmallVec<[bool; 16]>,
    /// Declared `MATCH FULL`.
    #[serde(default)]
    pub match_full: bool,
    /// `pg_constraint.confdeltype`: `a` no action, `r` restrict, `c` cascade, `n` set null,
    /// `d` set default (empty in older snapshots).
    #[serde(default)]
    pub on_delete: String,
}

/// A CHECK (`c`) or FOREIGN KEY (`f`) constraint never validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct NotValidConstraint {
    pub schema: String,
    #[sqlx(rename = "table_name")]
    pub table: String,
    pub name: String,
    pub kind: String,
    pub definition: String,
}

/// One column of a user table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct ColumnName {
    pub schema: String,
    #[sqlx(rename = "table_name")]
    pub table: String,
    #[sqlx(rename = "column_name")]
    pub column: String,
}

/// A smallint/integer primary key fed by a sequence, or a bigint one fed by a serial's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct IntPrimaryKey {
    pub schema: String,
    #[sqlx(rename = "table_name")]
    pub table: String,
    #[sqlx(rename = "column_name")]
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
    /// Single-column foreign keys that reference this key (a JSON array in the query).
    #[sqlx(json)]
    pub referencing: Vec<FedColumn>,
}

/// A column of a user table with a type or a default that a column check reports: money,
/// char(n), varchar(n), timestamp, timetz, oid/lo, a serial that is not a primary key, or a name
/// that has other types elsewhere in its schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct FlaggedColumn {
    pub schema: String,
    #[sqlx(rename = "table_name")]
    pub table: String,
    #[sqlx(rename = "column_name")]
    pub column: String,
    /// `format_type` with the modifier: `character varying(36)`, `money`, ...
    pub data_type: String,
    /// `pg_type.typname` of the column's type (`varchar`, `bpchar`, `lo`, ...).
    pub type_name: String,
    pub not_null: bool,
    /// The owned sequence named in its `nextval` default, when it is a serial column that is not
    /// a single-column primary key (or is also a foreign key).
    pub serial_sequence: Option<String>,
    /// Columns of the same name in the same schema have other types.
    pub inconsistent: bool,
}

/// Facts of one user table that the table-shape checks read (only tables with at least one of
/// these findings are collected).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct TableFacts {
    pub schema: CompactString,
    #[sqlx(rename = "table_name")]
    pub table: CompactString,
    pub column_count: i64,
    /// Columns outside the primary key (all columns when there is none).
    pub non_pk_count: i64,
    /// Every column outside the primary key is nullable.
    pub all_non_pk_nullable: bool,
    /// It has a primary key and its first column is not part of it.
    pub pk_not_first: bool,
    pub first_column: Option<CompactString>,
    pub pk_columns: Vec<CompactString>,
    /// The parent it inherits from (table inheritance, not partitioning).
    pub inherits_from: Option<CompactString>,
    /// No foreign key references it and it has none.
    pub not_linked: bool,
    /// Columns whose names differ only in a trailing number (`phone1`, `phone2`).
    pub incrementing_columns: Vec<CompactString>,
    /// Known to be empty: no pages and no rows as of the last VACUUM/ANALYZE (for a partitioned
    /// table, none in all its partitions); never-analysed tables are not counted.
    pub no_data: bool,
}

/// An object whose name has `max_identifier_length` bytes: it may have been cut.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FromRow)]
pub struct LongName {
    pub schema: String,
    pub name: String,
    /// `table`, `index`, `sequence`, `view`, `materialized view`, `partitioned table`,
    /// `partitioned index`, `function` or `constraint`.
    pub kind: String,
    /// The table of a constraint.
    #[sqlx(rename = "table_name")]
    pub table: Option<String>,
    pub max_length: i32,
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
    #[serde(default)]
    pub flagged_columns: Option<Vec<FlaggedColumn>>,
    #[serde(default)]
    pub table_facts: Option<Vec<TableFacts>>,
    #[serde(default)]
    pub long_names: Option<Vec<LongName>>,
}

/// Each part's result, for the caller to keep or turn into a skipped entry.
pub struct HealthParts {
    pub not_valid_constraints: Result<Vec<NotValidConstraint>, CollectError>,
    pub json_columns: Result<Vec<ColumnName>, CollectError>,
    pub int_primary_keys: Result<Vec<IntPrimaryKey>, CollectError>,
    pub flagged_columns: Result<Vec<FlaggedColumn>, CollectError>,
    pub table_facts: Result<Vec<TableFacts>, CollectError>,
    pub long_names: Result<Vec<LongName>, CollectError>,
}

const Q_NOT_VALID: &str = include_str!("../sql/health_not_valid_constraints.sql");
const Q_JSON_COLUMNS: &str = include_str!("../sql/health_json_columns.sql");
const Q_INT_PKS: &str = include_str!("../sql/health_int_primary_keys.sql");
const Q_COLUMNS: &str = include_str!("../sql/health_columns.sql");
const Q_TABLES: &str = include_str!("../sql/health_tables.sql");
const Q_LONG_NAMES: &str = include_str!("../sql/health_long_names.sql");

use super::schema::fetch_decoded as fetch_rows;

/// Every part, one query after another (they are small next to the schema collector's).
pub async fn collect(pool: &PgPool, schemas: &[String]) -> HealthParts {
    HealthParts {
        not_valid_constraints: fetch_rows(
            pool,
            "health_not_valid_constraints",
            Q_NOT_VALID,
            schemas,
        )
        .await,
        json_columns: fetch_rows(pool, "health_json_columns", Q_JSON_COLUMNS, schemas).await,
        int_primary_keys: fetch_rows(pool, "health_int_primary_keys", Q_INT_PKS, schemas).await,
        flagged_columns: fetch_rows(pool, "health_columns", Q_COLUMNS, schemas).await,
        table_facts: fetch_rows(pool, "health_tables", Q_TABLES, schemas).await,
        long_names: fetch_rows(pool, "health_long_names", Q_LONG_NAMES, schemas).await,
    }
}
