//! What-if verification with HypoPG: cost each statement's generic plan with and without
//! hypothetical indexes on one dedicated session, keep only the indexes that cut cost enough.
//!
//! HypoPG keeps its indexes in the backend's private memory; they survive ROLLBACK and are never
//! written anywhere. `hypopg_create_index` works inside a read-only transaction (checked on
//! PostgreSQL 15 with HypoPG 1.3.1), so the session keeps dbdoctor's read-only default. The session
//! is taken out of the pool for good and closed at the end: even if a reset failed, no other
//! check could ever see a hypothetical index.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, PgConnection, PgPool, Row};

use crate::collect::CollectError;
use crate::util::{qualified, quote_ident};

/// A candidate index: table oid and key columns.
pub type CandKey = (i64, Vec<String>);

/// A costed plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Costed {
    pub cost: f64,
    /// Names of the indexes the plan uses (hypothetical ones look like `<13556>btree_t_a`).
    pub indexes: Vec<String>,
}

/// One session able to explain statements with hypothetical indexes.
pub struct Explainer {
    conn: Option<PgConnection>,
    /// Schema-qualified prefix for HypoPG's functions (`public.`).
    hypopg: String,
    /// `EXPLAIN (GENERIC_PLAN)` exists (PostgreSQL 16+).
    generic_plan_option: bool,
    /// Table oid -> qualified name, for the CREATE INDEX text.
    tables: BTreeMap<i64, String>,
    /// Hypothetical index oid -> candidate.
    live: BTreeMap<i64, CandKey>,
}

const PREPARED_NAME: &str = "dbdoctor_advisor_stmt";

impl Explainer {
    /// Take one connection out of the pool for good and clear any hypothetical index on it.
    pub async fn open(
        pool: &PgPool,
        hypopg_schema: &str,
        server_major: i32,
        tables: BTreeMap<i64, String>,
    ) -> Result<Self, CollectError> {
        let conn = pool
            .acquire()
            .await
            .map_err(|e| CollectError::query("advisor_hypopg_session", e))?
            .detach();
        let mut ex = Explainer {
            conn: Some(conn),
            hypopg: format!("{}.", quote_ident(hypopg_schema)),
            generic_plan_option: server_major >= 16,
            tables,
            live: BTreeMap::new(),
        };
        if !ex.generic_plan_option {
            // Session-level on purpose: this session is ours alone and is closed afterwards.
            sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
                .execute(ex.conn())
                .await
                .map_err(|e| CollectError::query("advisor_plan_cache_mode", e))?;
        }
        ex.reset().await?;
        Ok(ex)
    }

    fn conn(&mut self) -> &mut PgConnection {
        self.conn.as_mut().expect("explainer session is open")
    }

    /// Drop every hypothetical index of this session.
    pub async fn reset(&mut self) -> Result<(), CollectError> {
        let sql = format!(
            "/* dbdoctor */ SELECT /* dbdoctor */ {}hypopg_reset()",
            self.hypopg
        );
        sqlx::query(&sql)
            .execute(self.conn())
            .await
            .map_err(|e| CollectError::query("advisor_hypopg_reset", e))?;
        self.live.clear();
        Ok(())
    }

    /// Reset and close the session.
    pub async fn close(mut self) -> Result<(), CollectError> {
        let r = self.reset().await;
        if let Some(c) = self.conn.take() {
            c.close().await.ok();
        }
        r
    }

    /// How many hypothetical indexes this session holds right now (HypoPG's own view).
    pub async fn hypothetical_count(&mut self) -> Result<i64, CollectError> {
        let sql = format!(
            "/* dbdoctor */ SELECT /* dbdoctor */ count(*)::int8 AS n FROM {}hypopg_list_indexes",
            self.hypopg
        );
        let row = sqlx::query(&sql)
            .fetch_one(self.conn())
            .await
            .map_err(|e| CollectError::query("advisor_hypopg_list_indexes", e))?;
        row.try_get("n")
            .map_err(|e| CollectError::decode("advisor_hypopg_list_indexes", e))
    }

