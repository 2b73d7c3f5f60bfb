//! Shared test harness: one throwaway cluster per test process, one fresh database per test.
//! Set DBDOCTOR_TEST_DATABASE_URL (a superuser URL) to use an existing server instead.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use dbdoctor::db::ephemeral::{EphemeralCluster, EphemeralOptions};
use sqlx::{Connection, Executor, PgConnection};

/// Where test databases are created.
pub enum Server {
    Ephemeral(EphemeralCluster),
    External(url::Url),
}

impl Server {
    /// Superuser URL of `database`.
    pub fn url(&self, database: &str) -> String {
        match self {
            Server::Ephemeral(c) => c.url(database),
            Server::External(u) => {
                let mut u = u.clone();
                u.set_path(&format!("/{database}"));
                u.to_string()
            }
        }
    }

    pub fn cluster(&self) -> Option<&EphemeralCluster> {
        match self {
            Server::Ephemeral(c) => Some(c),
            Server::External(_) => None,
        }
    }

    /// Host and port, for building URLs of other roles.
    pub fn host_port(&self) -> (String, u16) {
        match self {
            Server::Ephemeral(c) => ("127.0.0.1".to_string(), c.port()),
            Server::External(u) => (
                u.host_str().unwrap_or("localhost").to_string(),
                u.port().unwrap_or(5432),
            ),
        }
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The server for this test process, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(|| match std::env::var("DBDOCTOR_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => {
            Server::External(url::Url::parse(&u).expect("DBDOCTOR_TEST_DATABASE_URL is not a URL"))
        }
        _ => Server::Ephemeral(
            EphemeralCluster::start(&EphemeralOptions {
                pg_stat_statements_in_template: true,
                ..Default::default()
            })
            .unwrap_or_else(|e| panic!("cannot start a throwaway PostgreSQL: {e}")),
        ),
    })
}

/// A fresh database of its own for one test.
pub struct TestDb {
    pub name: String,
    /// Superuser URL of this database (contains the password: never print it in assertions).
    pub url: String,
}

impl TestDb {
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.name))
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("pool for {}: {e}", self.name))
    }

    /// Run SQL (several statements allowed) as the superuser.
    pub async fn exec(&self, sql: &str) {
        let mut c = self.connect().await;
        c.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("setup SQL failed: {e}\n{sql}"));
        c.close().await.ok();
    }

    /// URL of this database for another role (password auth over TCP).
    pub fn url_as(&self, role: &str, password: &str) -> String {
        let (host, port) = server().host_port();
        format!("postgres://{role}:{password}@{host}:{port}/{}", self.name)
    }
}

/// Create a fresh database (pg_stat_statements installed) for one test.
pub async fn fresh_db() -> TestDb {
    let srv = server();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = PgConnection::connect(&srv.url("postgres"))
        .await
        .expect("connect to the test server");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    admin.close().await.ok();
    let db = TestDb {
        url: srv.url(&name),
        name,
    };
    if matches!(srv, Server::External(_)) {
        let mut c = db.connect().await;
        let _ = c
            .execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .await;
    }
    db
}

/// Say loudly that `test` could not run its core, and why. Written straight to the process's
/// stderr (not through the test harness's capture) so `scripts/dev test` sees and counts it.
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP: {test}: {reason}");
}

/// Whether the test server can create `extension` (its control file is installed); prints the
/// SKIP line for `test` when it cannot.
pub async fn extension_available(test: &str, extension: &str) -> bool {
    let mut c = PgConnection::connect(&server().url("postgres"))
        .await
        .expect("connect to the test server");
    let found: Option<String> =
        sqlx::query_scalar("SELECT name::text FROM pg_available_extensions WHERE name = $1")
            .bind(extension)
            .fetch_optional(&mut c)
            .await
            .expect("read pg_available_extensions");
    c.close().await.ok();
    if found.is_none() {
        skip(
            test,
            &format!("the {extension} extension is not installed on the test server (no {extension}.control; scripts/dev setup installs it)"),
        );
    }
    found.is_some()
}

/// The test's own throwaway cluster, or a SKIP line for `test` when DBDOCTOR_TEST_DATABASE_URL
/// points the suite at an existing server.
pub fn own_cluster(test: &str) -> Option<&'static EphemeralCluster> {
    let c = server().cluster();
    if c.is_none() {
        skip(
            test,
            "needs its own throwaway cluster, but DBDOCTOR_TEST_DATABASE_URL points at an existing server",
        );
    }
    c
}

/// The dbdoctor binary built for these tests, with a clean environment.
pub fn dbdoctor() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("dbdoctor").expect("dbdoctor binary");
    for var in [
        "DATABASE_URL",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGSSLCERT",
        "PGSSLKEY",
        "PGCONNECT_TIMEOUT",
        "PGHOSTADDR",
        "PGSERVICE",
        "NO_COLOR",
    ] {
        cmd.env_remove(var);
    }
    cmd.timeout(std::time::Duration::from_secs(300));
    cmd
}

