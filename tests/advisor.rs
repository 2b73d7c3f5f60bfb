//! The index advisor against a real PostgreSQL: workloads run for real, statements read back
//! from pg_stat_statements, suggestions checked for content.

mod common;

use std::collections::BTreeMap;
use std::str::FromStr;

use dbdoctor::advisor::verify::{self, Bar, Explainer, Work};
use dbdoctor::advisor::{self, AdvisorOptions, AdvisorReport, Mode, StatementInput};
use dbdoctor::analyze::finding::Confidence;
use dbdoctor::collect::capabilities;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

/// A pool like doctor's: read-only sessions.
async fn read_only_pool(db: &common::TestDb) -> PgPool {
    let opts = PgConnectOptions::from_str(&db.url)
        .expect("test url")
        .options([("default_transaction_read_only", "on")]);
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(opts)
        .await
        .expect("read-only pool")
}

const SCHEMA: &str = "
CREATE TABLE accounts (id int PRIMARY KEY, name text);
INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 50) g;
CREATE TABLE events (
    id bigint PRIMARY KEY,
    account_id int NOT NULL,
    user_id int NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL,
    payload text
);
INSERT INTO events
SELECT g, g % 1000, g % 40000,
       CASE WHEN g % 10 = 0 THEN 'rare' ELSE 'common' END,
       CASE WHEN g % 10 < 9 THEN 'active' ELSE 'inactive' END,
       timestamptz '2026-01-01' + g * interval '1 minute',
       repeat('x', 40)
FROM generate_series(1, 200000) g;
CREATE INDEX events_user_created ON events (user_id, created_at);
ANALYZE accounts;
ANALYZE events;
";

/// Run `sql` with integer/text/timestamp parameters `times` times (extended protocol, so
/// pg_stat_statements records it with `$n`).
async fn run(pool: &PgPool, sql: &str, times: i32, params: fn(i32) -> Vec<Param>) {
    for i in 0..times {
        let mut q = sqlx::query(sql);
        for p in params(i) {
            q = match p {
                Param::Int(v) => q.bind(v),
                Param::Text(v) => q.bind(v),
                Param::Ts(v) => q.bind(v),
            };
        }
        q.fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("workload {sql}: {e}"));
    }
}

enum Param {
    Int(i32),
    Text(String),
    Ts(chrono::DateTime<chrono::Utc>),
}

fn ts(minutes: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::minutes(minutes)
}

/// This database's statements from pg_stat_statements.
async fn statements(pool: &PgPool) -> Vec<StatementInput> {
    let rows = sqlx::query(
        "SELECT queryid, query, calls, total_exec_time FROM pg_stat_statements \
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_all(pool)
    .await
    .expect("read pg_stat_statements");
    rows.iter()
        .map(|r| StatementInput {
            queryid: r.get("queryid"),
            query: r.get("query"),
            calls: r.get("calls"),
            total_time_ms: r.get("total_exec_time"),
        })
        .collect()
}

fn outcome_of<'a>(report: &'a AdvisorReport, needle: &str) -> &'a advisor::StatementOutcome {
    report
        .statements
        .iter()
        .find(|s| s.detail.contains(needle))
        .unwrap_or_else(|| panic!("no outcome mentions {needle}: {report:#?}"))
}

async fn setup(hypopg: bool) -> (common::TestDb, PgPool) {
    let db = common::fresh_db().await;
    db.exec(SCHEMA).await;
    if hypopg {
        db.exec("CREATE EXTENSION hypopg").await;
    }
    let pool = db.pool().await;
    (db, pool)
}

