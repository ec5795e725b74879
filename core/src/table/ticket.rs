//! Ticket verification: a short-lived JWT minted by the application's HTTP API, presented by
//! the client on connect, verified here (signature, `exp`, `nbf`, `iat` age, `aud`, `ip`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::spec::{TicketAlgorithm, TicketPlacement};

/// Verification keys, compared by their source material (never printed). Sent over the
/// wire as that material and rebuilt (checked) from it.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(into = "KeysWire", try_from = "KeysWire")]
pub struct TicketKeys {
    material: Arc<[u8]>,
    source: (TicketAlgorithm, MaterialKind),
    alg: Algorithm,
    keys: Arc<[(Option<String>, DecodingKey)]>,
}

impl std::fmt::Debug for TicketKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TicketKeys({:?}, {} key(s), [redacted])",
            self.alg,
            self.keys.len()
        )
    }
}

impl PartialEq for TicketKeys {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg && self.material == other.material
    }
}

/// Where key material comes from, already read.
pub enum KeyMaterial {
    /// HS256 shared secret.
    Secret(Vec<u8>),
    /// RS256/ES256 public key, PEM.
    Pem(Vec<u8>),
    /// RS256/ES256 JWKS document.
    Jwks(Vec<u8>),
}

/// Which kind of [`KeyMaterial`] the bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum MaterialKind {
    Secret,
    Pem,
    Jwks,
}

/// [`TicketKeys`] as written: the algorithm and the material the keys are built from.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeysWire {
    alg: TicketAlgorithm,
    kind: MaterialKind,
    #[serde(with = "super::remote::bytes")]
    material: Arc<[u8]>,
}

impl From<TicketKeys> for KeysWire {
    fn from(keys: TicketKeys) -> Self {
        let (alg, kind) = keys.source;
        KeysWire {
            alg,
            kind,
            material: keys.material,
        }
    }
}

impl TryFrom<KeysWire> for TicketKeys {
    type Error = String;

    fn try_from(wire: KeysWire) -> Result<Self, String> {
        let bytes = wire.material.to_vec();
        let material = match wire.kind {
            MaterialKind::Secret => KeyMaterial::Secret(bytes),
            MaterialKind::Pem => KeyMaterial::Pem(bytes),
            MaterialKind::Jwks => KeyMaterial::Jwks(bytes),
        };
        TicketKeys::new(wire.alg, material)
    }
}

impl TicketKeys {
    /// Builds the verification keys; the error says what is wrong with the material.
    pub fn new(spec_alg: TicketAlgorithm, material: KeyMaterial) -> Result<Self, String> {
        let kind = match &material {
            KeyMaterial::Secret(_) => MaterialKind::Secret,
            KeyMaterial::Pem(_) => MaterialKind::Pem,
            KeyMaterial::Jwks(_) => MaterialKind::Jwks,
        };
        let alg = match spec_alg {
            TicketAlgorithm::HS256 => Algorithm::HS256,
            TicketAlgorithm::RS256 => Algorithm::RS256,
            TicketAlgorithm::ES256 => Algorithm::ES256,
        };
        let (bytes, keys) = match (alg, material) {
            (Algorithm::HS256, KeyMaterial::Secret(s)) => {
                if s.len() < 16 {
                    return Err("an HS256 key must be at least 16 bytes".into());
                }
                let key = DecodingKey::from_secret(&s);
                (s, vec![(None, key)])
            }
            (Algorithm::HS256, _) => return Err("HS256 needs key, keyFile or secretRef".into()),
            (_, KeyMaterial::Secret(_)) => {
                return Err(format!("{alg:?} needs publicKeyFile or jwksFile"));
            }
            (Algorithm::RS256, KeyMaterial::Pem(p)) => {
                let key =
                    DecodingKey::from_rsa_pem(&p).map_err(|e| format!("RSA public key: {e}"))?;
                (p, vec![(None, key)])
            }
            (_, KeyMaterial::Pem(p)) => {
                let key =
                    DecodingKey::from_ec_pem(&p).map_err(|e| format!("EC public key: {e}"))?;
                (p, vec![(None, key)])
            }
            (_, KeyMaterial::Jwks(j)) => {
                let set: JwkSet = serde_json::from_slice(&j).map_err(|e| format!("JWKS: {e}"))?;
                let mut keys = Vec::new();
                for jwk in &set.keys {
                    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key: {e}"))?;
                    keys.push((jwk.common.key_id.clone(), key));
                }
                if keys.is_empty() {
                    return Err("the JWKS has no keys".into());
                }
                (j, keys)
            }
        };
        Ok(Self {
            material: bytes.into(),
            source: (spec_alg, kind),
            alg,
            keys: keys.into(),
        })
    }
}

/// A route's ticket policy, every default applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketPolicy {
    /// Verification keys.
    pub keys: TicketKeys,
    /// Accepted placements.
    pub from: Vec<TicketPlacement>,
    /// Query parameter name.
    pub query_param: String,
    /// Subprotocol prefix.
    pub subprotocol_prefix: String,
    /// Expected `aud`.
    pub audience: String,
    /// `aud` must be present.
    pub require_audience: bool,
    /// `ip` must be present.
    pub bind_client_ip: bool,
    /// `jti` is single use.
    pub single_use: bool,
    /// Longest age by `iat`.
    pub max_age: Option<Duration>,
    /// Clock skew tolerated.
    pub leeway: Duration,
    /// Shared replay store (`redis://...`); `None`: this process's memory.
    pub replay_store: Option<String>,
    /// Claims passed upstream and their header names (`sub` first).
    #[serde(with = "super::remote::via")]
    pub claim_headers: Vec<(String, HeaderName)>,
    /// Forward the FirstMessage ticket message to the backend.
    pub forward_first_message: bool,
}

