//! `doctor --monitor`: one screen refreshed in place, `q` or Ctrl-C quits with 130 and restores
//! the terminal. Driven through a real terminal (tmux) when it is installed, and through SIGINT
//! with a pipe always.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_dbdoctor")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_quits_the_monitor_with_130() {
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE m (id int); SELECT count(*) FROM m;")
        .await;
    let mut child = Command::new(bin())
        .args([
            "--database-url",
            &db.url,
            "doctor",
            "--monitor",
            "--interval",
            "1s",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Frames are printed one after another when the output is not a terminal; wait for one.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
            if seen.contains("active findings") {
                break;
            }
        }
        (seen, stdout)
    });
    let (frame, _stdout) = reader.join().unwrap();
    assert!(frame.contains("dbdoctor monitor"), "{frame}");
    assert!(frame.contains("QPS"), "{frame}");
    assert!(!frame.contains('\x1b'), "no escapes into a pipe: {frame:?}");
    // SAFETY: signalling the child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

fn tmux(args: &[&str]) -> std::process::Output {
    Command::new("tmux").args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_an_80x24_terminal_the_monitor_fits_the_screen_and_q_restores_it() {
    if Command::new("tmux").arg("-V").output().is_err() {
        common::skip(
            "in_an_80x24_terminal_the_monitor_fits_the_screen_and_q_restores_it",
            "tmux is not installed (apt-get install tmux)",
        );
        return;
    }
    let db = common::fresh_db().await;
    db.exec("CREATE TABLE m (id int); SELECT count(*) FROM m;")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let exit_file = dir.path().join("exit");
    let session = format!("dbdoctor-monitor-{}", std::process::id());
    let script = format!(
        "printf 'before-monitor\\n'; '{}' --database-url '{}' doctor --monitor --interval 1s; echo \"EXIT=$?\" > '{}'; sleep 30",
        bin(),
        db.url,
        exit_file.display()
    );
    let out = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "80",
        "-y",
        "24",
        "sh",
        "-c",
        &script,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let capture = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).to_string()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut screen = capture();
    while !screen.contains("active findings") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        screen = capture();
    }
    // The session is removed whatever the assertions say.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        assert!(screen.contains("active findings"), "{screen}");
        let lines: Vec<&str> = screen.lines().collect();
        assert!(lines.len() <= 24, "{} lines", lines.len());
        assert!(lines[0].starts_with("dbdoctor monitor"), "{screen}");
        assert!(lines.iter().any(|l| l.starts_with("QPS")), "{screen}");
        // The alternate screen hides what was printed before.
        assert!(!screen.contains("before-monitor"), "{screen}");
        // A second frame replaces the first in place: still one header at the top.
        std::thread::sleep(Duration::from_millis(2500));
        let again = capture();
        assert_eq!(again.matches("dbdoctor monitor").count(), 1, "{again}");
        tmux(&["send-keys", "-t", &session, "q"]);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !exit_file.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let code = std::fs::read_to_string(&exit_file).unwrap_or_default();
        assert_eq!(code.trim(), "EXIT=130");
        // Back on the normal screen: what was there before is visible again.
        let after = capture();
        assert!(after.contains("before-monitor"), "{after}");
        assert!(!after.contains("active findings"), "{after}");
    }));
    tmux(&["kill-session", "-t", &session]);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
