//! The shared-state store: Redis through the `redis` crate's [`ConnectionManager`]
//! (multiplexed, reconnecting). wsgate adds what its callers need around it: one overall
//! deadline per call, one retry on a fresh connection when the pooled one turns out stale
//! (Redis restarted, idle connection cut), the password re-read from its file at each new
//! client, and a typed error for callers that fail closed.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Cmd, ErrorKind, FromRedisValue, RedisError, ScriptInvocation};
use wsgate_core::table::shared::RedisTarget;

use super::metrics::SharedMetrics;

/// Deadline of one call, connection and retry included.
const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// Deadline of one connection attempt.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(800);

/// Why the store could not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No answer within the deadline.
    #[error("timeout")]
    Timeout,
    /// The server could not be reached or the connection broke.
    #[error("io")]
    Io,
    /// The server refused the credentials.
    #[error("auth")]
    Auth,
    /// The password or CA file could not be read, or the client could not be built.
    #[error("config")]
    Config,
    /// The server answered with an error.
    #[error("reply")]
    Reply,
}

impl StoreError {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Io => "io",
            Self::Auth => "auth",
            Self::Config => "config",
            Self::Reply => "error_reply",
        }
    }
}

fn classify(e: &RedisError) -> StoreError {
    if e.kind() == ErrorKind::AuthenticationFailed || e.code() == Some("WRONGPASS") {
        StoreError::Auth
    } else if e.is_timeout() {
        StoreError::Timeout
    } else if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        StoreError::Io
    } else {
        StoreError::Reply
    }
}

/// A Redis server every replica shares.
pub struct RedisStore {
    target: RedisTarget,
    manager: tokio::sync::Mutex<Option<ConnectionManager>>,
    metrics: SharedMetrics,
}

impl RedisStore {
    /// A store for `target`, connected on first use.
    pub fn new(target: RedisTarget, metrics: SharedMetrics) -> Self {
        Self {
            target,
            manager: tokio::sync::Mutex::new(None),
            metrics,
        }
    }

    /// The metrics this store counts on.
    pub fn metrics(&self) -> &SharedMetrics {
        &self.metrics
    }

    /// Where the store is, for logs.
    pub fn describe(&self) -> String {
        self.target.display_url()
    }

