//! Command-line surface of dbdoctor: clap derive types only; doc comments are the help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes, as a string literal (kept in step with src/exit.rs and README.md).
macro_rules! exit_codes {
    () => {
        "\
Exit codes:
    0  ok
    1  the check ran and found problems at or above the requested severity, or a budget breach
    2  usage or configuration error
    3  cannot connect, or the role lacks a needed privilege
    4  migration validation failed
    5  migration apply failed (a transactional migration is rolled back whole; a -- no-transaction
       file keeps the statements before the failing one, and the message names them)
    6  the database returned an unexpected error (neither a connection nor a privilege problem)
  130  interrupted by Ctrl-C (`doctor --monitor` also on `q`)"
    };
}

/// Text appended to every `--help`: the exit codes.
pub const EXIT_CODES_HELP: &str = exit_codes!();

/// Help text after a subcommand's options: the output formats it writes, then the exit codes.
macro_rules! formats_and_exit_codes {
    ($formats:literal) => {
        concat!("Formats (--format): ", $formats, "\n\n", exit_codes!())
    };
}

const DOCTOR_HELP: &str = formats_and_exit_codes!("table (default), json, markdown");
const BUDGET_HELP: &str = formats_and_exit_codes!("table (default), json, markdown, junit, github");
const MIGRATE_HELP: &str = formats_and_exit_codes!("table (default), json; validate also github");
const PLAN_HELP: &str = formats_and_exit_codes!("table (default), json");
const VALIDATE_HELP: &str = formats_and_exit_codes!("table (default), json, github");
const TABLE_JSON_HELP: &str = formats_and_exit_codes!("table (default), json");
const DEMO_HELP: &str = formats_and_exit_codes!("table (default)");
const SNAPSHOT_HELP: &str = formats_and_exit_codes!("json (the snapshot file is JSON)");
const NO_FORMAT_HELP: &str = formats_and_exit_codes!("none (the output is the script or page)");

/// The formats each subcommand writes; any other `--format` is a usage error (exit 2).
pub fn supported_formats(command: &Command) -> &'static [Format] {
    use Format::*;
    match command {
        Command::Doctor(_) => &[Table, Json, Markdown],
        Command::Budget(_) => &[Table, Json, Markdown, Junit, Github],
        Command::Migrate(m) => match m.command {
            MigrateCommand::Validate(_) => &[Table, Json, Github],
            _ => &[Table, Json],
        },
        Command::Demo(_) => &[Table],
        Command::Snapshot(_) => &[Json],
        Command::Completions(_) | Command::Man => &[],
    }
}

