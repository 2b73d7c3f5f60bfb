//! A hand-built Snapshot with one instance of most defects, for unit tests and the output
//! format snapshot tests (no database needed).
#![doc(hidden)]

use serde_json::{json, Value};

use crate::collect::statements::{StatementStats, StatementsInfo, StatementsSnapshot};
use crate::snapshot::Snapshot;

/// A table row with every counter zero; override fields as needed.
pub fn table_json(name: &str) -> Value {
    json!({
        "oid": 0, "schema": "public", "name": name, "kind": "r", "is_partition": false,
        "reltuples": 0.0, "relpages": 0, "ncolumns": 2, "table_bytes": 0, "toast_bytes": 0,
        "reloptions": [], "seq_scan": 0, "seq_tup_read": 0, "n_tup_ins": 0, "n_tup_upd": 0,
        "n_tup_del": 0, "n_tup_hot_upd": 0, "n_live_tup": 0, "n_dead_tup": 0,
        "n_mod_since_analyze": 0, "n_ins_since_vacuum": 0, "last_vacuum": null,
        "last_autovacuum": null, "last_analyze": null, "last_autoanalyze": null,
        "vacuum_count": 0, "autovacuum_count": 0, "heap_blks_hit": 0, "heap_blks_read": 0,
        "xid_age": 1000, "mxid_age": 0
    })
}