    /// Runs `cmd` within [`CALL_TIMEOUT`]; a failure on a stale connection is retried once
    /// on a fresh one. `op` names the call in metrics.
    pub async fn query<T: FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &Cmd,
    ) -> Result<T, StoreError> {
        self.query_within(op, cmd, CALL_TIMEOUT).await
    }

    /// [`RedisStore::query`] with a deadline of `limit` (shorter for calls a request waits
    /// on that have a fallback).
    pub async fn query_within<T: FromRedisValue>(
        &self,
        op: &'static str,
        cmd: &Cmd,
        limit: Duration,
    ) -> Result<T, StoreError> {
        let result = tokio::time::timeout(limit, self.query_retrying(cmd))
            .await
            .unwrap_or(Err(StoreError::Timeout));
        self.count(op, &result).await;
        result
    }

    /// Runs a Lua script (EVALSHA, loading it on NOSCRIPT) within `limit`, with the retry
    /// and metrics of [`RedisStore::query_within`].
    pub async fn invoke_within<T: FromRedisValue>(
        &self,
        op: &'static str,
        script: &ScriptInvocation<'_>,
        limit: Duration,
    ) -> Result<T, StoreError> {
        let result = tokio::time::timeout(limit, self.invoke_retrying(script))
            .await
            .unwrap_or(Err(StoreError::Timeout));
        self.count(op, &result).await;
        result
    }

    async fn invoke_retrying<T: FromRedisValue>(
        &self,
        script: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let mut conn = self.connection().await?;
        match script.invoke_async(&mut conn).await {
            Ok(v) => Ok(v),
            Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                self.metrics.retries.inc();
                let mut conn = self.connection().await?;
                script
                    .invoke_async(&mut conn)
                    .await
                    .map_err(|e| classify(&e))
            }
            Err(e) => Err(classify(&e)),
        }
    }

    /// Counts the outcome of a call in the metrics.
    async fn count<T>(&self, op: &'static str, result: &Result<T, StoreError>) {
        match result {
            Ok(_) => self.metrics.up.set(1),
            Err(e) => {
                self.metrics.up.set(0);
                self.metrics
                    .errors
                    .with_label_values(&[op, e.label()])
                    .inc();
                if *e == StoreError::Auth {
                    // Rebuild the client next time: the password file may have changed.
                    *self.manager.lock().await = None;
                }
            }
        }
    }

    async fn query_retrying<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        let mut conn = self.connection().await?;
        match cmd.query_async(&mut conn).await {
            Ok(v) => Ok(v),
            Err(e) if e.is_io_error() || e.is_connection_dropped() => {
                // The manager has started reconnecting; the retry waits for that connection.
                self.metrics.retries.inc();
                let mut conn = self.connection().await?;
                cmd.query_async(&mut conn).await.map_err(|e| classify(&e))
            }
            Err(e) => Err(classify(&e)),
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let mut slot = self.manager.lock().await;
        if let Some(m) = slot.as_ref() {
            return Ok(m.clone());
        }
        let client = self.client().await?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(|e| {
                tracing::warn!(store = %self.describe(), error = %e, "cannot connect to the shared-state store");
                classify(&e)
            })?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    /// A client with the password read from its file now (a rotated password is picked up
    /// at the next reconnection that needs it).
    async fn client(&self) -> Result<Client, StoreError> {
        let t = &self.target;
        let password = match &t.password_file {
            Some(path) => Some(read_trimmed(path).await?),
            None => None,
        };
        let url = connection_url(t, password.as_deref());
        let built = match &t.ca_file {
            Some(path) => {
                let root_cert = tokio::fs::read(path).await.map_err(|e| {
                    tracing::error!(file = %path.display(), error = %e, "cannot read the shared-state CA file");
                    StoreError::Config
                })?;
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(root_cert),
                };
                Client::build_with_tls(url, certs)
            }
            None => Client::open(url),
        };
        built.map_err(|e| {
            tracing::error!(store = %self.describe(), error = %e, "invalid shared-state store settings");
            StoreError::Config
        })
    }
}

async fn read_trimmed(path: &std::path::Path) -> Result<String, StoreError> {
    match tokio::fs::read_to_string(path).await {
        Ok(text) => Ok(text.trim_end_matches(['\r', '\n']).to_string()),
        Err(e) => {
            tracing::error!(file = %path.display(), error = %e, "cannot read the shared-state password file");
            Err(StoreError::Config)
        }
    }
}

/// The URL handed to the client: the target's parts with the password percent-encoded in.
fn connection_url(t: &RedisTarget, password: Option<&str>) -> String {
    let scheme = if t.tls { "rediss" } else { "redis" };
    let user = t.username.as_deref().map(encode).unwrap_or_default();
    let auth = match password {
        Some(pw) => format!("{user}:{}@", encode(pw)),
        None if !user.is_empty() => format!("{user}@"),
        None => String::new(),
    };
    format!("{scheme}://{auth}{}/{}", t.addr, t.db)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsgate_core::table::shared::parse_redis_url;

    #[test]
    fn the_password_is_encoded_into_the_client_url_only() {
        let (target, _) = parse_redis_url("rediss://wsgate@redis:6380/3").expect("url");
        assert_eq!(
            connection_url(&target, Some("p@ss:w/rd")),
            "rediss://wsgate:p%40ss%3Aw%2Frd@redis:6380/3"
        );
        assert_eq!(
            connection_url(&target, None),
            "rediss://wsgate@redis:6380/3"
        );
        assert_eq!(target.display_url(), "rediss://wsgate@redis:6380/3");
    }

    #[tokio::test]
    async fn an_unreachable_store_fails_with_io_and_counts_it() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("redis://{}", free.local_addr().expect("addr"));
        drop(free);
        let (target, _) = parse_redis_url(&url).expect("url");
        let metrics = SharedMetrics::default();
        let store = RedisStore::new(target, metrics.clone());
        let got: Result<Option<String>, _> = store.query("get", redis::cmd("GET").arg("k")).await;
        assert_eq!(got, Err(StoreError::Io));
        assert_eq!(metrics.errors.with_label_values(&["get", "io"]).get(), 1);
        assert_eq!(metrics.up.get(), 0);
    }
}