async fn index_names(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

const Q_EQ_RANGE: &str =
    "SELECT id, kind FROM events WHERE created_at BETWEEN $1 AND $2 AND account_id = $3";
const Q_COVERED: &str = "SELECT id FROM events WHERE user_id = $1";
const Q_LOW: &str = "SELECT count(*) FROM events WHERE status = $1";
const Q_TINY: &str = "SELECT name FROM accounts WHERE name = $1";

async fn workload(pool: &PgPool) {
    run(pool, Q_EQ_RANGE, 20, |i| {
        vec![
            Param::Ts(ts(i as i64 * 1000)),
            Param::Ts(ts(i as i64 * 1000 + 5000)),
            Param::Int(i * 7),
        ]
    })
    .await;
    run(pool, Q_COVERED, 20, |i| vec![Param::Int(i * 13)]).await;
    run(pool, Q_LOW, 12, |i| {
        vec![Param::Text(
            if i % 2 == 0 { "active" } else { "inactive" }.into(),
        )]
    })
    .await;
    run(pool, Q_TINY, 20, |i| vec![Param::Text(format!("a{i}"))]).await;
}

#[tokio::test]
async fn hypopg_suggestions_are_ordered_filtered_and_leave_nothing_behind() {
    if !common::extension_available(
        "hypopg_suggestions_are_ordered_filtered_and_leave_nothing_behind",
        "hypopg",
    )
    .await
    {
        return;
    }
    let (db, pool) = setup(true).await;
    workload(&pool).await;
    // pg_stat_statements normalizes this literal into `interval $1`, which cannot be prepared.
    sqlx::raw_sql(
        "SELECT count(*) FROM events WHERE created_at > now() - interval '10 minutes' \
         AND account_id = 5",
    )
    .execute(&pool)
    .await
    .unwrap();
    let before = index_names(&pool).await;
    let stmts = statements(&pool).await;
    let ro = read_only_pool(&db).await;
    let caps = capabilities::probe(&ro).await.unwrap();
    assert!(caps
        .extension("hypopg")
        .unwrap()
        .installed_version
        .is_some());
    let opts = AdvisorOptions {
        min_calls: 1,
        ..Default::default()
    };
    let report = advisor::advise(&ro, &caps, &stmts, &opts).await.unwrap();
    assert_eq!(report.mode, Mode::Hypopg);

    // Equality first, then the range column; exactly one suggestion overall.
    let cols: Vec<Vec<String>> = report
        .suggestions
        .iter()
        .map(|s| s.columns.clone())
        .collect();
    assert_eq!(
        cols,
        vec![vec!["account_id".to_string(), "created_at".to_string()]],
        "{report:#?}"
    );
    let s = &report.suggestions[0];
    assert!(s.verified);
    assert!(s.estimated_size_bytes.unwrap() > 0);
    let helped = &s.statements[0];
    assert!(helped.query.contains("BETWEEN"), "{}", helped.query);
    assert_eq!(helped.calls, 20);
    let (b, a) = (helped.cost_before.unwrap(), helped.cost_after.unwrap());
    assert!(b >= 100.0 && a <= b * 0.5, "{b} -> {a}");

    // Covered by events_user_created as a left prefix: no suggestion, the reason says so.
    let covered = outcome_of(&report, "events_user_created");
    assert_eq!(covered.outcome, "no_candidates");
    // Low selectivity (90% 'active') and the tiny table: silent, with reasons.
    let low = outcome_of(&report, "low-selectivity");
    assert!(low.detail.contains("status"), "{}", low.detail);
    let tiny = outcome_of(&report, "small table");
    assert!(tiny.detail.contains("accounts"), "{}", tiny.detail);
    // pg_stat_statements turned `interval '10 minutes'` into `interval $1`, which the server
    // cannot prepare: it is explained as a cast and helped by the same index.
    let typed = report
        .statements
        .iter()
        .find(|o| o.query.contains("now() - interval $"))
        .unwrap_or_else(|| panic!("no typed-literal statement: {report:#?}"));
    assert_eq!(typed.outcome, "helped", "{typed:#?}");
    assert_eq!(typed.category, "suggested");
    assert!(
        typed
            .explained_as
            .as_deref()
            .unwrap()
            .contains("::interval"),
        "{typed:#?}"
    );
    assert!(s.statements.iter().any(|h| h.query.contains("interval $")));

    // Findings for doctor and migrate plan.
    let f = advisor::findings(&report);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].check.as_str(), "missing_index");
    assert_eq!(f[0].confidence, Some(Confidence::High));
    assert_eq!(
        f[0].fix_sql.as_deref(),
        Some(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_account_id_created_at_idx \
             ON public.events (account_id, created_at)"
        )
    );
    assert_eq!(
        f[0].rollback_sql.as_deref(),
        Some("DROP INDEX CONCURRENTLY IF EXISTS public.events_account_id_created_at_idx")
    );

    // Nothing real was created.
    assert_eq!(index_names(&pool).await, before);

    // migrate plan turns the finding into a no-transaction CREATE INDEX CONCURRENTLY migration
    // with its rollback.
    let plan = dbdoctor::migrate::plan::plan(
        &f,
        &dbdoctor::migrate::source::Source::default(),
        &BTreeMap::new(),
        caps.server_version_num,
    )
    .unwrap();
    assert_eq!(plan.migrations.len(), 1, "{plan:#?}");
    let m = &plan.migrations[0];
    assert!(m.sql.contains("CREATE INDEX CONCURRENTLY"), "{}", m.sql);
    assert!(
        m.rollback_sql.contains("DROP INDEX CONCURRENTLY"),
        "{}",
        m.rollback_sql
    );
    assert!(m.no_transaction);

    // The fix is valid SQL and the planner uses the index it builds; the rollback removes it.
    sqlx::raw_sql(f[0].fix_sql.as_deref().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    let plan_text: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id, kind FROM events WHERE created_at BETWEEN now() AND now() \
         AND account_id = 7",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        plan_text
            .join("\n")
            .contains("events_account_id_created_at_idx"),
        "{plan_text:?}"
    );
    sqlx::raw_sql(f[0].rollback_sql.as_deref().unwrap())
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(index_names(&pool).await, before);
    // The report serializes (it goes into doctor's JSON).
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["mode"], "hypopg");
}

