//! `migrate validate` knows what each pending file runs against: live tables with their size and
//! column types, tables new in the run, locks held until COMMIT; `--replay` without down files.

mod common;

use std::path::Path;

fn write_migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, sql) in files {
        std::fs::write(dir.path().join(name), sql).expect("write migration");
    }
    dir
}

fn validate(url: Option<&str>, extra: &[&str], source: &Path) -> (Option<i32>, String) {
    let mut cmd = common::dbdoctor();
    if let Some(u) = url {
        cmd.arg("--database-url").arg(u);
    }
    let o = cmd
        .args(["migrate", "validate"])
        .args(extra)
        .arg("--source")
        .arg(source)
        .output()
        .expect("run dbdoctor");
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn line_with<'a>(s: &'a str, needles: &[&str]) -> &'a str {
    s.lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{s}"))
}

#[tokio::test]
async fn pending_files_are_judged_against_the_live_tables_and_the_run() {
    let db = common::fresh_db().await;
    db.exec(
        "CREATE TABLE orders (id bigint PRIMARY KEY, email varchar(75), qty integer NOT NULL, \
         active boolean NOT NULL DEFAULT true, note text DEFAULT ''); \
         INSERT INTO orders SELECT g, 'a@b', 1 FROM generate_series(1, 2000) g; ANALYZE orders;",
    )
    .await;
    let dir = write_migrations(&[
        (
            "1_items.sql",
            "CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint NOT NULL);\n",
        ),
        (
            "2_items_index.sql",
            "CREATE INDEX items_order_id ON items (order_id);\nALTER TABLE items ADD CONSTRAINT items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);\n",
        ),
        (
            "3_orders.sql",
            "ALTER TABLE orders ALTER COLUMN email TYPE varchar(254);\nALTER TABLE orders ALTER COLUMN qty TYPE bigint;\nCREATE INDEX orders_qty ON orders (qty);\nALTER TABLE orders ALTER COLUMN active DROP DEFAULT;\nALTER TABLE orders ALTER COLUMN note DROP DEFAULT;\n",
        ),
    ]);
    let (code, s) = validate(Some(&db.url), &[], dir.path());
    assert_eq!(code, Some(0), "{s}");
    // items is created by file 1 of the same run: new and empty, so no risk in file 2.
    assert!(!s.contains("2_items_index.sql:1:1: warning[require"), "{s}");
    assert!(!s.contains("2_items_index.sql:2:1: warning"), "{s}");
    let note = line_with(&s, &["2_items_index.sql:1:1: note[lock]"]);
    assert!(
        note.contains("new table, created at") && note.contains("1_items.sql:1 in this run"),
        "{note}"
    );
    // The old type comes from the live catalog: the widening is silent, integer->bigint rewrites.
    assert!(!s.contains("3_orders.sql:1:1: warning[changing"), "{s}");
    let w = line_with(&s, &["3_orders.sql:2:1: warning[changing-column-type]"]);
    assert!(w.contains("from integer to bigint rewrites orders"), "{w}");
    // The index build comes after ACCESS EXCLUSIVE in the same transaction.
    let w = line_with(
        &s,
        &["3_orders.sql:3:1: warning[require-concurrent-index-creation]"],
    );
    assert!(w.contains("ACCESS EXCLUSIVE since line 1"), "{w}");
    let n = line_with(&s, &["3_orders.sql:3:1: note[lock]"]);
    assert!(n.contains("2000 rows"), "{n}");
    assert!(
        n.contains("already holds ACCESS EXCLUSIVE on it since line 1, until COMMIT"),
        "{n}"
    );
    assert!(s.contains("blocks reads and writes"), "{s}");
    // NOT NULL with a default in the live table: dropping the default breaks INSERTs leaving it out.
    line_with(
        &s,
        &[
            "3_orders.sql:4:1: warning[ban-drop-default]",
            "orders.active",
        ],
    );
    // A nullable column: INSERTs that leave it out get NULL, as before the default existed.
    assert!(!s.contains("3_orders.sql:5:1: warning"), "{s}");

    // Offline, the files judge each other: items is an existing table (size unknown) in file 2,
    // and the old types come from file-level knowledge only.
    let (code, s) = validate(None, &[], dir.path());
    assert_eq!(code, Some(0), "{s}");
    line_with(
        &s,
        &["2_items_index.sql:1:1: warning[require-concurrent-index-creation]"],
    );
    line_with(
        &s,
        &[
            "3_orders.sql:1:1: warning[changing-column-type]",
            "old type unknown",
        ],
    );
    // Nothing in the folder says whether note is NOT NULL: a warning naming that condition.
    line_with(
        &s,
        &[
            "3_orders.sql:5:1: warning[ban-drop-default]",
            "if the column is NOT NULL",
        ],
    );
}

