//! Shared-state settings of a process, compiled from `spec.sharedState` or controller flags.

use std::path::PathBuf;

/// How this process reaches the state it shares with the other replicas.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedState {
    /// Redis; `None`: every replica keeps its own state.
    pub redis: Option<RedisTarget>,
}

/// A validated Redis address; no secret in it (the password stays in its file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisTarget {
    /// `host:port`.
    pub addr: String,
    /// Host name, for TLS server-name checks.
    pub host: String,
    /// TLS (`rediss://`).
    pub tls: bool,
    /// ACL user (`None`: the default user).
    pub username: Option<String>,
    /// File the password is read from at each connection.
    pub password_file: Option<PathBuf>,
    /// CA bundle for `rediss://` (`None`: system roots).
    pub ca_file: Option<PathBuf>,
    /// Database number.
    pub db: u32,
}

impl RedisTarget {
    /// `redis[s]://[user@]host:port/db`, for logs (never holds the password).
    pub fn display_url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let user = self
            .username
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{}", self.addr, self.db)
    }
}

/// Parses `redis[s]://[user[:password]@]host[:port][/db]` into the target, the inline
/// password (if any) and nothing else; callers decide whether an inline password is allowed.
pub fn parse_redis_url(url: &str) -> Result<(RedisTarget, Option<String>), String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("rediss://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("redis://") {
        (false, r)
    } else {
        return Err("must start with redis:// or rediss://".into());
    };
    let (auth, rest) = match rest.rsplit_once('@') {
        Some((a, r)) => (Some(a), r),
        None => (None, rest),
    };
    let (username, password) = match auth.map(|a| a.split_once(':').unwrap_or((a, ""))) {
        Some((u, p)) => (
            Some(u.to_string()).filter(|u| !u.is_empty()),
            Some(p.to_string()).filter(|p| !p.is_empty()),
        ),
        None => (None, None),
    };
    let (hostport, db) = match rest.split_once('/') {
        Some((h, d)) if !d.is_empty() => (
            h,
            d.parse()
                .map_err(|_| format!("{d:?} is not a database number"))?,
        ),
        Some((h, _)) => (h, 0),
        None => (rest, 0),
    };
    let (host, port) =
        split_host_port(hostport).ok_or("needs a host and an optional port (1-65535)")?;
    let target = RedisTarget {
        addr: format!("{hostport_host}:{port}", hostport_host = bracket(&host)),
        host,
        tls,
        username,
        password_file: None,
        ca_file: None,
        db,
    };
    Ok((target, password))
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// `host[:port]` or `[v6][:port]`; the port defaults to 6379.
fn split_host_port(text: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None => 6379,
    };
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_users_tls_ports_and_databases() {
        let (t, pw) = parse_redis_url("rediss://alice@redis.example:6380/2").expect("url");
        assert!(t.tls);
        assert_eq!(t.username.as_deref(), Some("alice"));
        assert_eq!(
            (t.addr.as_str(), t.host.as_str(), t.db),
            ("redis.example:6380", "redis.example", 2)
        );
        assert_eq!(pw, None);
        let (t, pw) = parse_redis_url("redis://:secret@127.0.0.1").expect("url");
        assert_eq!(
            (t.addr.as_str(), t.username, pw.as_deref()),
            ("127.0.0.1:6379", None, Some("secret"))
        );
        let (t, _) = parse_redis_url("redis://[::1]:7000").expect("url");
        assert_eq!(t.addr, "[::1]:7000");
        assert_eq!(t.display_url(), "redis://[::1]:7000/0");
    }

    #[test]
    fn refuses_other_schemes_and_bad_parts() {
        for bad in [
            "http://x",
            "redis://",
            "redis://h:0",
            "redis://h:x",
            "redis://h/x",
            "redis://@/",
        ] {
            assert!(parse_redis_url(bad).is_err(), "{bad}");
        }
    }
}
