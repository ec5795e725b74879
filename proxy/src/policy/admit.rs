//! Admission: the policy a request passes after its route is matched and before an
//! endpoint is chosen, in the order DESIGN.md gives: source ranges, limits, Origin, auth. A
//! refused request never reaches the backend; it gets a clear status, a metric and a log line.
//!
//! ```text
//!   request ─> strip X-Wsgate-Claim-* ─> client address ─> source ranges ─> request rate ─┬─ WebSocket: limits ─> Origin ─> ticket ─> external ─> Admission
//!                                                                                         └─ plain HTTP: body size ─> ticket param stripped ─> external (or sign-in redirect)
//! ```

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, StatusCode, header};
use wsgate_core::spec::TicketPlacement;
use wsgate_core::table::cidr::Cidr;
use wsgate_core::table::origin::{OriginPolicy, OriginRefusal};
use wsgate_core::table::security::SecurityPolicy;
use wsgate_core::table::ticket::{TicketPolicy, TicketRefusal};

use super::auth::{self, external, redact_query, replay::ReplayGuard};
use super::client_addr::{self, ClientAddr};
use super::limiter::{ConnPermit, Limiter, SharedLimits};
use super::signin;
use crate::error::{ExternalRefusal, ProxyError, Refusal};
use crate::metrics::SecurityMetrics;
use crate::shared::Shared;
use crate::shared::leases::SharedCounts;
use crate::spelling::{canonical, remove_spellings};

/// Process-wide security state, kept across route-table swaps.
#[derive(Default)]
pub struct Security {
    /// Peers whose `X-Forwarded-For` is believed.
    trusted_proxies: Arc<[Cidr]>,
    /// Connection counts and rate buckets.
    limiter: Arc<Limiter>,
    /// Single-use ticket state.
    replay: ReplayGuard,
}

/// What an admitted WebSocket handshake carries on to the tunnel.
#[derive(Debug)]
pub struct Admission {
    /// Who the client is (after the trusted-proxy walk).
    pub client: ClientAddr,
    /// Counts the connection against the limits while it lives.
    pub permit: ConnPermit,
    /// The ticket is still to come, as the first message.
    pub first_message: Option<PendingTicket>,
}

/// A ticket the client sends as its first message.
#[derive(Clone, Debug)]
pub struct PendingTicket {
    /// How to verify it.
    pub policy: Arc<TicketPolicy>,
    /// How long to wait for it.
    pub timeout: Duration,
}

impl Security {
    /// State for listeners that believe `X-Forwarded-For` from `trusted_proxies`; single use
    /// of tickets goes through `shared` when it has a store.
    pub fn new(trusted_proxies: Arc<[Cidr]>, shared: Shared) -> Self {
        let counts = shared.redis().map(|store| {
            let counts = SharedCounts::new(store.clone());
            tracing::info!(
                replica = counts.replica(),
                "scope: Cluster limits count in the shared store"
            );
            SharedLimits {
                counts: Arc::new(counts),
                fallbacks: shared.metrics().limit_fallbacks.clone(),
            }
        });
        Self {
            trusted_proxies,
            limiter: Arc::new(Limiter::new(counts)),
            replay: ReplayGuard::new(shared),
        }
    }

    /// Warns about what `table` asks of shared state that this process does not have.
    pub fn check_table(&self, table: &wsgate_core::table::RouteTable) {
        self.limiter.check_table(table);
    }

    /// True when `peer` is a trusted proxy that says the client used https
    /// (`X-Forwarded-Proto: https`): TLS was terminated in front of wsgate.
    pub fn forwarded_https(&self, peer: IpAddr, headers: &http::HeaderMap) -> bool {
        let says_https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        says_https && self.trusted_proxies.iter().any(|c| c.contains(peer))
    }

    /// Single-use ticket state (a FirstMessage ticket is verified after admission).
    pub fn replay(&self) -> &ReplayGuard {
        &self.replay
    }

