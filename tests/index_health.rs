//! The one-module-per-check health checks (src/checks) against a real PostgreSQL: a schema built
//! after pg-index-health's own test fixtures, each defect planted next to the twins that must
//! not be flagged (CYCLE sequences, other operator classes and collations, expression and
//! partial indexes that differ), then every fix and rollback executed.

mod common;

use common::TestDb;
use serde_json::Value;

const NEW_CHECKS: &[&str] = &[
    "btree_index_on_array",
    "index_with_boolean",
    "index_mostly_null",
    "partial_index_always_true",
    "redundant_hash_index",
    "duplicate_foreign_key",
    "intersected_foreign_key",
    "fk_type_mismatch",
    "not_valid_constraint",
    "integer_primary_key",
    "json_column",
    "sequence_near_max",
];

const SCHEMA: &str = r#"
CREATE COLLATION IF NOT EXISTS "C.UTF-8" (locale = 'C.UTF-8');
CREATE SEQUENCE clients_seq;
CREATE TABLE clients (
    id bigint NOT NULL PRIMARY KEY DEFAULT nextval('clients_seq'),
    last_name varchar(255) NOT NULL,
    first_name varchar(255) NOT NULL,
    middle_name varchar(255),
    info json,
    email varchar(200) NOT NULL,
    phone varchar(50) NOT NULL,
    nickname varchar(100),
    settings jsonb
);
CREATE UNIQUE INDEX i_clients_email_phone ON clients (email, phone);
CREATE SEQUENCE accounts_seq;
CREATE TABLE accounts (
    id bigint NOT NULL PRIMARY KEY DEFAULT nextval('accounts_seq'),
    client_id bigint NOT NULL,
    account_number varchar(50) NOT NULL UNIQUE,
    account_balance numeric(22,2) NOT NULL DEFAULT 0,
    deleted boolean NOT NULL DEFAULT false,
    roles text[],
    tags text[]
);
INSERT INTO clients (last_name, first_name, email, phone, nickname, info)
SELECT 'last' || g, 'first' || g, 'c' || g || '@example.com', 'p' || g, 'nick' || g,
       json_build_object('n', g)
FROM generate_series(1, 3000) g;
INSERT INTO accounts (client_id, account_number, deleted, roles)
SELECT g, '40702810' || lpad(g::text, 12, '0'), g % 50 = 0,
       CASE WHEN g % 3 = 0 THEN ARRAY['r' || (g % 7)] END
FROM generate_series(1, 3000) g;

-- Foreign keys: one plain, one duplicate, two intersected, one NOT VALID, one of another type.
ALTER TABLE accounts ADD CONSTRAINT c_accounts_fk_client_id FOREIGN KEY (client_id) REFERENCES clients (id);
ALTER TABLE accounts ADD CONSTRAINT c_accounts_fk_client_id_duplicate FOREIGN KEY (client_id) REFERENCES clients (id);
CREATE TABLE client_preferences (
    id bigint NOT NULL GENERATED ALWAYS AS IDENTITY,
    email varchar(200) NOT NULL,
    phone varchar(50) NOT NULL
);
ALTER TABLE client_preferences ADD CONSTRAINT c_client_preferences_email_phone_fk
    FOREIGN KEY (email, phone) REFERENCES clients (email, phone);
ALTER TABLE client_preferences ADD CONSTRAINT c_client_preferences_phone_email_fk
    FOREIGN KEY (phone, email) REFERENCES clients (phone, email);
CREATE TABLE bad_clients (
    id bigint NOT NULL,
    real_client_id integer,
    email varchar(200),
    phone varchar(51)
);
ALTER TABLE bad_clients ADD CONSTRAINT c_bad_clients_fk_real_client_id
    FOREIGN KEY (real_client_id) REFERENCES clients (id);
ALTER TABLE bad_clients ADD CONSTRAINT c_bad_clients_fk_email_phone
    FOREIGN KEY (email, phone) REFERENCES clients (email, phone);
ALTER TABLE accounts ADD CONSTRAINT c_accounts_chk_client_id_not_validated_yet
    CHECK (client_id > 0) NOT VALID;
ALTER TABLE accounts ADD CONSTRAINT c_accounts_fk_client_id_not_validated_yet
    FOREIGN KEY (client_id) REFERENCES clients (id) NOT VALID;

