//! A budget probe with `allow_writes` leaves the database's sequences where it found them.

mod common;

use common::{dbdoctor, fresh_db};

#[tokio::test]
async fn a_writing_probe_sets_the_sequences_it_advanced_back() {
    let db = fresh_db().await;
    db.exec(
        "CREATE TABLE items (id bigserial PRIMARY KEY, v int);
         CREATE TABLE other (id serial PRIMARY KEY);
         CREATE SEQUENCE untouched_never_called;
         INSERT INTO items (v) SELECT g FROM generate_series(1, 10) g;
         -- Two values per execution: a second sequence drawn twice.
         CREATE SEQUENCE pairs;",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().join("budgets.toml");
    std::fs::write(
        &b,
        r#"
version = 1

[[probes]]
name = "add"
sql = "INSERT INTO items (v) SELECT $1::int + nextval('pairs')::int - nextval('pairs')::int"
allow_writes = true
concurrency = 2
iterations = 60
warmup_iterations = 5

[[probes.params]]
kind = "int"
min = 1
max = 100

[[probes]]
name = "fresh"
sql = "INSERT INTO other DEFAULT VALUES"
allow_writes = true
iterations = 7
"#,
    )
    .unwrap();
    let state = |name: &'static str| {
        let db = &db;
        async move {
            let mut c = db.connect().await;
            let r: (i64, bool) =
                sqlx::query_as(&format!("SELECT last_value, is_called FROM {name}"))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            r
        }
    };
    let before = (
        state("items_id_seq").await,
        state("other_id_seq").await,
        state("pairs").await,
        state("untouched_never_called").await,
    );
    assert_eq!(before.0, (10, true));
    assert!(!before.1 .1, "other_id_seq was never called");

    let out = dbdoctor()
        .args(["budget", "--format", "json", "--budgets"])
        .arg(&b)
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{stderr}"
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let probes = j["probes"].as_array().expect("probes in the report");
    assert!(
        probes.iter().all(|p| p["executions"].as_u64().unwrap() > 0),
        "the probes ran"
    );
    assert!(!stderr.contains("stays advanced"), "{stderr}");
    let after = (
        state("items_id_seq").await,
        state("other_id_seq").await,
        state("pairs").await,
        state("untouched_never_called").await,
    );
    assert_eq!(after, before, "every sequence is where it was");

    // And the next value handed out is the one the application would have got anyway.
    let mut c = db.connect().await;
    let next: i64 = sqlx::query_scalar("INSERT INTO items (v) VALUES (0) RETURNING id")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(next, 11);
}

#[test]
fn only_a_whole_number_of_draws_per_execution_is_set_back() {
    use dbdoctor::budget::probe::{may_restore, values_drawn, SequenceState};
    let called = SequenceState {
        name: "s".into(),
        last_value: Some(10),
        start_value: 1,
        increment: 1,
    };
    assert_eq!(values_drawn(&called, Some(70)), Some(60));
    assert!(may_restore(60, 60) && may_restore(120, 60));
    // Another session drew 3 values in between: not a multiple, left alone.
    assert!(!may_restore(63, 60));
    assert!(!may_restore(0, 60) && !may_restore(5, 0));
    let fresh = SequenceState {
        name: "s".into(),
        last_value: None,
        start_value: 100,
        increment: -2,
    };
    assert_eq!(values_drawn(&fresh, Some(100)), Some(1));
    assert_eq!(values_drawn(&fresh, Some(90)), Some(6));
    assert_eq!(values_drawn(&fresh, Some(91)), None);
}