    /// Applies `policy` to a WebSocket handshake of route `label` from `peer`: rewrites the
    /// request (claim headers, ticket removed) and admits it, or says why not. `scheme` is
    /// how the client reached wsgate (`https` also behind a trusted TLS-terminating proxy).
    pub async fn admit_handshake<B>(
        &self,
        metrics: &SecurityMetrics,
        label: &Arc<str>,
        policy: &SecurityPolicy,
        req: &mut Request<B>,
        (peer, scheme): (IpAddr, &str),
    ) -> Result<Admission, ProxyError> {
        let client = self.client_of(req, peer);
        let admitted = match self.admit_source(label, policy, client) {
            Ok(()) => {
                self.handshake(metrics, label, policy, req, (client, scheme))
                    .await
            }
            Err(refusal) => Err(refusal),
        };
        match admitted {
            Ok(admission) => Ok(admission),
            Err(refusal) => Err(refused(metrics, label, req, client, refusal)),
        }
    }

    /// Applies `policy` to a plain HTTP request: source ranges, request rate and body size;
    /// the ticket parameter never travels upstream, and external auth is asked when the
    /// route has it (a refused page goes to the sign-in URL when one is set). `scheme` is
    /// the listener's.
    pub async fn admit_http<B>(
        &self,
        metrics: &SecurityMetrics,
        label: &Arc<str>,
        policy: &SecurityPolicy,
        req: &mut Request<B>,
        peer: IpAddr,
        scheme: &str,
    ) -> Result<ClientAddr, ProxyError> {
        let client = self.client_of(req, peer);
        let admitted = match self.admit_source(label, policy, client) {
            Ok(()) => http(policy, req, client, scheme).await,
            Err(refusal) => Err(refusal),
        };
        match admitted {
            Ok(()) => Ok(client),
            Err(refusal) => Err(refused(metrics, label, req, client, refusal)),
        }
    }

    /// Source ranges, then the request buckets: every request, WebSocket or not.
    fn admit_source(
        &self,
        label: &Arc<str>,
        policy: &SecurityPolicy,
        client: ClientAddr,
    ) -> Result<(), Refusal> {
        if !policy.sources.admits(client.client) {
            return Err(Refusal::Source);
        }
        self.limiter.request(label, client.client, &policy.limits)?;
        Ok(())
    }

    /// Only wsgate sets claim headers; the client is the peer or whom a trusted proxy
    /// forwarded for.
    fn client_of<B>(&self, req: &mut Request<B>, peer: IpAddr) -> ClientAddr {
        auth::strip_claim_headers(req.headers_mut());
        client_addr::resolve(peer, req.headers(), &self.trusted_proxies)
    }

    async fn handshake<B>(
        &self,
        metrics: &SecurityMetrics,
        label: &Arc<str>,
        policy: &SecurityPolicy,
        req: &mut Request<B>,
        (client, scheme): (ClientAddr, &str),
    ) -> Result<Admission, Refusal> {
        let permit = self
            .limiter
            .admit_connection(label, client.client, &policy.limits)
            .await?;
        if let Some(origins) = &policy.origins {
            check_origin(origins, req.headers(), scheme)?;
        }
        let mut first_message = None;
        let mut to_spend = None;
        if let Some(ticket) = &policy.ticket {
            match auth::take_ticket(ticket, req) {
                Some(token) => {
                    let verified = auth::verify_claims(ticket, &token, client.client)?;
                    auth::add_claim_headers(ticket, &verified, req.headers_mut());
                    to_spend = Some((ticket, verified));
                }
                None if ticket.from.contains(&TicketPlacement::FirstMessage) => {
                    first_message = Some(PendingTicket {
                        policy: ticket.clone(),
                        timeout: policy.first_message_timeout,
                    });
                }
                None => return Err(TicketRefusal::Missing.into()),
            }
        }
        external_auth(policy, req, client).await?;
        // The jti is used up last (L3): a handshake refused for any other reason leaves the
        // ticket usable.
        if let Some((ticket, verified)) = to_spend {
            auth::use_once(ticket, &self.replay, metrics, &verified).await?;
        }
        Ok(Admission {
            client,
            permit,
            first_message,
        })
    }
}

