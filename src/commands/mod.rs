//! One module per subcommand; `dispatch` routes the parsed command line to it.

use std::io::Write;

use crate::cli::{Command, MigrateCommand};
use crate::error::Error;
use crate::migrate::sqlx_config::MigrateConfig;
use crate::settings::Ctx;

pub mod budget;
pub mod completions;
pub mod demo;
pub mod demo_workload;
pub mod doctor;
pub mod migrate;
pub mod monitor;
pub mod snapshot;
pub mod verify_fixes;

/// Run a command; `Ok` carries the exit code (0, or 1 when findings/breaches demand it).
pub async fn dispatch(ctx: &Ctx, command: Command, out: &mut dyn Write) -> Result<i32, Error> {
    if needs_database(&command) {
        // Validate the connection settings before anything else (bad URL syntax: exit 2).
        ctx.connect_settings()?;
    }
    match command {
        Command::Doctor(args) => doctor::run(ctx, &args, out).await,
        Command::Budget(args) => budget::run(ctx, &args, out).await,
        Command::Snapshot(args) => snapshot::run(ctx, &args, out).await,
        Command::Migrate(mut m) => {
            let cfg = apply_sqlx_toml(&mut m.command)?;
            migrate::run(ctx, m.command, &cfg, out).await
        }
        Command::Demo(args) => demo::run(ctx, &args, out).await,
        Command::Completions(args) => completions::completions(args.shell, out),
        Command::Man => completions::man(out),
    }
}

/// sqlx.toml's `[migrate]` settings: its folder unless `--source` was given, and the characters
/// its checksums leave out; the rest (tracking table, schemas to create) is returned.
fn apply_sqlx_toml(command: &mut MigrateCommand) -> Result<MigrateConfig, Error> {
    let cfg = sqlx_toml_here()?;
    let source = match command {
        MigrateCommand::Plan(a) => &mut a.source,
        MigrateCommand::Validate(a) => &mut a.source,
        MigrateCommand::Apply(a) => &mut a.source,
        MigrateCommand::Revert(a) => &mut a.source,
        MigrateCommand::Status(a) => &mut a.source,
    };
    source.source = source
        .source_flag
        .clone()
        .unwrap_or_else(|| cfg.migrations_dir());
    Ok(cfg)
}

/// sqlx.toml of the current directory (defaults when there is none), with its `ignored-chars`
/// put in force for every checksum computed after this.
pub fn sqlx_toml_here() -> Result<MigrateConfig, Error> {
    let cfg = crate::migrate::sqlx_config::load_here()?.unwrap_or_default();
    crate::migrate::sqlx_config::set_ignored_chars(cfg.ignored_chars.clone());
    Ok(cfg)
}

/// Commands that talk to a live database (and so need valid connection settings up front).
fn needs_database(command: &Command) -> bool {
    match command {
        Command::Doctor(a) => a.from_snapshot.is_none(),
        Command::Budget(_) | Command::Snapshot(_) => true,
        Command::Migrate(m) => match &m.command {
            MigrateCommand::Plan(p) => p.from_snapshot.is_none(),
            MigrateCommand::Validate(_) => false,
            MigrateCommand::Apply(_) | MigrateCommand::Revert(_) | MigrateCommand::Status(_) => {
                true
            }
        },
        Command::Demo(_) | Command::Completions(_) | Command::Man => false,
    }
}
