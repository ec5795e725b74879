//! Command-line interface of the `wsgate` binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// wsgate: WebSocket ingress controller and sidecar proxy.
#[derive(Debug, Parser)]
#[command(name = "wsgate", version, about)]
pub struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "WSGATE_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Runtime worker threads (default: one per available CPU).
    #[arg(long, global = true, env = "WSGATE_WORKERS")]
    pub workers: Option<usize>,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the data plane from a routes file (local use and sidecar mode).
    Proxy(ProxyArgs),
    /// Run in a cluster: watch the Kubernetes API and serve the routes it declares.
    Controller(Box<ControllerArgs>),
    /// Print wsgate's CustomResourceDefinitions (WebSocketRoute, WebSocketPolicy) as YAML.
    Crd,
    /// Check a routes file or manifests without running anything (exit 0 valid, 64 not).
    Validate(crate::validate_cmd::ValidateArgs),
    /// Add wsgate as a native sidecar to the pods of Kubernetes YAML (files or stdin).
    Inject(crate::inject_cmd::InjectArgs),
    /// Print the WebSocketRoutes equivalent to ingress-nginx Ingresses (files or stdin), with
    /// a verdict on every annotation.
    Migrate(crate::migrate_cmd::MigrateArgs),
}

/// Options of `wsgate proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Routes file (multi-document YAML of WebSocketRoute and an optional ProxyConfig); with
    /// `--tables-from`, an optional file holding only a ProxyConfig.
    #[arg(
        long,
        short = 'c',
        env = "WSGATE_CONFIG",
        required_unless_present = "tables_from"
    )]
    pub config: Option<PathBuf>,
    /// Plaintext listener; overrides ProxyConfig spec.listen.http.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Admin listener (/healthz, /readyz, /metrics); overrides spec.listen.admin.
    #[arg(long)]
    pub admin_listen: Option<SocketAddr>,
    /// TLS listener for wss:// and https:// (certificates from the routes' spec.tls);
    /// overrides spec.listen.https.
    #[arg(long)]
    pub https_listen: Option<SocketAddr>,
    /// How often the routes file is checked for changes (SIGHUP reloads at once).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub watch_interval: std::time::Duration,
    /// After binding, write the bound addresses as JSON to this file (for scripts and tests
    /// that listen on port 0).
    #[arg(long)]
    pub addresses_file: Option<PathBuf>,
    /// Split mode: route tables from a controller instead of the routes file.
    #[command(flatten)]
    pub tables: crate::tables_client::TablesFromArgs,
}

