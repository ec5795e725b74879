//! `wsgate controller`: connect to the API (KUBECONFIG or in-cluster), watch, translate,
//! serve the resulting tables with the in-process proxy, and (as leader) write status.
//!
//! ```text
//!  watchers ─Change─> publish (index) ─Arc<RouteTable>─> proxy
//!                                   └─StatusInput─> status writer (leader only) <─ leader
//! ```

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use wsgate_core::compile::security::compile_listener;
use wsgate_core::compile::shared::compile_shared_state;
use wsgate_core::spec::{
    HeadLimitsSpec, HumanDuration, ListenSpec, ProxyConfigSpec, RedisSpec, SharedStateSpec,
};
use wsgate_core::table::RouteTable;
use wsgate_core::table::security::ListenerOptions;
use wsgate_core::table::shared::SharedState;
use wsgate_proxy::{ListenAddrs, Listeners, Metrics};

use crate::cli::ControllerArgs;
use crate::leader::{self, LeaderConfig};
use crate::metrics::ControllerMetrics;
use crate::publish::{self, Outputs};
use crate::signals::shutdown_on_signal;
use crate::status::StatusWriter;
use crate::translate::Index;
use crate::translate::tenancy::Tenancy;

/// Runs the controller until a shutdown signal has been handled.
pub async fn run(args: ControllerArgs) -> anyhow::Result<()> {
    let client = Client::try_default()
        .await
        .context("connecting to the Kubernetes API (KUBECONFIG or in-cluster service account)")?;
    let shared = shared_state(&args)?;
    crate::proxy_cmd::check_shared_files(&shared)?;
    let (snapshot_tx, snapshot_rx) = watch::channel(Arc::default());
    let webhook = crate::webhook_cmd::bind(&args, snapshot_rx).await?;
    let listeners = bind(&args, webhook.as_ref().map(|w| w.addr)).await?;
    let registry = prometheus::Registry::new();
    let metrics = Metrics::new(&registry).context("registering metrics")?;
    let cm = ControllerMetrics::new(&registry).context("registering controller metrics")?;
    let tables_server = crate::tables_server::TablesServer::bind(&args.tables, &registry).await?;
    let shutdown = CancellationToken::new();

    // Version 0 is "no table yet": the proxy is not ready until every watch has synced.
    let (tables_tx, tables_rx) = watch::channel(Arc::new(RouteTable::default()));
    let (status_tx, status_rx) = watch::channel(Arc::default());
    let (changes_tx, changes_rx) = mpsc::channel(4096);
    let mut watchers = crate::watch::spawn_all(&client, &args.watch_namespaces, &changes_tx, &cm);
    if args.gateway_api {
        watchers +=
            crate::watch::spawn_gateway_api(&client, &args.watch_namespaces, &changes_tx, &cm);
    }
    drop(changes_tx);
    let outputs = Outputs {
        tables: tables_tx,
        statuses: status_tx,
        snapshot: webhook.is_some().then_some(snapshot_tx),
    };
    let index = Index::new(&args.ingress_class).with_tenancy(
        Tenancy::allowing(&args.catch_all_namespaces)
            .with_external_auth_hosts(&args.external_auth_hosts),
    );
    tokio::spawn(publish::run(
        index,
        changes_rx,
        watchers,
        outputs,
        cm.clone(),
        shutdown.clone(),
    ));

    if let Some(server) = tables_server {
        server.spawn(tables_rx.clone(), &shutdown);
    }
    let elector = spawn_leader_and_writer(&args, client, status_rx, cm, &shutdown)?;
    if let Some(webhook) = webhook {
        webhook.spawn(&shutdown);
    }
    tokio::spawn(shutdown_on_signal(shutdown.clone()));
    tracing::info!(class = %args.ingress_class, namespaces = ?args.watch_namespaces, "wsgate controller started");
    wsgate_proxy::run(
        listeners,
        tables_rx,
        metrics,
        shutdown,
        args.shutdown_timeout.max(Duration::from_secs(1)),
        shared,
    )
    .await;
    // The Lease was released when the shutdown began; this only waits for that call.
    let _ = tokio::time::timeout(Duration::from_secs(5), elector).await;
    tracing::info!("wsgate controller stopped");
    Ok(())
}

/// Starts leader election and the status writer that acts while this replica leads.
fn spawn_leader_and_writer(
    args: &ControllerArgs,
    client: Client,
    status_rx: watch::Receiver<Arc<crate::publish::StatusInput>>,
    cm: ControllerMetrics,
    shutdown: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let identity = identity();
    let (leader_tx, leader_rx) = watch::channel(false);
    let timing = leader::Timing::new(
        args.leader_lease_duration,
        args.leader_renew_deadline,
        args.leader_retry_period,
    )
    .map_err(|e| anyhow::anyhow!("leader election: {e}"))?;
    let lease = LeaderConfig {
        namespace: args.leader_election_namespace.clone(),
        name: args.leader_election_id.clone(),
        identity: identity.clone(),
        timing,
    };
    let elector = tokio::spawn(leader::run(
        client.clone(),
        lease,
        leader_tx,
        cm.clone(),
        shutdown.clone(),
    ));
    let reporter = Reporter {
        controller: "wsgate".into(),
        instance: Some(identity),
    };
    let writer = StatusWriter {
        recorder: Recorder::new(client.clone(), reporter),
        client,
        publish_service: args.publish_service.clone(),
        publish_addresses: args.publish_status_addresses.clone(),
        event_refresh: args.event_refresh,
        metrics: cm,
    };
    tokio::spawn(writer.run(status_rx, leader_rx, shutdown.clone()));
    Ok(elector)
}