#[tokio::test]
async fn hypothetical_indexes_are_reset_on_the_session_that_made_them() {
    if !common::extension_available(
        "hypothetical_indexes_are_reset_on_the_session_that_made_them",
        "hypopg",
    )
    .await
    {
        return;
    }
    let (db, pool) = setup(true).await;
    let ro = read_only_pool(&db).await;
    let caps = capabilities::probe(&ro).await.unwrap();
    let schema = caps.extension("hypopg").unwrap().schema.clone().unwrap();
    let oid: i64 = sqlx::query_scalar("SELECT 'public.events'::regclass::oid::int8")
        .fetch_one(&pool)
        .await
        .unwrap();
    let tables = BTreeMap::from([(oid, "public.events".to_string())]);
    let mut ex = Explainer::open(&ro, &schema, caps.major(), tables)
        .await
        .unwrap();
    let work = vec![
        Work {
            query: Q_EQ_RANGE.to_string(),
            candidates: vec![
                (oid, vec!["account_id".into(), "created_at".into()]),
                (oid, vec!["account_id".into()]),
                (oid, vec!["created_at".into()]),
            ],
            min_saving_pct: None,
        },
        Work {
            query: "SELECT * FROM events WHERE no_such_column = $1".to_string(),
            candidates: vec![(oid, vec!["account_id".into()])],
            min_saving_pct: None,
        },
    ];
    let bar = Bar {
        min_cost: 100.0,
        min_saving_pct: 50.0,
    };
    let v = verify::verify(&mut ex, &work, bar, 500).await.unwrap();
    assert!(
        matches!(&v.verdicts[0], Some(verify::Verdict::Helped { indexes, .. })
            if indexes == &vec![(oid, vec!["account_id".to_string(), "created_at".to_string()])]),
        "{:?}",
        v.verdicts
    );
    assert!(matches!(
        &v.verdicts[1],
        Some(verify::Verdict::CannotExplain(e)) if e.contains("no_such_column")
    ));
    // Same backend: HypoPG's own list is empty again, and no real index appeared.
    assert_eq!(ex.hypothetical_count().await.unwrap(), 0);
    ex.close().await.unwrap();
    assert_eq!(
        index_names(&pool).await,
        vec!["accounts_pkey", "events_pkey", "events_user_created"]
    );
}