/// Options of `wsgate controller`. The API connection comes from `KUBECONFIG` or the
/// in-cluster service account.
#[derive(Debug, Clone, Args)]
pub struct ControllerArgs {
    /// Plaintext HTTP/WebSocket listener.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub http_listen: SocketAddr,
    /// TLS listener.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub https_listen: SocketAddr,
    /// Admin listener (/healthz, /readyz, /metrics).
    #[arg(long, default_value = "0.0.0.0:9090")]
    pub admin_listen: SocketAddr,
    /// IngressClass name this controller serves (its controller must be
    /// `wsgate.dev/ingress-controller`).
    #[arg(long, default_value = "wsgate")]
    pub ingress_class: String,
    /// Namespace to watch (repeatable); default all namespaces.
    #[arg(long = "watch-namespace", value_name = "NS")]
    pub watch_namespaces: Vec<String>,
    /// `namespace/name` of wsgate's own Service; its address is written to Ingress status.
    #[arg(long, value_name = "NS/NAME", value_parser = parse_object_ref)]
    pub publish_service: Option<(String, String)>,
    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub leader_election_namespace: String,
    /// Name of the leader-election Lease.
    #[arg(long, default_value = "wsgate-leader")]
    pub leader_election_id: String,
    /// How long the leader Lease stays valid without renewal (whole seconds).
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub leader_lease_duration: std::time::Duration,
    /// A leader that cannot renew for this long stops writing status (shorter than the
    /// lease duration).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub leader_renew_deadline: std::time::Duration,
    /// Time between Lease attempts; also the longest one Lease call may take.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub leader_retry_period: std::time::Duration,
    /// Namespace allowed to declare host-less (catch-all) and wildcard routes, and so the
    /// default certificate (repeatable; `*` allows every namespace). Routes of that kind
    /// elsewhere are refused with `NamespaceNotAllowed`.
    #[arg(long = "catch-all-namespace", value_name = "NS")]
    pub catch_all_namespaces: Vec<String>,
    /// Host a route's external-auth URL may name (repeatable): `auth.example.com`, with a
    /// port (`auth.example.com:8080`) or a wildcard (`*.auth.svc.cluster.local`). When set,
    /// routes naming any other host are refused with `InvalidSpec`, so a route author cannot
    /// make wsgate call an arbitrary address; when not set, any host is allowed.
    #[arg(long = "external-auth-host", value_name = "HOST")]
    pub external_auth_hosts: Vec<String>,
    /// Serve the Gateway API (GatewayClasses with controllerName
    /// `wsgate.dev/gateway-controller`, their Gateways, HTTPRoutes and ReferenceGrants).
    /// Needs the Gateway API CRDs (standard channel) in the cluster.
    #[arg(long, env = "WSGATE_GATEWAY_API")]
    pub gateway_api: bool,
    /// Address written into Ingress and WebSocketRoute status instead of the published
    /// Service's (repeatable; an IP or a host name).
    #[arg(long = "publish-status-address", value_name = "ADDRESS")]
    pub publish_status_addresses: Vec<String>,
    /// Expect a PROXY protocol v1/v2 header on every connection (cloud L4 balancers), so
    /// per-IP limits, ClientIP affinity and IP-bound tickets see the real client.
    #[arg(long)]
    pub proxy_protocol: bool,
    /// Peer CIDR whose `X-Forwarded-For` is believed (repeatable), e.g. an L7 balancer.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<String>,
    /// Largest request head in bytes (default 16384); more is 431.
    #[arg(long, value_name = "BYTES")]
    pub max_request_head_bytes: Option<u32>,
    /// Most header fields in a request (default 100); more is 431.
    #[arg(long, value_name = "N")]
    pub max_request_headers: Option<u32>,
    /// Time a client has to send a whole request head (default 10s); slower is 408.
    #[arg(long, value_parser = parse_duration)]
    pub header_read_timeout: Option<std::time::Duration>,
    /// A refusal that still holds is reported again as an Event this often, so it outlives
    /// the API server's Event TTL (1h by default).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub event_refresh: std::time::Duration,
    /// Longest time a shutdown waits for connections to close.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub shutdown_timeout: std::time::Duration,
    /// After binding, write the bound addresses as JSON to this file (for scripts and tests
    /// that listen on port 0).
    #[arg(long)]
    pub addresses_file: Option<PathBuf>,
    /// Serve the admission webhooks (sidecar injection) over HTTPS here; off when unset.
    #[arg(long)]
    pub webhook_listen: Option<SocketAddr>,
    /// PEM certificate (chain) of the webhook listener; re-read when it changes.
    #[arg(long, default_value = "/etc/wsgate/webhook/tls.crt")]
    pub webhook_cert_file: PathBuf,
    /// PEM private key of the webhook listener; re-read when it changes.
    #[arg(long, default_value = "/etc/wsgate/webhook/tls.key")]
    pub webhook_key_file: PathBuf,
    /// Image of the wsgate sidecar the injection webhook adds.
    #[arg(long, default_value_t = crate::inject::sidecar::default_image())]
    pub sidecar_image: String,
    /// Redis shared by every replica (`redis://[user@]host:port[/db]` or `rediss://`), like
    /// a routes file's `spec.sharedState.redis.url`; no password in it.
    #[arg(long, env = "WSGATE_SHARED_STATE_REDIS_URL", value_name = "URL")]
    pub shared_state_redis_url: Option<String>,
    /// File holding the Redis password (e.g. a mounted Secret); `sharedState.redis.passwordFile`.
    #[arg(long, value_name = "PATH")]
    pub shared_state_redis_password_file: Option<String>,
    /// CA bundle for `rediss://`; `sharedState.redis.caFile`.
    #[arg(long, value_name = "PATH")]
    pub shared_state_redis_ca_file: Option<String>,
    /// Split mode: route tables served to `wsgate proxy --tables-from`.
    #[command(flatten)]
    pub tables: crate::tables_server::ServeTablesArgs,
}

fn parse_object_ref(text: &str) -> Result<(String, String), String> {
    match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((ns.to_string(), name.to_string()))
        }
        _ => Err(format!("{text:?} is not namespace/name")),
    }
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    wsgate_core::spec::parse_duration(text)
}