/// Run openssl in `dir` (test certificates only).
fn openssl_in(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is needed for the TLS tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// In `dir`: `ca.crt`, and `server.crt`/`server.key` for localhost and 127.0.0.1 signed by it.
pub fn make_server_certs(dir: &std::path::Path) -> dbdoctor::db::ephemeral::TlsFiles {
    openssl_in(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=dbdoctor test CA",
        ],
    );
    openssl_in(
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
    openssl_in(
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
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    dbdoctor::db::ephemeral::TlsFiles {
        cert_pem: read("server.crt"),
        key_pem: read("server.key"),
    }
}

/// A cluster of its own that asks for the password (scram-sha-256) on every connection, unix
/// socket included, and serves TLS with `tls` when given.
pub fn start_password_cluster(
    tls: Option<dbdoctor::db::ephemeral::TlsFiles>,
) -> Option<EphemeralCluster> {
    match EphemeralCluster::start(&EphemeralOptions {
        pg_stat_statements_in_template: true,
        password_auth_on_socket: true,
        tls,
        ..Default::default()
    }) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("SKIP: password cluster: {e}");
            None
        }
    }
}

/// Every file under `dir`, as text (for searching written files).
pub fn all_text_under(dir: &std::path::Path) -> String {
    let mut text = String::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                text.push_str(&all_text_under(&p));
            } else if let Ok(bytes) = std::fs::read(&p) {
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    text
}

/// A password written as an SQL string constant in each quoting form PostgreSQL knows:
/// `'…'`, `E'…'`, `$$…$$`, `$tag$…$tag$`, `U&'…'`. Forms that cannot hold it are left out.
pub fn sql_string_forms(pw: &str) -> Vec<(&'static str, String)> {
    let mut v = vec![("plain", format!("'{}'", pw.replace('\'', "''")))];
    v.push((
        "escape",
        format!("E'{}'", pw.replace('\\', "\\\\").replace('\'', "\\'")),
    ));
    if !pw.contains('$') {
        v.push(("dollar", format!("$${pw}$$")));
    }
    if !pw.contains("$k9$") {
        v.push(("tagged", format!("$k9${pw}$k9$")));
    }
    let mut u = String::from("U&'");
    for ch in pw.chars() {
        match ch {
            '\'' => u.push_str("''"),
            '\\' => u.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => u.push(c),
            c => u.push_str(&format!("\\+{:06X}", c as u32)),
        }
    }
    u.push('\'');
    v.push(("unicode", u));
    v
}

/// The bin folders of the other PostgreSQL majors of the version matrix: those named in
/// DBDOCTOR_MATRIX_BINDIRS (colon separated; `scripts/dev test` fetches and sets them), else
/// those in the cache folders `scripts/dev` uses. Empty when there are none.
pub fn matrix_bindirs() -> Vec<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    if let Ok(list) = std::env::var("DBDOCTOR_MATRIX_BINDIRS") {
        return std::env::split_paths(&list)
            .filter(|p| p.join("initdb").is_file())
            .collect();
    }
    let mut caches = vec![PathBuf::from("/var/cache/dbdoctor/pg")];
    if let Some(home) = std::env::var_os("HOME") {
        caches.push(Path::new(&home).join(".cache/dbdoctor/pg"));
    }
    let mut found: Vec<PathBuf> = caches
        .iter()
        .filter_map(|c| std::fs::read_dir(c).ok())
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    found.sort();
    found
}

/// [`matrix_bindirs`] for a test that runs on each of them: when there are none, a `SKIP:` line
/// naming `test` (counted by `scripts/dev test`'s summary) and an empty list.
pub fn matrix_bindirs_or_skip(test: &str) -> Vec<std::path::PathBuf> {
    let dirs = matrix_bindirs();
    if dirs.is_empty() {
        skip(
            test,
            "no PostgreSQL 13/14/16/17/18 builds (set DBDOCTOR_MATRIX_BINDIRS, or run scripts/dev test, which fetches them)",
        );
    }
    dirs
}

/// Start a throwaway server of the matrix from `bindir` (pg_stat_statements preloaded and in
/// the template when `pgss`) and create `database` on it; the server stops when the cluster is
/// dropped. Returns the cluster and the database's URL.
pub async fn start_matrix_server(
    bindir: std::path::PathBuf,
    pgss: bool,
    database: &str,
) -> (EphemeralCluster, String) {
    let label = bindir.display().to_string();
    let cluster = tokio::task::spawn_blocking(move || {
        EphemeralCluster::start(&EphemeralOptions {
            bindir: Some(bindir),
            pg_stat_statements_in_template: pgss,
            ..Default::default()
        })
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("start cluster {label}: {e}"));
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .unwrap();
    admin.close().await.ok();
    let url = cluster.url(database);
    (cluster, url)
}
