//! Lanes: at most `POOL_CONNECTIONS` pieces of work on the pool at once. The pool's acquire
//! deadline is `--connect-timeout`, meant for connecting; work that would otherwise queue in the
//! pool behind slow queries (a large catalog's reads can each take longer than that) waits for
//! a lane instead, with no deadline of its own: each query ahead is bounded by
//! statement_timeout.

use std::future::Future;

use tokio::sync::Semaphore;

use crate::db::connect::POOL_CONNECTIONS;

pub struct Lanes(Semaphore);

impl Default for Lanes {
    fn default() -> Self {
        Lanes::new()
    }
}

impl Lanes {
    pub fn new() -> Self {
        Lanes(Semaphore::new(POOL_CONNECTIONS))
    }

    /// Run `f` in a lane. `f` must use at most one pool connection at a time.
    pub async fn run<T>(&self, f: impl Future<Output = T>) -> T {
        // The semaphore is never closed; were it, the work would simply run.
        let _turn = self.0.acquire().await.ok();
        f.await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn never_more_than_the_pool_at_once() {
        let lanes = Lanes::new();
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let work = (0..3 * POOL_CONNECTIONS).map(|_| {
            lanes.run(async {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            })
        });
        futures_util::future::join_all(work).await;
        assert_eq!(most.load(Ordering::SeqCst), POOL_CONNECTIONS);
    }
}
