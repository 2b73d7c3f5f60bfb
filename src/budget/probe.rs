//! Probes: dbdoctor runs a statement itself on N connections, prepared, timing every execution
//! into an hdrhistogram (exact percentiles) and measuring the throughput the server sustains.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Connection, PgConnection, Postgres};

use crate::budget::classify::{classify, Access, QueryClass};
use crate::budget::config::{ListValues, ParamGen, Probe, Stop, Workload};
use crate::db::ConnectSettings;
use crate::error::Error;
use crate::stats::{LatencyRecorder, LatencySummary};

/// Upper edges of the terminal histogram buckets, in milliseconds (log scale).
pub const HISTOGRAM_EDGES_MS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

/// One histogram bucket: executions with latency at or below `le_ms` (and above the previous edge).
/// The last bucket has `le_ms = None` (everything slower).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub le_ms: Option<f64>,
    pub count: u64,
}

/// What one probe measured.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeResult {
    pub name: String,
    pub sql: String,
    pub class: QueryClass,
    pub access: Option<Access>,
    /// Which throughput budget the achieved QPS is judged against.
    pub workload: Workload,
    pub concurrency: u32,
    pub allow_writes: bool,
    pub executions: u64,
    pub elapsed_s: f64,
    pub qps: f64,
    /// Exact: every execution timed.
    pub latency: LatencySummary,
    /// Non-empty buckets between the fastest and slowest, for the terminal histogram.
    pub histogram: Vec<Bucket>,
}

/// Per-connection results, merged at the end.
struct Worker {
    recorder: LatencyRecorder,
    buckets: Vec<u64>,
}

/// Tiny deterministic generator (xorshift64*): parameters need variety, not cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One generated parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
}

/// Generate the value of one parameter for execution number `seq` (0-based, global).
pub fn generate(g: &ParamGen, rng: &mut Rng, seq: u64) -> Value {
    match g {
        ParamGen::Int { min, max } => {
            let span = (*max as i128 - *min as i128 + 1) as u128;
            let off = (rng.next_u64() as u128) % span;
            Value::Int((*min as i128 + off as i128) as i64)
        }
        ParamGen::Float { min, max } => Value::Float(min + (max - min) * rng.unit()),
        ParamGen::Sequence { start } => Value::Int(start.wrapping_add(seq as i64)),
        ParamGen::List(ListValues::Text(v)) => {
            Value::Text(v[rng.below(v.len() as u64) as usize].clone())
        }
        ParamGen::List(ListValues::Int(v)) => Value::Int(v[rng.below(v.len() as u64) as usize]),
        ParamGen::List(ListValues::Float(v)) => Value::Float(v[rng.below(v.len() as u64) as usize]),
        ParamGen::List(ListValues::Bool(v)) => Value::Bool(v[rng.below(v.len() as u64) as usize]),
    }
}

fn bind<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    values: Vec<Value>,
) -> Query<'q, Postgres, PgArguments> {
    for v in values {
        q = match v {
            Value::Int(i) => q.bind(i),
            Value::Float(f) => q.bind(f),
            Value::Text(s) => q.bind(s),
            Value::Bool(b) => q.bind(b),
        };
    }
    q
}

fn bucket_of(ms: f64) -> usize {
    HISTOGRAM_EDGES_MS
        .iter()
        .position(|e| ms <= *e)
        .unwrap_or(HISTOGRAM_EDGES_MS.len())
}

/// Options of one run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Draw a progress bar on stderr.
    pub progress: bool,
    /// Seed for parameter generation (reproducible runs).
    pub seed: u64,
}

/// Open one probe connection: read-only unless the probe allows writes (then every execution is
/// rolled back anyway).
pub async fn open(settings: &ConnectSettings, allow_writes: bool) -> Result<PgConnection, Error> {
    let ro = if allow_writes { "off" } else { "on" };
    let opts = settings.options.clone().options([
        (
            "statement_timeout",
            format!("{}ms", settings.statement_timeout.as_millis().max(1)),
        ),
        (
            "lock_timeout",
            format!("{}ms", settings.lock_timeout.as_millis().max(1)),
        ),
        ("default_transaction_read_only", ro.to_string()),
    ]);
    crate::db::connect::connect_once(settings, &opts, "").await
}

