//! The pg_stat_statements collector against a real throwaway PostgreSQL: known workloads read back,
//! every installable extension version, a non-default schema, missing extension, hidden rows,
//! windows and resets.

mod common;

use std::time::Duration;

use common::fresh_db;
use dbdoctor::analyze::statements::check;
use dbdoctor::analyze::workload::workload_latency;
use dbdoctor::collect::capabilities::{self, Capabilities};
use dbdoctor::collect::statements::{
    collect, collect_window, diff, tag, ColumnSet, StatementStats, StatementsOptions,
    StatementsSnapshot, OWN_STATEMENT_TAG,
};
use dbdoctor::db::{connect, ConnectSettings, Db, SessionMode};
use dbdoctor::stats::Method;
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::RwLock;

/// pg_stat_statements is cluster-wide: a full reset would wipe what concurrent tests counted.
/// Tests that count take this for reading; the reset test takes it for writing.
static RESET: RwLock<()> = RwLock::const_new(());

fn settings(url: &str) -> ConnectSettings {
    ConnectSettings::resolve(Some(url), Duration::from_secs(10), Duration::from_secs(60)).unwrap()
}

async fn dbdoctor_session(url: &str) -> (Db, Capabilities) {
    let db = connect(&settings(url), SessionMode::ReadOnly)
        .await
        .expect("connect");
    let caps = capabilities::probe(&db.pool).await.expect("capabilities");
    (db, caps)
}

/// Run `sql` (one bound integer parameter) `n` times on `conn`, as an application would.
async fn run(conn: &mut PgConnection, sql: &str, arg: i32, n: usize) {
    for _ in 0..n {
        sqlx::query(sql)
            .bind(arg)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn find<'a>(s: &'a StatementsSnapshot, needle: &str) -> &'a StatementStats {
    let hits: Vec<&StatementStats> = s
        .statements
        .iter()
        .filter(|st| st.query.as_deref().is_some_and(|q| q.contains(needle)))
        .collect();
    assert_eq!(hits.len(), 1, "statements matching {needle:?}: {hits:#?}");
    hits[0]
}

#[tokio::test]
async fn known_workload_is_read_back() {
    let _guard = RESET.read().await;
    let db = fresh_db().await;
    db.exec("CREATE TABLE kw_items (id int PRIMARY KEY, v text); INSERT INTO kw_items SELECT g, 'v' || g FROM generate_series(1, 100) g")
        .await;
    let mut app = db.connect().await;
    run(
        &mut app,
        "SELECT id, v FROM kw_items WHERE id <= $1",
        10,
        37,
    )
    .await;
    run(&mut app, "UPDATE kw_items SET v = 'x' WHERE id = $1", 5, 4).await;
    // A statement tagged as dbdoctor's own (as budget probes are) never counts.
    run(
        &mut app,
        &tag("SELECT count(*) FROM kw_items WHERE v <> $1::int::text"),
        3,
        6,
    )
    .await;
    app.close().await.ok();

    let (c, caps) = dbdoctor_session(&db.url).await;
    let opts = StatementsOptions::default();
    // Run the collector twice: its own first run must not show up in the second.
    collect(&c.pool, &caps, &opts).await.unwrap();
    let s = collect(&c.pool, &caps, &opts).await.unwrap();

    assert_eq!(
        s.column_set,
        ColumnSet::for_extension_version(&s.extension_version)
    );
    assert_eq!(s.extension_schema, "public");
    assert_eq!(s.database, db.name);
    assert_eq!(s.info.is_some(), caps.server_version_num >= 140000);
    assert_eq!(s.since, s.info.as_ref().map(|i| i.stats_reset));
    assert_eq!(s.block_size, 8192);

    let sel = find(&s, "FROM kw_items WHERE id <=");
    assert_eq!(sel.calls, 37);
    assert_eq!(sel.rows, 370);
    assert_eq!(sel.rows_per_call, 10.0);
    assert_eq!(sel.database.as_deref(), Some(db.name.as_str()));
    assert!(sel.mean_exec_time_ms > 0.0);
    assert!(sel.min_exec_time_ms <= sel.mean_exec_time_ms);
    assert!(sel.mean_exec_time_ms <= sel.max_exec_time_ms);
    assert!(sel.cache_hit_ratio.is_some());
    let upd = find(&s, "UPDATE kw_items SET v");
    assert_eq!((upd.calls, upd.rows), (4, 4));
    assert!(upd.wal_bytes.unwrap_or(0) > 0, "an UPDATE writes WAL");

    // Only this database, and none of dbdoctor's own statements.
    assert!(s
        .statements
        .iter()
        .all(|st| st.database.as_deref() == Some(db.name.as_str())));
    assert!(s.statements.iter().all(|st| !st
        .query
        .as_deref()
        .unwrap_or("")
        .contains(OWN_STATEMENT_TAG)));
    // ... while the view itself does hold them (so the exclusion is doing something).
    let mut admin = db.connect().await;
    let own: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%' || $1 || '%'",
    )
    .bind(OWN_STATEMENT_TAG)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    admin.close().await.ok();
    assert!(own >= 2, "{own}");
    assert!(!s.statements.iter().any(|st| st
        .query
        .as_deref()
        .unwrap_or("")
        .contains("WHERE v <>")));
    // The collector's own queries, whichever way the server stored their text.
    assert!(
        !s.statements.iter().any(|st| {
            let q = st.query.as_deref().unwrap_or("");
            q.contains("clock_timestamp()") || q.contains("pg_stat_statements_info")
        }),
        "{:#?}",
        s.statements
    );
    assert_eq!(s.insufficient_privilege_rows, 0);
    let share: f64 = s.workload().map(|st| st.share_of_total_time_pct).sum();
    assert!((share - 100.0).abs() < 1e-6, "{share}");

    let w = workload_latency(&s);
    assert_eq!(w.method, Method::Estimated);
    assert_eq!(w.count as i64, s.total_calls());
    assert!(w.count >= 41);

    // All databases: the harness's CREATE DATABASE ran in another database.
    let all = collect(
        &c.pool,
        &caps,
        &StatementsOptions {
            all_databases: true,
        },
    )
    .await
    .unwrap();
    assert!(all.all_databases);
    assert!(all.statements.len() > s.statements.len());
    assert!(all
        .statements
        .iter()
        .any(|st| st.database.as_deref() != Some(db.name.as_str())));
    assert_eq!(find(&all, "FROM kw_items WHERE id <=").calls, 37);
}

