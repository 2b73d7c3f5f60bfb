//! One parsed connection target (URL or `PG*` variables) from which both sqlx's options and the
//! environment of child processes (pg_dump) are built, so every connection goes to the same place.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::error::Error;

/// Every session of ours carries this name (pg_dump's too).
pub const APPLICATION_NAME: &str = "dbdoctor";

/// Where the server is: a TCP host name / address, or the directory of a unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    Socket(PathBuf),
}

/// The connection target, fully decoded (the password is plain text, never percent-encoded).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnInfo {
    pub host: Host,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
    pub sslcert: Option<String>,
    pub sslkey: Option<String>,
    pub connect_timeout: Option<Duration>,
    /// Server settings for the session, libpq's `options` (`-c name=value ...`).
    pub options: Option<String>,
}

// Hand-written so that `{:?}` can never show the password.
impl std::fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnInfo")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("database", &self.database)
            .field("sslmode", &self.sslmode)
            .finish_non_exhaustive()
    }
}

/// Reads one environment variable (injected in tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, empty values counting as unset (as libpq does).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every variable libpq reads that could send a child process elsewhere than `ConnInfo` says.
const CHILD_ENV_CLEARED: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSSLMODE",
    "PGREQUIRESSL",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGSSLPASSWORD",
    "PGCONNECT_TIMEOUT",
    "PGAPPNAME",
    "PGOPTIONS",
    "PGTARGETSESSIONATTRS",
];