fn merge(mut base: Value, over: Value) -> Value {
    if let (Some(b), Some(o)) = (base.as_object_mut(), over.as_object()) {
        for (k, v) in o {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

/// An index row; `attnums`/`columns` given, everything else plain btree defaults.
pub fn index_json(
    oid: i64,
    table_oid: i64,
    schema: &str,
    table: &str,
    name: &str,
    cols: &[(i16, &str)],
) -> Value {
    let attnums: Vec<i16> = cols.iter().map(|c| c.0).collect();
    let names: Vec<&str> = cols.iter().map(|c| c.1).collect();
    let qcols: Vec<String> = names.iter().map(|c| crate::util::quote_ident(c)).collect();
    json!({
        "oid": oid, "table_oid": table_oid, "schema": schema, "table": table, "name": name,
        "method": "btree", "is_unique": false, "is_primary": false, "is_exclusion": false,
        "is_valid": true, "is_ready": true, "key_count": cols.len(), "attnums": attnums,
        "columns": names, "opclasses": vec![1978; cols.len()], "collations": vec![0; cols.len()],
        "options": vec![0; cols.len()], "expressions": null, "predicate": null,
        "definition": format!("CREATE INDEX {} ON {} USING btree ({})",
            crate::util::quote_ident(name), crate::util::qualified(schema, table), qcols.join(", ")),
        "constraint_name": null, "constraint_type": null, "bytes": 8192, "reltuples": 0.0,
        "relpages": 1, "reloptions": [], "idx_scan": 10, "idx_tup_read": 0, "idx_tup_fetch": 0,
        "idx_blks_hit": 0, "idx_blks_read": 0
    })
}

/// The sample snapshot: a small shop database with planted problems.
pub fn sample_snapshot() -> Snapshot {
    let t = |name: &str, over: Value| merge(table_json(name), over);
    let ix = |oid,
              table_oid,
              schema: &str,
              table: &str,
              name: &str,
              cols: &[(i16, &str)],
              over: Value| {
        merge(index_json(oid, table_oid, schema, table, name, cols), over)
    };
    let v = json!({
        "schema_version": 1,
        "dbdoctor_version": "0.1.0",
        "taken_at": "2026-11-26T12:00:00Z",
        "target": "postgres://app@db.example:5432/shop",
        "local": true,
        "capabilities": {
            "server_version_num": 150018, "server_version": "15.18", "is_replica": false,
            "database": "shop", "role": "app", "superuser": false, "pg_monitor": true,
            "pg_read_all_stats": true, "pg_read_all_settings": true,
            "shared_preload_libraries": "pg_stat_statements", "pg_stat_statements_loaded": true,
            "pg_stat_statements_track": "top", "track_io_timing": true, "max_connections": 100,
            "stats_reset": "2026-11-01T00:00:00Z", "server_started": "2026-10-01T00:00:00Z",
            "server_now": "2026-11-26T12:00:00Z",
            "extensions": [{"name": "pg_stat_statements", "installed_version": "1.10", "schema": "public", "default_version": "1.10"}]
        },
        "connection": {"connect_ms": 3.5, "round_trip_ms": 0.25, "round_trip_samples": 5},
        "statements": null,
        "skipped": [],
        "schema": {
            "schema_filter": [],
            "settings": {
                "block_size": 8192, "autovacuum": true, "autovacuum_vacuum_threshold": 50,
                "autovacuum_vacuum_scale_factor": 0.2, "autovacuum_freeze_max_age": 200000000,
                "autovacuum_multixact_freeze_max_age": 400000000,
                "superuser_reserved_connections": 3, "track_counts": true
            },
            "tables": [
                t("users", json!({"oid": 1, "reltuples": 5000.0, "relpages": 60, "n_live_tup": 5000, "table_bytes": 500000, "seq_scan": 12, "heap_blks_hit": 9000, "heap_blks_read": 40})),
                t("meals", json!({"oid": 2, "reltuples": 200000.0, "relpages": 2000, "n_live_tup": 200000, "n_dead_tup": 90000, "table_bytes": 16384000, "seq_scan": 400, "seq_tup_read": 80000000, "reloptions": ["autovacuum_enabled=false"]})),
                t("orders_archive", json!({"oid": 3, "reltuples": 2000.0, "relpages": 30, "n_live_tup": 2000, "table_bytes": 245760})),
                merge(t("Weird \"Name\"", json!({"oid": 4, "reltuples": 100.0, "relpages": 1, "n_live_tup": 100, "table_bytes": 8192})), json!({"schema": "my schema"}))
            ],
            "indexes": [
                ix(10, 1, "public", "users", "users_pkey", &[(1, "id")], json!({"is_unique": true, "is_primary": true, "constraint_name": "users_pkey", "constraint_type": "p", "bytes": 131072, "idx_scan": 5000})),
                ix(11, 1, "public", "users", "users_email_key", &[(2, "email")], json!({"is_unique": true, "constraint_name": "users_email_key", "constraint_type": "u", "bytes": 262144, "idx_scan": 0})),
                ix(12, 1, "public", "users", "idx_users_created_at", &[(3, "created_at")], json!({"bytes": 4194304, "idx_scan": 0})),
                ix(20, 2, "public", "meals", "meals_pkey", &[(1, "id")], json!({"is_unique": true, "is_primary": true, "constraint_name": "meals_pkey", "constraint_type": "p", "bytes": 4505600, "idx_scan": 20})),
                ix(21, 2, "public", "meals", "idx_meals_cooked_on", &[(3, "cooked_on")], json!({"bytes": 4505600, "idx_scan": 3})),
                ix(22, 2, "public", "meals", "idx_meals_cooked_on_copy", &[(3, "cooked_on")], json!({"bytes": 4505600, "idx_scan": 0})),
                ix(23, 2, "public", "meals", "idx_meals_cooked_on_title", &[(3, "cooked_on"), (4, "title")], json!({"bytes": 9011200, "idx_scan": 2})),
                ix(24, 2, "public", "meals", "idx_meals_title_broken", &[(4, "title")], json!({"is_valid": false, "bytes": 8192, "idx_scan": 0})),
                ix(40, 4, "my schema", "Weird \"Name\"", "Weird \"Name\"_val_idx", &[(2, "val")], json!({"bytes": 2097152, "idx_scan": 0}))
            ],
            "foreign_keys": [
                {"oid": 100, "table_oid": 2, "schema": "public", "table": "meals", "name": "meals_user_id_fkey", "attnums": [2], "columns": ["user_id"], "ref_schema": "public", "ref_table": "users", "validated": true},
                {"oid": 101, "table_oid": 4, "schema": "my schema", "table": "Weird \"Name\"", "name": "Weird \"Name\"_val_fkey", "attnums": [2], "columns": ["val"], "ref_schema": "public", "ref_table": "users", "validated": true}
            ],
            "sequences": [
                {"schema": "public", "name": "orders_archive_id_seq", "data_type": "bigint", "min_value": 1, "max_value": 9223372036854775807i64, "increment": 1, "cycle": false, "last_value": 2000000000, "readable": true,
                 "fed_columns": [{"schema": "public", "table": "orders_archive", "column": "id", "data_type": "integer"}]},
                {"schema": "public", "name": "users_id_seq", "data_type": "bigint", "min_value": 1, "max_value": 9223372036854775807i64, "increment": 1, "cycle": false, "last_value": 5000, "readable": true,
                 "fed_columns": [{"schema": "public", "table": "users", "column": "id", "data_type": "bigint"}]}
            ],
            "column_stats": [
                {"schema": "public", "table": "meals", "column": "id", "null_frac": 0.0, "avg_width": 8},
                {"schema": "public", "table": "meals", "column": "title", "null_frac": 0.0, "avg_width": 20}
            ]
        },
        "activity": {
            "database": {"name": "shop", "size_bytes": 52428800, "xid_age": 1200000000, "mxid_age": 10,
                         "backends": 5, "xact_commit": 100000, "xact_rollback": 12, "blks_read": 30000,
                         "blks_hit": 970000, "temp_files": 3, "temp_bytes": 1048576, "deadlocks": 0,
                         "stats_reset": "2026-11-01T00:00:00Z"},
            "sessions": [
                {"pid": 4101, "database": "shop", "usename": "app", "application_name": "web", "state": "idle in transaction",
                 "wait_event_type": "Client", "wait_event": "ClientRead", "backend_ms": 900000.0, "xact_ms": 300000.0,
                 "query_ms": 299000.0, "state_ms": 298000.0, "query": "UPDATE meals SET title = $1 WHERE id = $2",
                 "xmin_age": 1500, "blocked_by": [], "waiting_for": null},
                {"pid": 4102, "database": "shop", "usename": "app", "application_name": "web", "state": "active",
                 "wait_event_type": "Lock", "wait_event": "transactionid", "backend_ms": 60000.0, "xact_ms": 20000.0,
                 "query_ms": 20000.0, "state_ms": 20000.0, "query": "UPDATE meals SET title = $1 WHERE id = $2",
                 "xmin_age": 1400, "blocked_by": [4101], "waiting_for": "transactionid ShareLock"},
                {"pid": 4103, "database": "shop", "usename": "report", "application_name": "psql", "state": "active",
                 "wait_event_type": null, "wait_event": null, "backend_ms": 200000.0, "xact_ms": 95000.0,
                 "query_ms": 95000.0, "state_ms": 95000.0, "query": "SELECT sum(calories) FROM meals m, users u WHERE m.user_id = u.id",
                 "xmin_age": 1300, "blocked_by": [], "waiting_for": null},
                {"pid": 4104, "database": "shop", "usename": "app", "application_name": "web", "state": "idle",
                 "wait_event_type": "Client", "wait_event": "ClientRead", "backend_ms": 100000.0, "xact_ms": null,
                 "query_ms": 5000.0, "state_ms": 4990.0, "query": "SELECT 1",
                 "xmin_age": null, "blocked_by": [], "waiting_for": null}
            ],
            "all_sessions_visible": true
        },
        "host": {"hostname": "db1", "cpu_count": 2, "cpu_usage_pct": 85.5, "load_average_1m": 1.7,
                 "memory_total_bytes": 8589934592u64, "memory_used_bytes": 4294967296u64,
                 "memory_available_bytes": 4294967296u64,
                 "disks": [{"mount_point": "/", "total_bytes": 107374182400u64, "available_bytes": 53687091200u64}]}
    });
    let mut snap: Snapshot =
        serde_json::from_value(v).expect("the sample snapshot matches the Snapshot type");
    snap.statements = Some(sample_statements());
    snap
}

fn stmt(
    id: i64,
    query: &str,
    calls: i64,
    mean: f64,
    sd: f64,
    rows: i64,
    temp: i64,
) -> StatementStats {
    StatementStats {
        queryid: Some(id),
        query: Some(query.to_string()),
        toplevel: Some(true),
        calls,
        total_exec_time_ms: mean * calls as f64,
        mean_exec_time_ms: mean,
        stddev_exec_time_ms: sd,
        min_exec_time_ms: mean / 4.0,
        max_exec_time_ms: mean * 6.0,
        rows,
        shared_blks_hit: calls * 10,
        temp_blks_written: temp,
        ..Default::default()
    }
}

/// pg_stat_statements figures with a slow, a wide and a comma-joined statement.
pub fn sample_statements() -> StatementsSnapshot {
    let at = |s: &str| s.parse().expect("timestamp");
    let mut st = StatementsSnapshot {
        taken_at: at("2026-11-26T12:00:00Z"),
        database: "shop".into(),
        extension_version: "1.10".into(),
        extension_schema: "public".into(),
        block_size: 8192,
        since: Some(at("2026-11-26T11:00:00Z")),
        info: Some(StatementsInfo {
            dealloc: 0,
            stats_reset: at("2026-11-26T11:00:00Z"),
        }),
        statements: vec![
            stmt(
                101,
                "SELECT * FROM meals m, users u WHERE m.user_id = u.id AND m.difficulty = $1",
                1200,
                180.0,
                60.0,
                2_400_000,
                512,
            ),
            stmt(
                102,
                "SELECT id, title FROM meals WHERE id = $1",
                90000,
                0.4,
                0.1,
                90000,
                0,
            ),
            stmt(
                103,
                "SELECT u.* FROM users u WHERE u.email = $1 LIMIT $2",
                20000,
                0.9,
                0.3,
                20000,
                0,
            ),
            stmt(
                104,
                "UPDATE meals SET title = $1 WHERE id = $2",
                3000,
                1.2,
                0.5,
                3000,
                0,
            ),
        ],
        ..Default::default()
    };
    st.recompute();
    st
}