async fn close_all(conns: Vec<PgConnection>) {
    for c in conns {
        let _ = c.close().await;
    }
}

/// Execute once (in a rolled-back transaction when writes are allowed); returns the statement's
/// own latency.
async fn execute_once(
    conn: &mut PgConnection,
    sql: &str,
    values: Vec<Value>,
    rollback: bool,
) -> Result<Duration, sqlx::Error> {
    let q = bind(sqlx::query(sql).persistent(true), values);
    if rollback {
        let mut tx = conn.begin().await?;
        let t = Instant::now();
        q.execute(&mut *tx).await?;
        let d = t.elapsed();
        tx.rollback().await?;
        Ok(d)
    } else {
        let t = Instant::now();
        q.execute(&mut *conn).await?;
        Ok(t.elapsed())
    }
}

/// Run a phase (warm-up or measurement) on every connection until `stop`.
/// Counters shared by every connection of a phase, across threads.
#[derive(Clone)]
struct Shared {
    /// Executions started (the iteration budget is global, not per connection).
    issued: Arc<AtomicU64>,
    /// Executions finished (progress bar).
    done: Arc<AtomicU64>,
    /// Set on the first error anywhere: every connection stops.
    failed: Arc<AtomicBool>,
    /// Executions attempted in every phase of the probe (sequence bookkeeping).
    attempted: Arc<AtomicU64>,
}

impl Shared {
    fn new(done: Arc<AtomicU64>, failed: Arc<AtomicBool>, attempted: Arc<AtomicU64>) -> Shared {
        Shared {
            issued: Arc::new(AtomicU64::new(0)),
            done,
            failed,
            attempted,
        }
    }
}

async fn phase(
    conns: Vec<PgConnection>,
    probe: &Arc<Probe>,
    stop: Stop,
    record: bool,
    seed: u64,
    shared: Shared,
) -> Result<(Vec<PgConnection>, Vec<Worker>, Duration), Error> {
    let Shared {
        issued,
        done,
        failed,
        attempted,
    } = shared;
    let started = Instant::now();
    let deadline = match stop {
        Stop::Duration(d) => Some(started + d),
        Stop::Iterations(_) => None,
    };
    let mut handles = Vec::new();
    for (i, mut conn) in conns.into_iter().enumerate() {
        let probe = Arc::clone(probe);
        let issued = Arc::clone(&issued);
        let failed = Arc::clone(&failed);
        let done = Arc::clone(&done);
        let attempted = Arc::clone(&attempted);
        handles.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed.wrapping_add(i as u64 * 7919 + 1));
            let mut w = Worker {
                recorder: LatencyRecorder::new(),
                buckets: vec![0; HISTOGRAM_EDGES_MS.len() + 1],
            };
            loop {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let seq = match stop {
                    Stop::Iterations(n) => {
                        let s = issued.fetch_add(1, Ordering::Relaxed);
                        if s >= n {
                            break;
                        }
                        s
                    }
                    Stop::Duration(_) => {
                        if deadline.is_some_and(|d| Instant::now() >= d) {
                            break;
                        }
                        issued.fetch_add(1, Ordering::Relaxed)
                    }
                };
                let values = probe
                    .params
                    .iter()
                    .map(|g| generate(g, &mut rng, seq))
                    .collect();
                attempted.fetch_add(1, Ordering::Relaxed);
                match execute_once(&mut conn, &probe.sql, values, probe.allow_writes).await {
                    Ok(d) => {
                        if record {
                            w.recorder.record_duration(d);
                            w.buckets[bucket_of(d.as_secs_f64() * 1000.0)] += 1;
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok((conn, w))
        }));
    }
    let mut conns = Vec::new();
    let mut workers = Vec::new();
    let mut first_error = None;
    for h in handles {
        match h.await {
            Ok(Ok((c, w))) => {
                conns.push(c);
                workers.push(w);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(join) => {
                return Err(Error::Other(anyhow::anyhow!(
                    "probe `{}`: a worker stopped: {join}",
                    probe.name
                )))
            }
        }
    }
    let elapsed = started.elapsed();
    if let Some(e) = first_error {
        let why = match &e {
            sqlx::Error::Database(d) => d.message().to_string(),
            other => other.to_string(),
        };
        let hint = match &e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("25006") => {
                " (the probe writes: set `allow_writes = true` to run it in rolled-back transactions)"
            }
            _ => "",
        };
        let msg = format!(
            "probe `{}` failed: {}{hint}",
            probe.name,
            why.replace('\n', " ")
        );
        // A server that went away is a connection failure (exit 3), not a bad probe.
        return Err(if crate::db::connect::is_connection_lost(&e) {
            Error::Connect(format!("lost the connection to the database: {msg}"))
        } else {
            match &e {
                sqlx::Error::Database(d)
                    if crate::error::is_privilege_code(d.code().as_deref()) =>
                {
                    Error::Connect(msg)
                }
                // The fix is in budgets.toml (allow_writes), a configuration error.
                sqlx::Error::Database(d) if d.code().as_deref() == Some("25006") => {
                    Error::Usage(msg)
                }
                sqlx::Error::Database(_) => Error::Database(msg),
                _ => Error::Usage(msg),
            }
        });
    }
    Ok((conns, workers, elapsed))
}