/// Every extension version this server can install (the view of an upgraded server whose
/// extension was never updated), in a schema whose name needs quoting.
#[tokio::test]
async fn every_installable_version_in_a_non_default_schema() {
    let _guard = RESET.read().await;
    let db = fresh_db().await;
    let mut admin = db.connect().await;
    let versions: Vec<String> = sqlx::query_scalar(
        "SELECT version FROM pg_available_extension_versions WHERE name = 'pg_stat_statements'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    let mut versions: Vec<(u32, u32, String)> = versions
        .into_iter()
        .filter_map(|v| dbdoctor::collect::statements::parse_version(&v).map(|(a, b)| (a, b, v)))
        .filter(|(a, b, _)| (*a, *b) >= (1, 4))
        .collect();
    versions.sort();
    assert!(versions.len() >= 4, "{versions:?}");
    admin
        .execute("DROP EXTENSION pg_stat_statements; CREATE SCHEMA \"Ext Schema\"")
        .await
        .unwrap();
    let mut sets_seen = Vec::new();
    for (i, (_, _, version)) in versions.iter().enumerate() {
        admin
            .execute(
                format!(
                    "DROP EXTENSION IF EXISTS pg_stat_statements; \
                     CREATE EXTENSION pg_stat_statements WITH SCHEMA \"Ext Schema\" VERSION '{version}'; \
                     CREATE TABLE ver_{i} (id int)"
                )
                .as_str(),
            )
            .await
            .unwrap();
        let table = format!("ver_{i}");
        run(
            &mut admin,
            &format!("SELECT count(*) FROM {table} WHERE id > $1"),
            0,
            i + 3,
        )
        .await;

        let (c, caps) = dbdoctor_session(&db.url).await;
        let s = collect(&c.pool, &caps, &StatementsOptions::default())
            .await
            .unwrap_or_else(|e| panic!("version {version}: {e}"));
        assert_eq!(&s.extension_version, version);
        assert_eq!(s.extension_schema, "Ext Schema");
        assert_eq!(s.column_set, ColumnSet::for_extension_version(version));
        assert_eq!(s.info.is_some(), s.column_set.has_info(), "{version}");
        let st = find(&s, &format!("FROM {table} WHERE"));
        assert_eq!(st.calls as usize, i + 3, "version {version}");
        assert_eq!(st.rows as usize, i + 3, "version {version}");
        assert_eq!(st.toplevel.is_some(), s.column_set >= ColumnSet::V1_9);
        assert_eq!(st.plans.is_some(), s.column_set >= ColumnSet::V1_8);
        if caps.server_version_num >= 140000 && s.column_set < ColumnSet::V1_9 {
            let ids: Vec<String> = check(&caps, Some(&s))
                .into_iter()
                .map(|f| f.check.to_string())
                .collect();
            assert!(
                ids.contains(&"pg_stat_statements_outdated".to_string()),
                "{ids:?}"
            );
        }
        sets_seen.push(s.column_set);
        c.pool.close().await;
    }
    sets_seen.dedup();
    assert!(sets_seen.contains(&ColumnSet::V1_4));
    assert!(sets_seen.contains(&ColumnSet::V1_8));
    let (c, caps) = dbdoctor_session(&db.url).await;
    c.pool.close().await;
    if caps.server_version_num >= 140000 {
        assert!(sets_seen.contains(&ColumnSet::V1_9));
    }
    admin.close().await.ok();
}

#[tokio::test]
async fn missing_extension_is_a_finding_not_a_crash() {
    let db = fresh_db().await;
    db.exec("DROP EXTENSION pg_stat_statements").await;
    let (c, caps) = dbdoctor_session(&db.url).await;
    assert!(caps.pg_stat_statements().is_none());
    let err = collect(&c.pool, &caps, &StatementsOptions::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not installed"), "{err}");
    let f = check(&caps, None);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check.as_str(), "pg_stat_statements_missing");
    // The library is preloaded on the test cluster: only CREATE EXTENSION is needed.
    assert_eq!(
        f[0].fix_sql.as_deref(),
        Some("CREATE EXTENSION pg_stat_statements;")
    );
}

#[tokio::test]
async fn role_without_pg_read_all_stats_sees_the_hidden_count_and_the_grant() {
    let _guard = RESET.read().await;
    let db = fresh_db().await;
    let role = format!("reader_{}", db.name);
    db.exec(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'reader-pw'; GRANT CONNECT ON DATABASE {} TO {role}; \
         CREATE TABLE secret_stuff (id int)",
        db.name
    ))
    .await;
    // The superuser's statement: another role's, as far as the reader is concerned.
    let mut app = db.connect().await;
    run(
        &mut app,
        "SELECT count(*) FROM secret_stuff WHERE id > $1",
        1,
        3,
    )
    .await;
    app.close().await.ok();

    let (c, caps) = dbdoctor_session(&db.url_as(&role, "reader-pw")).await;
    assert!(!caps.can_read_all_stats());
    let s = collect(&c.pool, &caps, &StatementsOptions::default())
        .await
        .unwrap();
    assert!(s.insufficient_privilege_rows >= 1, "{s:#?}");
    assert!(s
        .statements
        .iter()
        .filter(|st| st.hidden)
        .all(|st| st.query.is_none() && st.queryid.is_none()));
    // Hidden statements still count in the workload.
    assert!(s.statements.iter().any(|st| st.hidden && st.calls == 3));
    let f: Vec<_> = check(&caps, Some(&s))
        .into_iter()
        .filter(|f| f.check.as_str() == "insufficient_privilege_statements")
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].fix_sql.as_deref(),
        Some(format!("GRANT pg_read_all_stats TO {role};").as_str())
    );
    c.pool.close().await;

    // With the grant the same statements are visible.
    db.exec(&format!("GRANT pg_read_all_stats TO {role}")).await;
    let (c, caps) = dbdoctor_session(&db.url_as(&role, "reader-pw")).await;
    let s = collect(&c.pool, &caps, &StatementsOptions::default())
        .await
        .unwrap();
    assert_eq!(s.insufficient_privilege_rows, 0);
    assert_eq!(find(&s, "FROM secret_stuff WHERE").calls, 3);
    c.pool.close().await;
    db.exec(&format!(
        "REVOKE CONNECT ON DATABASE {} FROM {role}; DROP OWNED BY {role}; DROP ROLE {role}",
        db.name
    ))
    .await;
}

