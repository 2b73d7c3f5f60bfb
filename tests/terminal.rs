//! The doctor report laid out for a terminal: findings first, compact summaries, every line
//! within the width; on a hand-built report (snapshots at 80 and 120 columns) and on a real
//! shop-like database.

mod common;

use dbdoctor::analyze::doctor::CheckSelection;
use dbdoctor::analyze::report::{doctor_report, DoctorReport, ReportOptions};
use dbdoctor::render::doctor_terminal::{write, Layout};
use dbdoctor::render::terminal::width_of;
use sqlx::Executor;

fn sample() -> DoctorReport {
    doctor_report(
        &dbdoctor::analyze::testdata::sample_snapshot(),
        &dbdoctor::analyze::thresholds::Thresholds::default(),
        &CheckSelection::default(),
        &ReportOptions {
            source: "snapshot".into(),
            ..Default::default()
        },
    )
}

fn render(r: &DoctorReport, width: usize, all: bool) -> String {
    let mut out = Vec::new();
    write(
        r,
        &mut out,
        &Layout {
            width,
            color: false,
            all,
            config: Some("budgets.toml".into()),
        },
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// Lines that are not SQL of a fix (SQL is never cut, so it may be wider).
fn non_sql_lines(text: &str) -> Vec<&str> {
    let mut in_sql = false;
    text.lines()
        .filter(|l| {
            if l.starts_with("       fix: ") || l.starts_with("  rollback: ") {
                in_sql = true;
                return false;
            }
            if in_sql && l.starts_with("            ") && !l.trim().is_empty() {
                return false;
            }
            in_sql = false;
            true
        })
        .collect()
}

#[test]
fn layout_at_80_columns() {
    let text = render(&sample(), 80, false);
    insta::assert_snapshot!("terminal_80", text);
}

#[test]
fn layout_at_120_columns() {
    let text = render(&sample(), 120, false);
    insta::assert_snapshot!("terminal_120", text);
}

#[test]
fn findings_come_first_highest_priority_first_each_with_its_fix() {
    let r = sample();
    let text = render(&r, 80, false);
    let lines: Vec<&str> = text.lines().collect();
    // The first finding's block starts right after the header and names severity, check, object.
    let first = &r.findings[0];
    let title = lines
        .iter()
        .position(|l| l.contains(&format!("[{}] {}", first.check, first.object)))
        .unwrap();
    assert!(title <= 10, "first finding on line {}", title + 1);
    let statements = lines
        .iter()
        .position(|l| l.starts_with("Top statements"))
        .unwrap();
    let last_finding = r.findings.last().unwrap();
    let last = lines
        .iter()
        .position(|l| l.contains(&format!("[{}] {}", last_finding.check, last_finding.object)))
        .unwrap();
    assert!(last < statements, "summaries come after every finding");
    // Every fix and rollback is printed, indented under its finding.
    for f in &r.findings {
        if let Some(fix) = &f.fix_sql {
            let first_line = fix.lines().next().unwrap();
            assert!(
                text.contains(&format!("       fix: {first_line}")),
                "fix of {} missing",
                f.check
            );
        }
        if let Some(rb) = &f.rollback_sql {
            let first_line = rb.lines().next().unwrap();
            assert!(text.contains(&format!("  rollback: {first_line}")));
        }
    }
    // Order: the report's priority order.
    let positions: Vec<usize> = r
        .findings
        .iter()
        .map(|f| {
            lines
                .iter()
                .position(|l| l.contains(&format!("[{}] {}", f.check, f.object)))
                .unwrap()
        })
        .collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted);
}

#[test]
fn every_line_but_fix_sql_fits_the_width_even_with_huge_statements() {
    let mut r = sample();
    let q = r.queries.as_mut().unwrap();
    q.statements[0].query = format!("SELECT {} FROM t", "col, ".repeat(250));
    assert!(q.statements[0].query.len() > 1000);
    r.findings[0].message = "why ".repeat(300);
    for width in [40, 80, 120, 200] {
        let text = render(&r, width, false);
        for l in non_sql_lines(&text) {
            assert!(
                width_of(l) <= width,
                "{width}: {} > {width}: {l}",
                width_of(l)
            );
        }
    }
}

#[test]
fn long_listings_end_with_how_many_more_and_all_lists_them() {
    let mut r = sample();
    let t = r.tables.as_mut().unwrap();
    let row = t.rows[0].clone();
    t.rows = (0..20)
        .map(|i| {
            let mut x = row.clone();
            x.table = format!("public.t{i}");
            x
        })
        .collect();
    t.total = 10_000;
    let text = render(&r, 100, false);
    assert!(
        text.contains("  … and 9,990 more (`--all` lists them)"),
        "{text}"
    );
    let listed = text.lines().filter(|l| l.starts_with("  public.t")).count();
    assert_eq!(listed, 10);
    let all = render(&r, 100, true);
    assert_eq!(
        all.lines().filter(|l| l.starts_with("  public.t")).count(),
        20
    );
}

#[test]
fn colour_marks_severity_only_when_asked() {
    let r = sample();
    let mut out = Vec::new();
    write(
        &r,
        &mut out,
        &Layout {
            color: true,
            ..Default::default()
        },
    )
    .unwrap();
    let coloured = String::from_utf8(out).unwrap();
    assert!(
        coloured.contains("\x1b[1;31mcritical\x1b[0m")
            || coloured.contains("\x1b[1;33mwarning\x1b[0m")
    );
    assert!(!render(&r, 100, false).contains('\x1b'));
}

const PLANTED_PROBLEMS: &str = include_str!("../src/sql/demo_planted_problems.sql");
const SEED_USERS: &str = include_str!("../src/sql/demo_seed_users.sql");
const SEED_MEALS: &str = include_str!("../src/sql/demo_seed_meals.sql");
const SEED_INGREDIENTS: &str = include_str!("../src/sql/demo_seed_ingredients.sql");

/// The demo's shop-like database (its migrations, data, planted problems and workload), then
/// `doctor` at 80 columns: the first fix within the first 50 lines, the whole report within 150.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_database_report_fits_an_80x50_terminal() {
    let db = common::fresh_db().await;
    let pool = db.pool().await;
    let _ = pool.execute("CREATE EXTENSION IF NOT EXISTS hypopg").await;
    for (name, sql) in dbdoctor::commands::demo::DEMO_MIGRATIONS {
        if name.ends_with(".up.sql") {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
    }
    let meals: i64 = 20_000;
    sqlx::query(SEED_USERS).execute(&pool).await.unwrap();
    sqlx::query(SEED_MEALS)
        .bind(meals)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(SEED_INGREDIENTS)
        .bind(meals)
        .execute(&pool)
        .await
        .unwrap();
    pool.execute("ANALYZE").await.unwrap();
    sqlx::raw_sql(PLANTED_PROBLEMS)
        .execute(&pool)
        .await
        .unwrap();
    pool.execute("SELECT pg_stat_statements_reset()")
        .await
        .unwrap();
    dbdoctor::commands::demo_workload::run(&pool, meals)
        .await
        .unwrap();
    pool.close().await;

    let url = db.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        common::dbdoctor()
            .args([
                "--database-url",
                &url,
                "doctor",
                "--width",
                "80",
                "--budgets",
                "/nonexistent/budgets.toml",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let findings = lines
        .iter()
        .filter(|l| {
            l.starts_with("critical[") || l.starts_with("warning[") || l.starts_with("info[")
        })
        .count();
    let first_fix = lines
        .iter()
        .position(|l| l.starts_with("       fix: "))
        .map(|i| i + 1);
    eprintln!(
        "shop report: {} lines, {findings} findings, first fix on line {first_fix:?}",
        lines.len()
    );
    assert!(
        findings >= 10,
        "a shop-like database has many findings: {findings}\n{text}"
    );
    let first_fix = first_fix.expect("a fix SQL line");
    assert!(first_fix <= 50, "first fix on line {first_fix}\n{text}");
    assert!(lines.len() <= 150, "{} lines\n{text}", lines.len());
    assert!(text.contains("thresholds: defaults (/nonexistent/budgets.toml not found)"));
    for l in non_sql_lines(&text) {
        assert!(width_of(l) <= 80, "{l}");
    }
}
