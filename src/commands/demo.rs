//! `dbdoctor demo`: a throwaway PostgreSQL with the whats-for-dinner sample database, planted
//! problems and a short workload, then every dbdoctor command run against it.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use sqlx::postgres::PgPoolOptions;
use sqlx::Executor;

use crate::cli::{Cli, DemoArgs};
use crate::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use crate::error::Error;
use crate::settings::Ctx;

/// Name of the sample database.
pub const DEMO_DATABASE: &str = "whats_for_dinner";

/// The sample schema: the repository's `migrations/` folder, built into the binary so the demo
/// runs from any directory.
pub const DEMO_MIGRATIONS: &[(&str, &str)] = &[
    (
        "20241219100001_create_users.up.sql",
        include_str!("../../migrations/20241219100001_create_users.up.sql"),
    ),
    (
        "20241219100001_create_users.down.sql",
        include_str!("../../migrations/20241219100001_create_users.down.sql"),
    ),
    (
        "20241219100002_create_meals.up.sql",
        include_str!("../../migrations/20241219100002_create_meals.up.sql"),
    ),
    (
        "20241219100002_create_meals.down.sql",
        include_str!("../../migrations/20241219100002_create_meals.down.sql"),
    ),
    (
        "20241219100003_create_meal_ingredients.up.sql",
        include_str!("../../migrations/20241219100003_create_meal_ingredients.up.sql"),
    ),
    (
        "20241219100003_create_meal_ingredients.down.sql",
        include_str!("../../migrations/20241219100003_create_meal_ingredients.down.sql"),
    ),
];

/// The documented default budgets, built in for the same reason.
pub const DEFAULT_BUDGETS_TOML: &str = include_str!("../../budgets.toml");

/// Realistic problems a health check must find.
const PLANTED_PROBLEMS: &str = include_str!("../sql/demo_planted_problems.sql");
/// Sample data, generated in SQL; `$1` is the number of meals.
const SEED_USERS: &str = include_str!("../sql/demo_seed_users.sql");
const SEED_MEALS: &str = include_str!("../sql/demo_seed_meals.sql");
const SEED_INGREDIENTS: &str = include_str!("../sql/demo_seed_ingredients.sql");

