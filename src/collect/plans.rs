//! Plan collection: the generic plan of each top statement, read-only and under the session's
//! statement_timeout, in one read-only transaction (rolled back when `--analyze-plans` ran
//! statements in it).
//!
//! PostgreSQL 16+ has `EXPLAIN (GENERIC_PLAN)`. Before it, the statement is prepared (the server
//! infers the parameter types, read back from `pg_prepared_statements`), the plan cache is forced
//! generic for the transaction, and `EXPLAIN EXECUTE` runs it with typed NULLs: the planner sees
//! parameters, not values, exactly as with GENERIC_PLAN. Nothing is executed unless
//! `--analyze-plans` asks for it, and then only parameterless SELECTs, in the same read-only
//! transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use sqlx::{Connection, PgConnection, PgPool, Row};

use crate::advisor::normalize;
use crate::collect::capabilities::Capabilities;
use crate::collect::statements::{tag, StatementsSnapshot};
use crate::collect::CollectError;
use crate::plans::tree::{strip_outputs, PlanNode};
use crate::plans::{
    Fingerprint, PlanSettings, PlanTable, PlannedStatement, PlansSnapshot, OUTCOME_ANALYZED,
    OUTCOME_NOT_PLANNED, OUTCOME_PLANNED,
};

const SETTINGS_SQL: &str = include_str!("../sql/plans_settings.sql");
const TABLES_SQL: &str = include_str!("../sql/plans_tables.sql");
const PREPARED_NAME: &str = "dbdoctor_plan_stmt";

/// A statement to plan: pg_stat_statements' figures merged per queryid.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanTarget {
    pub queryid: i64,
    pub query: String,
    pub calls: i64,
    pub rows: i64,
    pub total_time_ms: f64,
}

/// The `max` statements of the connected database with the most total time (execution plus
/// planning), then those of `include` not among them (in `include`'s order).
pub fn targets(st: &StatementsSnapshot, max: usize, include: &[i64]) -> Vec<PlanTarget> {
    let mut by_id: BTreeMap<i64, PlanTarget> = BTreeMap::new();
    for s in &st.statements {
        let (Some(queryid), Some(query)) = (s.queryid, s.query.as_ref()) else {
            continue;
        };
        if s.hidden || !s.is_workload() {
            continue;
        }
        if st.all_databases && s.database.as_deref() != Some(st.database.as_str()) {
            continue;
        }
        let e = by_id.entry(queryid).or_insert_with(|| PlanTarget {
            queryid,
            query: query.clone(),
            calls: 0,
            rows: 0,
            total_time_ms: 0.0,
        });
        e.calls += s.calls;
        e.rows += s.rows;
        e.total_time_ms += s.total_exec_time_ms + s.total_plan_time_ms.unwrap_or(0.0);
    }
    let mut all: Vec<PlanTarget> = by_id.into_values().collect();
    all.sort_by(|a, b| {
        b.total_time_ms
            .total_cmp(&a.total_time_ms)
            .then(a.queryid.cmp(&b.queryid))
    });
    let mut out: Vec<PlanTarget> = all.iter().take(max).cloned().collect();
    for id in include {
        if out.iter().any(|t| t.queryid == *id) {
            continue;
        }
        if let Some(t) = all.iter().find(|t| t.queryid == *id) {
            out.push(t.clone());
        }
    }
    out
}

/// What kind of statement a text is, for planning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plannable {
    /// A plain SELECT (no INTO, no FOR UPDATE/SHARE): the only kind `--analyze-plans` runs.
    pub plain_select: bool,
}

