//! A throwaway PostgreSQL cluster (initdb + pg_ctl) for `demo` and the tests: started in a
//! temporary directory, stopped and removed on drop, and by a watchdog if this process dies.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::error::Error;
use crate::util::one_line;

/// Superuser of every throwaway cluster.
pub const SUPERUSER: &str = "postgres";
/// OS user the server runs as when dbdoctor runs as root (PostgreSQL refuses to run as root).
pub const UNPRIVILEGED_OS_USER: &str = "postgres";

/// Options for [`EphemeralCluster::start`].
#[derive(Debug, Clone, Default)]
pub struct EphemeralOptions {
    /// Server binaries; found automatically when `None`.
    pub bindir: Option<PathBuf>,
    /// Extra `postgresql.conf` lines.
    pub extra_conf: Vec<String>,
    /// Install pg_stat_statements in template1 so every new database has it.
    pub pg_stat_statements_in_template: bool,
    /// Serve TLS with this certificate and key (PEM); `hostssl` then requires a password.
    pub tls: Option<TlsFiles>,
    /// Require the password (scram-sha-256) on the unix socket too, not only over TCP, so that
    /// every connection form is authenticated and a wrong password fails.
    pub password_auth_on_socket: bool,
}

/// A server certificate and its private key, PEM encoded.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A running throwaway cluster. Dropping it stops the server and removes every file.
#[derive(Debug)]
pub struct EphemeralCluster {
    root: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    bindir: PathBuf,
    port: u16,
    password: String,
    run_as: Option<(u32, u32)>,
    watchdog: Option<Child>,
    keep: bool,
    stopped: bool,
}

