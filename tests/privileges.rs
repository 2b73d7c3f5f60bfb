//! Least privilege: a superuser, a role with only pg_monitor and a role with only CONNECT.
//! For each, doctor, budget and snapshot complete, and what was narrowed for lack of privilege
//! is listed with the GRANT that fixes it — never silently partial.

mod common;

use std::path::Path;

use common::{dbdoctor, fresh_db};
use serde_json::Value;

const SETUP: &str = "
CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint NOT NULL, total numeric NOT NULL);
INSERT INTO orders SELECT g, g % 500, g * 1.5 FROM generate_series(1, 20000) g;
CREATE INDEX orders_total_a ON orders (total);
CREATE INDEX orders_total_b ON orders (total);
ANALYZE orders;
";

fn run_json(args: &[&str]) -> (i32, Value, String) {
    let out = dbdoctor().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code().unwrap_or(-1);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}); exit {code}; stderr: {stderr}"));
    (code, v, stderr)
}

fn skipped_text(report: &Value) -> String {
    report["skipped"].to_string()
}

#[tokio::test]
async fn every_role_gets_a_complete_report_with_skips_explained() {
    let db = fresh_db().await;
    let mon = format!("mon_{}", db.name);
    let plain = format!("plain_{}", db.name);
    db.exec(SETUP).await;
    db.exec(&format!(
        "CREATE ROLE {mon} LOGIN PASSWORD 'mon-pw'; GRANT pg_monitor TO {mon};
         CREATE ROLE {plain} LOGIN PASSWORD 'plain-pw';
         REVOKE CONNECT ON DATABASE {d} FROM PUBLIC; GRANT CONNECT ON DATABASE {d} TO {mon}, {plain};",
        d = db.name
    ))
    .await;
    // Workload by the superuser: the unprivileged roles may not see its text.
    let mut c = db.connect().await;
    for i in 0..20i64 {
        sqlx::query("SELECT id FROM orders WHERE customer = $1")
            .bind(i)
            .fetch_all(&mut c)
            .await
            .unwrap();
    }
    let budgets = Path::new(env!("CARGO_MANIFEST_DIR")).join("budgets.toml");
    let budgets = budgets.to_str().unwrap();

    let roles = [
        ("superuser", db.url.clone()),
        ("pg_monitor", db.url_as(&mon, "mon-pw")),
        ("connect only", db.url_as(&plain, "plain-pw")),
    ];
    for (label, url) in &roles {
        let (code, doctor, stderr) =
            run_json(&["--database-url", url, "doctor", "--format", "json"]);
        assert_eq!(code, 0, "{label}: doctor exit {code}: {stderr}");
        // The catalog checks work for everyone: the duplicate index is found by every role.
        let dup = doctor["findings"].as_array().unwrap().iter().any(|f| {
            f["check"] == "duplicate_index"
                && f["object"].as_str().unwrap_or("").contains("orders_total_")
        });
        assert!(dup, "{label}: duplicate_index missing");

        let out = dbdoctor()
            .args(["--database-url", url, "snapshot", "--out", "-"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{label}: snapshot: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let snap: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(snap["capabilities"].is_object(), "{label}");

        let (code, budget, stderr) = run_json(&[
            "--database-url",
            url,
            "budget",
            "--no-probes",
            "--format",
            "json",
            "--budgets",
            budgets,
        ]);
        assert!(
            code == 0 || code == 1,
            "{label}: budget exit {code}: {stderr}"
        );
        assert!(budget["schema_version"].is_number());

        match *label {
            "superuser" => {
                let text = skipped_text(&doctor);
                assert!(
                    !text.contains("pg_read_all_stats"),
                    "superuser needs no grant: {text}"
                );
                let hidden = doctor["queries"]["hidden_statements"].as_u64().unwrap_or(0);
                assert_eq!(hidden, 0);
            }
            "pg_monitor" => {
                assert!(
                    !skipped_text(&doctor).contains("GRANT pg_read_all_stats"),
                    "pg_monitor includes it"
                );
            }
            _ => {
                // Another role's statements are hidden: counted, and the fix named.
                let text = format!("{}{}", skipped_text(&doctor), doctor["findings"]);
                assert!(
                    text.contains(&format!("GRANT pg_read_all_stats TO {plain}")),
                    "connect-only role must be told the exact GRANT: {text}"
                );
            }
        }
    }
}