/// PROXY protocol, trusted proxies and head limits from the flags, compiled by the same code
/// as a routes file's `ProxyConfig`.
fn listener_options(args: &ControllerArgs) -> anyhow::Result<ListenerOptions> {
    let spec = ProxyConfigSpec {
        listen: ListenSpec {
            proxy_protocol: args.proxy_protocol,
            ..ListenSpec::default()
        },
        trusted_proxies: args.trusted_proxies.clone(),
        limits: Some(HeadLimitsSpec {
            max_request_head_bytes: args.max_request_head_bytes,
            max_request_headers: args.max_request_headers,
            header_read_timeout: args.header_read_timeout.map(HumanDuration),
        }),
        ..ProxyConfigSpec::default()
    };
    compile_listener(&spec).map_err(|(field, message)| {
        let flag = field
            .trim_start_matches("spec.")
            .replace("trustedProxies", "--trusted-proxy")
            .replace("limits.", "--");
        anyhow::anyhow!("{flag}: {message}")
    })
}

/// Shared state from the `--shared-state-redis-*` flags, compiled by the same code as a
/// routes file's `spec.sharedState`.
fn shared_state(args: &ControllerArgs) -> anyhow::Result<SharedState> {
    let spec = args
        .shared_state_redis_url
        .as_ref()
        .map(|url| SharedStateSpec {
            redis: Some(RedisSpec {
                url: url.clone(),
                password_file: args.shared_state_redis_password_file.clone(),
                ca_file: args.shared_state_redis_ca_file.clone(),
            }),
        });
    if spec.is_none()
        && (args.shared_state_redis_password_file.is_some()
            || args.shared_state_redis_ca_file.is_some())
    {
        anyhow::bail!(
            "--shared-state-redis-password-file and -ca-file need --shared-state-redis-url"
        );
    }
    compile_shared_state(spec.as_ref(), std::path::Path::new(".")).map_err(|(field, message)| {
        let flag = match field.rsplit('.').next() {
            Some("passwordFile") => "--shared-state-redis-password-file",
            Some("caFile") => "--shared-state-redis-ca-file",
            _ => "--shared-state-redis-url",
        };
        anyhow::anyhow!("{flag}: {message}")
    })
}

/// `POD_NAME`, else the host name, else a fixed name.
fn identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "wsgate".into())
}

async fn bind(
    args: &ControllerArgs,
    webhook: Option<std::net::SocketAddr>,
) -> anyhow::Result<Listeners> {
    let addrs = ListenAddrs {
        http: args.http_listen,
        https: Some(args.https_listen),
        admin: args.admin_listen,
    };
    let mut options = listener_options(args)?;
    options.cookie_secret = crate::cookie_key::cookie_secret()?;
    let listeners = Listeners::bind(addrs, options).await?;
    if let Some(path) = &args.addresses_file {
        crate::webhook_cmd::write_addresses(&listeners, webhook, path)?;
    }
    Ok(listeners)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn args(extra: &[&str]) -> ControllerArgs {
        let argv = [&["wsgate", "controller"][..], extra].concat();
        match Cli::try_parse_from(argv).expect("flags parse").command {
            Command::Controller(a) => *a,
            other => panic!("not the controller: {other:?}"),
        }
    }

    #[test]
    fn shared_state_flags_compile_like_the_routes_file() {
        let shared = shared_state(&args(&[
            "--shared-state-redis-url",
            "rediss://wsgate@redis:6380",
            "--shared-state-redis-password-file",
            "/etc/wsgate/redis-password/password",
        ]))
        .expect("valid flags");
        let redis = shared.redis.expect("redis");
        assert_eq!(redis.display_url(), "rediss://wsgate@redis:6380/0");
        assert_eq!(
            redis.password_file.as_deref(),
            Some(std::path::Path::new("/etc/wsgate/redis-password/password"))
        );
        assert_eq!(shared_state(&args(&[])).expect("none").redis, None);

        let err = shared_state(&args(&["--shared-state-redis-url", "redis://u:pw@redis"]))
            .expect_err("inline password")
            .to_string();
        assert!(err.starts_with("--shared-state-redis-url:"), "{err}");
        let err = shared_state(&args(&["--shared-state-redis-password-file", "/p"]))
            .expect_err("file without URL")
            .to_string();
        assert!(err.contains("need --shared-state-redis-url"), "{err}");
    }
}