    /// Create one hypothetical btree index; returns its oid.
    pub async fn create(&mut self, cand: &CandKey) -> Result<i64, CollectError> {
        let table = self.tables.get(&cand.0).cloned().unwrap_or_default();
        let cols: Vec<String> = cand.1.iter().map(|c| quote_ident(c)).collect();
        let ddl = format!("CREATE INDEX ON {table} USING btree ({})", cols.join(", "));
        let sql = format!(
            "/* dbdoctor */ SELECT /* dbdoctor */ indexrelid::int8 AS oid FROM {}hypopg_create_index($1)",
            self.hypopg
        );
        let row = sqlx::query(&sql)
            .bind(&ddl)
            .fetch_one(self.conn())
            .await
            .map_err(|e| CollectError::query("advisor_hypopg_create_index", e))?;
        let oid: i64 = row
            .try_get("oid")
            .map_err(|e| CollectError::decode("advisor_hypopg_create_index", e))?;
        self.live.insert(oid, cand.clone());
        Ok(oid)
    }

    /// Like [`Explainer::create`], but a candidate HypoPG refuses (a type it cannot estimate, the
    /// oid range exhausted) is `None` rather than an error; a lost connection is still an error.
    pub async fn try_create(&mut self, cand: &CandKey) -> Result<Option<i64>, CollectError> {
        match self.create(cand).await {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.is_connection_lost() => Err(e),
            Err(_) => Ok(None),
        }
    }

    pub async fn drop_index(&mut self, oid: i64) -> Result<(), CollectError> {
        let sql = format!(
            "/* dbdoctor */ SELECT /* dbdoctor */ {}hypopg_drop_index($1::int8::oid)",
            self.hypopg
        );
        sqlx::query(&sql)
            .bind(oid)
            .execute(self.conn())
            .await
            .map_err(|e| CollectError::query("advisor_hypopg_drop_index", e))?;
        self.live.remove(&oid);
        Ok(())
    }

    /// HypoPG's (deliberately pessimistic) size estimate of a hypothetical index.
    pub async fn size(&mut self, oid: i64) -> Result<i64, CollectError> {
        let sql = format!(
            "/* dbdoctor */ SELECT /* dbdoctor */ {}hypopg_relation_size($1::int8::oid)::int8 AS bytes",
            self.hypopg
        );
        let row = sqlx::query(&sql)
            .bind(oid)
            .fetch_one(self.conn())
            .await
            .map_err(|e| CollectError::query("advisor_hypopg_relation_size", e))?;
        row.try_get("bytes")
            .map_err(|e| CollectError::decode("advisor_hypopg_relation_size", e))
    }

    /// The candidates among the hypothetical indexes a plan uses.
    pub fn used(&self, plan: &Costed) -> Vec<CandKey> {
        plan.indexes
            .iter()
            .filter_map(|n| hypothetical_oid(n))
            .filter_map(|oid| self.live.get(&oid).cloned())
            .collect()
    }

    /// Cost the generic plan of a normalized statement. `Err` carries the server's message.
    ///
    /// The statement text is the one thing that cannot be a bound parameter here: it was parsed
    /// beforehand and is known to be exactly one SELECT/INSERT/UPDATE/DELETE, and only EXPLAIN
    /// (never ANALYZE) runs it, in a read-only session.
    pub async fn explain(&mut self, query: &str) -> Result<Costed, String> {
        let query = query.trim().trim_end_matches(';');
        if self.generic_plan_option {
            let sql = format!("EXPLAIN (GENERIC_PLAN, FORMAT JSON) {query}");
            let row = sqlx::raw_sql(&sql)
                .fetch_one(self.conn())
                .await
                .map_err(|e| error_text(&e))?;
            let text: String = row.try_get_unchecked(0).map_err(|e| error_text(&e))?;
            return parse_plan(&text);
        }
        // Before 16: a prepared statement, forced generic, executed with NULLs under EXPLAIN.
        // Prepared fresh each time: a cached plan must never outlive the hypothetical indexes it
        // was made with.
        let prepare = format!("PREPARE {PREPARED_NAME} AS {query}");
        sqlx::raw_sql(&prepare)
            .execute(self.conn())
            .await
            .map_err(|e| error_text(&e))?;
        let result = async {
            let n: i32 = sqlx::query(
                "/* dbdoctor */ SELECT /* dbdoctor */ coalesce(cardinality(parameter_types), 0)::int4 \
                 FROM pg_prepared_statements WHERE name = $1",
            )
            .bind(PREPARED_NAME)
            .fetch_one(self.conn())
            .await
            .map_err(|e| error_text(&e))?
            .try_get(0)
            .map_err(|e| error_text(&e))?;
            let args = if n > 0 {
                format!("({})", vec!["NULL"; n as usize].join(", "))
            } else {
                String::new()
            };
            let sql = format!("EXPLAIN (FORMAT JSON) EXECUTE {PREPARED_NAME}{args}");
            let row = sqlx::raw_sql(&sql)
                .fetch_one(self.conn())
                .await
                .map_err(|e| error_text(&e))?;
            let text: String = row.try_get_unchecked(0).map_err(|e| error_text(&e))?;
            parse_plan(&text)
        }
        .await;
        let dealloc = format!("DEALLOCATE {PREPARED_NAME}");
        sqlx::raw_sql(&dealloc).execute(self.conn()).await.ok();
        result
    }
}