#[tokio::test]
async fn window_counts_what_ran_between_the_samples() {
    let _guard = RESET.read().await;
    let db = fresh_db().await;
    db.exec("CREATE TABLE win_items (id int)").await;
    let mut app = db.connect().await;
    let q = "SELECT count(*) FROM win_items WHERE id > $1";
    run(&mut app, q, 0, 20).await;
    let (c, caps) = dbdoctor_session(&db.url).await;
    let opts = StatementsOptions::default();

    // Two explicit samples: exactly what ran between them.
    let before = collect(&c.pool, &caps, &opts).await.unwrap();
    run(&mut app, q, 0, 50).await;
    run(
        &mut app,
        "SELECT count(*) FROM win_items WHERE id < $1",
        0,
        5,
    )
    .await;
    let after = collect(&c.pool, &caps, &opts).await.unwrap();
    let d = diff(&before, &after);
    let w = d.window.as_ref().unwrap();
    assert!(!w.reset_detected);
    assert!(w.appeared >= 1);
    assert_eq!(find(&d, "WHERE id >").calls, 50);
    assert_eq!(find(&d, "WHERE id <").calls, 5);
    assert_eq!(d.since, Some(before.taken_at));
    // The "before" sample survives a trip through a file (the budget command saves it).
    let saved: StatementsSnapshot =
        serde_json::from_str(&serde_json::to_string(&before).unwrap()).unwrap();
    // (serde_json without float_roundtrip may change the last digit of a float: compare counts.)
    let from_saved = diff(&saved, &after);
    let counts = |s: &StatementsSnapshot| -> Vec<(Option<i64>, i64, i64)> {
        s.statements
            .iter()
            .map(|st| (st.queryid, st.calls, st.rows))
            .collect()
    };
    assert_eq!(counts(&from_saved), counts(&d));
    assert_eq!(from_saved.window, d.window);

    // A timed window with the workload running beside it.
    let pool = c.pool.clone();
    let caps2 = caps.clone();
    let window =
        tokio::spawn(
            async move { collect_window(&pool, &caps2, &opts, Duration::from_secs(2)).await },
        );
    let mut executed = 0usize;
    while !window.is_finished() {
        run(&mut app, q, 0, 1).await;
        executed += 1;
    }
    let d = window.await.unwrap().unwrap();
    let w = d.window.as_ref().unwrap();
    assert!(w.seconds >= 2.0, "{w:?}");
    let calls = find(&d, "WHERE id >").calls as usize;
    assert!(calls >= 1 && calls <= executed, "{calls} of {executed}");
    assert!(d.qps().unwrap() > 0.0);
    app.close().await.ok();
}