impl EphemeralCluster {
    /// initdb a temporary directory and start a server on a free loopback port and a private
    /// unix socket, with pg_stat_statements preloaded and track_io_timing on.
    pub fn start(opts: &EphemeralOptions) -> Result<Self, Error> {
        let bindir = match &opts.bindir {
            Some(b) => b.clone(),
            None => find_bindir()?,
        };
        let run_as = if unsafe { libc::geteuid() } == 0 {
            Some(lookup_user(UNPRIVILEGED_OS_USER).ok_or_else(|| {
                Error::Usage(format!(
                    "running as root, but there is no '{UNPRIVILEGED_OS_USER}' OS user to run the throwaway PostgreSQL as (PostgreSQL refuses to run as root): create it with `useradd --system {UNPRIVILEGED_OS_USER}`"
                ))
            })?)
        } else {
            None
        };

        // A short path: the unix socket path must stay under ~100 bytes.
        let base = if Path::new("/tmp").is_dir() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let root = tempfile::Builder::new()
            .prefix("dbdoctor-")
            .tempdir_in(&base)
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot create a temporary directory in {}: {e}",
                    base.display()
                ))
            })?
            .keep();
        let data_dir = root.join("data");
        let socket_dir = root.join("s");
        let mut cluster = EphemeralCluster {
            root: root.clone(),
            data_dir,
            socket_dir,
            bindir,
            port: 0,
            password: random_password(),
            run_as,
            watchdog: None,
            keep: false,
            stopped: true,
        };
        // From here on, Drop removes the directory if anything fails.
        cluster.init(opts)?;
        Ok(cluster)
    }

    fn init(&mut self, opts: &EphemeralOptions) -> Result<(), Error> {
        fs::create_dir_all(&self.socket_dir).map_err(io_err("create", &self.socket_dir))?;
        if let Some((uid, gid)) = self.run_as {
            for dir in [&self.root, &self.socket_dir] {
                chown(dir, uid, gid)?;
            }
        }
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
            .map_err(io_err("chmod", &self.root))?;

        let pwfile = self.root.join("pw");
        fs::write(&pwfile, format!("{}\n", self.password)).map_err(io_err("write", &pwfile))?;
        if let Some((uid, gid)) = self.run_as {
            chown(&pwfile, uid, gid)?;
        }
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C", "--no-sync"])
            .arg(if opts.password_auth_on_socket {
                "--auth-local=scram-sha-256"
            } else {
                "--auth-local=trust"
            })
            .arg("--auth-host=scram-sha-256")
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot run initdb from {}: {e}",
                    self.bindir.display()
                ))
            })?;
        let _ = fs::remove_file(&pwfile);
        if !out.status.success() {
            return Err(Error::Usage(format!(
                "initdb failed: {}",
                one_line(&String::from_utf8_lossy(&out.stderr))
            )));
        }

        self.configure_and_start(opts, true)
    }

    /// Append our settings to postgresql.conf, start the server on a free port and arm the
    /// watchdog. `primary` is false for a replica (template setup happens on the primary).
    fn configure_and_start(&mut self, opts: &EphemeralOptions, primary: bool) -> Result<(), Error> {
        let mut conf = vec![
            "listen_addresses = '127.0.0.1'".to_string(),
            format!("unix_socket_directories = '{}'", self.socket_dir.display()),
            "shared_preload_libraries = 'pg_stat_statements'".to_string(),
            "pg_stat_statements.track = 'all'".to_string(),
            "track_io_timing = on".to_string(),
            "fsync = off".to_string(),
            "synchronous_commit = off".to_string(),
            "full_page_writes = off".to_string(),
            "max_connections = 100".to_string(),
            "shared_buffers = '128MB'".to_string(),
            "log_min_messages = warning".to_string(),
        ];
        if let Some(tls) = &opts.tls {
            let cert = self.data_dir.join("server.crt");
            let key = self.data_dir.join("server.key");
            fs::write(&cert, &tls.cert_pem).map_err(io_err("write", &cert))?;
            fs::write(&key, &tls.key_pem).map_err(io_err("write", &key))?;
            fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
                .map_err(io_err("chmod", &key))?;
            if let Some((uid, gid)) = self.run_as {
                chown(&cert, uid, gid)?;
                chown(&key, uid, gid)?;
            }
            conf.push("ssl = on".to_string());
            conf.push("ssl_cert_file = 'server.crt'".to_string());
            conf.push("ssl_key_file = 'server.key'".to_string());
        }
        conf.extend(opts.extra_conf.iter().cloned());
        let conf_path = self.data_dir.join("postgresql.conf");
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .map_err(io_err("open", &conf_path))?;
        writeln!(f, "\n# dbdoctor throwaway cluster\n{}", conf.join("\n"))
            .map_err(io_err("write", &conf_path))?;

        // A port can be taken between probing and binding: try a few.
        let mut last_err = String::new();
        for _ in 0..5 {
            self.port = free_port()?;
            match self.pg_ctl_start() {
                Ok(()) => {
                    self.stopped = false;
                    self.spawn_watchdog()?;
                    if primary && opts.pg_stat_statements_in_template {
                        self.psql(
                            "template1",
                            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
                        )?;
                    }
                    return Ok(());
                }
                Err(e) => last_err = e,
            }
        }
        Err(Error::Usage(format!(
            "the throwaway PostgreSQL did not start: {last_err}"
        )))
    }

    /// A streaming replica of this cluster (`pg_basebackup -R`), itself a throwaway cluster.
    pub fn start_replica(&self) -> Result<EphemeralCluster, Error> {
        let root = tempfile::Builder::new()
            .prefix("dbdoctor-")
            .tempdir_in(self.root.parent().unwrap_or(Path::new("/tmp")))
            .map_err(|e| Error::Usage(format!("cannot create a temporary directory: {e}")))?
            .keep();
        let mut replica = EphemeralCluster {
            data_dir: root.join("data"),
            socket_dir: root.join("s"),
            root,
            bindir: self.bindir.clone(),
            port: 0,
            password: self.password.clone(),
            run_as: self.run_as,
            watchdog: None,
            keep: false,
            stopped: true,
        };
        fs::create_dir_all(&replica.socket_dir).map_err(io_err("create", &replica.socket_dir))?;
        if let Some((uid, gid)) = replica.run_as {
            for dir in [&replica.root, &replica.socket_dir] {
                chown(dir, uid, gid)?;
            }
        }
        fs::set_permissions(&replica.root, fs::Permissions::from_mode(0o700))
            .map_err(io_err("chmod", &replica.root))?;
        let out = replica
            .command("pg_basebackup")
            .arg("-D")
            .arg(&replica.data_dir)
            .args(["-R", "-X", "stream", "-c", "fast", "-U", SUPERUSER, "-h"])
            .arg(&self.socket_dir)
            .args(["-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Usage(format!("cannot run pg_basebackup: {e}")))?;
        if !out.status.success() {
            return Err(Error::Usage(format!(
                "pg_basebackup failed: {}",
                one_line(&String::from_utf8_lossy(&out.stderr))
            )));
        }
        replica.configure_and_start(&EphemeralOptions::default(), false)?;
        Ok(replica)
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let log = self.root.join("server.log");
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("start")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let last = tail
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            Err(one_line(&format!(
                "{} {}",
                String::from_utf8_lossy(&out.stderr),
                last
            )))
        }
    }

    /// A helper process that stops the server and removes the directory once this process is
    /// gone, however it ends (its stdin is a pipe only we hold).
    fn spawn_watchdog(&mut self) -> Result<(), Error> {
        let script =
            "read _ignored; \"$1\" stop -D \"$2\" -m immediate >/dev/null 2>&1; rm -rf \"$3\"";
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(script)
            .arg("dbdoctor-watchdog")
            .arg(self.bindir.join("pg_ctl"))
            .arg(&self.data_dir)
            .arg(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C in the terminal must not kill it before it cleans up.
            .process_group(0);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        let child = cmd
            .spawn()
            .map_err(|e| Error::Usage(format!("cannot start the cleanup watchdog: {e}")))?;
        self.watchdog = Some(child);
        Ok(())
    }

    /// Run a server binary from the cluster's bindir, as the unprivileged user when root.
    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(self.bindir.join(program.as_ref()));
        cmd.current_dir(&self.root).process_group(0);
        cmd.env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            // Setup connections (pg_basebackup) authenticate when the socket asks for a password.
            .env("PGPASSWORD", &self.password);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    /// Run one SQL command through the unix socket as the superuser (setup only).
    fn psql(&self, db: &str, sql: &str) -> Result<(), Error> {
        let psql = self.bindir.join("psql");
        let program = if psql.exists() {
            psql
        } else {
            PathBuf::from("psql")
        };
        let out = Command::new(program)
            .env("PGPASSWORD", &self.password)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                db,
                "-c",
                sql,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Usage(format!("cannot run psql: {e}")))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(Error::Usage(format!(
                "setup of the throwaway cluster failed: {}",
                one_line(&String::from_utf8_lossy(&out.stderr))
            )))
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }
    /// The superuser's password (TCP connections need it; the unix socket trusts local users
    /// unless `password_auth_on_socket` was set).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// TCP URL with the superuser password (for programs; never print it).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// Password-free URL over the cluster's unix socket (safe to print). The `host` parameter
    /// names the socket directory and overrides `localhost`, for dbdoctor and psql alike.
    pub fn socket_url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}&port={}",
            self.socket_dir.display(),
            self.port
        )
    }

    /// Leave the server running after this value is dropped (`demo --keep`).
    pub fn keep_running(&mut self) {
        self.keep = true;
        if let Some(mut w) = self.watchdog.take() {
            // Ends the watchdog without letting it clean up.
            let _ = w.kill();
            let _ = w.wait();
        }
    }

    /// The command that stops a kept cluster and removes its files.
    pub fn stop_command(&self) -> String {
        let prefix = match self.run_as {
            Some(_) => format!("runuser -u {UNPRIVILEGED_OS_USER} -- "),
            None => String::new(),
        };
        format!(
            "{prefix}{} stop -D {} -m fast && rm -rf {}",
            self.bindir.join("pg_ctl").display(),
            self.data_dir.display(),
            self.root.display()
        )
    }

    /// Crash-stop the server (`pg_ctl stop -m immediate`), keeping its files: fault tests use
    /// this to make the server vanish under a running command.
    pub fn kill_server(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Start a stopped server again on the same port.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.pg_ctl_start()
            .map_err(|e| Error::Usage(format!("the throwaway PostgreSQL did not restart: {e}")))
    }

    /// Stop the server and remove its files now.
    pub fn stop(&mut self) {
        if self.keep {
            return;
        }
        if !self.stopped {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "fast", "-w", "-t", "30", "stop"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            self.stopped = true;
        }
        let _ = fs::remove_dir_all(&self.root);
        if let Some(mut w) = self.watchdog.take() {
            drop(w.stdin.take());
            let _ = w.wait();
        }
    }
}

