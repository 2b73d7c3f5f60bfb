//! The dbdoctor binary: parse the command line, run the command, print errors, choose the exit code.

use std::io::Write;

use clap::Parser;
use dbdoctor::cli::Cli;
use dbdoctor::error::Error;
use dbdoctor::{commands, exit, settings::Ctx};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = run(cli);
    std::process::exit(code);
}

fn run(cli: Cli) -> i32 {
    let ctx = match Ctx::from_global(&cli.global) {
        Ok(c) => c,
        Err(e) => return report_error(&e),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return report_error(&Error::Other(anyhow::anyhow!(
                "cannot start the async runtime: {e}"
            )))
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = runtime.block_on(commands::dispatch(&ctx, cli.command, &mut out));
    let flushed = out.flush();
    match result {
        Ok(code) => {
            if let Err(e) = flushed {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return report_error(&Error::Other(anyhow::anyhow!(
                        "cannot write output: {e}"
                    )));
                }
            }
            code
        }
        Err(e) if is_broken_pipe(&e) => exit::OK,
        Err(e) => report_error(&e),
    }
}

fn is_broken_pipe(e: &Error) -> bool {
    match e {
        Error::Other(a) => a.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }),
        _ => false,
    }
}

/// Print one line on stderr (never a password) and return the exit code.
fn report_error(e: &Error) -> i32 {
    let text = match e {
        Error::Other(a) => a
            .chain()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(": "),
        other => other.to_string(),
    };
    let line = dbdoctor::db::redact::redact_url(&text.replace('\n', " "));
    let _ = writeln!(std::io::stderr(), "dbdoctor: error: {line}");
    e.exit_code()
}
