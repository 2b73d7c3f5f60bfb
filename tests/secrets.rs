//! The password never appears in any output, log, error or file of any command.

mod common;

use std::path::Path;

use common::{all_text_under, dbdoctor, fresh_db, server, sql_string_forms};
use proptest::prelude::*;

const PASSWORD: &str = "Zebra-9137-unguessable";

#[tokio::test]
async fn no_command_ever_prints_the_password() {
    let db = fresh_db().await;
    let role = format!("secret_{}", db.name);
    db.exec(&format!(
        "CREATE ROLE {role} LOGIN SUPERUSER PASSWORD '{PASSWORD}';
         CREATE TABLE items (id bigint PRIMARY KEY, owner bigint, label text);
         INSERT INTO items SELECT g, g % 10, 'x' FROM generate_series(1, 1000) g;
         SELECT count(*) FROM items WHERE owner = 3;"
    ))
    .await;
    let url = db.url_as(&role, PASSWORD);
    let (host, port) = server().host_port();
    let work = tempfile::tempdir().unwrap();
    let migrations = work.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("1_t.up.sql"),
        "CREATE TABLE IF NOT EXISTS t1 (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("1_t.down.sql"),
        "DROP TABLE IF EXISTS t1;\n",
    )
    .unwrap();
    let m = migrations.to_str().unwrap().to_string();
    let backups = work.path().join("backups");
    let b = backups.to_str().unwrap().to_string();
    let snap = work.path().join("snap.json");
    let s = snap.to_str().unwrap().to_string();
    let report = work.path().join("report.md");
    let r = report.to_str().unwrap().to_string();
    let budgets = Path::new(env!("CARGO_MANIFEST_DIR")).join("budgets.toml");
    let bt = budgets.to_str().unwrap().to_string();
    let wrong_db = url.replace(&format!("/{}", db.name), "/no_such_database");
    let wrong_pw_url = db.url_as(&role, &format!("{PASSWORD}-wrong"));

    let runs: Vec<Vec<String>> = [
        vec!["-v", "doctor", "--database-url", &url],
        vec!["doctor", "--format", "json", "--database-url", &url],
        vec![
            "doctor",
            "--format",
            "markdown",
            "--report",
            &r,
            "--database-url",
            &url,
        ],
        vec!["-v", "snapshot", "--out", &s, "--database-url", &url],
        vec![
            "-v",
            "budget",
            "--no-probes",
            "--budgets",
            &bt,
            "--database-url",
            &url,
        ],
        vec![
            "budget",
            "--no-probes",
            "--format",
            "json",
            "--budgets",
            &bt,
            "--database-url",
            &url,
        ],
        vec![
            "budget",
            "--no-probes",
            "--format",
            "junit",
            "--budgets",
            &bt,
            "--database-url",
            &url,
        ],
        vec![
            "-v",
            "migrate",
            "status",
            "--source",
            &m,
            "--database-url",
            &url,
        ],
        vec![
            "migrate",
            "validate",
            "--source",
            &m,
            "--database-url",
            &url,
        ],
        vec![
            "-v",
            "migrate",
            "apply",
            "--dry-run",
            "--source",
            &m,
            "--database-url",
            &url,
        ],
        vec![
            "-v",
            "migrate",
            "apply",
            "--source",
            &m,
            "--backup-dir",
            &b,
            "--database-url",
            &url,
        ],
        vec![
            "-v",
            "migrate",
            "revert",
            "--source",
            &m,
            "--database-url",
            &url,
        ],
        vec!["doctor", "--database-url", &wrong_db],
        vec!["doctor", "--database-url", &wrong_pw_url],
        vec![
            "doctor",
            "--database-url",
            &url.replace(&format!(":{port}/"), ":notaport/"),
        ],
    ]
    .iter()
    .map(|v| v.iter().map(|s| s.to_string()).collect())
    .collect();

    for args in runs {
        let out = dbdoctor().args(&args).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains(PASSWORD),
            "the password appeared in the output of {:?}",
            args.iter()
                .map(|a| a.replace(PASSWORD, "***"))
                .collect::<Vec<_>>()
        );
        assert!(out.status.code().is_some(), "{args:?} was killed");
    }

    // The same through the libpq variables.
    let out = dbdoctor()
        .args(["-v", "doctor", "--format", "json"])
        .env("PGHOST", &host)
        .env("PGPORT", port.to_string())
        .env("PGUSER", &role)
        .env("PGPASSWORD", PASSWORD)
        .env("PGDATABASE", &db.name)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));

    // Files written by any command, and dbdoctor's own records in the database.
    assert!(
        !all_text_under(work.path()).contains(PASSWORD),
        "a written file holds the password"
    );
    let mut c = db.connect().await;
    let recorded: Option<String> = sqlx::query_scalar(
        "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM _dbdoctor_migrations) t",
    )
    .fetch_optional(&mut c)
    .await
    .ok()
    .flatten();
    assert!(!recorded.unwrap_or_default().contains(PASSWORD));
}

