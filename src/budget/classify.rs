//! Classifies statements into latency classes (simple/complex/analytics/bulk) and read/write with
//! PostgreSQL's own grammar (libpg_query), so normalized pg_stat_statements text with `$1` parses.
//!
//! Rules, first match wins (documented in DB_PERF.md section 4):
//! 1. Text that does not parse is `unknown` (reported, never dropped).
//! 2. Access is `write` when any statement is INSERT, UPDATE, DELETE, MERGE, COPY ... FROM,
//!    SELECT INTO, CREATE TABLE AS, TRUNCATE, DDL or maintenance, or a CTE modifies data;
//!    otherwise `read` (SELECT, SHOW, SET, transaction control, EXPLAIN without ANALYZE).
//! 3. `bulk`: COPY, INSERT ... SELECT, multi-row INSERT ... VALUES, UPDATE/DELETE without
//!    WHERE, MERGE, CREATE TABLE AS / SELECT INTO, TRUNCATE, REFRESH MATERIALIZED VIEW,
//!    CREATE INDEX, VACUUM, ANALYZE, CLUSTER, REINDEX and other DDL.
//! 4. `analytics`: window functions, GROUPING SETS/ROLLUP/CUBE, four or more relations, or an
//!    aggregation over three or more relations, a CTE or a subquery.
//! 5. `complex`: joins (two or more relations), aggregates or GROUP BY, subqueries, CTEs,
//!    set operations (UNION ...), DISTINCT, and writes that read other tables.
//! 6. `simple`: everything else: single-relation lookups and single-row writes, `SELECT 1`,
//!    SET/SHOW/BEGIN/COMMIT.

use serde::Serialize;
use serde_json::Value;

/// Latency class of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueryClass {
    Simple,
    Complex,
    Analytics,
    Bulk,
    Unknown,
}

impl QueryClass {
    pub const JUDGED: [QueryClass; 4] = [
        QueryClass::Simple,
        QueryClass::Complex,
        QueryClass::Analytics,
        QueryClass::Bulk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueryClass::Simple => "simple",
            QueryClass::Complex => "complex",
            QueryClass::Analytics => "analytics",
            QueryClass::Bulk => "bulk",
            QueryClass::Unknown => "unknown",
        }
    }
}

/// Whether a statement changes data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// The verdict of the classifier on one statement text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub class: QueryClass,
    /// `None` when the text does not parse.
    pub access: Option<Access>,
    /// Why the text could not be classified (parser message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Features counted over the whole parse tree.
#[derive(Debug, Default)]
struct Features {
    relations: usize,
    joins: usize,
    aggregates: bool,
    group_by: bool,
    windows: bool,
    grouping_sets: bool,
    sublinks: usize,
    ctes: usize,
    set_ops: bool,
    distinct: bool,
    data_modifying_cte: bool,
}

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "array_agg",
    "string_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "bool_and",
    "bool_or",
    "every",
    "bit_and",
    "bit_or",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_slope",
    "xmlagg",
];

/// Classify one statement (normalized text with `$n` placeholders is fine).
pub fn classify(sql: &str) -> Classification {
    let parsed = match pg_query::parse(sql) {
        Ok(p) => p,
        Err(e) => {
            return Classification {
                class: QueryClass::Unknown,
                access: None,
                error: Some(e.to_string()),
            }
        }
    };
    let tree = match serde_json::to_value(&parsed.protobuf) {
        Ok(v) => v,
        Err(e) => {
            return Classification {
                class: QueryClass::Unknown,
                access: None,
                error: Some(format!("cannot inspect the parse tree: {e}")),
            }
        }
    };
    let stmts: Vec<&Value> = tree
        .get("stmts")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.pointer("/stmt/node")).collect())
        .unwrap_or_default();
    if stmts.is_empty() {
        return Classification {
            class: QueryClass::Unknown,
            access: None,
            error: Some("no statement".to_string()),
        };
    }
    let mut class = QueryClass::Simple;
    let mut access = Access::Read;
    for stmt in stmts {
        let (c, a) = classify_stmt(stmt);
        class = worst(class, c);
        if a == Access::Write {
            access = Access::Write;
        }
    }
    Classification {
        class,
        access: Some(access),
        error: None,
    }
}