-- Indexes: array (btree flagged; GIN and INCLUDE not), boolean, mostly NULL, always-true WHERE.
CREATE INDEX accounts_roles_btree_idx ON accounts (roles) WHERE roles IS NOT NULL;
CREATE INDEX accounts_account_number_roles_btree_idx ON accounts (account_number, roles);
CREATE INDEX accounts_account_number_including_roles_idx ON accounts (account_number) INCLUDE (roles);
CREATE INDEX accounts_roles_gin_idx ON accounts USING gin (roles) WHERE roles IS NOT NULL;
CREATE INDEX i_accounts_deleted ON accounts (deleted);
CREATE UNIQUE INDEX i_accounts_account_number_deleted ON accounts (account_number, deleted);
CREATE INDEX i_clients_middle_name ON clients (middle_name);
CREATE INDEX i_clients_first_name ON clients (first_name);
CREATE TABLE t1 (id bigint NOT NULL PRIMARY KEY, id_ref bigint NOT NULL);
CREATE INDEX idx_t1_id_ref ON t1 (id_ref) WHERE id_ref IS NOT NULL;
CREATE TABLE t2 ("first-ref" bigint NOT NULL, second_ref bigint NOT NULL, t1_id bigint REFERENCES t1 (id));
CREATE INDEX "idx_t2_first-ref_second_ref" ON t2 (second_ref, "first-ref") WHERE "first-ref" IS NOT NULL;
CREATE INDEX idx_t2_id_ref ON t2 (t1_id) WHERE t1_id IS NOT NULL;

-- Hash indexes: covered by a btree (exactly, and as its leading column) or not (other
-- collation, other operator class, expression).
CREATE INDEX i_accounts_account_number_hash ON accounts USING hash (account_number);
CREATE INDEX i_clients_last_first ON clients (last_name, first_name);
CREATE INDEX i_clients_last_name_hash ON clients USING hash (last_name);
CREATE INDEX i_clients_phone_c ON clients (phone COLLATE "C.UTF-8");
CREATE INDEX i_clients_phone_hash ON clients USING hash (phone);
CREATE INDEX i_clients_nickname_pattern ON clients (nickname varchar_pattern_ops);
CREATE INDEX i_clients_nickname_hash ON clients USING hash (nickname);
CREATE INDEX i_clients_lower_email ON clients (lower(email));
CREATE INDEX i_clients_lower_email_hash ON clients USING hash (lower(email));

-- Sequences near their limit, never called; a CYCLE twin and a called one.
CREATE SEQUENCE seq_1 AS smallint INCREMENT BY 1 MAXVALUE 100 START 92;
CREATE SEQUENCE seq_3 AS integer INCREMENT BY 2 MAXVALUE 100 START 92;
CREATE SEQUENCE seq_5 AS bigint INCREMENT BY 10 MAXVALUE 100 START 92;
CREATE SEQUENCE seq_cycle AS bigint INCREMENT BY 10 MAXVALUE 100 START 92 CYCLE;
CREATE SEQUENCE seq_restarted AS bigint MAXVALUE 1000 START 950;
SELECT nextval('seq_restarted');
ALTER SEQUENCE seq_restarted RESTART;
CREATE SEQUENCE seq_fresh;

-- Integer primary keys: serial with a referencing integer column, identity without.
CREATE TABLE orders (id serial PRIMARY KEY, note text);
CREATE TABLE order_items (id bigserial PRIMARY KEY, order_id integer REFERENCES orders (id));
CREATE TABLE tags (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text);
CREATE TABLE test_table (id bigserial, num bigserial, CONSTRAINT test_table_pkey_id PRIMARY KEY (id));
INSERT INTO orders (note) SELECT 'n' || g FROM generate_series(1, 500) g;
INSERT INTO order_items (order_id) SELECT g FROM generate_series(1, 500) g;
ANALYZE;
"#;

async fn doctor(db: &TestDb) -> Value {
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let out = common::dbdoctor()
            .args(["--database-url", &url, "--format", "json", "doctor"])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "doctor did not print JSON ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    })
    .await
    .unwrap()
}

fn objects(report: &Value, check: &str) -> Vec<String> {
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .map(|f| f["object"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn finding<'a>(report: &'a Value, check: &str, object: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["object"] == object)
        .unwrap_or_else(|| panic!("no {check} finding for {object}"))
}

/// Run a fix or rollback script statement by statement, in autocommit (CONCURRENTLY needs it).
async fn run_script(db: &TestDb, sql: &str) {
    let mut c = db.connect().await;
    for st in dbdoctor::migrate::split::split(sql) {
        sqlx::raw_sql(&st.text)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("script statement failed: {e}\n{}", st.text));
    }
}

