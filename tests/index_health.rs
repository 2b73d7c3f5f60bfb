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
    "money_column",
    "char_column",
    "fixed_length_varchar",
    "timestamp_or_timetz_column",
    "blob_column",
    "serial_column_not_pk",
    "inconsistent_column_type",
    "table_with_zero_or_one_column",
    "all_columns_nullable_except_pk",
    "primary_key_columns_not_first",
    "table_with_inheritance",
    "table_not_linked_to_others",
    "table_with_incrementing_columns",
    "table_with_no_data",
    "foreign_key_with_null_values",
    "self_referenced_foreign_key",
    "index_with_timestamp_in_the_middle",
    "primary_key_with_varchar",
    "possible_object_name_overflow",
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

-- Column types: money, char(n), varchar(n) (UUIDs kept as text, with a uuid twin), timestamp
-- and timetz, large-object handles (oid, lo) next to bytea.
ALTER TABLE accounts ADD COLUMN "account_balance-bad" money;
UPDATE accounts SET "account_balance-bad" = account_balance::money WHERE id <= 10;
CREATE TABLE "t-varchar-short" ("id-short" varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO "t-varchar-short" VALUES (replace(gen_random_uuid()::text, '-', ''));
CREATE TABLE t_varchar_long (id_long varchar(36) NOT NULL PRIMARY KEY);
INSERT INTO t_varchar_long VALUES (gen_random_uuid());
CREATE TABLE t_link (
    "id-short" varchar(32) NOT NULL REFERENCES "t-varchar-short" ("id-short"),
    id_long varchar(36) NOT NULL REFERENCES t_varchar_long (id_long),
    PRIMARY KEY (id_long, "id-short")
);
CREATE TABLE t_varchar_long_not_pk (id_long varchar(36) NOT NULL);
CREATE TABLE t_uuid (id uuid NOT NULL PRIMARY KEY);
CREATE TABLE codes (code char(3) NOT NULL PRIMARY KEY, name text);
CREATE DOMAIN lo AS oid;
CREATE TABLE "document-bad" (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL, "content-bad" oid NOT NULL);
CREATE TABLE image (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL, raster lo);
CREATE TABLE files (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body bytea);

-- Timestamps in the middle of an index (columns and expressions); at the end, absent, or in a
-- unique index they are not reported.
CREATE TABLE "t-multi" (id int PRIMARY KEY, ts timestamp, created_at timetz, name text);
CREATE INDEX idx_multi_mid ON "t-multi" (id, ts, name);
CREATE INDEX idx_multi_end ON "t-multi" (id, name, ts);
CREATE INDEX idx_multi_none ON "t-multi" (id, name);
CREATE INDEX idx_multi_expr_mid ON "t-multi" (id, date_trunc('day', ts), name);
CREATE INDEX idx_multi_expr_first ON "t-multi" (date_trunc('day', ts), id, name);
CREATE UNIQUE INDEX idx_unique_ts ON "t-multi" (id, ts, id);

-- Serial columns outside the primary key (the key itself and identity columns are not).
CREATE TABLE bad_accounts (
    id bigserial NOT NULL PRIMARY KEY,
    name varchar(255) NOT NULL,
    real_client_id bigserial,
    real_account_id bigserial
);
CREATE TABLE one_more_table (
    id bigserial,
    CONSTRAINT unique_id UNIQUE (id),
    CONSTRAINT not_reserved_id CHECK (id > 1000),
    CONSTRAINT less_than_million CHECK (id < 1000000)
);

-- One name, several types: id (bigint, integer, uuid), created_at (timestamp, timestamptz).
CREATE TABLE "t-int-id" (id int NOT NULL PRIMARY KEY, created_at timestamp NOT NULL);
CREATE TABLE t_uuid_id (id uuid NOT NULL PRIMARY KEY, created_at timestamptz NOT NULL);

-- Table shapes: numbered columns, inheritance (a partition is not), empty tables, nullable
-- columns, a key after the first column.
CREATE TABLE orders_wide (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone1 text, phone2 text, address1 text, address2 text, address3 text,
    created_at timestamptz, created_by text, sku1 text, "updatedAt" timestamptz, "updatedBy" text
);
CREATE TABLE parent_table (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, info text);
CREATE TABLE child_table (extra_info text) INHERITS (parent_table);
CREATE TABLE "second-child_table" (extra_info2 text) INHERITS (child_table);
CREATE TABLE part_parent (id bigint NOT NULL, v text) PARTITION BY RANGE (id);
CREATE TABLE part_1 PARTITION OF part_parent FOR VALUES FROM (0) TO (100);
INSERT INTO part_parent VALUES (1, 'x');
CREATE TABLE empty ();
CREATE TABLE bad_design (
    product_type text NOT NULL,
    description text,
    product_subtype text NOT NULL,
    PRIMARY KEY (product_type, product_subtype)
);
CREATE TABLE "no-pk" (description text, product_type text, product_subtype text);
CREATE TABLE only_pk (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE TABLE "good-design" (description text NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
INSERT INTO "good-design" (description) VALUES ('x');

-- Foreign keys: composite with a nullable column (MATCH FULL twin), self references without a
-- delete rule or with RESTRICT (CASCADE twin).
CREATE TABLE dict (ref_type int NOT NULL, ref_value text NOT NULL, PRIMARY KEY (ref_type, ref_value));
INSERT INTO dict VALUES (10, '10'), (20, '20');
CREATE TABLE referencing_bad_table (
    rbt_id integer NOT NULL,
    rbt_value text,
    CONSTRAINT "referencing-bad-table-fk" FOREIGN KEY (rbt_id, rbt_value) REFERENCES dict (ref_type, ref_value)
);
INSERT INTO referencing_bad_table VALUES (20, '20'), (30, NULL);
CREATE TABLE referencing_good_table (
    rgt_id integer NOT NULL,
    rgt_value text,
    CONSTRAINT referencing_good_table_fk FOREIGN KEY (rgt_id, rgt_value)
        REFERENCES dict (ref_type, ref_value) MATCH FULL
);
CREATE TABLE bad_self_ref_table (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id bigint,
    name text NOT NULL,
    CONSTRAINT bad_self_ref_table_parent_id_fk FOREIGN KEY (parent_id) REFERENCES bad_self_ref_table (id)
);
CREATE TABLE bad_self_ref_restrict_table (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id bigint,
    name text NOT NULL,
    CONSTRAINT bad_self_ref_restrict_table_parent_id_fk FOREIGN KEY (parent_id)
        REFERENCES bad_self_ref_restrict_table (id) ON DELETE RESTRICT
);
CREATE TABLE good_self_ref_table (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id bigint,
    name text NOT NULL,
    CONSTRAINT good_self_ref_table_parent_id_fk FOREIGN KEY (parent_id)
        REFERENCES good_self_ref_table (id) ON DELETE CASCADE
);

-- A table name of 63 bytes (its primary key's name is cut to 63 too); a short twin.
CREATE TABLE entity_with_a_very_long_name_that_reaches_the_identifier_limits (id bigint PRIMARY KEY, v text);
CREATE TABLE entity_short (id bigint PRIMARY KEY, v text);
ANALYZE;
"#;

/// The 63-byte table of the fixture.
const LONG_TABLE: &str = "entity_with_a_very_long_name_that_reaches_the_identifier_limits";

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
            "public.bad_accounts.id",
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

    new_checks_find_the_fixture_defects(&r);

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
    assert_eq!(
        objects(&back, "money_column"),
        ["public.accounts.\"account_balance-bad\""]
    );
}

/// Sorted, as `objects` returns them.
fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    v.sort();
    v
}

/// Positives present and their twins absent, for checks that also fire on other fixture tables.
fn has(report: &Value, check: &str, yes: &[&str], no: &[&str]) {
    let got = objects(report, check);
    for y in yes {
        assert!(
            got.contains(&y.to_string()),
            "{check}: {y} missing in {got:?}"
        );
    }
    for n in no {
        assert!(!got.contains(&n.to_string()), "{check}: {n} reported");
    }
}

/// The checks after pg-index-health's column, table-shape, foreign-key, index and name checks.
fn new_checks_find_the_fixture_defects(r: &Value) {
    assert_eq!(
        objects(r, "money_column"),
        ["public.accounts.\"account_balance-bad\""]
    );
    assert_eq!(objects(r, "char_column"), ["public.codes.code"]);
    has(
        r,
        "fixed_length_varchar",
        &[
            "public.t_varchar_long_not_pk.id_long",
            "public.t_link.id_long",
            "public.\"t-varchar-short\".\"id-short\"",
        ],
        &["public.t_uuid.id", "public.codes.code"],
    );
    assert_eq!(
        objects(r, "timestamp_or_timetz_column"),
        sorted(&[
            "public.\"t-int-id\".created_at",
            "public.\"t-multi\".created_at",
            "public.\"t-multi\".ts",
        ])
    );
    assert_eq!(
        objects(r, "blob_column"),
        sorted(&[
            "public.\"document-bad\".\"content-bad\"",
            "public.image.raster"
        ])
    );
    assert_eq!(
        objects(r, "serial_column_not_pk"),
        sorted(&[
            "public.bad_accounts.real_account_id",
            "public.bad_accounts.real_client_id",
            "public.one_more_table.id",
            "public.test_table.num",
        ])
    );
    has(
        r,
        "inconsistent_column_type",
        &[
            "public.\"t-int-id\".id",
            "public.t_uuid_id.id",
            "public.\"t-int-id\".created_at",
            "public.t_uuid_id.created_at",
        ],
        &["public.orders_wide.phone1", "public.t_link.id_long"],
    );
    assert_eq!(
        objects(r, "table_with_zero_or_one_column"),
        sorted(&[
            "public.empty",
            "public.one_more_table",
            "public.only_pk",
            "public.\"t-varchar-short\"",
            "public.t_uuid",
            "public.t_varchar_long",
            "public.t_varchar_long_not_pk",
        ])
    );
    has(
        r,
        "all_columns_nullable_except_pk",
        &["public.bad_design", "public.\"no-pk\""],
        &["public.only_pk", "public.\"good-design\"", "public.t_link"],
    );
    assert_eq!(
        objects(r, "primary_key_columns_not_first"),
        ["public.\"good-design\""]
    );
    assert_eq!(
        objects(r, "table_with_inheritance"),
        sorted(&["public.child_table", "public.\"second-child_table\""])
    );
    has(
        r,
        "table_not_linked_to_others",
        &["public.t_uuid", "public.empty"],
        &[
            "public.t_link",
            "public.dict",
            "public.bad_self_ref_table",
            "public.\"t-varchar-short\"",
        ],
    );
    let wide = finding(r, "table_with_incrementing_columns", "public.orders_wide");
    assert_eq!(
        wide["detail"]["columns"],
        serde_json::json!(["phone1", "phone2", "address1", "address2", "address3"])
    );
    assert_eq!(objects(r, "table_with_incrementing_columns").len(), 1);
    has(
        r,
        "table_with_no_data",
        &["public.empty", "public.only_pk"],
        &[
            "public.clients",
            "public.dict",
            "public.part_parent",
            "public.\"good-design\"",
        ],
    );
    assert_eq!(
        objects(r, "foreign_key_with_null_values"),
        sorted(&[
            "public.bad_clients.c_bad_clients_fk_email_phone",
            "public.referencing_bad_table.\"referencing-bad-table-fk\"",
        ])
    );
    assert_eq!(
        objects(r, "self_referenced_foreign_key"),
        sorted(&[
            "public.bad_self_ref_restrict_table.bad_self_ref_restrict_table_parent_id_fk",
            "public.bad_self_ref_table.bad_self_ref_table_parent_id_fk",
        ])
    );
    assert_eq!(
        objects(r, "index_with_timestamp_in_the_middle"),
        sorted(&[
            "public.idx_multi_expr_first",
            "public.idx_multi_expr_mid",
            "public.idx_multi_mid",
        ])
    );
    assert_eq!(
        objects(r, "primary_key_with_varchar"),
        sorted(&[
            "public.\"t-varchar-short_pkey\"",
            "public.t_link_pkey",
            "public.t_varchar_long_pkey",
        ])
    );
    let long_pkey = format!("{}_pkey", &LONG_TABLE[..58]);
    assert_eq!(long_pkey.len(), 63);
    assert_eq!(
        objects(r, "possible_object_name_overflow"),
        sorted(&[
            &format!("public.{LONG_TABLE}"),
            &format!("public.{long_pkey}"),
            &format!("public.{LONG_TABLE}.{long_pkey}"),
        ])
    );
}