/// Why a ticket was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketRefusal {
    /// No ticket where the route accepts them.
    #[error("a ticket is required")]
    Missing,
    /// Not a JWT, or a claim has the wrong type.
    #[error("the ticket is malformed")]
    Malformed,
    /// Signature or algorithm does not match the route's key.
    #[error("the ticket signature is not valid")]
    BadSignature,
    /// `exp` has passed.
    #[error("the ticket has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the ticket is not valid yet")]
    NotYetValid,
    /// `iat` is older than `maxAge`.
    #[error("the ticket is too old")]
    TooOld,
    /// A required claim is missing.
    #[error("the ticket has no {0} claim")]
    MissingClaim(&'static str),
    /// `aud` names another route.
    #[error("the ticket is for another audience")]
    WrongAudience,
    /// `ip` names another client address.
    #[error("the ticket is bound to another client address")]
    WrongIp,
    /// The `jti` was used before.
    #[error("the ticket was already used")]
    Replayed,
    /// The replay store cannot be asked; tickets are refused until it can.
    #[error("tickets cannot be checked right now")]
    StoreUnavailable,
}

impl TicketRefusal {
    /// Metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "ticket_missing",
            Self::Malformed => "ticket_malformed",
            Self::BadSignature => "ticket_bad_signature",
            Self::Expired => "ticket_expired",
            Self::NotYetValid => "ticket_not_yet_valid",
            Self::TooOld => "ticket_too_old",
            Self::MissingClaim(_) => "ticket_missing_claim",
            Self::WrongAudience => "ticket_wrong_audience",
            Self::WrongIp => "ticket_wrong_ip",
            Self::Replayed => "ticket_replayed",
            Self::StoreUnavailable => "ticket_store_unavailable",
        }
    }

    /// HTTP status: 401 for an unusable ticket, 403 for a valid one not meant for this
    /// connection, 503 when the replay store is down (fail closed).
    pub fn status(&self) -> u16 {
        match self {
            Self::WrongAudience | Self::WrongIp | Self::Replayed => 403,
            Self::StoreUnavailable => 503,
            _ => 401,
        }
    }

    /// WebSocket close code for the FirstMessage placement.
    pub fn close_code(&self) -> u16 {
        match self.status() {
            403 => 4403,
            503 => 1013,
            _ => 4401,
        }
    }
}

/// A verified ticket.
#[derive(Clone, Debug)]
pub struct VerifiedTicket {
    /// Every claim.
    pub claims: Map<String, Value>,
    /// `jti`, if present.
    pub jti: Option<String>,
    /// Seconds until `exp` (the replay entry lives that long).
    pub remaining: Duration,
}

impl TicketPolicy {
    /// Verifies `token` for a client at `client` (signature and claims; not single use).
    pub fn verify(
        &self,
        token: &str,
        client: IpAddr,
        now: u64,
    ) -> Result<VerifiedTicket, TicketRefusal> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TicketRefusal::Malformed)?;
        let key = match header.kid.as_deref() {
            Some(kid) => self
                .keys
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid)),
            None => self.keys.keys.first(),
        }
        .map(|(_, k)| k)
        .ok_or(TicketRefusal::BadSignature)?;
        let mut v = Validation::new(self.keys.alg);
        v.leeway = self.leeway.as_secs();
        v.validate_aud = false;
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp"]);
        let data =
            jsonwebtoken::decode::<Map<String, Value>>(token, key, &v).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => TicketRefusal::Expired,
                    ErrorKind::ImmatureSignature => TicketRefusal::NotYetValid,
                    ErrorKind::MissingRequiredClaim(_) => TicketRefusal::MissingClaim("exp"),
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                        TicketRefusal::BadSignature
                    }
                    _ => TicketRefusal::Malformed,
                }
            })?;
        let claims = data.claims;
        self.check_claims(&claims, client, now)?;
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(now);
        Ok(VerifiedTicket {
            jti: claims
                .get("jti")
                .and_then(Value::as_str)
                .map(str::to_string),
            remaining: Duration::from_secs(
                exp.saturating_sub(now)
                    .saturating_add(self.leeway.as_secs()),
            ),
            claims,
        })
    }

    fn check_claims(
        &self,
        claims: &Map<String, Value>,
        client: IpAddr,
        now: u64,
    ) -> Result<(), TicketRefusal> {
        if let Some(max_age) = self.max_age {
            let iat = claims
                .get("iat")
                .and_then(Value::as_u64)
                .ok_or(TicketRefusal::MissingClaim("iat"))?;
            if now.saturating_sub(iat) > max_age.as_secs().saturating_add(self.leeway.as_secs()) {
                return Err(TicketRefusal::TooOld);
            }
        }
        match claims.get("aud") {
            None if self.require_audience => return Err(TicketRefusal::MissingClaim("aud")),
            None => {}
            Some(Value::String(a)) if *a == self.audience => {}
            Some(Value::Array(list)) if list.iter().any(|a| a.as_str() == Some(&self.audience)) => {
            }
            Some(_) => return Err(TicketRefusal::WrongAudience),
        }
        match claims.get("ip") {
            None if self.bind_client_ip => return Err(TicketRefusal::MissingClaim("ip")),
            None => {}
            Some(ip) => {
                let bound = ip.as_str().and_then(|s| s.parse::<IpAddr>().ok());
                if bound.map(|b| b.to_canonical()) != Some(client.to_canonical()) {
                    return Err(TicketRefusal::WrongIp);
                }
            }
        }
        if self.single_use && !claims.get("jti").is_some_and(Value::is_string) {
            return Err(TicketRefusal::MissingClaim("jti"));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "ticket_tests.rs"]
mod tests;
