//! Collection: runs SQL and returns plain structs (numbers as numbers). It never judges.

pub mod activity;
pub mod capabilities;
pub mod fixcheck;
pub mod health;
pub mod host;
pub mod plans;
pub mod schema;

/// A collector query failed or returned something we could not decode.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("query {query} failed: {source}")]
    Query {
        query: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("query {query} returned a column that could not be decoded: {source}")]
    Decode {
        query: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

impl CollectError {
    pub fn query(query: &'static str, source: sqlx::Error) -> Self {
        CollectError::Query { query, source }
    }
    pub fn decode(query: &'static str, source: sqlx::Error) -> Self {
        CollectError::Decode { query, source }
    }
    pub fn sqlx(&self) -> &sqlx::Error {
        match self {
            CollectError::Query { source, .. } | CollectError::Decode { source, .. } => source,
        }
    }
    /// SQLSTATE 57014: our statement_timeout cancelled the query.
    pub fn is_timeout(&self) -> bool {
        matches!(self.sqlx(), sqlx::Error::Database(d) if d.code().as_deref() == Some("57014"))
    }
    /// SQLSTATE 42501: the role lacks a privilege.
    pub fn is_permission_denied(&self) -> bool {
        matches!(self.sqlx(), sqlx::Error::Database(d) if d.code().as_deref() == Some("42501"))
    }
    pub fn is_connection_lost(&self) -> bool {
        crate::db::connect::is_connection_lost(self.sqlx())
    }
}

/// Decode one row of `query` into its row struct. Decoding stays apart from fetching so that a
/// column that does not decode is reported as such, naming the query, never as a failed query.
pub fn decode<T>(query: &'static str, row: &sqlx::postgres::PgRow) -> Result<T, CollectError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    T::from_row(row).map_err(|e| CollectError::decode(query, e))
}
pub mod statements;
pub mod wait_samples;