/// The Origin check of a handshake. More than one `Origin` is refused: a browser sends
/// one, and checking only the first would let a second one reach the backend (L9).
fn check_origin(
    origins: &OriginPolicy,
    headers: &http::HeaderMap,
    scheme: &str,
) -> Result<(), OriginRefusal> {
    let mut all = headers.get_all(header::ORIGIN).iter();
    let first = all.next().map(|v| v.to_str().unwrap_or("(not text)"));
    if let (Some(first), Some(_)) = (first, all.next()) {
        return Err(OriginRefusal::NotAllowed(format!("{first} (and another)")));
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    origins.check(first, host, scheme)
}

/// Counts and logs a refusal.
fn refused<B>(
    metrics: &SecurityMetrics,
    label: &str,
    req: &Request<B>,
    client: ClientAddr,
    refusal: Refusal,
) -> ProxyError {
    let reason = refusal.reason();
    let [ns, name] = crate::metrics::route_labels(label);
    match &refusal {
        Refusal::Limit(_) | Refusal::Source | Refusal::TooLarge(_) => metrics
            .limit_refusals
            .with_label_values(&[ns, name, reason]),
        Refusal::Origin(_) => metrics.origin_refusals.with_label_values(&[ns, name]),
        Refusal::Ticket(_) | Refusal::External(_) | Refusal::SignIn(_) => {
            metrics.auth_refusals.with_label_values(&[ns, name, reason])
        }
    }
    .inc();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info!(route = label, client = %client.client, origin, path = req.uri().path(), reason, status = refusal.status().as_u16(), "handshake refused by policy");
    ProxyError::Policy(refusal)
}

/// The plain-HTTP part of the policy: body size, ticket parameter, external auth.
async fn http<B>(
    policy: &SecurityPolicy,
    req: &mut Request<B>,
    client: ClientAddr,
    scheme: &str,
) -> Result<(), Refusal> {
    if let Some(max) = policy.max_request_body {
        let length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // A body without a length cannot be checked before it is forwarded: it is refused
        // rather than let through unmeasured.
        let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
        if length.is_some_and(|l| l > max) || (length.is_none() && chunked) {
            return Err(Refusal::TooLarge(max));
        }
    }
    if let Some(ticket) = &policy.ticket
        && ticket.from.contains(&TicketPlacement::Query)
    {
        let (uri, _) = auth::strip_query_param(req.uri(), &ticket.query_param);
        *req.uri_mut() = uri;
    }
    let signin_url = policy
        .external
        .as_ref()
        .and_then(|e| e.signin_url.as_deref());
    match (external_auth(policy, req, client).await, signin_url) {
        (Err(Refusal::External(ExternalRefusal::Denied { status, .. })), Some(url))
            if status == StatusCode::UNAUTHORIZED =>
        {
            Err(signin::location(url, req, scheme).map_or(
                Refusal::External(ExternalRefusal::Unavailable("signin_url")),
                Refusal::SignIn,
            ))
        }
        (result, _) => result,
    }
}

/// Asks the route's external authorization service, if any; its headers go upstream.
async fn external_auth<B>(
    policy: &SecurityPolicy,
    req: &mut Request<B>,
    client: ClientAddr,
) -> Result<(), Refusal> {
    let Some(ext) = &policy.external else {
        return Ok(());
    };
    let param = policy
        .ticket
        .as_ref()
        .map_or("ticket", |t| t.query_param.as_str());
    let uri = redact_query(
        req.uri().path_and_query().map_or("/", |p| p.as_str()),
        param,
    );
    let add = external::check(ext, req.method(), &uri, req.headers(), client.client).await?;
    // Only the service decides these: the client's copies go, in every spelling, even
    // when the service's answer leaves one out.
    let decided = |c: &str| ext.response_headers.iter().any(|n| canonical(n) == c);
    remove_spellings(req.headers_mut(), decided);
    for (name, value) in &add {
        req.headers_mut().insert(name.clone(), value.clone());
    }
    Ok(())
}