/// What one client thread hands back.
type ThreadResult = Result<Vec<Worker>, Error>;

/// Client threads for a probe, each with its own single-threaded runtime driving its share of
/// the connections (like pgbench's `-j`): one per CPU, but at least four when there are that many
/// connections, because a client thread mostly waits for the server's answer and more threads
/// overlap those waits; never more threads than connections.
pub fn client_threads(concurrency: u32) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    concurrency.min(cpus.max(MIN_CLIENT_THREADS)).max(1)
}

/// See [`client_threads`].
pub const MIN_CLIENT_THREADS: u32 = 4;

/// Run one probe to completion. A probe with `allow_writes` rolls back every execution, but
/// sequences are not transactional: the ones it advanced are set back afterwards (see
/// [`settle_sequences`]).
pub async fn run(
    settings: &ConnectSettings,
    probe: &Probe,
    opts: RunOptions,
) -> Result<ProbeResult, Error> {
    let before = if probe.allow_writes {
        Some(sequences_now(settings).await?)
    } else {
        None
    };
    let attempted = Arc::new(AtomicU64::new(0));
    let result = measure(settings, probe, opts, Arc::clone(&attempted)).await;
    if let Some(before) = before {
        let executions = attempted.load(Ordering::Relaxed);
        let left = settle_sequences(settings, &before, executions).await?;
        for (name, drawn) in left {
            eprintln!(
                "warning: probe `{}`: sequence {name} stays advanced by {drawn} value(s): another session may have drawn from it during the probe, so it was not set back",
                probe.name
            );
        }
    }
    result
}

/// Where a sequence stood before a writing probe; the row of `budget_sequences.sql`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SequenceState {
    pub name: String,
    /// `None` when no value has been drawn yet (`is_called = false`).
    pub last_value: Option<i64>,
    pub start_value: i64,
    pub increment: i64,
}

const Q_SEQUENCES: &str = include_str!("../sql/budget_sequences.sql");

/// Every sequence this role may read and set.
pub async fn sequences_now(settings: &ConnectSettings) -> Result<Vec<SequenceState>, Error> {
    let mut c = open(settings, false).await?;
    let rows: Vec<SequenceState> = sqlx::query_as(&crate::collect::statements::tag(Q_SEQUENCES))
        .fetch_all(&mut c)
        .await
        .map_err(|e| Error::Database(format!("read the sequences before a writing probe: {e}")))?;
    let _ = c.close().await;
    Ok(rows)
}

/// How many values were drawn between two states, when that is a whole number of steps.
pub fn values_drawn(before: &SequenceState, after: Option<i64>) -> Option<i64> {
    let after = after?;
    let inc = before.increment;
    if inc == 0 {
        return None;
    }
    let (from, extra) = match before.last_value {
        Some(b) => (b, 0),
        None => (before.start_value, 1),
    };
    let diff = after.checked_sub(from)?;
    (diff % inc == 0).then_some(diff / inc + extra)
}