/// One SELECT, INSERT, UPDATE, DELETE or MERGE; anything else has no plan to show.
pub fn plannable(sql: &str) -> Result<Plannable, String> {
    use pg_query::protobuf::node::Node as N;
    let parsed = pg_query::parse(sql).map_err(|e| format!("cannot be parsed: {e}"))?;
    let stmts = &parsed.protobuf.stmts;
    if stmts.len() != 1 {
        return Err(format!("{} statements in one text", stmts.len()));
    }
    let node = stmts[0]
        .stmt
        .as_ref()
        .and_then(|n| n.node.as_ref())
        .ok_or_else(|| "empty statement".to_string())?;
    match node {
        N::SelectStmt(s) => Ok(Plannable {
            plain_select: s.into_clause.is_none()
                && s.locking_clause.is_empty()
                && !writes_in_ctes(s.with_clause.as_ref()),
        }),
        N::InsertStmt(_) | N::UpdateStmt(_) | N::DeleteStmt(_) | N::MergeStmt(_) => Ok(Plannable {
            plain_select: false,
        }),
        _ => Err("a utility statement, which has no plan".to_string()),
    }
}

fn writes_in_ctes(w: Option<&pg_query::protobuf::WithClause>) -> bool {
    use pg_query::protobuf::node::Node as N;
    w.is_some_and(|w| {
        w.ctes.iter().any(|c| match c.node.as_ref() {
            Some(N::CommonTableExpr(cte)) => !matches!(
                cte.ctequery.as_ref().and_then(|q| q.node.as_ref()),
                Some(N::SelectStmt(_))
            ),
            _ => false,
        })
    })
}

/// The text has `$n` parameters (no values to run it with).
fn has_parameters(sql: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\$[0-9]+").expect("valid regex"))
        .is_match(sql)
}

/// Plan every target. A statement that cannot be planned gets a `not_planned` outcome with the
/// server's reason; only a lost connection is an error.
pub async fn collect(
    pool: &PgPool,
    caps: &Capabilities,
    targets: &[PlanTarget],
    analyze: bool,
) -> Result<PlansSnapshot, CollectError> {
    let row = sqlx::query(&tag(SETTINGS_SQL))
        .fetch_one(pool)
        .await
        .map_err(|e| CollectError::query("plans_settings", e))?;
    let settings: PlanSettings = crate::collect::decode("plans_settings", &row)?;
    let generic_option = caps.major() >= 16;
    let mut statements = Vec::with_capacity(targets.len());
    if !targets.is_empty() {
        // A session of its own, closed at the end: no prepared statement or setting of ours
        // can outlive the collection.
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| CollectError::query("plans_session", e))?
            .detach();
        let r = plan_all(&mut conn, targets, generic_option, analyze, &mut statements).await;
        // EXPLAIN alone changes nothing, so its read-only transaction just ends; one that ran
        // statements under EXPLAIN ANALYZE is rolled back.
        let end = if analyze { "ROLLBACK" } else { "COMMIT" };
        sqlx::raw_sql(&tag(end)).execute(&mut conn).await.ok();
        conn.close().await.ok();
        r?;
    }
    let tables = table_facts(pool, &statements).await?;
    Ok(PlansSnapshot {
        method: if generic_option {
            "explain_generic_plan"
        } else {
            "prepare_force_generic_plan"
        }
        .to_string(),
        analyze_requested: analyze,
        settings,
        tables,
        statements,
    })
}

async fn plan_all(
    conn: &mut PgConnection,
    targets: &[PlanTarget],
    generic_option: bool,
    analyze: bool,
    out: &mut Vec<PlannedStatement>,
) -> Result<(), CollectError> {
    let lost = |e: sqlx::Error| CollectError::query("plans_explain", e);
    sqlx::raw_sql(&tag("BEGIN TRANSACTION READ ONLY"))
        .execute(&mut *conn)
        .await
        .map_err(lost)?;
    if !generic_option {
        sqlx::raw_sql(&tag("SET LOCAL plan_cache_mode = force_generic_plan"))
            .execute(&mut *conn)
            .await
            .map_err(lost)?;
    }
    for t in targets {
        let s = plan_one(conn, t, generic_option, analyze).await?;
        out.push(s);
    }
    Ok(())
}

