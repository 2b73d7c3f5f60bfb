//! The dbdoctor binary: parse the command line, run the command, print errors, choose the exit code.

use std::io::Write;

use clap::{CommandFactory, FromArgMatches};
use dbdoctor::cli::{supported_formats, Cli};
use dbdoctor::error::Error;
use dbdoctor::{commands, exit, settings::Ctx};

fn main() {
    let mut cmd = Cli::command().color(clap_color(std::env::args_os()));
    let parsed = cmd
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            // --help and --version are not errors.
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.format(&mut cmd).print();
            std::process::exit(code);
        }
    };
    if let Some(f) = cli.global.format {
        let supported = supported_formats(&cli.command);
        if !supported.contains(&f) {
            let name = |f: &dbdoctor::cli::Format| {
                clap::ValueEnum::to_possible_value(f)
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default()
            };
            let list: Vec<String> = supported.iter().map(name).collect();
            let msg = format!(
                "--format {} is not supported here; this command writes {}",
                name(&f),
                if list.is_empty() {
                    "no formats".to_string()
                } else {
                    list.join(", ")
                }
            );
            let _ = cmd.error(clap::error::ErrorKind::InvalidValue, msg).print();
            std::process::exit(exit::USAGE);
        }
    }
    let code = run(cli);
    std::process::exit(code);
}

/// clap's own messages follow `--color` and NO_COLOR like the rest of the output. Read from the
/// raw arguments because clap needs the choice before it parses them.
fn clap_color(args: impl Iterator<Item = std::ffi::OsString>) -> clap::ColorChoice {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let mut choice = None;
    for (i, a) in args.iter().enumerate() {
        if a == "--" {
            break;
        }
        let v = match a.strip_prefix("--color=") {
            Some(v) => Some(v),
            None if a == "--color" => args.get(i + 1).map(String::as_str),
            None => None,
        };
        match v {
            Some("never") => choice = Some(clap::ColorChoice::Never),
            Some("always") => choice = Some(clap::ColorChoice::Always),
            Some("auto") => choice = Some(clap::ColorChoice::Auto),
            _ => {}
        }
    }
    choice.unwrap_or_else(|| {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            clap::ColorChoice::Never
        } else {
            clap::ColorChoice::Auto
        }
    })
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
