//! Global settings merged from the command line and the environment, validated before any I/O.

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{ColorChoice, Format, GlobalArgs};
use crate::db::ConnectSettings;
use crate::error::Error;

/// What every command gets: output choices and how to reach the database.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub format: Format,
    /// Whether the user asked for a format explicitly (commands with other defaults care).
    pub format_explicit: bool,
    pub color: bool,
    pub quiet: bool,
    pub verbose: u8,
    pub stdout_is_terminal: bool,
    database_url: Option<String>,
    connect_timeout: Duration,
    statement_timeout: Duration,
}

impl Ctx {
    pub fn from_global(g: &GlobalArgs) -> Result<Self, Error> {
        let stdout_is_terminal = std::io::stdout().is_terminal();
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
        Ok(Ctx {
            format: g.format.unwrap_or(Format::Table),
            format_explicit: g.format.is_some(),
            color,
            quiet: g.quiet,
            verbose: g.verbose,
            stdout_is_terminal,
            database_url: g.database_url.clone(),
            connect_timeout: at_most_a_day("--connect-timeout", g.connect_timeout)?,
            statement_timeout: at_most_a_day("--statement-timeout", g.statement_timeout)?,
        })
    }

    /// Connection settings from --database-url / DATABASE_URL / PG* variables.
    pub fn connect_settings(&self) -> Result<ConnectSettings, Error> {
        ConnectSettings::resolve(
            self.database_url.as_deref(),
            self.connect_timeout,
            self.statement_timeout,
        )
    }

    /// Same, for an explicit URL (demo, tests).
    pub fn connect_settings_for(&self, url: &str) -> Result<ConnectSettings, Error> {
        ConnectSettings::resolve(Some(url), self.connect_timeout, self.statement_timeout)
    }

    pub fn database_url_given(&self) -> bool {
        self.database_url.is_some()
    }

    /// A progress line on stderr unless --quiet.
    pub fn progress(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A diagnostic line on stderr with -v.
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 {
            eprintln!("dbdoctor: {}", msg.as_ref());
        }
    }

    /// A copy that uses another database URL (demo runs the commands against its own cluster).
    pub fn with_database_url(&self, url: &str) -> Ctx {
        let mut c = self.clone();
        c.database_url = Some(url.to_string());
        c
    }
}

fn at_most_a_day(flag: &str, d: Duration) -> Result<Duration, Error> {
    if d.is_zero() || d > Duration::from_secs(86_400) {
        return Err(Error::Usage(format!(
            "{flag} must be between 0 and 24h, got {}",
            humantime::format_duration(d)
        )));
    }
    Ok(d)
}
