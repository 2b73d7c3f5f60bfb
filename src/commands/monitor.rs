//! `doctor --monitor`: a full-screen view refreshed in place (alternate screen, like `top`)
//! until `q` or Ctrl-C, which exit 130 and leave the terminal as it was.

use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use anyhow::Context;

use crate::analyze::report::DoctorReport;
use crate::commands::snapshot::{collect_snapshot, CollectOptions};
use crate::db::Db;
use crate::error::Error;
use crate::render::doctor_monitor::{frame_bytes, waits, Frame};
use crate::render::terminal::{terminal_size, DEFAULT_WIDTH};
use crate::settings::Ctx;
use crate::snapshot::Snapshot;

/// Rows of a frame when the output is not a terminal (each frame is then printed in turn).
const PLAIN_ROWS: usize = 40;

pub struct Monitor {
    pub interval: Duration,
    /// The interval as the user wrote it, for the header.
    pub interval_text: String,
    pub schemas: Vec<String>,
    pub all_databases: bool,
}

/// Puts the terminal in the monitor's mode and restores it when dropped (also on errors).
struct Screen {
    saved: Option<libc::termios>,
    active: bool,
}

impl Screen {
    fn enter(out: &mut dyn Write, tty: bool) -> std::io::Result<Screen> {
        if !tty {
            return Ok(Screen {
                saved: None,
                active: false,
            });
        }
        let saved = if std::io::stdin().is_terminal() {
            // SAFETY: tcgetattr/tcsetattr on stdin with a termios we own.
            unsafe {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(libc::STDIN_FILENO, &mut t) == 0 {
                    let saved = t;
                    // Keys arrive one at a time and are not echoed; ISIG stays on so Ctrl-C is
                    // still SIGINT.
                    t.c_lflag &= !(libc::ICANON | libc::ECHO);
                    t.c_cc[libc::VMIN] = 1;
                    t.c_cc[libc::VTIME] = 0;
                    libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t);
                    Some(saved)
                } else {
                    None
                }
            }
        } else {
            None
        };
        // Alternate screen, cursor hidden.
        out.write_all(b"\x1b[?1049h\x1b[?25l")?;
        out.flush()?;
        Ok(Screen {
            saved,
            active: true,
        })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if let Some(t) = self.saved.take() {
            // SAFETY: restores the attributes read in `enter`.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t);
            }
        }
        if self.active {
            // Written straight to the terminal: `out` may be gone by now.
            let mut o = std::io::stdout();
            let _ = o.write_all(b"\x1b[?25h\x1b[?1049l");
            let _ = o.flush();
        }
    }
}

/// Resolves when the user presses `q` (stdin a terminal); never otherwise.
fn quit_key() -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    if std::io::stdin().is_terminal() {
        std::thread::spawn(move || {
            let mut byte = [0u8; 1];
            let mut stdin = std::io::stdin();
            while let Ok(1) = stdin.read(&mut byte) {
                if byte[0] == b'q' || byte[0] == b'Q' {
                    let _ = tx.send(());
                    return;
                }
            }
            // Keep the sender alive: a closed stdin is not a request to quit.
            std::mem::forget(tx);
        });
    } else {
        std::mem::forget(tx);
    }
    rx
}

pub async fn run(
    ctx: &Ctx,
    db: &Db,
    m: &Monitor,
    out: &mut dyn Write,
    mut report_of: impl FnMut(&Snapshot) -> DoctorReport,
) -> Result<i32, Error> {
    // Progress lines on stderr would scribble over the screen.
    let mut quiet = ctx.clone();
    quiet.quiet = true;
    let tty = ctx.stdout_is_terminal;
    let copts = CollectOptions {
        schemas: m.schemas.clone(),
        window: Some(m.interval),
        all_databases: m.all_databases,
        host: true,
        ..CollectOptions::default()
    };
    let screen = Screen::enter(out, tty).context("set up the terminal")?;
    let mut quit = quit_key();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    if tty {
        let msg = format!(
            "dbdoctor monitor: measuring the first {} …",
            m.interval_text
        );
        write!(out, "\x1b[H\x1b[2J{msg}").context("write")?;
        out.flush().context("write")?;
    }
    loop {
        // Each round measures one interval: its statements are the last interval's.
        let snap = tokio::select! {
            s = collect_snapshot(&quiet, db, &copts) => s?,
            _ = &mut ctrl_c => break,
            _ = &mut quit => break,
        };
        let report = report_of(&snap);
        let w = waits(&snap.activity);
        let (cols, rows) = if tty {
            terminal_size().unwrap_or((DEFAULT_WIDTH, 24))
        } else {
            (DEFAULT_WIDTH, PLAIN_ROWS)
        };
        let frame = Frame {
            report: &report,
            waits: &w,
            interval: &m.interval_text,
            cols,
            rows,
            color: ctx.color,
        };
        let buf = frame_bytes(&frame, tty);
        out.write_all(&buf).context("write")?;
        out.flush().context("write")?;
    }
    drop(screen);
    Ok(crate::exit::INTERRUPTED)
}
