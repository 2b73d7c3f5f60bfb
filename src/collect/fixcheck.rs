//! Read-only data checks a fix depends on: duplicate keys under an invalid unique index, NULLs in
//! the columns of a would-be primary key. Each is one bounded query (our statement_timeout).

use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::collect::schema::IndexInfo;
use crate::collect::statements::tag;
use crate::util::{qualified, quote_ident};

/// The results, keyed by index oid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FixChecks {
    #[serde(default)]
    pub duplicate_keys: Vec<DuplicateKeys>,
    #[serde(default)]
    pub null_keys: Vec<NullKeys>,
}

/// Whether rebuilding a unique index can succeed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateKeys {
    pub index_oid: i64,
    /// Key values held by more than one row; `None` when the check failed (see `error`).
    pub duplicated_values: Option<i64>,
    /// The query that lists those values and how many rows hold each.
    pub list_query: String,
    pub error: Option<String>,
}

/// Whether a unique index's columns can become a primary key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NullKeys {
    pub index_oid: i64,
    /// Some row holds NULL in a key column; `None` when the check failed (see `error`).
    pub has_nulls: Option<bool>,
    pub error: Option<String>,
}

impl FixChecks {
    pub fn duplicates(&self, oid: i64) -> Option<&DuplicateKeys> {
        self.duplicate_keys.iter().find(|d| d.index_oid == oid)
    }
    pub fn nulls(&self, oid: i64) -> Option<&NullKeys> {
        self.null_keys.iter().find(|d| d.index_oid == oid)
    }
}

/// The query that lists the key values of a unique index held by more than one row (NULLs
/// never clash in a unique index, so rows with a NULL key are left out).
pub fn list_duplicates_sql(ix: &IndexInfo, keys: &[String]) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("({k})")).collect();
    let mut filter: Vec<String> = keys.iter().map(|k| format!("{k} IS NOT NULL")).collect();
    if let Some(p) = &ix.predicate {
        filter.push(format!("({p})"));
    }
    format!(
        "SELECT {keys}, count(*) AS copies FROM {table} WHERE {filter} GROUP BY {keys} HAVING count(*) > 1 ORDER BY copies DESC;",
        keys = keys.join(", "),
        table = qualified(&ix.schema, &ix.table),
        filter = filter.join(" AND "),
    )
}

/// The key expressions of an index as SQL (a column name quoted as needed, or an expression).
async fn key_expressions(pool: &PgPool, ix: &IndexInfo) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(&tag(
        "SELECT pg_get_indexdef($1::int8::oid, k, true) FROM generate_series(1, $2::int4) k ORDER BY k",
    ))
    .bind(ix.oid)
    .bind(ix.key_count)
    .fetch_all(pool)
    .await
}

/// A failed check's error on one line: a timeout says which flag raises it.
fn error_line(e: &sqlx::Error) -> String {
    let s = match e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("57014") => {
            "timed out (raise --statement-timeout)".to_string()
        }
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    };
    crate::util::one_line(&s)
}

/// Count the duplicated key values under each of `unique` (invalid unique indexes) and look for
/// NULLs in the columns of each of `pk_candidates`. A failed check is recorded, never fatal.
pub async fn collect(
    pool: &PgPool,
    unique: &[&IndexInfo],
    pk_candidates: &[&IndexInfo],
) -> FixChecks {
    let mut out = FixChecks::default();
    for ix in unique {
        let (list, result) = match key_expressions(pool, ix).await {
            Ok(keys) => {
                let list = list_duplicates_sql(ix, &keys);
                let count = format!("SELECT count(*) FROM ({}) d", list.trim_end_matches(';'));
                let r: Result<i64, sqlx::Error> =
                    sqlx::query_scalar(&tag(&count)).fetch_one(pool).await;
                (list, r)
            }
            Err(e) => (String::new(), Err(e)),
        };
        out.duplicate_keys.push(DuplicateKeys {
            index_oid: ix.oid,
            duplicated_values: result.as_ref().ok().copied(),
            list_query: list,
            error: result.as_ref().err().map(error_line),
        });
    }
    for ix in pk_candidates {
        let nullable: Vec<String> = ix
            .columns
            .iter()
            .zip(ix.not_null.iter().chain(std::iter::repeat(&false)))
            .filter(|(_, nn)| !**nn)
            .filter_map(|(c, _)| c.as_deref().map(quote_ident))
            .collect();
        let result: Result<bool, sqlx::Error> = if nullable.is_empty() {
            Ok(false)
        } else {
            let q = format!(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE {})",
                qualified(&ix.schema, &ix.table),
                nullable
                    .iter()
                    .map(|c| format!("{c} IS NULL"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            );
            sqlx::query_scalar(&tag(&q)).fetch_one(pool).await
        };
        out.null_keys.push(NullKeys {
            index_oid: ix.oid,
            has_nulls: result.as_ref().ok().copied(),
            error: result.as_ref().err().map(error_line),
        });
    }
    out
}