pub async fn run(ctx: &Ctx, args: &DemoArgs, out: &mut dyn Write) -> Result<i32, Error> {
    if args.meals < 1000 {
        return Err(Error::Usage(format!(
            "--meals must be at least 1000, got {}",
            args.meals
        )));
    }
    let started = Instant::now();
    let steps = 6;
    step(ctx, 1, steps, "starting a throwaway PostgreSQL");
    let t = Instant::now();
    let mut cluster = tokio::task::spawn_blocking(|| {
        EphemeralCluster::start(&EphemeralOptions {
            pg_stat_statements_in_template: true,
            ..Default::default()
        })
    })
    .await
    .context("cluster start task")??;
    done(ctx, t, &format!("port {}", cluster.port()));

    let result = tokio::select! {
        r = demo_steps(ctx, args, &cluster, out) => r,
        _ = tokio::signal::ctrl_c() => {
            ctx.progress("interrupted: stopping the throwaway PostgreSQL");
            Ok(crate::exit::INTERRUPTED)
        }
    };
    if args.keep && result.is_ok() {
        cluster.keep_running();
        writeln!(
            out,
            "\nThe demo database is still running.\n  connect: {}\n  stop:    {}",
            cluster.socket_url(DEMO_DATABASE),
            cluster.stop_command()
        )
        .context("write")?;
    } else {
        cluster.stop();
    }
    ctx.progress(format!(
        "demo finished in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
    result
}

async fn demo_steps(
    ctx: &Ctx,
    args: &DemoArgs,
    cluster: &EphemeralCluster,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    let steps = 6;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&cluster.url("postgres"))
        .await
        .context("connect to the throwaway cluster")?;
    admin
        .execute(format!("CREATE DATABASE {DEMO_DATABASE}").as_str())
        .await
        .context("create the demo database")?;
    admin.close().await;
    let url = cluster.url(DEMO_DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .context("connect to the demo database")?;

    step(
        ctx,
        2,
        steps,
        "creating the whats-for-dinner schema (migrations/)",
    );
    let t = Instant::now();
    // The same sqlx.toml as the demo's own `migrate status` below reads, so both agree on the
    // tracking table and the checksums.
    let sqlx_toml = crate::commands::sqlx_toml_here()?;
    apply_schema(&pool, &sqlx_toml).await?;
    // HypoPG lets the index advisor prove its suggestions; the demo works without it.
    let hypopg = pool
        .execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        .await
        .is_ok();
    done(
        ctx,
        t,
        &format!(
            "{} migrations; HypoPG {}",
            DEMO_MIGRATIONS.len() / 2,
            if hypopg {
                "installed, index advice will be verified"
            } else {
                "not available, index advice will be unverified"
            }
        ),
    );

    step(ctx, 3, steps, "generating sample data in SQL");
    let t = Instant::now();
    let meals = i64::from(args.meals);
    sqlx::query(SEED_USERS)
        .execute(&pool)
        .await
        .context("seed users")?;
    sqlx::query(SEED_MEALS)
        .bind(meals)
        .execute(&pool)
        .await
        .context("seed meals")?;
    sqlx::query(SEED_INGREDIENTS)
        .bind(meals)
        .execute(&pool)
        .await
        .context("seed meal_ingredients")?;
    pool.execute("ANALYZE").await.context("analyze")?;
    done(
        ctx,
        t,
        &format!(
            "5,000 users, {} meals, {} ingredient rows",
            meals,
            meals * 5
        ),
    );

    step(
        ctx,
        4,
        steps,
        "planting problems (duplicate and unused indexes)",
    );
    let t = Instant::now();
    pool.execute(PLANTED_PROBLEMS)
        .await
        .context("plant problems")?;
    done(ctx, t, "ok");

    step(ctx, 5, steps, "running a short workload");
    let t = Instant::now();
    sqlx::query("SELECT pg_stat_statements_reset()")
        .execute(&pool)
        .await
        .context("reset pg_stat_statements")?;
    let calls = crate::commands::demo_workload::run(&pool, meals).await?;
    done(ctx, t, &format!("{calls} statements executed"));
    pool.close().await;

    step(ctx, 6, steps, "running dbdoctor against it");
    let dir = tempfile::tempdir().context("temporary directory for the demo")?;
    let budgets = dir.path().join("budgets.toml");
    std::fs::write(&budgets, DEFAULT_BUDGETS_TOML).context("write demo budgets.toml")?;
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).context("create demo migrations folder")?;
    for (name, sql) in DEMO_MIGRATIONS {
        std::fs::write(migrations.join(name), sql).context("write demo migration")?;
    }
    let sub = ctx.with_database_url(&url);
    let b = budgets.display().to_string();
    let m = migrations.display().to_string();
    let commands: Vec<Vec<String>> = vec![
        args_of(&["doctor", "--budgets", &b]),
        args_of(&["budget", "--budgets", &b, "--no-probes"]),
        args_of(&["migrate", "status", "--source", &m]),
        args_of(&["migrate", "validate", "--source", &m]),
        args_of(&[
            "migrate",
            "plan",
            "--dry-run",
            "--source",
            &m,
            "--budgets",
            &b,
        ]),
    ];
    let mut worst = 0;
    for argv in commands {
        let title = format!("dbdoctor {}", argv.join(" "));
        writeln!(out, "\n=== {} ===", shorten(&title, &[&b, &m])).context("write")?;
        let cli = Cli::try_parse_from(std::iter::once("dbdoctor".to_string()).chain(argv))
            .map_err(|e| Error::Other(anyhow::anyhow!("demo built a bad command line: {e}")))?;
        let code = Box::pin(crate::commands::dispatch(&sub, cli.command, out)).await?;
        worst = worst.max(code);
    }
    // The demo database is full of planted problems: findings are the point, not a failure.
    let _ = worst;
    Ok(crate::exit::OK)
}

/// Apply the sample schema's up files in version order, each in its own transaction.
async fn apply_schema(
    pool: &sqlx::PgPool,
    sqlx_toml: &crate::migrate::sqlx_config::MigrateConfig,
) -> Result<(), Error> {
    // The same engine as `dbdoctor migrate apply` (advisory lock, lock_timeout, tracking in
    // sqlx's table as sqlx.toml names it); a throwaway database needs no backup.
    let files = DEMO_MIGRATIONS
        .iter()
        .map(|(n, sql)| {
            (
                n.to_string(),
                PathBuf::from("migrations").join(n),
                sql.to_string(),
            )
        })
        .collect();
    let source = crate::migrate::source::from_files(std::path::Path::new("migrations"), files);
    let options = (*pool.connect_options()).clone();
    let mut settings = crate::db::ConnectSettings::from_options(
        options,
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(60),
    );
    settings.lock_timeout = std::time::Duration::from_secs(5);
    let opts = crate::migrate::apply::Options {
        target: None,
        lock_timeout: std::time::Duration::from_secs(5),
        lock_wait: std::time::Duration::from_secs(30),
        lock_retries: 3,
        backup_dir: PathBuf::from("backups"),
        no_backup: true,
        dry_run: false,
        mark_applied: None,
        quiet: true,
        tracking: sqlx_toml.tracking.clone(),
        create_schemas: sqlx_toml.schemas_to_create.clone(),
    };
    let pid = std::sync::Arc::new(std::sync::atomic::AtomicI32::new(0));
    crate::migrate::apply::apply(&settings, &source, &opts, pid).await?;
    Ok(())
}

fn args_of(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Hide temporary paths in the section titles.
fn shorten(title: &str, paths: &[&str]) -> String {
    let mut t = title.to_string();
    for p in paths {
        let name = PathBuf::from(p)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        t = t.replace(p, &name);
    }
    t
}

fn step(ctx: &Ctx, n: u32, of: u32, what: &str) {
    ctx.progress(format!("[{n}/{of}] {what} ..."));
}

fn done(ctx: &Ctx, t: Instant, detail: &str) {
    ctx.progress(format!(
        "      done in {:.1}s ({detail})",
        t.elapsed().as_secs_f64()
    ));
}
