//! One module per subcommand; `dispatch` routes the parsed command line to it.

use std::io::Write;

use crate::cli::{Command, MigrateCommand};
use crate::error::Error;
use crate::settings::Ctx;

pub mod budget;
pub mod demo;
pub mod demo_workload;
pub mod doctor;
pub mod migrate;
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
        Command::Migrate(m) => migrate::run(ctx, m.command, out).await,
        Command::Demo(args) => demo::run(ctx, &args, out).await,
    }
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
        Command::Demo(_) => false,
    }
}