impl ConnInfo {
    /// From a `postgres://` URL; parts it leaves out come from the `PG*` variables, as in libpq.
    pub fn from_url(url: &str, env: Env) -> Result<ConnInfo, Error> {
        let shown = display_unparsed(url);
        let bad = |why: String| Error::Usage(format!("invalid database URL {shown}: {why}"));
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("it must start with postgres:// or postgresql://".into()))?;
        let rest = rest.split('#').next().unwrap_or("");
        // User-info ends at the last '@' before the query string.
        let q = rest.find('?').unwrap_or(rest.len());
        let (userinfo, after) = match rest[..q].rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (mut user, mut password) = (None, None);
        if let Some(ui) = userinfo {
            if ui.contains(['/', '#']) {
                return Err(bad(
                    "the user name or password holds a raw '/' or '#': percent-encode it (%2F, %23)"
                        .into(),
                ));
            }
            let (u, p) = match ui.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (ui, None),
            };
            if !u.is_empty() {
                user = Some(decode(u).map_err(|e| bad(format!("user name: {e}")))?);
            }
            if let Some(p) = p {
                password = Some(decode(p).map_err(|_| {
                    bad("the password is not valid percent-encoding of UTF-8".into())
                })?);
            }
        }
        let (hostport, path_query) = match after.find(['/', '?']) {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_query, ""),
        };
        let (mut host, mut port) = split_host_port(hostport).map_err(bad)?;
        let mut database = match path.trim_start_matches('/') {
            "" => None,
            d => Some(decode(d).map_err(|e| bad(format!("database name: {e}")))?),
        };
        let mut p = Params::default();
        for pair in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = decode(k).map_err(|e| bad(format!("parameter name: {e}")))?;
            let v = decode(v).map_err(|e| bad(format!("parameter {k}: {e}")))?;
            match k.as_str() {
                "host" => host = Some(v),
                "port" => port = Some(v),
                "user" => user = Some(v),
                "password" => password = Some(v),
                "dbname" => database = Some(v),
                "sslmode" => p.sslmode = Some(v),
                "sslrootcert" => p.sslrootcert = Some(v),
                "sslcert" => p.sslcert = Some(v),
                "sslkey" => p.sslkey = Some(v),
                "connect_timeout" => p.connect_timeout = Some(v),
                "options" => p.options = Some(v),
                // Accepted for compatibility; every session of ours is named dbdoctor.
                "application_name" => {}
                other => {
                    return Err(bad(format!(
                        "unknown parameter `{other}` (dbdoctor reads host, port, user, password, dbname, sslmode, sslrootcert, sslcert, sslkey, connect_timeout, options, application_name)"
                    )))
                }
            }
        }
        Self::assemble(
            Parts {
                host,
                port,
                user,
                password,
                database,
                params: p,
            },
            env,
        )
        .map_err(bad)
    }

    /// From the `PG*` variables alone.
    pub fn from_env(env: Env) -> Result<ConnInfo, Error> {
        Self::assemble(Parts::default(), env).map_err(|why| {
            Error::Usage(format!(
                "invalid connection settings in the PG* environment variables: {why}"
            ))
        })
    }

    fn assemble(parts: Parts, env: Env) -> Result<ConnInfo, String> {
        let Parts {
            host,
            port,
            user,
            password,
            database,
            params: p,
        } = parts;
        let port_text = port.or_else(|| env("PGPORT"));
        let port = match port_text {
            Some(t) => t
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("port `{t}` is not a number between 1 and 65535"))?,
            None => 5432,
        };
        let host_text = host.filter(|h| !h.is_empty()).or_else(|| env("PGHOST"));
        let host = match host_text {
            Some(h) if h.contains(',') => {
                return Err(format!(
                    "several hosts (`{h}`) are not supported: name one host"
                ))
            }
            Some(h) if h.starts_with('/') => Host::Socket(PathBuf::from(h)),
            Some(h) => Host::Tcp(h),
            None => default_host(port),
        };
        let user = user
            .filter(|u| !u.is_empty())
            .or_else(|| env("PGUSER"))
            .or_else(|| env("USER"))
            .or_else(|| env("LOGNAME"))
            .unwrap_or_else(|| "postgres".to_string());
        let database = database
            .filter(|d| !d.is_empty())
            .or_else(|| env("PGDATABASE"))
            .unwrap_or_else(|| user.clone());
        // libpq's order: the URL, PGPASSWORD, then the password file.
        let password = password.or_else(|| env("PGPASSWORD")).or_else(|| {
            let file = env("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
            let text = std::fs::read_to_string(file).ok()?;
            let host_key = match &host {
                Host::Tcp(h) => h.clone(),
                // libpq matches a socket connection against `localhost`.
                Host::Socket(_) => "localhost".to_string(),
            };
            pgpass_lookup(&text, &host_key, port, &database, &user)
        });
        let sslmode = p.sslmode.or_else(|| env("PGSSLMODE"));
        if let Some(m) = &sslmode {
            PgSslMode::from_str(m).map_err(|_| {
                format!("sslmode `{m}` is not one of disable, allow, prefer, require, verify-ca, verify-full")
            })?;
        }
        let connect_timeout = match p.connect_timeout.or_else(|| env("PGCONNECT_TIMEOUT")) {
            Some(t) => {
                let s = t.parse::<u64>().map_err(|_| {
                    format!("connect_timeout `{t}` is not a whole number of seconds")
                })?;
                // libpq: 0 means wait forever, and values below 2 are raised to 2.
                (s > 0).then(|| Duration::from_secs(s.max(2)))
            }
            None => None,
        };
        let options = p.options.or_else(|| env("PGOPTIONS"));
        if let Some(o) = &options {
            session_settings(o)?;
        }
        Ok(ConnInfo {
            host,
            port,
            user,
            password,
            database,
            sslmode,
            sslrootcert: p.sslrootcert.or_else(|| env("PGSSLROOTCERT")),
            sslcert: p.sslcert.or_else(|| env("PGSSLCERT")),
            sslkey: p.sslkey.or_else(|| env("PGSSLKEY")),
            connect_timeout,
            options,
        })
    }

    /// sqlx's options for this target.
    pub fn pg_options(&self) -> PgConnectOptions {
        let mut o = PgConnectOptions::new_without_pgpass()
            .port(self.port)
            .username(&self.user)
            .database(&self.database)
            .application_name(APPLICATION_NAME);
        o = match &self.host {
            Host::Tcp(h) => o.host(h),
            Host::Socket(dir) => o.host("localhost").socket(dir),
        };
        if let Some(p) = &self.password {
            o = o.password(p);
        }
        let mode = self
            .sslmode
            .as_deref()
            .and_then(|m| PgSslMode::from_str(m).ok())
            .unwrap_or_default();
        o = o.ssl_mode(mode);
        if let Some(c) = &self.sslrootcert {
            o = o.ssl_root_cert(c);
        }
        if let Some(c) = &self.sslcert {
            o = o.ssl_client_cert(c);
        }
        if let Some(k) = &self.sslkey {
            o = o.ssl_client_key(k);
        }
        if let Some(settings) = self
            .options
            .as_deref()
            .and_then(|t| session_settings(t).ok())
        {
            o = o.options(settings);
        }
        o
    }

    /// The environment a libpq program (pg_dump, psql) needs to reach the same target: every
    /// inherited `PG*` variable that could point elsewhere is removed (`None`), then set from
    /// these settings. The password travels here, never on a command line.
    pub fn child_env(&self) -> Vec<(&'static str, Option<String>)> {
        let mut env: Vec<(&'static str, Option<String>)> =
            CHILD_ENV_CLEARED.iter().map(|k| (*k, None)).collect();
        let mut set = |k: &'static str, v: Option<String>| {
            if let Some(slot) = env.iter_mut().find(|(name, _)| *name == k) {
                slot.1 = v;
            }
        };
        set(
            "PGHOST",
            Some(match &self.host {
                Host::Tcp(h) => h.clone(),
                Host::Socket(d) => d.display().to_string(),
            }),
        );
        set("PGPORT", Some(self.port.to_string()));
        set("PGUSER", Some(self.user.clone()));
        set("PGPASSWORD", self.password.clone());
        set("PGDATABASE", Some(self.database.clone()));
        set("PGSSLMODE", self.sslmode.clone());
        set("PGSSLROOTCERT", self.sslrootcert.clone());
        set("PGSSLCERT", self.sslcert.clone());
        set("PGSSLKEY", self.sslkey.clone());
        set(
            "PGCONNECT_TIMEOUT",
            self.connect_timeout.map(|d| d.as_secs().to_string()),
        );
        set("PGAPPNAME", Some(APPLICATION_NAME.to_string()));
        set("PGOPTIONS", self.options.clone());
        env
    }

    /// `postgres://user@host:port/db` (or the socket form), built from the parts: no password.
    pub fn display(&self) -> String {
        let user = encode(&self.user);
        let db = encode(&self.database);
        match &self.host {
            Host::Socket(dir) => format!(
                "postgres://{user}@/{db}?host={}&port={}",
                dir.display(),
                self.port
            ),
            Host::Tcp(h) if h.contains(':') => {
                format!("postgres://{user}@[{h}]:{}/{db}", self.port)
            }
            Host::Tcp(h) => format!("postgres://{user}@{h}:{}/{db}", self.port),
        }
    }

    pub fn is_local(&self) -> bool {
        match &self.host {
            Host::Socket(_) => true,
            Host::Tcp(h) => matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1"),
        }
    }
}