/// Statements that carry a secret, built around one SQL string constant `lit` (or a conninfo
/// holding the raw password `pw`).
fn secret_statements(lit: &str, pw: &str) -> Vec<String> {
    let conninfo = format!(
        "host=db.example password={} dbname=shop",
        conninfo_value(pw)
    );
    let conninfo_lit = format!("'{}'", conninfo.replace('\'', "''"));
    let dollar_conninfo = if conninfo.contains('$') {
        conninfo_lit.clone()
    } else {
        format!("$c${conninfo}$c$")
    };
    vec![
        format!("CREATE ROLE app LOGIN PASSWORD {lit}"),
        format!("ALTER ROLE app WITH ENCRYPTED PASSWORD {lit} VALID UNTIL 'infinity'"),
        format!("ALTER USER app PASSWORD /* rotated */ {lit}"),
        format!("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'app', password {lit})"),
        format!("ALTER USER MAPPING FOR app SERVER s OPTIONS (SET password {lit})"),
        format!("CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'h', passfile {lit}, sslpassword {lit}, sslkey {lit})"),
        format!("CREATE SUBSCRIPTION sub CONNECTION {conninfo_lit} PUBLICATION p WITH (connect = false)"),
        format!("CREATE SUBSCRIPTION sub CONNECTION {dollar_conninfo} PUBLICATION p"),
        format!("SELECT dblink_connect({conninfo_lit})"),
        format!("SELECT * FROM dblink({conninfo_lit}, 'SELECT 1') AS t(x int)"),
    ]
}