#[tokio::test]
async fn without_hypopg_suggestions_are_marked_unverified() {
    let (db, pool) = setup(false).await;
    run(&pool, Q_EQ_RANGE, 20, |i| {
        vec![
            Param::Ts(ts(i as i64 * 1000)),
            Param::Ts(ts(i as i64 * 1000 + 5000)),
            Param::Int(i * 7),
        ]
    })
    .await;
    run(&pool, Q_LOW, 12, |_| vec![Param::Text("active".into())]).await;
    let stmts = statements(&pool).await;
    let ro = read_only_pool(&db).await;
    let caps = capabilities::probe(&ro).await.unwrap();
    let opts = AdvisorOptions {
        min_calls: 1,
        ..Default::default()
    };
    let report = advisor::advise(&ro, &caps, &stmts, &opts).await.unwrap();
    assert_eq!(report.mode, Mode::Heuristic);
    let enable = report.enable_verification.clone().unwrap();
    assert!(enable.contains("CREATE EXTENSION hypopg"), "{enable}");
    assert_eq!(report.suggestions.len(), 1, "{report:#?}");
    let s = &report.suggestions[0];
    assert!(!s.verified);
    assert_eq!(s.columns, vec!["account_id", "created_at"]);
    assert!(s.statements[0].cost_before.is_none());
    let f = advisor::findings(&report);
    assert_eq!(f[0].confidence, Some(Confidence::Low));
    assert!(f[0].message.starts_with("unverified"), "{}", f[0].message);
    assert!(f[0].message.contains("CREATE EXTENSION hypopg"));
    assert_eq!(f[0].detail["verified"], false);
    // Unverified suggestions are not turned into migrations.
    let plan = dbdoctor::migrate::plan::plan(
        &f,
        &dbdoctor::migrate::source::Source::default(),
        &std::collections::BTreeMap::new(),
        caps.server_version_num,
    )
    .unwrap();
    assert!(plan.migrations.is_empty());
    assert_eq!(plan.left_out.len(), 1);
    // Low selectivity stays silent here too.
    assert!(!report
        .suggestions
        .iter()
        .any(|s| s.columns.contains(&"status".to_string())));
}

#[tokio::test]
async fn hypopg_unusable_for_the_role_falls_back_to_unverified() {
    if !common::extension_available(
        "hypopg_unusable_for_the_role_falls_back_to_unverified",
        "hypopg",
    )
    .await
    {
        return;
    }
    let (db, pool) = setup(true).await;
    run(&pool, Q_EQ_RANGE, 20, |i| {
        vec![
            Param::Ts(ts(i as i64 * 1000)),
            Param::Ts(ts(i as i64 * 1000 + 5000)),
            Param::Int(i * 7),
        ]
    })
    .await;
    let stmts = statements(&pool).await;
    let role = format!("adv_{}", db.name);
    db.exec(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'pw'; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; \
         REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;"
    ))
    .await;
    let opts = PgConnectOptions::from_str(&db.url_as(&role, "pw"))
        .unwrap()
        .options([("default_transaction_read_only", "on")]);
    let ro = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(opts)
        .await
        .expect("connect as the restricted role");
    let caps = capabilities::probe(&ro).await.unwrap();
    let report = advisor::advise(
        &ro,
        &caps,
        &stmts,
        &AdvisorOptions {
            min_calls: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.mode, Mode::Heuristic);
    let why = report.enable_verification.clone().unwrap();
    assert!(why.contains("verification failed"), "{why}");
    assert!(why.contains("EXECUTE"), "{why}");
    assert!(report.suggestions.iter().all(|s| !s.verified));
    assert!(advisor::findings(&report)
        .iter()
        .all(|f| f.confidence == Some(Confidence::Low)));
    ro.close().await;
    db.exec(&format!(
        "REASSIGN OWNED BY {role} TO postgres; DROP OWNED BY {role}; DROP ROLE {role};"
    ))
    .await;
}