#[derive(Default)]
struct Params {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
    sslcert: Option<String>,
    sslkey: Option<String>,
    connect_timeout: Option<String>,
    options: Option<String>,
}

#[derive(Default)]
struct Parts {
    host: Option<String>,
    port: Option<String>,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    params: Params,
}

/// `-c name=value`, `-cname=value` and `--name=value` words of libpq's `options`.
fn session_settings(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        let pair = if w == "-c" {
            words.next().unwrap_or("")
        } else if let Some(rest) = w.strip_prefix("--") {
            rest
        } else if let Some(rest) = w.strip_prefix("-c") {
            rest
        } else {
            return Err(format!("options `{text}`: expected `-c name=value` words"));
        };
        match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => out.push((k.to_string(), v.to_string())),
            _ => return Err(format!("options `{text}`: expected `-c name=value` words")),
        }
    }
    Ok(out)
}

/// The password of the first matching `host:port:database:user:password` line of a password
/// file (`*` matches anything; `\:` and `\\` are a literal colon and backslash).
pub fn pgpass_lookup(
    text: &str,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let port = port.to_string();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::with_capacity(5);
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        if fields.len() != 5 {
            continue;
        }
        let ok = |f: &str, want: &str| f == "*" || f == want;
        if ok(&fields[0], host)
            && ok(&fields[1], &port)
            && ok(&fields[2], database)
            && ok(&fields[3], user)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

/// libpq's default with no host: the unix socket directory that holds this port's socket, else
/// localhost over TCP.
fn default_host(port: u16) -> Host {
    for dir in ["/var/run/postgresql", "/run/postgresql", "/tmp"] {
        if std::path::Path::new(dir)
            .join(format!(".s.PGSQL.{port}"))
            .exists()
        {
            return Host::Socket(PathBuf::from(dir));
        }
    }
    Host::Tcp("localhost".to_string())
}

/// `host`, `host:port`, `[v6]`, `[v6]:port` or empty.
fn split_host_port(s: &str) -> Result<(Option<String>, Option<String>), String> {
    if s.contains(',') {
        return Err("several hosts are not supported: name one host".into());
    }
    let (host, port) = if let Some(v6) = s.strip_prefix('[') {
        let end = v6
            .find(']')
            .ok_or_else(|| "an IPv6 address opened with '[' is not closed".to_string())?;
        let port = v6[end + 1..].strip_prefix(':');
        (v6[..end].to_string(), port)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (s.to_string(), None),
        }
    };
    let host = decode(&host).map_err(|e| format!("host: {e}"))?;
    if let Some(p) = port {
        if p.parse::<u16>().ok().filter(|p| *p > 0).is_none() {
            return Err(format!("port `{p}` is not a number between 1 and 65535"));
        }
    }
    Ok((
        (!host.is_empty()).then_some(host),
        port.filter(|p| !p.is_empty()).map(str::to_string),
    ))
}

