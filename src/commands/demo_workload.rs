//! The demo's workload: the statements a small meal-planning app runs, including the slow ones
//! the product brief complains about, so pg_stat_statements has something to say.

use anyhow::Context;
use sqlx::PgPool;

use crate::error::Error;

/// Run the workload with four concurrent workers; returns how many statements ran.
pub async fn run(pool: &PgPool, meals: i64) -> Result<u64, Error> {
    let mut handles = Vec::new();
    for worker in 0..4i64 {
        let pool = pool.clone();
        handles.push(tokio::spawn(async move {
            worker_loop(&pool, worker, meals).await
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.context("workload worker")??;
    }
    Ok(total)
}

async fn worker_loop(pool: &PgPool, worker: i64, meals: i64) -> Result<u64, Error> {
    let mut n = 0u64;
    for i in 0..600i64 {
        let k = worker * 1000 + i;
        // Primary-key lookups (simple).
        sqlx::query("SELECT id, email, name FROM users WHERE id = $1")
            .bind(1 + (k * 13) % 5000)
            .fetch_optional(pool)
            .await
            .context("workload: user by id")?;
        sqlx::query("SELECT id, name, difficulty FROM meals WHERE id = $1")
            .bind(1 + (k * 17) % meals)
            .fetch_optional(pool)
            .await
            .context("workload: meal by id")?;
        n += 2;
        if i % 8 == 0 {
            // A user's meals: meals.user_id has no index, so each call scans the table.
            sqlx::query("SELECT id, name, created_at FROM meals WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20")
                .bind(1 + (k * 7) % 5000)
                .fetch_all(pool)
                .await
                .context("workload: meals of a user")?;
            // Ingredient search: no index on ingredient, 5 rows per meal to scan.
            sqlx::query("SELECT meal_id, quantity FROM meal_ingredients WHERE ingredient = $1")
                .bind(format!("ingredient_{}", (k * 37) % 2000))
                .fetch_all(pool)
                .await
                .context("workload: ingredient search")?;
            // Writes.
            sqlx::query("INSERT INTO meal_ingredients (meal_id, ingredient, quantity) VALUES ($1, $2, $3::float8)")
                .bind(1 + (k * 11) % meals)
                .bind(format!("ingredient_{}", k % 2000))
                .bind(2.0f64)
                .execute(pool)
                .await
                .context("workload: add ingredient")?;
            sqlx::query("UPDATE meals SET description = description || '.' WHERE id = $1")
                .bind(1 + (k * 19) % meals)
                .execute(pool)
                .await
                .context("workload: edit meal")?;
            n += 4;
        }
        if i % 60 == 0 {
            // The brief's slow query: comma join, every column, no LIMIT.
            sqlx::query(
                "SELECT * FROM meals m, users u WHERE m.user_id = u.id AND m.difficulty = $1",
            )
            .bind(["easy", "medium", "hard"][(k % 3) as usize])
            .fetch_all(pool)
            .await
            .context("workload: easy meals report")?;
            // A dashboard aggregation.
            sqlx::query("SELECT difficulty, count(*) AS meals, count(DISTINCT user_id) AS cooks FROM meals GROUP BY difficulty")
                .fetch_all(pool)
                .await
                .context("workload: difficulty dashboard")?;
            n += 2;
        }
    }
    Ok(n)
}