/// A conninfo value: quoted with single quotes (backslash escapes) when it holds spaces or quotes.
fn conninfo_value(pw: &str) -> String {
    if pw.is_empty() || pw.contains([' ', '\'', '\\']) {
        format!("'{}'", pw.replace('\\', "\\\\").replace('\'', "\\'"))
    } else {
        pw.to_string()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the password holds (quotes, dollars, backslashes, unicode, spaces) and however it
    /// is quoted, the masked text does not contain it.
    #[test]
    fn no_quoting_form_lets_a_password_through(
        body in proptest::collection::vec(
            prop_oneof![
                Just('\'' ), Just('"'), Just('$'), Just('\\'), Just(' '), Just('='),
                Just('é'), Just('☃'), Just('𝄞'), Just('@'), Just('/'), Just(':'),
                proptest::char::range('a', 'z'), proptest::char::range('0', '9'),
            ],
            1..16,
        )
    ) {
        // A marker makes the password distinct from the statement's own words.
        let pw = format!("Qx{}Zq", body.into_iter().collect::<String>());
        for (form, lit) in sql_string_forms(&pw) {
            for sql in secret_statements(&lit, &pw) {
                let out = dbdoctor::db::redact::redact_sql_secrets(&sql);
                prop_assert!(!out.contains(&pw), "form {form}: {sql} -> {out}");
                // The marker on its own would show a partial leak.
                prop_assert!(!out.contains("Qx") || !out.contains("Zq"), "form {form}: {sql} -> {out}");
            }
        }
    }

    /// URLs in messages never keep a password, parsable or not.
    #[test]
    fn urls_in_messages_lose_their_password(
        pw in "[a-zA-Z0-9/@:?#%!' ]{1,12}",
        user in "[a-z]{1,8}",
    ) {
        let pw = format!("Qx{pw}Zq");
        let msg = format!("cannot connect to postgres://{user}:{pw}@db.example:5432/shop: refused");
        let out = dbdoctor::db::redact::redact_url(&msg);
        prop_assert!(!out.contains(&pw), "{msg} -> {out}");
        if let Err(e) = dbdoctor::db::ConnectSettings::resolve(
            Some(&format!("postgres://{user}:{pw}@db.example/shop")),
            std::time::Duration::from_secs(1),
            std::time::Duration::from_secs(1),
        ) {
            prop_assert!(!e.to_string().contains(&pw), "{e}");
        }
    }
}

/// Passwords planted in pg_stat_statements and pg_stat_activity, in every quoting form and in
/// conninfo strings, appear in no output and no file of any command.
#[tokio::test]
async fn planted_passwords_appear_in_no_output_and_no_file() {
    let db = fresh_db().await;
    let passwords: Vec<String> = [
        "Pw1-it's-Ünïcödé-☃",
        "Pw2-$$-dollar$-tag",
        "Pw3-back\\slash-\"dq\"",
        "Pw4 with spaces = and 'quotes'",
        "Pw5-plain-9137",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let role = format!("r_{}", db.name);
    let mut setup = vec![
        "CREATE FOREIGN DATA WRAPPER w".to_string(),
        "CREATE SERVER s FOREIGN DATA WRAPPER w".to_string(),
        format!("CREATE ROLE {role} LOGIN"),
        format!("CREATE USER MAPPING FOR {role} SERVER s"),
        "CREATE TABLE items (id bigserial PRIMARY KEY, label text)".to_string(),
        "INSERT INTO items (label) SELECT 'x' FROM generate_series(1, 100)".to_string(),
    ];
    for pw in &passwords {
        for (_, lit) in sql_string_forms(pw) {
            setup.push(format!("ALTER ROLE {role} PASSWORD {lit}"));
            setup.push(format!(
                "ALTER USER MAPPING FOR {role} SERVER s OPTIONS (ADD password {lit})"
            ));
            setup.push(format!(
                "ALTER USER MAPPING FOR {role} SERVER s OPTIONS (DROP password)"
            ));
            setup.push(format!(
                "ALTER SERVER s OPTIONS (ADD passfile {lit}, ADD sslpassword {lit})"
            ));
            setup.push("ALTER SERVER s OPTIONS (DROP passfile, DROP sslpassword)".to_string());
        }
        let conninfo = format!(
            "'host=db.example password={} dbname=shop'",
            conninfo_value(pw).replace('\'', "''")
        );
        setup.push(format!("COMMENT ON SERVER s IS {conninfo}"));
    }
    // A user mapping with a password stays, so the schema backup has one to mask.
    setup.push(format!(
        "ALTER USER MAPPING FOR {role} SERVER s OPTIONS (ADD password {})",
        sql_string_forms(&passwords[0])[2].1
    ));
    let mut c = db.connect().await;
    for sql in &setup {
        sqlx::query(sql)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("setup failed: {e}: {}", sql.len()));
    }
    // A session that stays idle in a transaction right after a password statement.
    let mut idle = db.connect().await;
    sqlx::query("BEGIN").execute(&mut idle).await.unwrap();
    sqlx::query(&format!(
        "ALTER ROLE {role} PASSWORD {}",
        sql_string_forms(&passwords[1])[2].1
    ))
    .execute(&mut idle)
    .await
    .unwrap();

    // The planting worked: before PostgreSQL 16 the statements are kept verbatim.
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&mut c)
        .await
        .unwrap();
    let texts: Vec<String> = sqlx::query_scalar("SELECT query FROM pg_stat_statements")
        .fetch_all(&mut c)
        .await
        .unwrap();
    let planted = passwords
        .iter()
        .filter(|p| texts.iter().any(|t| t.contains(p.as_str())))
        .count();
    if version < 160000 {
        assert_eq!(
            planted,
            passwords.len(),
            "pg_stat_statements should hold them"
        );
    }
    let activity: Vec<String> =
        sqlx::query_scalar("SELECT query FROM pg_stat_activity WHERE query <> ''")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert!(
        activity.iter().any(|q| q.contains(&passwords[1])),
        "the idle session shows its statement"
    );

    let work = tempfile::tempdir().unwrap();
    let path = |n: &str| work.path().join(n).display().to_string();
    let migrations = work.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("1_drop_label.up.sql"),
        "ALTER TABLE items DROP COLUMN label;\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("1_drop_label.down.sql"),
        "ALTER TABLE items ADD COLUMN label text;\n",
    )
    .unwrap();
    let budgets = Path::new(env!("CARGO_MANIFEST_DIR")).join("budgets.toml");
    let bt = budgets.display().to_string();
    let (m, bk, snap) = (path("migrations"), path("backups"), path("snap.json"));
    let url = db.url.clone();
    let mut runs: Vec<Vec<String>> = Vec::new();
    for f in ["table", "json", "markdown"] {
        runs.push(vec![
            "-v".into(),
            "doctor".into(),
            "--format".into(),
            f.into(),
        ]);
    }
    runs.push(vec!["doctor".into(), "--report".into(), path("report.md")]);
    runs.push(vec!["snapshot".into(), "--out".into(), snap.clone()]);
    for f in ["table", "json", "markdown", "junit", "github"] {
        runs.push(vec![
            "budget".into(),
            "--no-probes".into(),
            "--budgets".into(),
            bt.clone(),
            "--format".into(),
            f.into(),
        ]);
    }
    runs.push(vec![
        "migrate".into(),
        "status".into(),
        "--source".into(),
        m.clone(),
    ]);
    runs.push(vec![
        "migrate".into(),
        "apply".into(),
        "--dry-run".into(),
        "--source".into(),
        m.clone(),
    ]);
    runs.push(vec![
        "-v".into(),
        "migrate".into(),
        "apply".into(),
        "--source".into(),
        m.clone(),
        "--backup-dir".into(),
        bk.clone(),
    ]);
    runs.push(vec![
        "migrate".into(),
        "revert".into(),
        "--source".into(),
        m.clone(),
    ]);
    runs.push(vec![
        "migrate".into(),
        "plan".into(),
        "--source".into(),
        m.clone(),
    ]);
    for (i, args) in runs.iter().enumerate() {
        let out = dbdoctor()
            .args(args)
            .args(["--database-url", &url])
            .current_dir(work.path())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for pw in &passwords {
            assert!(
                !text.contains(pw.as_str()),
                "run {i} {args:?} printed a planted password"
            );
        }
        assert!(out.status.code().is_some(), "{args:?} was killed");
        if args.contains(&"apply".to_string()) && !args.contains(&"--dry-run".to_string()) {
            assert_eq!(out.status.code(), Some(0), "{args:?}: {text}");
        }
    }
    for f in ["table", "json", "markdown"] {
        let out = dbdoctor()
            .args(["doctor", "--from-snapshot", &snap, "--format", f])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.is_empty());
        for pw in &passwords {
            assert!(!text.contains(pw.as_str()), "doctor --from-snapshot {f}");
        }
    }
    let files = all_text_under(work.path());
    for pw in &passwords {
        if let Some(i) = files.find(pw.as_str()) {
            let start = files[..i].rfind('\n').unwrap_or(0);
            eprintln!(
                "LEAK: {:?}",
                &files[start.saturating_sub(300)..(i + 10).min(files.len())]
            );
        }
    }
    assert!(
        files.contains("CREATE USER MAPPING"),
        "the schema backup was written"
    );
    for pw in &passwords {
        assert!(
            !files.contains(pw.as_str()),
            "a written file holds a planted password"
        );
    }
    drop(idle);
}