/// The rule for setting a sequence back: the probe drew the same number of values on every
/// execution (the total is a whole multiple of its executions), which another session drawing
/// at the same time would almost always break.
pub fn may_restore(drawn: i64, executions: u64) -> bool {
    drawn > 0 && executions > 0 && (drawn as u64).is_multiple_of(executions)
}

/// Set back every sequence the probe advanced, when [`may_restore`] holds and nobody drew from it
/// since we looked (checked in the same statement as the `setval`). Returns the sequences left
/// advanced, with how many values were drawn.
pub async fn settle_sequences(
    settings: &ConnectSettings,
    before: &[SequenceState],
    executions: u64,
) -> Result<Vec<(String, i64)>, Error> {
    let now = sequences_now(settings).await?;
    let mut left = Vec::new();
    let mut writer: Option<PgConnection> = None;
    for b in before {
        let Some(after) = now.iter().find(|n| n.name == b.name) else {
            continue;
        };
        if after.last_value == b.last_value {
            continue;
        }
        let drawn = values_drawn(b, after.last_value);
        match drawn {
            Some(d) if may_restore(d, executions) => {
                if writer.is_none() {
                    writer = Some(open(settings, true).await?);
                }
                let c = writer.as_mut().expect("just opened");
                let (value, is_called) = match b.last_value {
                    Some(v) => (v, true),
                    None => (b.start_value, false),
                };
                let set: Option<i64> = sqlx::query_scalar(&crate::collect::statements::tag(
                    "SELECT setval($1::regclass, $2, $3) WHERE pg_sequence_last_value($1::regclass) IS NOT DISTINCT FROM $4",
                ))
                .bind(&b.name)
                .bind(value)
                .bind(is_called)
                .bind(after.last_value)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| Error::Database(format!("set sequence {} back: {e}", b.name)))?;
                if set.is_none() {
                    left.push((b.name.clone(), d));
                }
            }
            other => left.push((b.name.clone(), other.unwrap_or(0))),
        }
    }
    if let Some(c) = writer {
        let _ = c.close().await;
    }
    Ok(left)
}

