//! The password never appears in any output, log, error or file of any command.

mod common;

use std::path::Path;

use common::{dbdoctor, fresh_db, server};

const PASSWORD: &str = "Zebra-9137-unguessable";

fn all_text_under(dir: &Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                text.push_str(&all_text_under(&p));
            } else if let Ok(bytes) = std::fs::read(&p) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

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