/// Run dbdoctor with `args` against `url` (None: the PG* variables in `env`).
fn run_with(args: &[&str], url: Option<&str>, env: &[(&str, String)]) -> (i32, String, String) {
    let mut cmd = dbdoctor();
    cmd.args(args);
    if let Some(u) = url {
        cmd.args(["--database-url", u]);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

type Form = (&'static str, Option<String>, Vec<(&'static str, String)>);

/// Every connection form README documents works for connect, `doctor` and `migrate apply` with
/// its backup (pg_dump), on a cluster that asks for the password everywhere; a wrong password
/// fails. Dropped and retyped data comes back from the saved copies after `migrate revert`.
#[tokio::test]
async fn every_documented_connection_form_works_with_password_auth() {
    use sqlx::Connection;
    let certs = tempfile::tempdir().unwrap();
    let tls = common::make_server_certs(certs.path());
    let Some(cluster) =
        tokio::task::spawn_blocking(move || common::start_password_cluster(Some(tls)))
            .await
            .unwrap()
    else {
        return;
    };
    let raw_pw = "p@ss:w/rd";
    let enc_pw = "p%40ss%3Aw%2Frd";
    let port = cluster.port();
    let sock = cluster.socket_dir().display().to_string();
    let ca = certs.path().join("ca.crt").display().to_string();
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    sqlx::query(&format!(
        "CREATE ROLE app LOGIN SUPERUSER PASSWORD '{raw_pw}'"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    // The socket really asks for a password: without one, it is refused.
    let no_pw = format!("postgres://app@/postgres?host={sock}&port={port}");
    let (code, _, err) = run_with(&["doctor"], Some(&no_pw), &[]);
    assert_eq!(code, 3, "{err}");

    let forms: Vec<Form> = vec![
        (
            "tcp",
            Some(format!("postgres://app:{enc_pw}@127.0.0.1:{port}/DB")),
            vec![],
        ),
        (
            "socket, empty host",
            Some(format!(
                "postgres://app:{enc_pw}@/DB?host={sock}&port={port}"
            )),
            vec![],
        ),
        (
            "socket via host=",
            Some(format!(
                "postgresql://localhost/DB?host={sock}&port={port}&user=app&password={enc_pw}"
            )),
            vec![],
        ),
        (
            "PG* variables",
            None,
            vec![
                ("PGHOST", sock.clone()),
                ("PGPORT", port.to_string()),
                ("PGUSER", "app".to_string()),
                ("PGPASSWORD", raw_pw.to_string()),
                ("PGDATABASE", "DB".to_string()),
            ],
        ),
        (
            "verify-full",
            Some(format!(
                "postgres://app:{enc_pw}@localhost:{port}/DB?sslmode=verify-full&sslrootcert={ca}"
            )),
            vec![],
        ),
    ];
    for (i, (name, url, env)) in forms.iter().enumerate() {
        let dbname = format!("shop{i}");
        sqlx::query(&format!("CREATE DATABASE {dbname} OWNER app"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = url
            .as_ref()
            .map(|u| u.replace("/DB", &format!("/{dbname}")));
        let env: Vec<(&str, String)> = env
            .iter()
            .map(|(k, v)| (*k, if v == "DB" { dbname.clone() } else { v.clone() }))
            .collect();
        let mut db = sqlx::PgConnection::connect(&cluster.url(&dbname))
            .await
            .unwrap();
        sqlx::raw_sql(
            "CREATE TABLE meals (id bigint PRIMARY KEY, name text NOT NULL, kcal int);
             INSERT INTO meals SELECT g, 'meal number ' || g, g * 10 FROM generate_series(1, 50) g;
             CREATE TABLE old_log (id int, msg text);
             INSERT INTO old_log SELECT g, 'line ''' || g || '''' FROM generate_series(1, 20) g;",
        )
        .execute(&mut db)
        .await
        .unwrap();

        // connect + doctor
        let (code, out, err) = run_with(&["doctor", "--format", "json"], url.as_deref(), &env);
        assert!(code == 0 || code == 1, "{name}: doctor exit {code}: {err}");
        assert!(out.contains("\"schema_version\""), "{name}: {out}");
        assert!(!err.contains(raw_pw) && !out.contains(raw_pw), "{name}");

        // migrate apply with its backup, then revert and restore the saved data
        let work = tempfile::tempdir().unwrap();
        let mig = work.path().join("migrations");
        std::fs::create_dir(&mig).unwrap();
        let write = |f: &str, t: &str| std::fs::write(mig.join(f), t).unwrap();
        write(
            "1_drop.up.sql",
            "ALTER TABLE meals DROP COLUMN kcal;\nDROP TABLE old_log;\n",
        );
        write(
            "1_drop.down.sql",
            "CREATE TABLE old_log (id int, msg text);\nALTER TABLE meals ADD COLUMN kcal int;\n",
        );
        write(
            "2_shorten.up.sql",
            "ALTER TABLE meals ALTER COLUMN name TYPE varchar(4) USING left(name, 4);\n",
        );
        write(
            "2_shorten.down.sql",
            "ALTER TABLE meals ALTER COLUMN name TYPE text;\n",
        );
        let src = mig.display().to_string();
        let bk = work.path().join("backups").display().to_string();
        let (code, out, err) = run_with(
            &["migrate", "apply", "--source", &src, "--backup-dir", &bk],
            url.as_deref(),
            &env,
        );
        assert_eq!(code, 0, "{name}: apply: {out}{err}");
        assert!(!err.contains(raw_pw) && !out.contains(raw_pw), "{name}");
        let schema: Vec<_> = std::fs::read_dir(&bk)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with("-schema.sql"))
            .collect();
        assert_eq!(schema.len(), 1, "{name}: one schema backup");
        let dump = std::fs::read_to_string(schema[0].path()).unwrap();
        assert!(
            dump.contains("CREATE TABLE public.old_log"),
            "{name}: pg_dump ran"
        );
        let recorded: Option<String> =
            sqlx::query_scalar("SELECT data_backup FROM _dbdoctor_migrations WHERE version = 1")
                .fetch_one(&mut db)
                .await
                .unwrap();
        let recorded = recorded.unwrap_or_default();
        assert!(
            recorded.contains("old_log") && recorded.contains("kcal"),
            "{name}: {recorded}"
        );

        let (code, out, err) = run_with(
            &["migrate", "revert", "--target", "0", "--source", &src],
            url.as_deref(),
            &env,
        );
        assert_eq!(code, 0, "{name}: revert: {out}{err}");
        let files: Vec<String> = out
            .lines()
            .filter_map(|l| l.split(" -f ").nth(1))
            .map(|f| f.trim().trim_matches('\'').to_string())
            .collect();
        assert_eq!(
            files.len(),
            3,
            "{name}: a restore line per saved table/column: {out}"
        );
        for f in &files {
            let st = std::process::Command::new(cluster.bindir().join("psql"))
                .env("PGPASSWORD", cluster.password())
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", &sock])
                .args(["-p", &port.to_string(), "-U", "postgres", "-d", &dbname])
                .args(["-f", f])
                .output()
                .unwrap();
            assert!(
                st.status.success(),
                "{name}: restore {f}: {}",
                String::from_utf8_lossy(&st.stderr)
            );
        }
        let (n, kcal, names): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*), sum(kcal)::bigint, count(*) FILTER (WHERE name = 'meal number ' || id) FROM meals",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        let want: i64 = (1..=50).map(|g| g * 10).sum();
        assert_eq!((n, kcal, names), (50, want, 50), "{name}");
        let logs: i64 =
            sqlx::query_scalar("SELECT count(*) FROM old_log WHERE msg = 'line ''' || id || ''''")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert_eq!(logs, 20, "{name}: old_log rows are back");

        // A wrong password fails in the same form.
        let (bad_url, bad_env): (Option<String>, Vec<(&str, String)>) = match &url {
            Some(u) => (Some(u.replace(enc_pw, "wrong")), env.clone()),
            None => (
                None,
                env.iter()
                    .map(|(k, v)| {
                        let v = if *k == "PGPASSWORD" {
                            "wrong".to_string()
                        } else {
                            v.clone()
                        };
                        (*k, v)
                    })
                    .collect(),
            ),
        };
        let (code, _, err) = run_with(&["doctor"], bad_url.as_deref(), &bad_env);
        assert_eq!(code, 3, "{name}: wrong password: {err}");
        let (code, out, err) = run_with(
            &["migrate", "apply", "--source", &src, "--backup-dir", &bk],
            bad_url.as_deref(),
            &bad_env,
        );
        assert_eq!(code, 3, "{name}: apply with a wrong password: {out}{err}");
        db.close().await.ok();
    }
    admin.close().await.ok();
}

/// `--no-backup` names the data it will not save; `--dry-run` lists the saves it would make.
#[tokio::test]
async fn no_backup_says_which_data_is_not_saved() {
    let db = fresh_db().await;
    db.exec(
        "CREATE TABLE meals (id bigint PRIMARY KEY, kcal int);
         INSERT INTO meals VALUES (1, 100), (2, 200);
         CREATE TABLE old_log (msg text);",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("1_drop.up.sql"),
        "ALTER TABLE meals DROP COLUMN kcal;\nDROP TABLE old_log;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("1_drop.down.sql"),
        "CREATE TABLE old_log (msg text);\nALTER TABLE meals ADD COLUMN kcal int;\n",
    )
    .unwrap();
    let src = dir.path().display().to_string();
    let out = dbdoctor()
        .args(["migrate", "apply", "--dry-run", "--source", &src])
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    let stream = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stream}");
    assert!(
        stream.contains("pg_dump --schema-only -w --lock-wait-timeout=5000 "),
        "{stream}"
    );
    assert!(
        stream.contains("save the data of column kcal of meals")
            && stream.contains("save the data of table old_log"),
        "{stream}"
    );
    let out = dbdoctor()
        .args(["migrate", "apply", "--no-backup", "--source", &src])
        .args(["--database-url", &db.url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("WARNING: --no-backup: the data of column kcal of meals (migration 1), table old_log (migration 1) is NOT saved"),
        "{err}"
    );
}