/// Percent-decoding into UTF-8.
pub fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "a '%' is not followed by two hex digits".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoding that is not UTF-8".to_string())
}

/// Percent-encode what would break a URL's structure (for showing user and database names).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() || "-._~".contains(ch) {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// A URL that could not be parsed, shown without its user-info: everything up to the last `@`
/// after the scheme is dropped, so no part of a password can remain.
pub fn display_unparsed(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => (&url[..i + 3], &url[i + 3..]),
        None => {
            // Not a URL at all: show nothing that may hold a secret.
            return match url.rfind('@') {
                Some(at) => format!("…@{}", &url[at + 1..]),
                None => url.to_string(),
            };
        }
    };
    let rest = match rest.rfind('@') {
        // A user name alone (no ':') holds no password: keep it.
        Some(at) if rest[..at].contains(':') => &rest[at + 1..],
        _ => rest,
    };
    crate::db::redact::mask_password_params(&format!("{scheme}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn parse(url: &str) -> Result<ConnInfo, Error> {
        ConnInfo::from_url(url, &env_of(&[]))
    }

    #[test]
    fn tcp_url_with_percent_encoded_password() {
        let c =
            parse("postgres://app:p%40ss%3Aw%2Frd@db.example:6543/shop?sslmode=require").unwrap();
        assert_eq!(c.host, Host::Tcp("db.example".into()));
        assert_eq!(c.port, 6543);
        assert_eq!(c.user, "app");
        assert_eq!(c.password.as_deref(), Some("p@ss:w/rd"));
        assert_eq!(c.database, "shop");
        assert_eq!(c.sslmode.as_deref(), Some("require"));
        assert_eq!(c.display(), "postgres://app@db.example:6543/shop");
        let env = c.child_env();
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).unwrap().1.clone();
        assert_eq!(get("PGPASSWORD").as_deref(), Some("p@ss:w/rd"));
        assert_eq!(get("PGHOST").as_deref(), Some("db.example"));
        assert_eq!(get("PGSSLMODE").as_deref(), Some("require"));
        assert_eq!(get("PGSERVICE"), None);
    }

    #[test]
    fn socket_with_empty_host_and_via_host_parameter() {
        for url in [
            "postgres://user@/db?host=/var/run/postgresql",
            "postgres://user@localhost/db?host=/var/run/postgresql",
            "postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql&user=user",
        ] {
            let c = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(c.host, Host::Socket("/var/run/postgresql".into()), "{url}");
            assert_eq!(c.user, "user");
            assert_eq!(c.database, "db");
            assert_eq!(
                c.display(),
                "postgres://user@/db?host=/var/run/postgresql&port=5432"
            );
            let o = c.pg_options();
            assert_eq!(
                o.get_socket().map(|p| p.display().to_string()).as_deref(),
                Some("/var/run/postgresql")
            );
        }
    }

    #[test]
    fn environment_fills_what_the_url_leaves_out() {
        let env = env_of(&[
            ("PGHOST", "/tmp/sock"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "verify-full"),
            ("PGSSLROOTCERT", "/ca.crt"),
        ]);
        let c = ConnInfo::from_env(&env).unwrap();
        assert_eq!(c.host, Host::Socket("/tmp/sock".into()));
        assert_eq!((c.port, c.user.as_str()), (6000, "envuser"));
        assert_eq!(c.password.as_deref(), Some("envpw"));
        assert_eq!(c.database, "envdb");
        assert_eq!(c.sslrootcert.as_deref(), Some("/ca.crt"));
        let c = ConnInfo::from_url("postgres://u@h/d", &env).unwrap();
        assert_eq!(c.host, Host::Tcp("h".into()));
        assert_eq!(c.port, 6000);
        assert_eq!(c.password.as_deref(), Some("envpw"));
    }

    #[test]
    fn a_slash_in_the_password_is_refused_without_showing_it() {
        let e = parse("postgres://app:s3cr/et@host/x").unwrap_err();
        let m = e.to_string();
        assert!(matches!(e, Error::Usage(_)));
        assert!(!m.contains("s3cr") && !m.contains("et@"), "{m}");
        assert!(m.contains("postgres://host/x"), "{m}");
    }

    #[test]
    fn user_and_password_equal_to_other_parts_keep_the_message_intact() {
        let c = parse("postgres://postgres:postgres@nohost.invalid:5432/postgres").unwrap();
        assert_eq!(
            c.display(),
            "postgres://postgres@nohost.invalid:5432/postgres"
        );
    }

    #[test]
    fn bad_parts_are_named() {
        for (url, part) in [
            ("postgres://u:pw@h:notaport/d", "port"),
            ("postgres://u:pw@h/d?sslmode=maybe", "sslmode"),
            ("postgres://u:pw@h/d?bogus=1", "bogus"),
            ("postgres://u:pw@a,b/d", "several hosts"),
            ("mysql://u:pw@h/d", "postgres://"),
            ("postgres://u:p%zz@h/d", "percent"),
        ] {
            let m = parse(url).unwrap_err().to_string();
            assert!(m.contains(part), "{url}: {m}");
            assert!(!m.contains("pw") && !m.contains("p%zz"), "{url}: {m}");
        }
    }

    #[test]
    fn options_parameter_sets_session_settings() {
        let c =
            parse("postgres://u@h/d?options=-c%20search_path%3Dapp%20--work_mem%3D64MB").unwrap();
        assert_eq!(
            c.options.as_deref(),
            Some("-c search_path=app --work_mem=64MB")
        );
        assert_eq!(
            c.pg_options().get_options(),
            Some("-c search_path=app -c work_mem=64MB")
        );
        let env = c.child_env();
        assert!(env
            .iter()
            .any(|(k, v)| *k == "PGOPTIONS" && v.as_deref() == c.options.as_deref()));
        assert!(parse("postgres://u@h/d?options=bogus").is_err());
    }

    #[test]
    fn password_file_is_read_like_libpq() {
        let text =
            "# comment\nother:5432:*:*:nope\nlocalhost:6000:shop:app:pa\\:ss\n*:*:*:app:fallback\n";
        assert_eq!(
            pgpass_lookup(text, "localhost", 6000, "shop", "app").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(text, "db", 5432, "x", "app").as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup(text, "db", 5432, "x", "bob"), None);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, text).unwrap();
        let f = file.display().to_string();
        let env = move |k: &str| (k == "PGPASSFILE").then(|| f.clone());
        let c = ConnInfo::from_url("postgres://app@/shop?host=/sock&port=6000", &env).unwrap();
        assert_eq!(c.password.as_deref(), Some("pa:ss"));
    }

    #[test]
    fn ipv6_and_debug_output() {
        let c = parse("postgres://u:secretpw@[::1]:5433/d").unwrap();
        assert_eq!(c.host, Host::Tcp("::1".into()));
        assert_eq!(c.display(), "postgres://u@[::1]:5433/d");
        assert!(!format!("{c:?}").contains("secretpw"));
    }

    #[test]
    fn unparsed_urls_lose_their_user_info() {
        assert_eq!(
            display_unparsed("postgres://a:b/c@d@host/x?password=zz"),
            "postgres://host/x?password=***"
        );
        assert_eq!(display_unparsed("postgres://host/x"), "postgres://host/x");
    }
}