impl Drop for EphemeralCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// PG_BINDIR, then `pg_config --bindir`, then PATH, then the newest /usr/lib/postgresql/*/bin.
pub fn find_bindir() -> Result<PathBuf, Error> {
    let has_server = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BINDIR") {
        let dir = PathBuf::from(dir);
        if has_server(&dir) {
            return Ok(dir);
        }
        return Err(Error::Usage(format!(
            "PG_BINDIR={} does not contain initdb and pg_ctl",
            dir.display()
        )));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_server(&dir) {
                return Ok(dir);
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_server(&dir) {
                // Resolve symlinks (Debian links /usr/local/bin/initdb into the versioned bindir).
                let real = fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|d| has_server(d))
                    .unwrap_or(dir);
                return Ok(real);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((major, bin))
        })
        .collect();
    candidates.sort();
    if let Some((_, bin)) = candidates.pop() {
        return Ok(bin);
    }
    Err(Error::Usage(
        "no PostgreSQL server binaries found (initdb, pg_ctl): install them (Debian/Ubuntu: `apt-get install postgresql`) or set PG_BINDIR to their directory".to_string(),
    ))
}

fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let cname = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy the ids at once.
    unsafe {
        let pw = libc::getpwnam(cname.as_ptr());
        if pw.is_null() {
            None
        } else {
            Some(((*pw).pw_uid, (*pw).pw_gid))
        }
    }
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), Error> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io_err("chown", path))
}

fn free_port() -> Result<u16, Error> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::Usage(format!("cannot find a free loopback port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| Error::Usage(format!("cannot find a free loopback port: {e}")))
}

fn random_password() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.write_u32(std::process::id());
    format!("tmp{:016x}", h.finish())
}

fn io_err<'a>(what: &'a str, path: &'a Path) -> impl Fn(std::io::Error) -> Error + 'a {
    move |e| Error::Usage(format!("cannot {what} {}: {e}", path.display()))
}
