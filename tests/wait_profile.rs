//! `doctor --window` samples pg_stat_activity: on a real cluster with a planted lock
//! contention (one session holds a row lock, three wait for it), Lock waits are the dominant
//! share and `dominant_wait` names them.

mod common;

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection, PgConnection};

async fn waiting_sessions(c: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(c)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_lock_contention_is_the_dominant_wait() {
    let db = common::fresh_db().await;
    lock_contention_dominates(&db.url, "default server").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_lock_contention_on_every_matrix_server() {
    for b in common::matrix_bindirs_or_skip("planted_lock_contention_on_every_matrix_server") {
        let label = b.display().to_string();
        let (cluster, url) = common::start_matrix_server(b, false, "waits").await;
        lock_contention_dominates(&url, &label).await;
        eprintln!("wait profile checked on {label}");
        drop(cluster);
    }
}

async fn exec(url: &str, sql: &str) {
    let mut c = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    let _ = c.close().await;
}

async fn lock_contention_dominates(url: &str, label: &str) {
    exec(url, "CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL);\nINSERT INTO counters VALUES (1, 0);")
        .await;
    let mut holder = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql("BEGIN; UPDATE counters SET n = n + 1 WHERE id = 1;")
        .execute(&mut holder)
        .await
        .unwrap();
    let mut waiters = Vec::new();
    for _ in 0..3 {
        let mut c = PgConnection::connect(url).await.unwrap();
        waiters.push(tokio::spawn(async move {
            sqlx::query("UPDATE counters SET n = n + 1 WHERE id = 1")
                .execute(&mut c)
                .await
                .unwrap();
        }));
    }
    let mut probe = PgConnection::connect(url).await.unwrap();
    let started = Instant::now();
    while waiting_sessions(&mut probe).await < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{label}: the three waiters never queued behind the row lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = url.to_string();
    let o = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args(["--format", "json", "--database-url", &url])
            .args(["doctor", "--window", "4s"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    sqlx::raw_sql("COMMIT").execute(&mut holder).await.unwrap();
    for w in waiters {
        w.await.unwrap();
    }
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: Value = serde_json::from_slice(&o.stdout).expect("doctor JSON");
    let p = &r["wait_profile"];
    assert!(p.is_object(), "{label}: no wait_profile: {r}");
    let samples = p["samples"].as_u64().unwrap();
    // Ten a second at most: a 4 s window never holds more than 41 samples.
    assert!((1..=41).contains(&samples), "{p}");
    assert_eq!(p["interval_ms"], 100, "{p}");
    // Lock waits dominate: the first waiter waits on the holder's transaction id, the others
    // on the row (tuple) behind it.
    let top = &p["by_wait_type"][0];
    assert_eq!(top["wait_event_type"], "Lock", "{label}: {p}");
    assert!(top["pct"].as_f64().unwrap() > 50.0, "{p}");
    let events: Vec<&str> = p["by_wait"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["wait_event_type"] == "Lock")
        .filter_map(|w| w["wait_event"].as_str())
        .collect();
    assert!(events.contains(&"transactionid"), "{p}");
    // The holder is idle in its transaction: only the three waiters run (and wait).
    assert!(
        p["session_samples"].as_u64().unwrap() >= 3 * samples.min(10),
        "{p}"
    );
    let stmt = &p["by_statement"][0];
    assert!(
        stmt["query"].as_str().unwrap().contains("UPDATE counters"),
        "{p}"
    );
    assert!(
        stmt["top_wait"].as_str().unwrap().starts_with("Lock:"),
        "{p}"
    );
    let f: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "dominant_wait")
        .collect();
    assert_eq!(f.len(), 1, "{label}: {}", r["findings"]);
    assert_eq!(f[0]["object"], "Lock");
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("pg_blocking_pids"));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_window_no_wait_profile() {
    let db = common::fresh_db().await;
    let url = db.url.clone();
    let o = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args(["--format", "json", "--database-url", &url, "doctor"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let r: Value = serde_json::from_slice(&o.stdout).expect("doctor JSON");
    assert!(r.get("wait_profile").is_none(), "{r}");
    assert!(!r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check"] == "dominant_wait"));
}
