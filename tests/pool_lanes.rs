//! The pool's acquire deadline is `--connect-timeout`. Collectors that run side by side must not
//! wait in the pool behind each other's queries: on a large catalog one query alone can take
//! longer than the connect timeout, and the waiting collector then failed as if the connection
//! were lost. Here, queries that take longer than the deadline run on the pool doctor builds,
//! more of them than it has connections: straight on the pool some fail with
//! `PoolTimedOut`; through `Lanes` all succeed.

mod common;

use std::time::Duration;

use dbdoctor::db::connect::POOL_CONNECTIONS;
use dbdoctor::db::lanes::Lanes;
use dbdoctor::db::{connect, ConnectSettings, SessionMode};

const SLOW: &str = "SELECT pg_sleep(1.5)";

async fn slow(pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(SLOW).execute(pool).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_longer_than_the_connect_timeout_wait_for_a_lane() {
    let db = common::fresh_db().await;
    let settings = ConnectSettings::resolve(
        Some(&db.url),
        Duration::from_secs(1),
        Duration::from_secs(30),
    )
    .unwrap();
    let n = 2 * POOL_CONNECTIONS + 1;

    // Straight on the pool: the queries beyond its size wait 1.5 s for a connection.
    let bare = connect(&settings, SessionMode::ReadOnly).await.unwrap();
    let results = futures_util::future::join_all((0..n).map(|_| slow(&bare.pool))).await;
    let timed_out = results
        .iter()
        .filter(|r| matches!(r, Err(sqlx::Error::PoolTimedOut)))
        .count();
    assert!(
        timed_out > 0,
        "no query waited past the deadline: {results:?}"
    );
    bare.pool.close().await;

    // Through lanes: each waits for its turn, none for the pool.
    let db2 = connect(&settings, SessionMode::ReadOnly).await.unwrap();
    let lanes = Lanes::new();
    let results = futures_util::future::join_all((0..n).map(|_| lanes.run(slow(&db2.pool)))).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(results.len(), n);
    db2.pool.close().await;
}