/// Tells a PostgreSQL team what is slow, what is wasteful, what will break and what to change.
#[derive(Debug, Parser)]
#[command(name = "dbdoctor", version, about, propagate_version = true, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// PostgreSQL connection URL (postgres://user:password@host:port/db?sslmode=...).
    /// Falls back to DATABASE_URL, then to the libpq variables PGHOST, PGPORT, PGUSER,
    /// PGPASSWORD, PGDATABASE and PGSSLMODE.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Output format. Defaults to `table` (human text); other tools should ask for `json`. Each
    /// subcommand accepts only the formats its help lists.
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,

    /// When to colour the output (and dbdoctor's own error messages); `auto` honours NO_COLOR and
    /// whether the output is a terminal.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// How long to wait for a connection (e.g. 5s, 500ms, 1m; a bare number is seconds).
    #[arg(long, global = true, value_name = "DURATION", default_value = "5s", value_parser = crate::util::duration_arg)]
    pub connect_timeout: Duration,

    /// statement_timeout for dbdoctor's own queries (e.g. 30s, 2m; a bare number is seconds).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = crate::util::duration_arg)]
    pub statement_timeout: Duration,

    /// Print only what is essential (errors and verdicts).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print progress and diagnostic detail on stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// JUnit XML (budget only).
    Junit,
    /// GitHub Actions workflow-command annotations (budget and migrate validate).
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Health report of the live database: slow queries, wasteful indexes, bloat, risks, fixes.
    #[command(after_help = DOCTOR_HELP)]
    Doctor(DoctorArgs),
    /// Query performance budgets from budgets.toml; `--fail-on-breach` makes CI fail on a breach.
    #[command(after_help = BUDGET_HELP)]
    Budget(BudgetArgs),
    /// Plan, validate, apply and revert schema migrations safely.
    #[command(after_help = MIGRATE_HELP)]
    Migrate(MigrateArgs),
    /// Start a throwaway PostgreSQL with a sample database and planted problems, and run every command on it.
    #[command(after_help = DEMO_HELP)]
    Demo(DemoArgs),
    /// Save everything `doctor` reads to a JSON file, for offline analysis with `doctor --from-snapshot`.
    #[command(after_help = SNAPSHOT_HELP)]
    Snapshot(SnapshotArgs),
    /// Print a shell completion script (bash, zsh, fish or powershell) on stdout.
    #[command(after_help = NO_FORMAT_HELP)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout, e.g. `dbdoctor man > dbdoctor.1`.
    #[command(after_help = NO_FORMAT_HELP)]
    Man,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Sections of the doctor report.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Section {
    Connection,
    #[value(alias = "query")]
    Queries,
    Tables,
    Indexes,
    #[value(alias = "resource")]
    Resources,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum FailOn {
    Warning,
    Critical,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DoctorArgs {
    /// Only these sections (comma separated): connection, queries, tables, indexes, resources.
    #[arg(long, alias = "metrics", value_enum, value_delimiter = ',')]
    pub only: Vec<Section>,

    /// Show only the slow statements.
    #[arg(long)]
    pub slow_queries: bool,

    /// Also write the report as markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Run only these checks (comma separated check ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub checks: Vec<String>,

    /// Skip these checks (comma separated check ids).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub skip_checks: Vec<String>,

    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Measure the workload over a window (e.g. 60s, 2m) instead of since the last stats reset.
    #[arg(long, value_name = "DURATION", value_parser = crate::util::duration_text_arg)]
    pub window: Option<String>,

    /// A full-screen view refreshed in place, like `top`: QPS, latency, connections, waits, the
    /// top statements of the last interval and the active findings. `q` or Ctrl-C quits (exit 130).
    #[arg(long)]
    pub monitor: bool,

    /// Refresh interval for --monitor (e.g. 5s).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::util::duration_text_arg)]
    pub interval: String,

    /// Lay the report out for N columns (default: the terminal's width, or 100 when the output
    /// is not a terminal).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,

    /// List every table, index, statement and skipped check instead of the top ones.
    #[arg(long)]
    pub all: bool,

    /// Only look at objects in these schemas (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "SCHEMAS")]
    pub schema: Vec<String>,

    /// Analyse a snapshot written by `dbdoctor snapshot --out FILE` instead of a live database.
    #[arg(long, value_name = "FILE")]
    pub from_snapshot: Option<PathBuf>,

    /// Thresholds and budgets file (default: budgets.toml in the current directory or the
    /// nearest one above it, up to the repository root).
    #[arg(long, value_name = "FILE")]
    pub budgets: Option<PathBuf>,

    /// Include statements of every database, not just the current one.
    #[arg(long)]
    pub all_databases: bool,

    /// Replay every fix, then every rollback in reverse, on a throwaway copy of the schema
    /// (pg_dump --schema-only) and mark each fix verified or failed.
    #[arg(long)]
    pub verify_fixes: bool,

    /// Get the generic plan of the N statements with the most total time (EXPLAIN only, in a
    /// read-only transaction) and report plan insights; 0 turns plans off.
    #[arg(long, value_name = "N", default_value_t = crate::plans::DEFAULT_PLANS)]
    pub plans: usize,

    /// Also run EXPLAIN ANALYZE for the planned SELECTs without parameters, in a read-only
    /// transaction that is rolled back.
    #[arg(long)]
    pub analyze_plans: bool,

    /// Show the plan of one statement (its pg_stat_statements queryid) as a tree, with costs,
    /// estimated rows and its insights, instead of the report.
    #[arg(long, value_name = "QUERYID", allow_hyphen_values = true)]
    pub explain: Option<i64>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct BudgetArgs {
    /// Budgets file (default: budgets.toml in the current directory or the nearest one above
    /// it, up to the repository root).
    #[arg(long, value_name = "FILE")]
    pub budgets: Option<PathBuf>,

    /// Exit 1 when any budget is breached.
    #[arg(long)]
    pub fail_on_breach: bool,

    /// Also fail (exit 1) when a budget has no data.
    #[arg(long)]
    pub require_data: bool,

    /// Measure pg_stat_statements over a window (e.g. 60s) instead of cumulatively.
    #[arg(long, value_name = "DURATION", value_parser = crate::util::duration_text_arg)]
    pub window: Option<String>,

    /// Save a "before" sample of pg_stat_statements to FILE and exit.
    #[arg(long, value_name = "FILE", conflicts_with = "since")]
    pub mark: Option<PathBuf>,

    /// Judge only what ran since the sample saved with --mark FILE.
    #[arg(long, value_name = "FILE")]
    pub since: Option<PathBuf>,

    /// Run these probes from the budgets file (comma separated names); all probes when empty.
    #[arg(long, value_delimiter = ',', value_name = "NAMES", num_args = 0..)]
    pub probe: Option<Vec<String>>,

    /// Do not run the probes defined in the budgets file.
    #[arg(long)]
    pub no_probes: bool,

    /// Save the measured figures as a baseline file.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,

    /// Compare against a saved baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// With --baseline: exit 1 when a statement's plan changed (`plan_regression`), even when its
    /// latency is inside the budget.
    #[arg(long)]
    pub fail_on_plan_change: bool,

    /// With --baseline: a P95 or QPS regression beyond this (e.g. 20%) is a breach.
    #[arg(long, value_name = "PERCENT")]
    pub max_regression: Option<String>,

    /// Include statements of every database, not just the current one.
    #[arg(long)]
    pub all_databases: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, Args, Clone)]
pub struct SourceArg {
    /// Folder holding the migrations (sqlx format). Default: sqlx.toml's `[migrate]
    /// migrations-dir`, else `migrations`.
    #[arg(long = "source", value_name = "DIR")]
    pub source_flag: Option<PathBuf>,
    /// The folder in use: `--source`, else sqlx.toml's, else `migrations` (filled in before the
    /// command runs).
    #[arg(skip)]
    pub source: PathBuf,
    /// Migration layout of --source (detected when omitted; `validate` also reads one file or `-`).
    #[arg(long, value_enum, value_name = "LAYOUT")]
    pub layout: Option<crate::migrate::layout::Layout>,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Turn doctor's index findings into migration files grouped by priority.
    #[command(after_help = PLAN_HELP)]
    Plan(MigratePlanArgs),
    /// Check migration files: naming, drift, syntax and safety rules (exit 4 on errors).
    #[command(after_help = VALIDATE_HELP)]
    Validate(MigrateValidateArgs),
    /// Apply pending migrations with a lock timeout, a backup and an advisory lock.
    #[command(after_help = TABLE_JSON_HELP)]
    Apply(MigrateApplyArgs),
    /// Run down migrations (one by default).
    #[command(after_help = TABLE_JSON_HELP)]
    Revert(MigrateRevertArgs),
    /// Show applied, pending, changed and missing migrations.
    #[command(after_help = TABLE_JSON_HELP)]
    Status(MigrateStatusArgs),
}

#[derive(Debug, Args, Clone)]
pub struct MigratePlanArgs {
    #[command(flatten)]
    pub source: SourceArg,
    /// Print the plan without writing files.
    #[arg(long)]
    pub dry_run: bool,
    /// Plan from a snapshot file instead of a live database.
    #[arg(long, value_name = "FILE")]
    pub from_snapshot: Option<PathBuf>,
    /// Thresholds file used by the underlying doctor analysis (default: budgets.toml in the
    /// current directory or the nearest one above it, up to the repository root).
    #[arg(long, value_name = "FILE")]
    pub budgets: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateValidateArgs {
    #[command(flatten)]
    pub source: SourceArg,
    /// Treat warnings as errors (exit 4).
    #[arg(long)]
    pub strict: bool,
    /// Apply every migration on a throwaway cluster, then roll the down files back.
    #[arg(long)]
    pub replay: bool,
    /// Do not connect to a database even when one is configured.
    #[arg(long)]
    pub offline: bool,
    /// Run each pending migration on a throwaway cluster (with the target's schema when a database
    /// is configured) and report the locks each statement holds, rewrites and implicit objects.
    #[arg(long)]
    pub trace: bool,
    /// With --trace: copy up to N rows of each touched table from the target first.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "trace")]
    pub trace_rows: u64,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateApplyArgs {
    #[command(flatten)]
    pub source: SourceArg,
    /// Print the exact SQL stream and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply up to and including this version.
    #[arg(long, value_name = "VERSION")]
    pub target: Option<i64>,
    /// lock_timeout for each migration statement (e.g. 5s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::util::duration_text_arg)]
    pub lock_timeout: String,
    /// How long to wait for the migration advisory lock held by another run (e.g. 30s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::util::duration_text_arg)]
    pub lock_wait: String,
    /// How many times a lock-timeout failure is retried (with backoff).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub lock_retries: u32,
    /// Directory for the schema-only backup taken before the first change.
    #[arg(long, value_name = "DIR", default_value = "backups")]
    pub backup_dir: PathBuf,
    /// Skip the backup (not recommended).
    #[arg(long)]
    pub no_backup: bool,
    /// Record VERSION as applied without running it (baselining).
    #[arg(long, value_name = "VERSION")]
    pub mark_applied: Option<i64>,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateRevertArgs {
    #[command(flatten)]
    pub source: SourceArg,
    /// Revert down to (but not including) this version; 0 reverts all.
    #[arg(long, value_name = "VERSION")]
    pub target: Option<i64>,
    /// Print the exact SQL stream and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// lock_timeout for each statement (e.g. 5s).
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::util::duration_text_arg)]
    pub lock_timeout: String,
    /// How long to wait for the migration advisory lock (e.g. 30s).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = crate::util::duration_text_arg)]
    pub lock_wait: String,
}

#[derive(Debug, Args, Clone)]
pub struct MigrateStatusArgs {
    #[command(flatten)]
    pub source: SourceArg,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Leave the throwaway cluster running and print how to connect and stop it.
    #[arg(long)]
    pub keep: bool,
    /// Number of meals to generate.
    #[arg(long, default_value_t = 45_000)]
    pub meals: u32,
}

#[derive(Debug, Args, Clone)]
pub struct SnapshotArgs {
    /// File to write (JSON). `-` writes to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Measure the workload over a window (e.g. 60s).
    #[arg(long, value_name = "DURATION", value_parser = crate::util::duration_text_arg)]
    pub window: Option<String>,
    /// Only look at objects in these schemas (comma separated).
    #[arg(long, value_delimiter = ',', value_name = "SCHEMAS")]
    pub schema: Vec<String>,
    /// Include statements of every database, not just the current one.
    #[arg(long)]
    pub all_databases: bool,
    /// Store the generic plans of the N statements with the most total time; 0: none.
    #[arg(long, value_name = "N", default_value_t = crate::plans::DEFAULT_PLANS)]
    pub plans: usize,
}