/// The two hand-written time filters as pg_stat_statements stores them (`interval $2`): a shop's
/// orders by status in the last days, and events of a kind in the last days.
const SCENARIO: &str = "
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id int NOT NULL,
    status text NOT NULL,
    total numeric(10,2) NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO orders
SELECT g, g % 50000,
       (ARRAY['pending','paid','shipped','delivered','cancelled','refunded'])[g % 6 + 1],
       (g % 10000) / 100.0,
       now() - ((g::bigint * 7919) % (730 * 1440)) * interval '1 minute'
FROM generate_series(1, 400000) g;
CREATE TABLE events (
    id bigint PRIMARY KEY,
    user_id int NOT NULL,
    kind text NOT NULL,
    occurred_at timestamptz NOT NULL,
    payload text
);
INSERT INTO events
SELECT g, g % 40000, 'k' || (g % 10),
       now() - ((g::bigint * 104729) % (365 * 1440)) * interval '1 minute',
       repeat('x', 30)
FROM generate_series(1, 300000) g;
ANALYZE orders;
ANALYZE events;
";

/// Run the scenario's statements with literal constants (as an application's hand-written SQL
/// does), so pg_stat_statements normalizes the typed literals into `interval $2`.
async fn scenario_workload(pool: &PgPool) {
    let statuses = [
        "pending",
        "paid",
        "shipped",
        "delivered",
        "cancelled",
        "refunded",
    ];
    for i in 0..40 {
        let q1 = format!(
            "SELECT id, total FROM orders WHERE status = '{}' AND created_at > now() - interval '{} days'",
            statuses[i % statuses.len()],
            7 + i % 30
        );
        let q2 = format!(
            "SELECT count(*) FROM events WHERE kind = 'k{}' AND occurred_at > now() - interval '{} hours'",
            i % 10,
            24 + i
        );
        for q in [q1, q2] {
            sqlx::raw_sql(&q)
                .fetch_all(pool)
                .await
                .unwrap_or_else(|e| panic!("scenario {q}: {e}"));
        }
    }
}

async fn scenario_report(hypopg: bool) -> (common::TestDb, AdvisorReport) {
    let db = common::fresh_db().await;
    db.exec(SCENARIO).await;
    if hypopg {
        db.exec("CREATE EXTENSION hypopg").await;
    }
    let pool = db.pool().await;
    scenario_workload(&pool).await;
    let stmts = statements(&pool).await;
    assert!(
        stmts.iter().any(|s| s.query.contains("interval $")),
        "pg_stat_statements did not normalize the typed literal"
    );
    let ro = read_only_pool(&db).await;
    let caps = capabilities::probe(&ro).await.unwrap();
    let report = advisor::advise(&ro, &caps, &stmts, &AdvisorOptions::default())
        .await
        .unwrap();
    (db, report)
}

fn suggested(report: &AdvisorReport) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = report
        .suggestions
        .iter()
        .map(|s| (s.table.clone(), s.columns.clone()))
        .collect();
    v.sort();
    v
}

fn expected() -> Vec<(String, Vec<String>)> {
    vec![
        ("events".into(), vec!["kind".into(), "occurred_at".into()]),
        ("orders".into(), vec!["status".into(), "created_at".into()]),
    ]
}

