//! State shared with the other replicas of a deployment, through Redis when the process is
//! configured with one (`ProxyConfig` `spec.sharedState.redis`, or the controller's
//! `--shared-state-redis-*` flags). Without it every feature keeps per-replica state and a
//! warning at start-up says so.
//!
//! ```text
//!   single-use tickets ──SET NX PX──┐
//!   Socket.IO sessions ──SET/GET────┼──> RedisStore (redis crate, ConnectionManager) ──> Redis
//!   cluster limits ──EVALSHA (leases)┘
//! ```

pub mod leases;
pub mod metrics;
pub mod redis;

use std::sync::Arc;

use prometheus::Registry;
use wsgate_core::table::shared::SharedState;

pub use metrics::SharedMetrics;
pub use redis::{RedisStore, StoreError};

/// The process's handle on shared state.
#[derive(Clone, Default)]
pub struct Shared {
    redis: Option<Arc<RedisStore>>,
    metrics: SharedMetrics,
}

impl Shared {
    /// Handles for `config`, metrics on `registry`; warns when nothing is shared.
    pub fn new(config: &SharedState, registry: &Registry) -> Self {
        let metrics = SharedMetrics::new(registry);
        let redis = config
            .redis
            .clone()
            .map(|target| Arc::new(RedisStore::new(target, metrics.clone())));
        match &redis {
            Some(store) => tracing::info!(store = %store.describe(), "shared state in Redis"),
            None => tracing::warn!(
                "no shared state configured (spec.sharedState.redis): Socket.IO sessions, \
                 single-use tickets and scope: Cluster limits are per replica; run one replica \
                 or configure Redis"
            ),
        }
        Self { redis, metrics }
    }

    /// The process-wide Redis store, if configured.
    pub fn redis(&self) -> Option<&Arc<RedisStore>> {
        self.redis.as_ref()
    }

    /// Metrics shared by every store of the process.
    pub fn metrics(&self) -> &SharedMetrics {
        &self.metrics
    }
}