#[test]
fn replay_without_down_files_warns_once_per_file_and_exits_0() {
    let dir = write_migrations(&[
        ("1_a.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n"),
        ("2_b.sql", "ALTER TABLE a ADD COLUMN note text;\n"),
    ]);
    let (code, s) = validate(None, &["--replay"], dir.path());
    assert_eq!(code, Some(0), "{s}");
    assert_eq!(s.matches("not reversible").count(), 2, "{s}");
    assert!(!s.contains("error["), "{s}");
    assert!(!s.contains("cannot revert"), "{s}");

    // Mixed: the migration with down files above the simple one is reverted, nothing fails.
    let dir = write_migrations(&[
        ("1_a.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n"),
        ("2_b.up.sql", "ALTER TABLE a ADD COLUMN note text;\n"),
        ("2_b.down.sql", "ALTER TABLE a DROP COLUMN note;\n"),
    ]);
    let (code, s) = validate(None, &["-v", "--replay"], dir.path());
    assert_eq!(code, Some(0), "{s}");
    assert_eq!(s.matches("not reversible").count(), 1, "{s}");
    assert!(
        s.contains("reverted 1 migrations (down to 1, which has no .down.sql)"),
        "{s}"
    );

    // A file that PostgreSQL rejects is still caught by the replay.
    let dir = write_migrations(&[
        ("1_a.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n"),
        ("2_b.sql", "CREATE INDEX a_x ON a (no_such_column);\n"),
    ]);
    let (code, s) = validate(None, &["--replay"], dir.path());
    assert_eq!(code, Some(4), "{s}");
    line_with(&s, &["2_b.sql:1:1: error[replay]", "no_such_column"]);
}

/// Each type change dbdoctor calls silent leaves the table's storage file in place on a real
/// server, and each one it reports as a rewrite replaces it (relfilenode before and after).
#[tokio::test]
async fn type_change_verdicts_match_what_postgres_does() {
    use dbdoctor::migrate::{lint, source};
    use sqlx::Row;
    const PAIRS: &[(&str, &str)] = &[
        ("varchar(75)", "varchar(254)"),
        ("varchar(75)", "varchar"),
        ("varchar(75)", "text"),
        ("text", "varchar"),
        ("numeric(10,2)", "numeric(12,2)"),
        ("numeric(10,2)", "numeric"),
        ("timestamp(3)", "timestamp(6)"),
        ("cidr", "inet"),
        ("varbit(4)", "varbit(8)"),
        ("varchar(100)", "varchar(80)"),
        ("text", "varchar(80)"),
        ("varchar", "varchar(200)"),
        ("integer", "bigint"),
        ("numeric(10,2)", "numeric(12,3)"),
        ("char(5)", "char(10)"),
        ("smallint", "integer"),
    ];
    let db = common::fresh_db().await;
    let mut conn = db.connect().await;
    let mut create = String::new();
    let mut alter = String::new();
    for (i, (old, new)) in PAIRS.iter().enumerate() {
        create.push_str(&format!("CREATE TABLE t{i} (c {old});\n"));
        alter.push_str(&format!("ALTER TABLE t{i} ALTER COLUMN c TYPE {new};\n"));
    }
    let dir = Path::new("m");
    let src = source::from_files(
        dir,
        vec![
            (
                "1_create.sql".into(),
                dir.join("1_create.sql"),
                create.clone(),
            ),
            ("2_alter.sql".into(), dir.join("2_alter.sql"), alter),
        ],
    );
    let flagged: Vec<usize> = lint::lint_source(&src)
        .into_iter()
        .filter(|d| d.rule == "changing-column-type")
        .map(|d| d.line - 1)
        .collect();
    sqlx::Executor::execute(&mut conn, create.as_str())
        .await
        .unwrap();
    for (i, (old, new)) in PAIRS.iter().enumerate() {
        let value = match *old {
            "cidr" => "'10.0.0.0/8'",
            "varbit(4)" => "B'1'",
            "timestamp(3)" => "now()",
            "numeric(10,2)" | "integer" | "smallint" => "1",
            "varchar" => "'abc'",
            _ => "'abc'",
        };
        let fill = format!("INSERT INTO t{i} SELECT {value} FROM generate_series(1, 100)");
        sqlx::Executor::execute(&mut conn, fill.as_str())
            .await
            .unwrap();
        let q = format!("SELECT relfilenode::bigint FROM pg_class WHERE relname = 't{i}'");
        let before: i64 = sqlx::query(&q).fetch_one(&mut conn).await.unwrap().get(0);
        let stmt = format!("ALTER TABLE t{i} ALTER COLUMN c TYPE {new}");
        sqlx::Executor::execute(&mut conn, stmt.as_str())
            .await
            .unwrap();
        let after: i64 = sqlx::query(&q).fetch_one(&mut conn).await.unwrap().get(0);
        let rewrote = after != before;
        assert_eq!(
            flagged.contains(&i),
            rewrote,
            "{old} -> {new}: postgres rewrote = {rewrote}, dbdoctor flagged = {}",
            flagged.contains(&i)
        );
    }
}

/// The whole Django corpus pending on an empty database is one run: every table is new, so
/// nothing is a risk, and the lock notes name the file that creates each table.
#[tokio::test]
async fn a_first_deploy_of_the_django_corpus_is_no_risk() {
    let db = common::fresh_db().await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/orm_corpus/django");
    let (code, s) = validate(Some(&db.url), &[], &dir);
    assert_eq!(code, Some(0), "{s}");
    let risks: Vec<&str> = s
        .lines()
        .filter(|l| l.contains(": warning[") && !l.contains("warning[migration-files]"))
        .collect();
    assert!(risks.is_empty(), "{risks:#?}");
    let n = line_with(
        &s,
        &["0020_sites_0002_alter_domain_unique.sql:5:1: note[lock]"],
    );
    assert!(
        n.contains("new table, created at")
            && n.contains("0019_sites_0001_initial.sql:4 in this run"),
        "{n}"
    );
    assert!(!s.contains("not in the database"), "{s}");
}