fn error_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    }
}

/// `<13556>btree_t_a` -> 13556.
fn hypothetical_oid(name: &str) -> Option<i64> {
    let rest = name.strip_prefix('<')?;
    let end = rest.find('>')?;
    rest[..end].parse().ok()
}

/// Total cost and index names from `EXPLAIN (FORMAT JSON)` output.
pub fn parse_plan(text: &str) -> Result<Costed, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("unreadable plan: {e}"))?;
    let plan = v
        .get(0)
        .and_then(|p| p.get("Plan"))
        .ok_or_else(|| "plan without a Plan node".to_string())?;
    let cost = plan
        .get("Total Cost")
        .and_then(|c| c.as_f64())
        .ok_or_else(|| "plan without a Total Cost".to_string())?;
    let mut indexes = Vec::new();
    fn walk(n: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(name) = n.get("Index Name").and_then(|x| x.as_str()) {
            if !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        }
        if let Some(children) = n.get("Plans").and_then(|p| p.as_array()) {
            for c in children {
                walk(c, out);
            }
        }
    }
    walk(plan, &mut indexes);
    Ok(Costed { cost, indexes })
}

/// One statement to verify.
#[derive(Debug, Clone)]
pub struct Work {
    pub query: String,
    pub candidates: Vec<CandKey>,
    /// This statement's own saving bar, when it differs from the common one (a clock-relative
    /// window, see `normalize::relative_time_window`). Such a statement also keeps its widest
    /// passing candidate: its generic plan undervalues the trailing range column, so a
    /// narrower prefix must not win on that plan's cost.
    pub min_saving_pct: Option<f64>,
}

/// What verification concluded for one statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    CannotExplain(String),
    LowCost {
        cost: f64,
    },
    NoGain {
        cost_before: f64,
        best_cost: f64,
    },
    Helped {
        cost_before: f64,
        cost_after: f64,
        indexes: Vec<CandKey>,
    },
    /// Helped on its own, but not once the final set was in place together.
    LostTogether {
        cost_before: f64,
        cost_after: f64,
    },
}

/// Verification thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Bar {
    pub min_cost: f64,
    pub min_saving_pct: f64,
}

impl Bar {
    fn passes(&self, before: f64, after: f64) -> bool {
        after <= before * (1.0 - self.min_saving_pct / 100.0)
    }
}

/// The outcome: per statement verdicts and the final indexes with their HypoPG size estimates.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub verdicts: Vec<Option<Verdict>>,
    pub sizes: BTreeMap<CandKey, i64>,
}

/// Run the baseline, the all-candidates pass, the one-at-a-time pass and the together pass.
/// Hypothetical indexes are reset whatever happens; the caller closes the session.
pub async fn verify(
    ex: &mut Explainer,
    work: &[Work],
    bar: Bar,
    max_hypothetical: usize,
) -> Result<Verified, CollectError> {
    let r = verify_inner(ex, work, bar, max_hypothetical).await;
    let reset = ex.reset().await;
    let v = r?;
    reset?;
    Ok(v)
}