#[tokio::test]
async fn fixture_defects_are_found_twins_are_not_and_fixes_run() {
    let db = common::fresh_db().await;
    db.exec(SCHEMA).await;
    let r = doctor(&db).await;
    for id in NEW_CHECKS {
        assert!(
            r["checks_run"].as_array().unwrap().iter().any(|c| c == id),
            "{id} did not run: {:?}",
            r["skipped"]
        );
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    assert_eq!(
        objects(&r, "btree_index_on_array"),
        s(&[
            "public.accounts_account_number_roles_btree_idx",
            "public.accounts_roles_btree_idx"
        ])
    );
    assert_eq!(
        objects(&r, "index_with_boolean"),
        s(&[
            "public.i_accounts_account_number_deleted",
            "public.i_accounts_deleted"
        ])
    );
    assert_eq!(
        finding(&r, "index_with_boolean", "public.i_accounts_deleted")["severity"],
        "warning"
    );
    // middle_name is all NULL; first_name never is.
    assert_eq!(
        objects(&r, "index_mostly_null"),
        s(&["public.i_clients_middle_name"])
    );
    assert_eq!(
        objects(&r, "partial_index_always_true"),
        s(&[
            "public.\"idx_t2_first-ref_second_ref\"",
            "public.idx_t1_id_ref"
        ])
    );
    // Covered: exactly by the unique constraint's btree, and by a btree leading with the
    // column. Not covered: another collation, another operator class, an expression.
    assert_eq!(
        objects(&r, "redundant_hash_index"),
        s(&[
            "public.i_accounts_account_number_hash",
            "public.i_clients_last_name_hash"
        ])
    );
    assert_eq!(
        finding(
            &r,
            "redundant_hash_index",
            "public.i_accounts_account_number_hash"
        )["detail"]["covered_by"],
        "public.accounts_account_number_key"
    );
    // Its cover is never scanned and could be advised away as unused: no drop proposed.
    let last = finding(
        &r,
        "redundant_hash_index",
        "public.i_clients_last_name_hash",
    );
    assert!(last.get("fix_sql").is_none(), "{last}");
    assert_eq!(last["detail"]["cover_in_use"], false);
    assert_eq!(
        objects(&r, "duplicate_foreign_key"),
        s(&[
            "public.accounts.c_accounts_fk_client_id_duplicate",
            "public.accounts.c_accounts_fk_client_id_not_validated_yet"
        ])
    );
    assert_eq!(
        objects(&r, "intersected_foreign_key"),
        s(&["public.client_preferences.c_client_preferences_email_phone_fk"])
    );
    assert_eq!(
        objects(&r, "fk_type_mismatch"),
        s(&[
            "public.bad_clients.c_bad_clients_fk_email_phone",
            "public.bad_clients.c_bad_clients_fk_real_client_id"
        ])
    );
    assert_eq!(
        finding(
            &r,
            "fk_type_mismatch",
            "public.bad_clients.c_bad_clients_fk_email_phone"
        )["detail"]["columns"],
        serde_json::json!(["phone"])
    );
    assert_eq!(
        objects(&r, "not_valid_constraint"),
        s(&[
            "public.accounts.c_accounts_chk_client_id_not_validated_yet",
            "public.accounts.c_accounts_fk_client_id_not_validated_yet"
        ])
    );
    assert_eq!(
        objects(&r, "integer_primary_key"),
        s(&[
            "public.order_items.id",
            "public.orders.id",
            "public.tags.id",
            "public.test_table.id"
        ])
    );
    // A bigserial key cannot run out: information only, and no fix.
    let big = finding(&r, "integer_primary_key", "public.test_table.id");
    assert_eq!(big["severity"], "info");
    assert!(big.get("fix_sql").is_none());
    let orders = finding(&r, "integer_primary_key", "public.orders.id");
    assert_eq!(orders["detail"]["referencing"][0]["table"], "order_items");
    assert_eq!(orders["detail"]["last_value"], 500);
    assert_eq!(objects(&r, "json_column"), s(&["public.clients.info"]));
    // Never called or restarted, near MAXVALUE; CYCLE and a fresh sequence are not.
    assert_eq!(
        objects(&r, "sequence_near_max"),
        s(&[
            "public.seq_1",
            "public.seq_3",
            "public.seq_5",
            "public.seq_restarted"
        ])
    );
    assert_eq!(
        finding(&r, "sequence_near_max", "public.seq_5")["detail"]["calls_left"],
        1
    );

    // Every fix runs, and its finding is gone afterwards; then every rollback runs.
    // Validation first: a NOT VALID key that is also a duplicate is validated, then dropped.
    let mut ordered: Vec<&Value> = r["findings"].as_array().unwrap().iter().collect();
    ordered.sort_by_key(|f| f["check"] != "not_valid_constraint");
    let mut rollbacks = Vec::new();
    let mut fixed = Vec::new();
    for f in ordered {
        let check = f["check"].as_str().unwrap();
        if !NEW_CHECKS.contains(&check) {
            continue;
        }
        if let Some(fix) = f["fix_sql"].as_str() {
            run_script(&db, fix).await;
            fixed.push((check.to_string(), f["object"].as_str().unwrap().to_string()));
            if let Some(rb) = f["rollback_sql"].as_str() {
                rollbacks.push(rb.to_string());
            }
        }
    }
    assert!(fixed.len() >= 12, "{fixed:?}");
    let after = doctor(&db).await;
    for (check, object) in &fixed {
        if check == "integer_primary_key" {
            // Widened to bigint: at most the bigserial note remains (identity: nothing).
            if objects(&after, check).contains(object) {
                let f = finding(&after, check, object);
                assert_eq!(f["detail"]["data_type"], "bigint", "{f}");
                assert!(f.get("fix_sql").is_none());
            }
            continue;
        }
        assert!(
            !objects(&after, check).contains(object),
            "{check} {object} still reported after its fix"
        );
    }
    for rb in rollbacks.iter().rev() {
        run_script(&db, rb).await;
    }
    let back = doctor(&db).await;
    assert!(objects(&back, "json_column").contains(&"public.clients.info".to_string()));
}