async fn plan_one(
    conn: &mut PgConnection,
    t: &PlanTarget,
    generic_option: bool,
    analyze: bool,
) -> Result<PlannedStatement, CollectError> {
    let explained = normalize::explainable(&t.query);
    let mut st = PlannedStatement {
        queryid: t.queryid,
        query: t.query.clone(),
        explained_as: (explained != t.query).then(|| explained.clone()),
        calls: t.calls,
        rows: t.rows,
        total_time_ms: t.total_time_ms,
        outcome: OUTCOME_NOT_PLANNED.into(),
        reason: None,
        plan: None,
        fingerprint: None,
    };
    let kind = match plannable(&t.query) {
        Ok(k) => k,
        Err(why) => {
            st.reason = Some(why);
            return Ok(st);
        }
    };
    let text = explained
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let mut analyze_note = None;
    if analyze {
        if !kind.plain_select {
            analyze_note = Some("not analyzed: only plain SELECTs are run".to_string());
        } else if has_parameters(&text) {
            analyze_note =
                Some("not analyzed: it has parameters and no values to run it with".to_string());
        } else {
            match guarded(conn, How::Analyze, &text).await? {
                Ok(v) => {
                    st.outcome = OUTCOME_ANALYZED.into();
                    st.reason = Some(
                        "EXPLAIN ANALYZE ran it in a read-only transaction that was rolled back"
                            .into(),
                    );
                    store(&mut st, v);
                    return Ok(st);
                }
                Err(msg) => {
                    analyze_note = Some(format!("EXPLAIN ANALYZE failed ({msg}); generic plan"))
                }
            }
        }
    }
    let r = if generic_option {
        guarded(conn, How::GenericOption, &text).await?
    } else {
        let r = guarded(conn, How::Prepared, &text).await?;
        // Prepared statements are not transactional: remove it when it exists (a DEALLOCATE of
        // a name that does not exist would abort the transaction).
        let exists: i64 = sqlx::query_scalar(
            "/* dbdoctor */ SELECT /* dbdoctor */ count(*) FROM pg_prepared_statements WHERE name = $1",
        )
        .bind(PREPARED_NAME)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| CollectError::query("plans_prepared_statements", e))?;
        if exists > 0 {
            let dealloc = format!("DEALLOCATE {PREPARED_NAME}");
            sqlx::raw_sql(&tag(&dealloc))
                .execute(&mut *conn)
                .await
                .map_err(|e| CollectError::query("plans_deallocate", e))?;
        }
        r
    };
    match r {
        Ok(v) => {
            st.outcome = OUTCOME_PLANNED.into();
            st.reason = analyze_note;
            store(&mut st, v);
        }
        Err(msg) => st.reason = Some(format!("cannot be explained: {msg}")),
    }
    Ok(st)
}

fn store(st: &mut PlannedStatement, mut plan: serde_json::Value) {
    strip_outputs(&mut plan);
    if let Ok(tree) = PlanNode::from_explain(&plan) {
        st.fingerprint = Some(Fingerprint::of(&tree));
    }
    st.plan = Some(plan);
}

type Attempt = Result<serde_json::Value, sqlx::Error>;

/// How a plan is obtained.
#[derive(Debug, Clone, Copy)]
enum How {
    /// `EXPLAIN (GENERIC_PLAN)`, PostgreSQL 16+.
    GenericOption,
    /// PREPARE + forced generic plan + `EXPLAIN EXECUTE` with typed NULLs.
    Prepared,
    /// `EXPLAIN ANALYZE` of a parameterless SELECT.
    Analyze,
}

/// Run one attempt inside a savepoint: a server error is rolled back and returned as its
/// message; a lost connection is an error.
async fn guarded(
    conn: &mut PgConnection,
    how: How,
    text: &str,
) -> Result<Result<serde_json::Value, String>, CollectError> {
    let lost = |e: sqlx::Error| CollectError::query("plans_explain", e);
    sqlx::raw_sql(&tag("SAVEPOINT dbdoctor_plan"))
        .execute(&mut *conn)
        .await
        .map_err(lost)?;
    let r = match how {
        How::GenericOption => {
            explain_json(
                conn,
                &format!("EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) {text}"),
            )
            .await
        }
        How::Analyze => {
            explain_json(
                conn,
                &format!("EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) {text}"),
            )
            .await
        }
        How::Prepared => explain_prepared(conn, text).await,
    };
    match r {
        Ok(v) => {
            sqlx::raw_sql(&tag("RELEASE SAVEPOINT dbdoctor_plan"))
                .execute(&mut *conn)
                .await
                .map_err(lost)?;
            Ok(Ok(v))
        }
        Err(e) if crate::db::connect::is_connection_lost(&e) => Err(lost(e)),
        Err(e) => {
            sqlx::raw_sql(&tag("ROLLBACK TO SAVEPOINT dbdoctor_plan"))
                .execute(&mut *conn)
                .await
                .map_err(lost)?;
            Ok(Err(error_text(&e)))
        }
    }
}

