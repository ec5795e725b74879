//! The per-install secret of affinity cookie tokens, from `WSGATE_AFFINITY_KEY` (the chart
//! sets it from a Secret it creates, so every replica shares it). Without it each process
//! picks a random one: cookies then hold only until a restart and only on that replica.

use anyhow::bail;
use wsgate_core::affinity::cookie::{CookieSecret, MIN_SECRET_BYTES};

/// The environment variable holding the secret.
pub const ENV: &str = "WSGATE_AFFINITY_KEY";

/// The secret from the environment, or a random one (logged).
pub fn cookie_secret() -> anyhow::Result<CookieSecret> {
    match std::env::var_os(ENV) {
        Some(value) => match CookieSecret::from_material(value.as_encoded_bytes()) {
            Some(secret) => Ok(secret),
            None => bail!("{ENV} must hold at least {MIN_SECRET_BYTES} bytes"),
        },
        None => {
            tracing::info!(
                "{ENV} is not set: affinity cookies are keyed for this process only (set it to share them across replicas and restarts)"
            );
            Ok(CookieSecret::random())
        }
    }
}
