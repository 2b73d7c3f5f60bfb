//! Works everywhere users run it: TLS verification, a full server, replicas, Ctrl-C.
//! Each test that needs special server settings starts a throwaway cluster of its own.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dbdoctor::collect::capabilities;
use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions, TlsFiles};
use dbdoctor::db::{connect, ConnectSettings, SessionMode};
use sqlx::{Connection, Executor, PgConnection};

fn settings(url: &str) -> ConnectSettings {
    ConnectSettings::resolve(Some(url), Duration::from_secs(5), Duration::from_secs(30)).unwrap()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is needed for the TLS test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for localhost/127.0.0.1 signed by it, and an unrelated CA.
fn make_certs(dir: &Path) {
    let subj_ca = "/CN=dbdoctor test CA";
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", subj_ca,
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "other.key",
            "-out",
            "other.crt",
            "-days",
            "2",
            "-subj",
            "/CN=some other CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[tokio::test]
async fn tls_verify_full_accepts_the_right_ca_and_refuses_a_wrong_one() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let cluster = tokio::task::spawn_blocking({
        let tls = TlsFiles {
            cert_pem: read("server.crt"),
            key_pem: read("server.key"),
        };
        move || {
            EphemeralCluster::start(&EphemeralOptions {
                tls: Some(tls),
                ..Default::default()
            })
        }
    })
    .await
    .unwrap()
    .unwrap();
    let base = format!(
        "postgres://postgres:{}@localhost:{}/postgres?sslmode=verify-full",
        cluster.password(),
        cluster.port()
    );
    let good = format!("{base}&sslrootcert={}", dir.path().join("ca.crt").display());
    let db = connect(&settings(&good), SessionMode::ReadOnly)
        .await
        .expect("verify-full with the right CA");
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(ssl, "the session must be encrypted");

    let bad = format!(
        "{base}&sslrootcert={}",
        dir.path().join("other.crt").display()
    );
    let err = connect(&settings(&bad), SessionMode::ReadOnly)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 3, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("localhost"), "{msg}");
    assert!(
        msg.to_lowercase().contains("tls") || msg.to_lowercase().contains("certificate"),
        "{msg}"
    );
    assert!(!msg.contains(cluster.password()), "{msg}");
    assert!(!msg.contains('\n'));
}

#[tokio::test]
async fn a_full_server_is_reported_not_waited_for() {
    let cluster = tokio::task::spawn_blocking(|| {
        EphemeralCluster::start(&EphemeralOptions {
            extra_conf: vec![
                "max_connections = 5".to_string(),
                "superuser_reserved_connections = 1".to_string(),
            ],
            ..Default::default()
        })
    })
    .await
    .unwrap()
    .unwrap();
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    admin
        .execute("CREATE ROLE crowd LOGIN PASSWORD 'crowd-pw'")
        .await
        .unwrap();
    let url = format!(
        "postgres://crowd:crowd-pw@127.0.0.1:{}/postgres",
        cluster.port()
    );
    // Fill the remaining normal slots (5 - 1 reserved - the admin session).
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(PgConnection::connect(&url).await.unwrap());
    }
    let started = Instant::now();
    let err = connect(&settings(&url), SessionMode::ReadOnly)
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "must not wait for a slot"
    );
    assert_eq!(err.exit_code(), 3);
    assert!(err.to_string().contains("max_connections"), "{err}");
    assert!(!err.to_string().contains("crowd-pw"), "{err}");
    drop(held);
}

#[tokio::test]
async fn a_replica_says_it_is_one() {
    let (primary, replica) = tokio::task::spawn_blocking(|| {
        let p = EphemeralCluster::start(&EphemeralOptions::default()).unwrap();
        let r = p.start_replica().unwrap();
        (p, r)
    })
    .await
    .unwrap();
    let db = connect(&settings(&replica.url("postgres")), SessionMode::ReadOnly)
        .await
        .unwrap();
    let caps = capabilities::probe(&db.pool).await.unwrap();
    assert!(caps.is_replica);
    let db = connect(&settings(&primary.url("postgres")), SessionMode::ReadOnly)
        .await
        .unwrap();
    assert!(!capabilities::probe(&db.pool).await.unwrap().is_replica);
}

#[test]
fn ctrl_c_during_demo_stops_and_removes_the_cluster() {
    let bin = assert_cmd::cargo::cargo_bin("dbdoctor");
    let mut child = Command::new(bin)
        .args(["demo", "--meals", "20000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = None;
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(p) = line.split("(port ").nth(1) {
            port = p.trim_end_matches(')').parse::<u16>().ok();
        }
        if line.starts_with("[3/6]") {
            break;
        }
    }
    let port = port.expect("demo prints its port");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    for _ in lines {}
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the demo's server still listens after Ctrl-C"
    );
}