#[tokio::test]
async fn window_survives_a_reset_between_the_samples() {
    let _guard = RESET.write().await;
    let db = fresh_db().await;
    db.exec("CREATE TABLE reset_items (id int)").await;
    let mut app = db.connect().await;
    let q = "SELECT count(*) FROM reset_items WHERE id > $1";
    run(&mut app, q, 0, 30).await;
    let (c, caps) = dbdoctor_session(&db.url).await;
    let opts = StatementsOptions::default();
    let before = collect(&c.pool, &caps, &opts).await.unwrap();
    run(&mut app, q, 0, 10).await;
    app.execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();
    run(&mut app, q, 0, 7).await;
    let after = collect(&c.pool, &caps, &opts).await.unwrap();
    let d = diff(&before, &after);
    let w = d.window.as_ref().unwrap();
    assert!(w.reset_detected, "{w:?}");
    // The executions before the reset are gone; the 7 after it are counted, never 7 - 30.
    assert_eq!(find(&d, "FROM reset_items WHERE").calls, 7);
    assert!(d.statements.iter().all(|s| s.calls > 0 && s.rows >= 0));
    // Cumulative figures now start at the reset: the self-check says so (when the server can
    // tell when that was: pg_stat_statements_info, PostgreSQL 14+).
    if after.info.is_none() {
        common::skip(
            "window_survives_a_reset_between_the_samples",
            "the stats_recently_reset part needs pg_stat_statements_info (PostgreSQL 14+)",
        );
        return;
    }
    let ids: Vec<String> = check(&caps, Some(&after))
        .into_iter()
        .map(|f| f.check.to_string())
        .collect();
    assert!(ids.contains(&"stats_recently_reset".to_string()), "{ids:?}");
    app.close().await.ok();
}
