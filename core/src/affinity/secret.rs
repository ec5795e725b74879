//! The per-install secret that keys affinity cookie tokens: a leaf (it knows no routes), so
//! listener settings can carry it.

use sha2::{Digest, Sha256};

/// Shortest secret material accepted.
pub const MIN_SECRET_BYTES: usize = 16;

/// The per-install secret that keys cookie tokens (the same on every replica).
#[derive(Clone, PartialEq, Eq)]
pub struct CookieSecret([u8; 32]);

impl CookieSecret {
    /// The key bytes (for keying a MAC; never logged).
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl CookieSecret {
    /// A random secret: cookies then hold only for this process.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        if getrandom::getrandom(&mut key).is_err() {
            // No OS randomness: fall back to a key that at least differs per process.
            let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
            key = Sha256::digest(seed.as_bytes()).into();
        }
        Self(key)
    }

    /// The secret from `material` (any bytes, e.g. a Secret's value), or `None` when it is
    /// shorter than [`MIN_SECRET_BYTES`].
    pub fn from_material(material: &[u8]) -> Option<Self> {
        let trimmed = material.trim_ascii();
        (trimmed.len() >= MIN_SECRET_BYTES).then(|| Self(Sha256::digest(trimmed).into()))
    }
}

impl Default for CookieSecret {
    fn default() -> Self {
        Self::random()
    }
}

impl std::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSecret(redacted)")
    }
}