fn rank(c: QueryClass) -> u8 {
    match c {
        QueryClass::Simple => 0,
        QueryClass::Complex => 1,
        QueryClass::Analytics => 2,
        QueryClass::Bulk => 3,
        QueryClass::Unknown => 4,
    }
}

fn worst(a: QueryClass, b: QueryClass) -> QueryClass {
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// `stmt` is `{ "<NodeType>": {...} }`.
fn classify_stmt(stmt: &Value) -> (QueryClass, Access) {
    let Some((kind, body)) = stmt.as_object().and_then(|o| o.iter().next()) else {
        return (QueryClass::Unknown, Access::Read);
    };
    let mut f = Features::default();
    count(stmt, &mut f);
    match kind.as_str() {
        "SelectStmt" => {
            if body.get("into_clause").is_some_and(|v| !v.is_null()) {
                return (QueryClass::Bulk, Access::Write);
            }
            let access = if f.data_modifying_cte {
                Access::Write
            } else {
                Access::Read
            };
            (read_class(&f), access)
        }
        "InsertStmt" => {
            let select = body.pointer("/select_stmt/node/SelectStmt");
            let rows = select
                .and_then(|s| s.get("values_lists"))
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let from_query = select.is_some() && rows == 0;
            if from_query || rows > 1 {
                (QueryClass::Bulk, Access::Write)
            } else {
                (write_class(&f), Access::Write)
            }
        }
        "UpdateStmt" | "DeleteStmt" => {
            if body.get("where_clause").is_none_or(Value::is_null) {
                (QueryClass::Bulk, Access::Write)
            } else {
                (write_class(&f), Access::Write)
            }
        }
        "CopyStmt" => {
            let from = body
                .get("is_from")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            (
                QueryClass::Bulk,
                if from { Access::Write } else { Access::Read },
            )
        }
        "ExplainStmt" => {
            let analyze = body
                .get("options")
                .map(|o| o.to_string().to_lowercase().contains("\"analyze\""))
                .unwrap_or(false);
            match body.pointer("/query/node") {
                Some(inner) if analyze => classify_stmt(inner),
                _ => (QueryClass::Simple, Access::Read),
            }
        }
        "VariableSetStmt" | "VariableShowStmt" | "TransactionStmt" | "DeallocateStmt"
        | "DiscardStmt" | "ListenStmt" | "UnlistenStmt" | "NotifyStmt" | "PrepareStmt"
        | "ExecuteStmt" | "FetchStmt" | "ClosePortalStmt" | "DeclareCursorStmt" | "LockStmt"
        | "CheckPointStmt" | "LoadStmt" => (QueryClass::Simple, Access::Read),
        "CallStmt" | "DoStmt" => (QueryClass::Complex, Access::Write),
        // MERGE, CREATE TABLE AS, TRUNCATE, REFRESH, CREATE INDEX, VACUUM, ANALYZE, other DDL.
        _ => (QueryClass::Bulk, Access::Write),
    }
}

fn read_class(f: &Features) -> QueryClass {
    let aggregating = f.aggregates || f.group_by;
    if f.windows
        || f.grouping_sets
        || f.relations >= 4
        || (aggregating && (f.relations >= 3 || f.ctes > 0 || f.sublinks > 0))
    {
        QueryClass::Analytics
    } else if f.relations >= 2
        || f.joins > 0
        || aggregating
        || f.sublinks > 0
        || f.ctes > 0
        || f.set_ops
        || f.distinct
    {
        QueryClass::Complex
    } else {
        QueryClass::Simple
    }
}

fn write_class(f: &Features) -> QueryClass {
    // The target table is not a RangeVar node of its own; any counted relation is another table.
    if f.relations >= 1 || f.sublinks > 0 || f.ctes > 0 || f.joins > 0 {
        QueryClass::Complex
    } else {
        QueryClass::Simple
    }
}

/// Walk the whole tree, counting features.
fn count(v: &Value, f: &mut Features) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                match k.as_str() {
                    "RangeVar" => f.relations += 1,
                    "JoinExpr" => f.joins += 1,
                    "SubLink" | "RangeSubselect" => f.sublinks += 1,
                    "CommonTableExpr" => {
                        f.ctes += 1;
                        let q = child.pointer("/ctequery/node");
                        if q.is_some_and(|q| {
                            q.get("InsertStmt").is_some()
                                || q.get("UpdateStmt").is_some()
                                || q.get("DeleteStmt").is_some()
                                || q.get("MergeStmt").is_some()
                        }) {
                            f.data_modifying_cte = true;
                        }
                    }
                    "GroupingSet" => f.grouping_sets = true,
                    "FuncCall" => {
                        if child.get("over").is_some_and(|o| !o.is_null()) {
                            f.windows = true;
                        }
                        if child.get("agg_star").and_then(Value::as_bool) == Some(true)
                            || child.get("agg_within_group").and_then(Value::as_bool) == Some(true)
                            || func_name(child).is_some_and(|n| AGGREGATES.contains(&n.as_str()))
                        {
                            f.aggregates = true;
                        }
                    }
                    "group_clause" if child.as_array().is_some_and(|a| !a.is_empty()) => {
                        f.group_by = true
                    }
                    "distinct_clause" if child.as_array().is_some_and(|a| !a.is_empty()) => {
                        f.distinct = true
                    }
                    // SetOperation: 1 is SETOP_NONE on plain SELECTs; UNION/INTERSECT/EXCEPT above.
                    "op" if child.as_i64().is_some_and(|n| n > 1) => f.set_ops = true,
                    _ => {}
                }
                count(child, f);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| count(c, f)),
        _ => {}
    }
}