#[tokio::test]
async fn typed_interval_filters_get_their_index_with_hypopg() {
    let (db, report) = scenario_report(true).await;
    assert_eq!(report.mode, Mode::Hypopg);
    assert_eq!(suggested(&report), expected(), "{report:#?}");
    for s in &report.suggestions {
        assert!(s.verified, "{s:#?}");
        let h = &s.statements[0];
        assert!(h.query.contains("interval $"), "{}", h.query);
        // The clock window's bar: its generic plan prices the window at a third of the table.
        let keep = 1.0 - report.options.relative_window_min_saving_pct / 100.0;
        assert!(
            h.cost_after.unwrap() <= h.cost_before.unwrap() * keep,
            "{h:#?}"
        );
    }
    // Every analysed statement has an outcome with a category, in doctor's JSON and markdown.
    let url = db.url.clone();
    let (json, md, verbose) = tokio::task::spawn_blocking(move || {
        let json = common::dbdoctor()
            .args(["--database-url", &url, "--format", "json", "doctor"])
            .output()
            .unwrap();
        let md = common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "--format",
                "markdown",
                "-v",
                "doctor",
            ])
            .output()
            .unwrap();
        (
            serde_json::from_slice::<serde_json::Value>(&json.stdout).unwrap(),
            String::from_utf8_lossy(&md.stdout).to_string(),
            String::from_utf8_lossy(&md.stderr).to_string(),
        )
    })
    .await
    .unwrap();
    let outcomes = json["advisor"]["statements"].as_array().unwrap();
    let typed: Vec<&serde_json::Value> = outcomes
        .iter()
        .filter(|o| o["query"].as_str().unwrap().contains("interval $"))
        .collect();
    assert_eq!(typed.len(), 2, "{outcomes:#?}");
    for o in &typed {
        assert_eq!(o["category"], "suggested", "{o:#?}");
        assert!(o["cost_before"].as_f64().unwrap() > o["cost_after"].as_f64().unwrap());
    }
    assert!(outcomes
        .iter()
        .all(|o| o["category"].as_str().is_some_and(|c| !c.is_empty())));
    assert!(md.contains("## Index advisor"), "{md}");
    assert!(md.contains("| suggested |"), "{md}");
    assert!(verbose.contains("advisor: suggested"), "{verbose}");
}

#[tokio::test]
async fn typed_interval_filters_get_their_index_without_hypopg() {
    let (_db, report) = scenario_report(false).await;
    assert_eq!(report.mode, Mode::Heuristic);
    assert_eq!(suggested(&report), expected(), "{report:#?}");
    assert!(report.suggestions.iter().all(|s| !s.verified));
}

#[tokio::test]
async fn a_statement_the_server_cannot_explain_falls_back_alone() {
    let (db, pool) = setup(true).await;
    workload(&pool).await;
    // Planned for real, then its column disappears: EXPLAIN fails for this statement only.
    db.exec("ALTER TABLE events ADD COLUMN gone int; UPDATE events SET gone = id % 40000; ANALYZE events;")
        .await;
    run(&pool, "SELECT id FROM events WHERE gone = $1", 20, |i| {
        vec![Param::Int(i)]
    })
    .await;
    db.exec("ALTER TABLE events RENAME COLUMN gone TO gone2")
        .await;
    let mut stmts = statements(&pool).await;
    // The text still names the old column, as a stale pg_stat_statements entry would; the
    // catalog lookup must still see it, so point the statement at the renamed column for
    // candidate generation while EXPLAIN of the stored text fails.
    for s in &mut stmts {
        if s.query.contains("gone = $1") {
            s.query = "SELECT id FROM events WHERE gone2 = $1 AND gone2 = no_such_fn($1)".into();
        }
    }
    let ro = read_only_pool(&db).await;
    let caps = capabilities::probe(&ro).await.unwrap();
    let opts = AdvisorOptions {
        min_calls: 1,
        ..Default::default()
    };
    let report = advisor::advise(&ro, &caps, &stmts, &opts).await.unwrap();
    assert_eq!(report.mode, Mode::Hypopg);
    let broken = report
        .statements
        .iter()
        .find(|o| o.query.contains("no_such_fn"))
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert_eq!(broken.outcome, "unverified", "{broken:#?}");
    assert!(
        broken.detail.contains("cannot be explained"),
        "{}",
        broken.detail
    );
    let fallback = report
        .suggestions
        .iter()
        .find(|s| s.columns == vec!["gone2".to_string()])
        .unwrap_or_else(|| panic!("{report:#?}"));
    assert!(!fallback.verified);
    // The other statements are still verified.
    assert!(report.suggestions.iter().any(|s| s.verified), "{report:#?}");
    let f = advisor::findings(&report);
    let unverified = f
        .iter()
        .find(|f| f.message.starts_with("unverified"))
        .unwrap();
    assert!(
        unverified.message.contains("advisor.statements"),
        "{}",
        unverified.message
    );
}