async fn verify_inner(
    ex: &mut Explainer,
    work: &[Work],
    bar: Bar,
    max_hypothetical: usize,
) -> Result<Verified, CollectError> {
    let mut out = Verified {
        verdicts: vec![None; work.len()],
        sizes: BTreeMap::new(),
    };
    let bar_of = |i: usize| Bar {
        min_saving_pct: work[i].min_saving_pct.unwrap_or(bar.min_saving_pct),
        ..bar
    };
    // 1. Baselines, no hypothetical index.
    let mut base: Vec<Option<f64>> = vec![None; work.len()];
    for (i, w) in work.iter().enumerate() {
        if w.candidates.is_empty() {
            continue;
        }
        match ex.explain(&w.query).await {
            Err(e) => out.verdicts[i] = Some(Verdict::CannotExplain(e)),
            Ok(p) if p.cost < bar.min_cost => {
                out.verdicts[i] = Some(Verdict::LowCost { cost: p.cost })
            }
            Ok(p) => base[i] = Some(p.cost),
        }
    }
    // 2. Every candidate at once: which ones does the planner reach for at all?
    let mut universe: BTreeSet<CandKey> = BTreeSet::new();
    for (i, w) in work.iter().enumerate() {
        if base[i].is_some() {
            universe.extend(w.candidates.iter().cloned());
        }
    }
    let universe: Vec<CandKey> = universe.into_iter().take(max_hypothetical).collect();
    for c in &universe {
        ex.try_create(c).await?;
    }
    let mut used_all: Vec<Vec<CandKey>> = vec![Vec::new(); work.len()];
    for (i, w) in work.iter().enumerate() {
        let Some(b) = base[i] else { continue };
        match ex.explain(&w.query).await {
            Err(e) => {
                out.verdicts[i] = Some(Verdict::CannotExplain(e));
                base[i] = None;
            }
            Ok(p) if !bar_of(i).passes(b, p.cost) => {
                out.verdicts[i] = Some(Verdict::NoGain {
                    cost_before: b,
                    best_cost: p.cost,
                });
                base[i] = None;
            }
            Ok(p) => used_all[i] = ex.used(&p),
        }
    }
    ex.reset().await?;

    // 3. One at a time: each used candidate, plus its shorter left prefixes among the
    // statement's candidates (so a narrower index can win when it is nearly as good).
    let mut isolate: BTreeMap<CandKey, Vec<usize>> = BTreeMap::new();
    for (i, w) in work.iter().enumerate() {
        if base[i].is_none() {
            continue;
        }
        for u in &used_all[i] {
            for c in &w.candidates {
                if c.0 == u.0 && u.1.starts_with(&c.1) {
                    isolate.entry(c.clone()).or_default().push(i);
                }
            }
        }
    }
    let mut alone: BTreeMap<(usize, CandKey), Costed> = BTreeMap::new();
    for (c, stmts) in &isolate {
        let Some(oid) = ex.try_create(c).await? else {
            continue;
        };
        for &i in stmts {
            if let Ok(p) = ex.explain(&work[i].query).await {
                alone.insert((i, c.clone()), p);
            }
        }
        ex.drop_index(oid).await?;
    }

    // 4. Choose per statement: the best single index that clears the bar, narrowed to a prefix
    // unless the wider one cuts the cost by the bar again; else a greedy set over tables.
    let mut chosen: Vec<Vec<CandKey>> = vec![Vec::new(); work.len()];
    for i in 0..work.len() {
        let Some(b) = base[i] else { continue };
        let mut passing: Vec<(CandKey, f64)> = alone
            .iter()
            .filter(|((s, c), p)| *s == i && ex_used(p, c) && bar_of(i).passes(b, p.cost))
            .map(|((_, c), p)| (c.clone(), p.cost))
            .collect();
        passing.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        if let Some((mut best, mut best_cost)) = passing.first().cloned() {
            if work[i].min_saving_pct.is_some() {
                // Widest first, then cheapest: equality columns then the window's column.
                if let Some(w) = passing
                    .iter()
                    .max_by(|a, b| a.0 .1.len().cmp(&b.0 .1.len()).then(b.1.total_cmp(&a.1)))
                {
                    best = w.0.clone();
                    best_cost = w.1;
                }
            }
            while work[i].min_saving_pct.is_none() {
                let narrower = passing.iter().find(|(c, cost)| {
                    c.0 == best.0
                        && c.1.len() < best.1.len()
                        && best.1.starts_with(&c.1)
                        && !bar.passes(*cost, best_cost)
                });
                match narrower {
                    Some((c, cost)) => {
                        best = c.clone();
                        best_cost = *cost;
                    }
                    None => break,
                }
            }
            chosen[i] = vec![best];
            continue;
        }
        // No single index is enough: combine the used ones across tables, best first.
        let mut singles: Vec<(CandKey, f64)> = alone
            .iter()
            .filter(|((s, c), p)| *s == i && ex_used(p, c) && used_all[i].contains(c))
            .map(|((_, c), p)| (c.clone(), p.cost))
            .collect();
        singles.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let mut set: Vec<CandKey> = Vec::new();
        let mut cur = b;
        for (c, _) in singles {
            if set.iter().any(|s| s.0 == c.0) {
                continue;
            }
            let mut trial = set.clone();
            trial.push(c);
            ex.reset().await?;
            for t in &trial {
                ex.try_create(t).await?;
            }
            if let Ok(p) = ex.explain(&work[i].query).await {
                if p.cost < cur * 0.9 && ex.used(&p).len() == trial.len() {
                    cur = p.cost;
                    set = trial;
                }
            }
        }
        ex.reset().await?;
        if !set.is_empty() && bar_of(i).passes(b, cur) {
            chosen[i] = set;
        } else {
            out.verdicts[i] = Some(Verdict::NoGain {
                cost_before: b,
                best_cost: cur,
            });
        }
    }

    // 5. Together: the final set at once; keep what the plans still use.
    let final_set: BTreeSet<CandKey> = chosen.iter().flatten().cloned().collect();
    let mut oids: BTreeMap<CandKey, i64> = BTreeMap::new();
    for c in &final_set {
        if let Some(oid) = ex.try_create(c).await? {
            oids.insert(c.clone(), oid);
        }
    }
    for (i, w) in work.iter().enumerate() {
        let Some(b) = base[i] else { continue };
        if chosen[i].is_empty() {
            continue;
        }
        match ex.explain(&w.query).await {
            Ok(p) if bar_of(i).passes(b, p.cost) => {
                let used: Vec<CandKey> = ex.used(&p);
                if used.is_empty() {
                    out.verdicts[i] = Some(Verdict::LostTogether {
                        cost_before: b,
                        cost_after: p.cost,
                    });
                } else {
                    out.verdicts[i] = Some(Verdict::Helped {
                        cost_before: b,
                        cost_after: p.cost,
                        indexes: used,
                    });
                }
            }
            Ok(p) => {
                out.verdicts[i] = Some(Verdict::LostTogether {
                    cost_before: b,
                    cost_after: p.cost,
                })
            }
            Err(e) => out.verdicts[i] = Some(Verdict::CannotExplain(e)),
        }
    }
    for (c, oid) in &oids {
        let used = out
            .verdicts
            .iter()
            .any(|v| matches!(v, Some(Verdict::Helped { indexes, .. }) if indexes.contains(c)));
        if used {
            out.sizes.insert(c.clone(), ex.size(*oid).await?);
        }
    }
    Ok(out)
}