/// Last name part of a FuncCall (`pg_catalog.count` -> `count`).
fn func_name(call: &Value) -> Option<String> {
    call.get("funcname")?
        .as_array()?
        .last()?
        .pointer("/node/String/sval")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

/// Highest `$n` in a statement (0 when none); `Err` with the parser message when it does not parse.
pub fn param_count(sql: &str) -> Result<usize, String> {
    let parsed = pg_query::parse(sql).map_err(|e| e.to_string())?;
    if parsed.protobuf.stmts.is_empty() {
        return Err("no statement".to_string());
    }
    if parsed.protobuf.stmts.len() > 1 {
        return Err("one statement only".to_string());
    }
    let tree = serde_json::to_value(&parsed.protobuf).map_err(|e| e.to_string())?;
    let mut max = 0;
    max_param(&tree, &mut max);
    Ok(max)
}

fn max_param(v: &Value, max: &mut usize) {
    match v {
        Value::Object(o) => {
            for (k, child) in o {
                if k == "ParamRef" {
                    if let Some(n) = child.get("number").and_then(Value::as_u64) {
                        *max = (*max).max(n as usize);
                    }
                }
                max_param(child, max);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| max_param(c, max)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Access::{Read, Write};
    use QueryClass::*;

    /// Real statements, as pg_stat_statements shows them (normalized, `$n` placeholders).
    const TABLE: &[(&str, QueryClass, Access)] = &[
        ("SELECT * FROM meals WHERE id = $1", Simple, Read),
        ("select name, difficulty from public.meals where id = $1 limit $2", Simple, Read),
        ("SELECT $1", Simple, Read),
        ("SELECT pg_sleep($1)", Simple, Read),
        ("SELECT * FROM users WHERE email = $1 FOR UPDATE", Simple, Read),
        ("BEGIN", Simple, Read),
        ("COMMIT", Simple, Read),
        ("SET statement_timeout = $1", Simple, Read),
        ("SHOW work_mem", Simple, Read),
        ("INSERT INTO meals (user_id, name) VALUES ($1, $2)", Simple, Write),
        ("INSERT INTO meals (user_id, name) VALUES ($1, $2) RETURNING id", Simple, Write),
        ("UPDATE meals SET name = $1 WHERE id = $2", Simple, Write),
        ("DELETE FROM meals WHERE id = $1", Simple, Write),
        (
            "SELECT m.id, m.name, u.name AS user_name FROM meals m JOIN users u ON m.user_id = u.id WHERE m.difficulty = $1 LIMIT $2",
            Complex,
            Read,
        ),
        ("SELECT * FROM meals m, users u WHERE m.user_id = u.id AND m.difficulty = $1", Complex, Read),
        ("SELECT difficulty, count(*) FROM meals GROUP BY difficulty", Complex, Read),
        ("SELECT count(*) FROM meals WHERE user_id = $1", Complex, Read),
        ("SELECT * FROM meals WHERE user_id IN (SELECT id FROM users WHERE email LIKE $1)", Complex, Read),
        ("SELECT id FROM meals UNION SELECT id FROM users", Complex, Read),
        ("SELECT DISTINCT difficulty FROM meals", Complex, Read),
        ("WITH r AS (SELECT * FROM meals WHERE user_id = $1) SELECT * FROM r", Complex, Read),
        ("UPDATE meals m SET name = $1 FROM users u WHERE u.id = m.user_id AND u.email = $2", Complex, Write),
        (
            "SELECT user_id, name, rank() OVER (PARTITION BY user_id ORDER BY created_at) FROM meals",
            Analytics,
            Read,
        ),
        (
            "SELECT u.email, count(*) FROM users u JOIN meals m ON m.user_id = u.id JOIN meal_ingredients i ON i.meal_id = m.id GROUP BY u.email",
            Analytics,
            Read,
        ),
        ("SELECT difficulty, user_id, count(*) FROM meals GROUP BY ROLLUP (difficulty, user_id)", Analytics, Read),
        (
            "WITH per_user AS (SELECT user_id, count(*) AS n FROM meals GROUP BY user_id) SELECT avg(n) FROM per_user",
            Analytics,
            Read,
        ),
        ("INSERT INTO meals (user_id, name) VALUES ($1, $2), ($3, $4), ($5, $6)", Bulk, Write),
        ("INSERT INTO archive SELECT * FROM meals WHERE created_at < $1", Bulk, Write),
        ("UPDATE meals SET difficulty = $1", Bulk, Write),
        ("DELETE FROM meal_ingredients", Bulk, Write),
        ("COPY meals FROM STDIN", Bulk, Write),
        ("COPY meals TO STDOUT", Bulk, Read),
        ("CREATE TABLE t AS SELECT * FROM meals", Bulk, Write),
        ("SELECT * INTO t2 FROM meals", Bulk, Write),
        ("TRUNCATE meals", Bulk, Write),
        ("CREATE INDEX CONCURRENTLY idx_meals_user_id ON meals(user_id)", Bulk, Write),
        ("VACUUM ANALYZE meals", Bulk, Write),
        ("REFRESH MATERIALIZED VIEW report", Bulk, Write),
        (
            "MERGE INTO meals m USING staged s ON m.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name",
            Bulk,
            Write,
        ),
        (
            "WITH moved AS (DELETE FROM meals WHERE id = $1 RETURNING *) INSERT INTO archive SELECT * FROM moved",
            Bulk,
            Write,
        ),
        ("WITH d AS (DELETE FROM meals WHERE id = $1 RETURNING id) SELECT count(*) FROM d", Analytics, Write),
    ];

    #[test]
    fn classification_table() {
        let mut wrong = Vec::new();
        for (sql, class, access) in TABLE {
            let c = classify(sql);
            if c.class != *class || c.access != Some(*access) {
                wrong.push(format!(
                    "{sql}\n  expected {class:?}/{access:?}, got {:?}/{:?} {:?}",
                    c.class, c.access, c.error
                ));
            }
        }
        assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
    }

    #[test]
    fn unparseable_text_is_unknown_with_a_reason() {
        for sql in [
            "SELEC * FROM meals",
            "SELECT * FROM meals WHERE id = $1 AND",
            "<insufficient privilege>",
        ] {
            let c = classify(sql);
            assert_eq!(c.class, Unknown, "{sql}");
            assert_eq!(c.access, None);
            assert!(c.error.as_deref().is_some_and(|e| !e.is_empty()), "{sql}");
        }
    }

    #[test]
    fn parameters_are_counted() {
        assert_eq!(param_count("SELECT 1").unwrap(), 0);
        assert_eq!(param_count("SELECT * FROM meals WHERE id = $1").unwrap(), 1);
        assert_eq!(param_count("UPDATE t SET a = $3 WHERE b = $1").unwrap(), 3);
        assert!(param_count("SELEC 1").is_err());
        assert!(param_count("SELECT 1; SELECT 2").is_err());
    }
}
