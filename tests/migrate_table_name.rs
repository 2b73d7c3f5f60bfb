//! sqlx.toml's `[migrate] table-name` (and `create-schemas`) against a real throwaway
//! PostgreSQL: apply, status, revert and validate use the configured table, `_sqlx_migrations`
//! is never created, the table has sqlx's own layout, names are quoted, bad names exit 2.

mod common;

use std::path::Path;

use sqlx::{Connection, Row};

/// A project folder: sqlx.toml plus `migrations/` with `files`.
fn project(sqlx_toml: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sqlx.toml"), sqlx_toml).expect("write sqlx.toml");
    let m = dir.path().join("migrations");
    std::fs::create_dir(&m).expect("migrations folder");
    for (name, sql) in files {
        std::fs::write(m.join(name), sql).expect("write migration");
    }
    dir
}

/// `dbdoctor --database-url URL migrate ARGS`, run in `project` (so its sqlx.toml is read).
fn migrate(url: &str, project: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = common::dbdoctor();
    cmd.current_dir(project)
        .arg("--database-url")
        .arg(url)
        .arg("migrate")
        .args(args);
    cmd.output().expect("run dbdoctor")
}

fn text(o: &std::process::Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: &std::process::Output) -> String {
    assert_eq!(o.status.code(), Some(0), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Whether `schema.name` exists (names as stored in the catalog, not SQL text).
async fn exists(db: &common::TestDb, schema: &str, name: &str) -> bool {
    let mut c = db.connect().await;
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
    )
    .bind(schema)
    .bind(name)
    .fetch_one(&mut c)
    .await
    .unwrap();
    c.close().await.ok();
    n > 0
}

/// Is there any table called `_sqlx_migrations`, in any schema?
async fn default_table_anywhere(db: &common::TestDb) -> bool {
    let mut c = db.connect().await;
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_class WHERE relname = '_sqlx_migrations'")
            .fetch_one(&mut c)
            .await
            .unwrap();
    c.close().await.ok();
    n > 0
}

/// Versions recorded in `schema.name`.
async fn versions(db: &common::TestDb, schema: &str, name: &str) -> Vec<i64> {
    let mut c = db.connect().await;
    // The test's own query names the table through format('%I.%I'), never by pasting.
    let sql: String = sqlx::query_scalar(
        "SELECT format('SELECT version FROM %I.%I ORDER BY version', $1::text, $2::text)",
    )
    .bind(schema)
    .bind(name)
    .fetch_one(&mut c)
    .await
    .unwrap();
    let v: Vec<i64> = sqlx::query_scalar(&sql).fetch_all(&mut c).await.unwrap();
    c.close().await.ok();
    v
}

/// Columns of a table: name, type, nullable, default, and whether it is the primary key.
async fn columns(
    db: &common::TestDb,
    schema: &str,
    name: &str,
) -> Vec<(String, String, bool, Option<String>, bool)> {
    let mut c = db.connect().await;
    let rows = sqlx::query(
        "SELECT a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS ty, NOT a.attnotnull AS nullable, \
                pg_get_expr(d.adbin, d.adrelid) AS def, \
                EXISTS (SELECT FROM pg_index i WHERE i.indrelid = cl.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk \
         FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace \
         JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped \
         LEFT JOIN pg_attrdef d ON d.adrelid = cl.oid AND d.adnum = a.attnum \
         WHERE n.nspname = $1 AND cl.relname = $2 ORDER BY a.attnum",
    )
    .bind(schema)
    .bind(name)
    .fetch_all(&mut c)
    .await
    .unwrap();
    c.close().await.ok();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

/// The layout sqlx's own Migrator gives `_sqlx_migrations` on a fresh database.
async fn sqlx_layout() -> Vec<(String, String, bool, Option<String>, bool)> {
    let db = common::fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("1_x.sql"), "SELECT 1;\n").unwrap();
    let pool = db.pool().await;
    sqlx::migrate::Migrator::new(dir.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool.close().await;
    let cols = columns(&db, "public", "_sqlx_migrations").await;
    assert_eq!(cols.len(), 6, "{cols:?}");
    cols
}

const TWO: &[(&str, &str)] = &[
    (
        "1_a.up.sql",
        "CREATE TABLE a (id bigint PRIMARY KEY, note text);\n",
    ),
    ("1_a.down.sql", "DROP TABLE a;\n"),
    (
        "2_b.up.sql",
        "-- no-transaction\nCREATE INDEX CONCURRENTLY a_note ON a (note);\n",
    ),
    (
        "2_b.down.sql",
        "-- no-transaction\nDROP INDEX CONCURRENTLY a_note;\n",
    ),
];

fn status_json(url: &str, project: &Path) -> serde_json::Value {
    let out = ok(&migrate(url, project, &["status", "--format", "json"]));
    serde_json::from_str(&out).unwrap()
}

fn states(doc: &serde_json::Value) -> Vec<String> {
    doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_plain_table_name_is_used_for_apply_status_validate_and_revert() {
    let db = common::fresh_db().await;
    let p = project("[migrate]\ntable-name = \"My_Migrations\"\n", TWO);

    // Before anything: status names the configured table, and the dry-run stream writes to it.
    let out = ok(&migrate(&db.url, p.path(), &["status"]));
    assert!(out.contains("(no my_migrations table yet)"), "{out}");
    let out = ok(&migrate(
        &db.url,
        p.path(),
        &["apply", "--dry-run", "--no-backup"],
    ));
    assert!(
        out.contains("CREATE TABLE IF NOT EXISTS my_migrations ("),
        "{out}"
    );
    assert!(out.contains("INSERT INTO my_migrations (version"), "{out}");
    assert!(!out.contains("_sqlx_migrations"), "{out}");
    assert!(!exists(&db, "public", "my_migrations").await);

    ok(&migrate(&db.url, p.path(), &["apply", "--no-backup"]));
    assert_eq!(versions(&db, "public", "my_migrations").await, vec![1, 2]);
    assert!(!default_table_anywhere(&db).await);
    assert!(exists(&db, "public", "_dbdoctor_migrations").await);
    // sqlx's layout, column for column, so sqlx reading this table agrees with dbdoctor.
    assert_eq!(
        columns(&db, "public", "my_migrations").await,
        sqlx_layout().await
    );

    let doc = status_json(&db.url, p.path());
    assert_eq!(doc["tracking_table"], "my_migrations", "{doc}");
    assert_eq!(states(&doc), vec!["applied", "applied"], "{doc}");
    // A second apply finds both recorded there.
    let out = ok(&migrate(&db.url, p.path(), &["apply", "--no-backup"]));
    assert!(out.contains("nothing to apply"), "{out}");

    // validate with the database reads the same table: an edited applied file is drift.
    std::fs::write(
        p.path().join("migrations/1_a.up.sql"),
        "CREATE TABLE a (id bigint PRIMARY KEY, note text, x int);\n",
    )
    .unwrap();
    let o = migrate(&db.url, p.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("checksum-drift"), "{}", text(&o));
    std::fs::write(p.path().join("migrations/1_a.up.sql"), TWO[0].1).unwrap();

    let out = ok(&migrate(&db.url, p.path(), &["revert"]));
    assert!(out.contains("reverted 1 migration"), "{out}");
    assert_eq!(versions(&db, "public", "my_migrations").await, vec![1]);
    let doc = status_json(&db.url, p.path());
    assert_eq!(states(&doc), vec!["applied", "pending"], "{doc}");
    assert!(!default_table_anywhere(&db).await);
}

#[tokio::test]
async fn a_schema_qualified_table_name_lives_in_its_schema_with_dbdoctors_record() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE keep (id bigint PRIMARY KEY, old text); INSERT INTO keep VALUES (1, 'x'), (2, 'y');")
        .await;
    let files = &[
        ("1_a.up.sql", "CREATE TABLE a (id bigint);\n"),
        ("1_a.down.sql", "DROP TABLE a;\n"),
        ("2_drop_old.up.sql", "ALTER TABLE keep DROP COLUMN old;\n"),
        (
            "2_drop_old.down.sql",
            "ALTER TABLE keep ADD COLUMN old text;\n",
        ),
    ];
    let p = project(
        "[migrate]\ntable-name = \"tracking._sqlx_migrations\"\ncreate-schemas = [\"tracking\"]\n",
        files,
    );
    // The dry-run shows the schema being created and changes nothing.
    let out = ok(&migrate(&db.url, p.path(), &["apply", "--dry-run"]));
    assert!(
        out.contains("CREATE SCHEMA IF NOT EXISTS tracking;"),
        "{out}"
    );
    assert!(
        out.contains("CREATE TABLE IF NOT EXISTS tracking._sqlx_migrations ("),
        "{out}"
    );
    assert!(
        out.contains("INSERT INTO tracking._dbdoctor_migrations (version"),
        "{out}"
    );
    let mut c = db.connect().await;
    let schema: Option<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = 'tracking'")
            .fetch_optional(&mut c)
            .await
            .unwrap();
    assert_eq!(schema, None);

    // A real run with a backup: the data of the dropped column is saved, and where it went is
    // recorded in dbdoctor's record beside the tracking table.
    let o = migrate(&db.url, p.path(), &["apply"]);
    ok(&o);
    assert_eq!(
        versions(&db, "tracking", "_sqlx_migrations").await,
        vec![1, 2]
    );
    assert!(exists(&db, "tracking", "_dbdoctor_migrations").await);
    assert!(!exists(&db, "public", "_sqlx_migrations").await);
    assert!(!exists(&db, "public", "_dbdoctor_migrations").await);
    assert_eq!(
        columns(&db, "tracking", "_sqlx_migrations").await,
        sqlx_layout().await
    );
    let (backup, saved): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT backup_location, data_backup FROM tracking._dbdoctor_migrations WHERE version = 2",
    )
    .fetch_one(&mut c)
    .await
    .unwrap();
    let backup = backup.expect("backup location recorded");
    assert!(
        p.path().join(&backup).exists() || Path::new(&backup).exists(),
        "{backup}"
    );
    assert!(
        saved.unwrap_or_default().contains("old"),
        "data backup recorded"
    );

    let doc = status_json(&db.url, p.path());
    assert_eq!(doc["tracking_table"], "tracking._sqlx_migrations", "{doc}");
    assert_eq!(states(&doc), vec!["applied", "applied"], "{doc}");

    // Revert: the row goes from the qualified table and the restore hint names the saved data.
    let out = ok(&migrate(&db.url, p.path(), &["revert"]));
    assert!(out.contains("reverted 1 migration"), "{out}");
    assert!(out.contains("had removed the data of"), "{out}");
    assert_eq!(versions(&db, "tracking", "_sqlx_migrations").await, vec![1]);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tracking._dbdoctor_migrations WHERE version = 2")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!(rows, 0);
    c.close().await.ok();
    assert!(!exists(&db, "public", "_sqlx_migrations").await);
}

#[tokio::test]
async fn an_existing_schema_needs_no_create_schemas() {
    let db = common::fresh_db().await;
    db.exec("CREATE SCHEMA ops").await;
    // Bare names fold to lower case, as PostgreSQL folds the text sqlx pastes into its SQL.
    let p = project("[migrate]\ntable-name = \"Ops.Applied\"\n", &TWO[..2]);
    ok(&migrate(&db.url, p.path(), &["apply", "--no-backup"]));
    assert_eq!(versions(&db, "ops", "applied").await, vec![1]);
    assert!(exists(&db, "ops", "_dbdoctor_migrations").await);
    assert!(!default_table_anywhere(&db).await);
    // Without the schema and without create-schemas, apply fails naming the table, exit 5.
    let db2 = common::fresh_db().await;
    let o = migrate(&db2.url, p.path(), &["apply", "--no-backup"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("create ops.applied"), "{err}");
}

#[tokio::test]
async fn a_quoted_name_with_spaces_and_quotes_is_quoted_everywhere() {
    let db = common::fresh_db().await;
    let p = project(
        "[migrate]\ntable-name = '\"Tenant A\".\"Mig \"\"Table\"\"\"'\ncreate-schemas = ['\"Tenant A\"']\n",
        TWO,
    );
    let out = ok(&migrate(
        &db.url,
        p.path(),
        &["apply", "--dry-run", "--no-backup"],
    ));
    assert!(
        out.contains(r#"INSERT INTO "Tenant A"."Mig ""Table""" (version"#),
        "{out}"
    );
    ok(&migrate(&db.url, p.path(), &["apply", "--no-backup"]));
    assert_eq!(versions(&db, "Tenant A", "Mig \"Table\"").await, vec![1, 2]);
    assert!(exists(&db, "Tenant A", "_dbdoctor_migrations").await);
    assert!(!default_table_anywhere(&db).await);
    let doc = status_json(&db.url, p.path());
    assert_eq!(
        doc["tracking_table"], r#""Tenant A"."Mig ""Table""""#,
        "{doc}"
    );
    assert_eq!(states(&doc), vec!["applied", "applied"], "{doc}");
    let out = ok(&migrate(&db.url, p.path(), &["revert", "--target", "0"]));
    assert!(out.contains("reverted 2 migrations"), "{out}");
    assert_eq!(
        versions(&db, "Tenant A", "Mig \"Table\"").await,
        Vec::<i64>::new()
    );
}

#[test]
fn bad_table_names_are_refused_in_one_line_with_exit_2() {
    for (toml, want) in [
        ("table-name = \"\"", "is empty"),
        ("table-name = \"a.b.c\"", "3 dot-separated parts"),
        ("table-name = \"my-table\"", "after a name"),
        ("create-schemas = [\"x.y\"]", "create-schemas"),
    ] {
        let p = project(&format!("[migrate]\n{toml}\n"), TWO);
        for args in [&["status"][..], &["apply", "--dry-run"][..]] {
            // Refused before any connection is tried (nothing listens on port 1).
            let o = migrate("postgres://u@127.0.0.1:1/x", p.path(), args);
            assert_eq!(o.status.code(), Some(2), "{toml}: {}", text(&o));
            let err = String::from_utf8_lossy(&o.stderr);
            let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{toml}: {err}");
            assert!(lines[0].contains("sqlx.toml: [migrate]"), "{err}");
            assert!(lines[0].contains(want), "{toml}: {err}");
        }
    }
}

/// The demo applies its schema and then runs `migrate status`: both read the sqlx.toml of the
/// current directory, so they agree on the table (and on checksums without carriage returns).
#[test]
fn the_demo_tracks_its_schema_in_the_configured_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sqlx.toml"),
        "[migrate]\ntable-name = \"demo.applied\"\ncreate-schemas = [\"demo\"]\nignored-chars = [\"\\r\"]\n",
    )
    .unwrap();
    let out = common::dbdoctor()
        .current_dir(dir.path())
        .args(["demo", "--meals", "1000"])
        .timeout(std::time::Duration::from_secs(240))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let status = stdout
        .split("=== dbdoctor migrate status")
        .nth(1)
        .and_then(|s| s.split_once('\n'))
        .and_then(|(_, rest)| rest.split("\n===").next())
        .unwrap_or_else(|| panic!("no migrate status section: {stdout}"));
    assert!(status.contains(" 0 pending, 0 changed"), "{status}");
    assert!(!status.contains("0 applied"), "{status}");
    assert!(!status.contains("table yet"), "{status}");
}