/// The isolated plan used the candidate (its only hypothetical index at that moment).
fn ex_used(p: &Costed, _c: &CandKey) -> bool {
    p.indexes.iter().any(|n| hypothetical_oid(n).is_some())
}

/// Build the table-oid -> qualified-name map the explainer needs.
pub fn table_names<'a>(
    tables: impl Iterator<Item = &'a crate::advisor::candidates::TableInfo>,
) -> BTreeMap<i64, String> {
    tables
        .map(|t| (t.oid, qualified(&t.schema, &t.name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_json_is_read() {
        let text = r#"[{"Plan": {"Node Type": "Nested Loop", "Total Cost": 123.5, "Plans": [
            {"Node Type": "Index Scan", "Index Name": "<13556>btree_t_a", "Total Cost": 4.2},
            {"Node Type": "Index Scan", "Index Name": "users_pkey", "Total Cost": 1.0}]}}]"#;
        let p = parse_plan(text).unwrap();
        assert_eq!(p.cost, 123.5);
        assert_eq!(p.indexes, vec!["<13556>btree_t_a", "users_pkey"]);
        assert_eq!(hypothetical_oid("<13556>btree_t_a"), Some(13556));
        assert_eq!(hypothetical_oid("users_pkey"), None);
        assert!(parse_plan("[]").is_err());
        assert!(parse_plan("not json").is_err());
    }

    #[test]
    fn bar_is_relative() {
        let bar = Bar {
            min_cost: 100.0,
            min_saving_pct: 50.0,
        };
        assert!(bar.passes(1000.0, 500.0));
        assert!(!bar.passes(1000.0, 501.0));
    }
}