fn error_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// The first row's first column of `sql`, parsed as EXPLAIN's JSON, reduced to the root
/// `Plan` object.
async fn explain_json(conn: &mut PgConnection, sql: &str) -> Attempt {
    let row = sqlx::raw_sql(&tag(sql)).fetch_one(&mut *conn).await?;
    let text: String = row.try_get_unchecked(0)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    v.get(0)
        .and_then(|p| p.get("Plan"))
        .cloned()
        .ok_or_else(|| sqlx::Error::Protocol("EXPLAIN returned no Plan".into()))
}

// The statement text is the one part of these commands that cannot be a bound parameter. It
// comes from pg_stat_statements, was parsed above as exactly one SELECT/INSERT/UPDATE/DELETE/
// MERGE, and is only EXPLAINed (ANALYZE: plain SELECTs), in a read-only transaction.

async fn explain_prepared(conn: &mut PgConnection, q: &str) -> Attempt {
    {
        sqlx::raw_sql(&tag(&format!("PREPARE {PREPARED_NAME} AS {q}")))
            .execute(&mut *conn)
            .await?;
        // The types the server inferred, one per parameter, in order.
        let types: Option<String> = sqlx::query(
            "/* dbdoctor */ SELECT /* dbdoctor */ string_agg(u.t::text, E'\\n' ORDER BY u.i) \
             FROM pg_prepared_statements p, unnest(p.parameter_types) WITH ORDINALITY AS u(t, i) \
             WHERE p.name = $1",
        )
        .bind(PREPARED_NAME)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        let args: Vec<String> = types
            .unwrap_or_default()
            .lines()
            .map(|t| format!("NULL::{t}"))
            .collect();
        let args = if args.is_empty() {
            String::new()
        } else {
            format!("({})", args.join(", "))
        };
        explain_json(
            conn,
            &format!("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {PREPARED_NAME}{args}"),
        )
        .await
    }
}

/// Statistics freshness of every table the plans read.
async fn table_facts(
    pool: &PgPool,
    statements: &[PlannedStatement],
) -> Result<Vec<PlanTable>, CollectError> {
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    for s in statements {
        if let Some(tree) = s.tree() {
            for n in tree.nodes() {
                if let (Some(sc), Some(r)) = (&n.schema, &n.relation) {
                    names.insert((sc.clone(), r.clone()));
                }
            }
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let (schemas, tables): (Vec<String>, Vec<String>) = names.into_iter().unzip();
    let rows = sqlx::query(&tag(TABLES_SQL))
        .bind(&schemas)
        .bind(&tables)
        .fetch_all(pool)
        .await
        .map_err(|e| CollectError::query("plans_tables", e))?;
    rows.iter()
        .map(|r| crate::collect::decode("plans_tables", r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_can_be_planned() {
        assert!(
            plannable("SELECT * FROM t WHERE a = $1")
                .unwrap()
                .plain_select
        );
        assert!(
            !plannable("SELECT * FROM t FOR UPDATE")
                .unwrap()
                .plain_select
        );
        assert!(!plannable("SELECT * INTO x FROM t").unwrap().plain_select);
        assert!(
            !plannable("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d")
                .unwrap()
                .plain_select
        );
        assert!(!plannable("UPDATE t SET a = $1").unwrap().plain_select);
        assert!(plannable("VACUUM t").unwrap_err().contains("utility"));
        assert!(plannable("SELECT 1; SELECT 2")
            .unwrap_err()
            .contains("2 statements"));
        assert!(plannable("SELEC 1").unwrap_err().contains("parsed"));
        assert!(has_parameters("SELECT $1"));
        assert!(!has_parameters("SELECT 1"));
    }
}