async fn measure(
    settings: &ConnectSettings,
    probe: &Probe,
    opts: RunOptions,
    attempted: Arc<AtomicU64>,
) -> Result<ProbeResult, Error> {
    let parsed = classify(&probe.sql);
    let class = probe.class.unwrap_or(parsed.class);
    let workload = probe.workload.unwrap_or(match parsed.access {
        Some(Access::Write) => Workload::Write,
        _ => Workload::Read,
    });
    // Tagged so pg_stat_statements figures (ours and the doctor's) leave probe traffic out.
    let mut tagged = probe.clone();
    tagged.sql = crate::collect::statements::tag(&probe.sql);
    let tagged = Arc::new(tagged);
    let threads = client_threads(probe.concurrency);
    // Setup done on every thread / measurement done on every thread; the main side waits too.
    let ready = Arc::new(std::sync::Barrier::new(threads as usize + 1));
    let finished = Arc::new(std::sync::Barrier::new(threads as usize + 1));
    let failed = Arc::new(AtomicBool::new(false));
    let warm_done = Arc::new(AtomicU64::new(0));
    let measured = Arc::new(AtomicU64::new(0));
    let warm_shared = Shared::new(
        Arc::clone(&warm_done),
        Arc::clone(&failed),
        Arc::clone(&attempted),
    );
    let measure_shared = Shared::new(
        Arc::clone(&measured),
        Arc::clone(&failed),
        Arc::clone(&attempted),
    );
    let mut handles = Vec::new();
    for t in 0..threads {
        // Connections dealt round-robin: thread t gets every threads-th one.
        let conns = (probe.concurrency - t).div_ceil(threads);
        let settings = settings.clone();
        let probe = Arc::clone(&tagged);
        let spawned = {
            let (ready, finished, failed) = (
                Arc::clone(&ready),
                Arc::clone(&finished),
                Arc::clone(&failed),
            );
            let (warm_shared, measure_shared) = (warm_shared.clone(), measure_shared.clone());
            let attempted = Arc::clone(&attempted);
            let seed = opts.seed.wrapping_add(u64::from(t) * 0x1_0000);
            std::thread::Builder::new()
                .name(format!("probe-{t}"))
                .spawn(move || -> ThreadResult {
                    let fail = |e: Error| {
                        failed.store(true, Ordering::Relaxed);
                        e
                    };
                    let rt = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(rt) => rt,
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            ready.wait();
                            finished.wait();
                            return Err(Error::Other(anyhow::anyhow!("probe runtime: {e}")));
                        }
                    };
                    let setup = rt.block_on(async {
                        let mut cs = Vec::with_capacity(conns as usize);
                        for _ in 0..conns {
                            cs.push(open(&settings, probe.allow_writes).await?);
                        }
                        // Prepare on every connection before timing anything: one untimed execution each.
                        let prep = Shared::new(
                            Arc::new(AtomicU64::new(0)),
                            Arc::clone(&failed),
                            Arc::clone(&attempted),
                        );
                        let (cs, _, _) = phase(
                            cs,
                            &probe,
                            Stop::Iterations(u64::from(conns)),
                            false,
                            seed ^ 0xA5A5,
                            prep,
                        )
                        .await?;
                        match probe.warmup {
                            Some(w) => Ok(phase(cs, &probe, w, false, seed ^ 0x5A5A, warm_shared)
                                .await?
                                .0),
                            None => Ok(cs),
                        }
                    });
                    let setup = setup.map_err(fail);
                    ready.wait();
                    let cs = match setup {
                        Ok(cs) if !failed.load(Ordering::Relaxed) => cs,
                        Ok(cs) => {
                            finished.wait();
                            rt.block_on(close_all(cs));
                            return Ok(Vec::new());
                        }
                        Err(e) => {
                            finished.wait();
                            return Err(e);
                        }
                    };
                    let result =
                        rt.block_on(phase(cs, &probe, probe.stop, true, seed, measure_shared));
                    let result = result.map_err(fail);
                    finished.wait();
                    match result {
                        Ok((cs, workers, _)) => {
                            rt.block_on(close_all(cs));
                            Ok(workers)
                        }
                        Err(e) => Err(e),
                    }
                })
        };
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => {
                // The threads already started wait on barriers sized for all of them: release
                // them by standing in for the missing ones.
                failed.store(true, Ordering::Relaxed);
                let missing = threads - t;
                let (r, f) = (Arc::clone(&ready), Arc::clone(&finished));
                let _ = tokio::task::spawn_blocking(move || {
                    for _ in 0..missing {
                        std::thread::spawn({
                            let (r, f) = (Arc::clone(&r), Arc::clone(&f));
                            move || {
                                r.wait();
                                f.wait();
                            }
                        });
                    }
                    r.wait();
                    f.wait();
                })
                .await;
                for h in handles {
                    let _ = h.join();
                }
                return Err(Error::Other(anyhow::anyhow!(
                    "cannot start a probe thread: {e}"
                )));
            }
        }
    }
    let bar = opts
        .progress
        .then(|| Progress::start(&probe.name, probe.stop, Arc::clone(&measured)));
    let timing = tokio::task::spawn_blocking(move || {
        ready.wait();
        let started = Instant::now();
        finished.wait();
        let elapsed = started.elapsed();
        let results: Vec<ThreadResult> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Other(anyhow::anyhow!("a probe thread panicked")))
                })
            })
            .collect();
        (elapsed, results)
    })
    .await;
    if let Some(b) = bar {
        b.finish().await;
    }
    let (elapsed, results) =
        timing.map_err(|e| Error::Other(anyhow::anyhow!("probe `{}`: {e}", probe.name)))?;
    let mut workers = Vec::new();
    let mut first_error = None;
    for r in results {
        match r {
            Ok(w) => workers.extend(w),
            // A thread stopped because another failed reports no error of its own; keep the
            // real one (usage errors name the probe and the server's message).
            Err(e) => {
                if first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut rec = LatencyRecorder::new();
    let mut buckets = vec![0u64; HISTOGRAM_EDGES_MS.len() + 1];
    for w in &workers {
        rec.merge(&w.recorder);
        for (a, b) in buckets.iter_mut().zip(&w.buckets) {
            *a += b;
        }
    }
    let executions = rec.count();
    let elapsed_s = elapsed.as_secs_f64();
    Ok(ProbeResult {
        name: probe.name.clone(),
        sql: probe.sql.clone(),
        class,
        access: parsed.access,
        workload,
        concurrency: probe.concurrency,
        allow_writes: probe.allow_writes,
        executions,
        elapsed_s,
        qps: if elapsed_s > 0.0 {
            executions as f64 / elapsed_s
        } else {
            0.0
        },
        latency: rec.summarize(),
        histogram: trim_buckets(&buckets),
    })
}

/// Keep the buckets from the first to the last non-empty one.
fn trim_buckets(counts: &[u64]) -> Vec<Bucket> {
    let first = counts.iter().position(|c| *c > 0);
    let last = counts.iter().rposition(|c| *c > 0);
    match (first, last) {
        (Some(a), Some(b)) => (a..=b)
            .map(|i| Bucket {
                le_ms: HISTOGRAM_EDGES_MS.get(i).copied(),
                count: counts[i],
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a progress bar may be drawn: stderr is a terminal.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A one-line progress bar redrawn on stderr.
struct Progress {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Progress {
    fn start(name: &str, stop_at: Stop, done: Arc<AtomicU64>) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let name = name.to_string();
        let handle = tokio::spawn(async move {
            let started = Instant::now();
            loop {
                let n = done.load(Ordering::Relaxed);
                let frac = match stop_at {
                    Stop::Duration(d) => started.elapsed().as_secs_f64() / d.as_secs_f64(),
                    Stop::Iterations(total) => n as f64 / total as f64,
                };
                let frac = frac.clamp(0.0, 1.0);
                let width = 30;
                let filled = (frac * width as f64).round() as usize;
                let qps = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
                let mut err = std::io::stderr();
                let _ = write!(
                    err,
                    "\r  probe {name} [{}{}] {:>3.0}% {n} executions, {qps:.0} q/s ",
                    "#".repeat(filled),
                    "-".repeat(width - filled),
                    frac * 100.0
                );
                let _ = err.flush();
                if flag.load(Ordering::Relaxed) {
                    let _ = writeln!(err);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Progress { stop, handle }
    }

    async fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_stay_in_range() {
        let mut rng = Rng::new(1);
        for seq in 0..10_000 {
            match generate(&ParamGen::Int { min: -3, max: 3 }, &mut rng, seq) {
                Value::Int(i) => assert!((-3..=3).contains(&i)),
                v => panic!("{v:?}"),
            }
            match generate(&ParamGen::Float { min: 1.0, max: 2.0 }, &mut rng, seq) {
                Value::Float(f) => assert!((1.0..2.0).contains(&f)),
                v => panic!("{v:?}"),
            }
        }
        assert_eq!(
            generate(&ParamGen::Sequence { start: 100 }, &mut rng, 5),
            Value::Int(105)
        );
        let l = ParamGen::List(ListValues::Text(vec!["a".into(), "b".into()]));
        let mut seen = std::collections::BTreeSet::new();
        for seq in 0..100 {
            if let Value::Text(s) = generate(&l, &mut rng, seq) {
                seen.insert(s);
            }
        }
        assert_eq!(seen.len(), 2);
        // The full i64 range must not overflow.
        let _ = generate(
            &ParamGen::Int {
                min: i64::MIN,
                max: i64::MAX,
            },
            &mut rng,
            0,
        );
    }

    #[test]
    fn buckets() {
        assert_eq!(bucket_of(0.05), 0);
        assert_eq!(bucket_of(3.0), 5);
        assert_eq!(bucket_of(1e9), HISTOGRAM_EDGES_MS.len());
        let t = trim_buckets(&[0, 2, 0, 3, 0, 0]);
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[0],
            Bucket {
                le_ms: Some(0.25),
                count: 2
            }
        );
    }
}
