//! Attaching an HTTPRoute to a Gateway's listeners: `sectionName` and `port`, the
//! listener's `allowedRoutes` (namespaces and kinds), and hostname intersection.

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::listeners::{HTTP_ROUTE, Served};
use super::reason;

/// One listener a route attached to, with the hostnames it serves there (empty: every host
/// the listener takes).
pub struct Attached {
    /// Index of the listener in the Gateway.
    pub listener: usize,
    /// Hostnames after intersection.
    pub hostnames: Vec<String>,
}

/// The listeners of a Gateway in `gw_ns` that a route in `route_ns` with `hostnames`
/// attaches to through a parentRef with `section` and `port`, or why none.
pub fn attach(
    listeners: &[Served],
    gw_ns: &str,
    route_ns: (&str, Option<&Namespace>),
    hostnames: &[String],
    section: Option<&str>,
    port: Option<i32>,
) -> Result<Vec<Attached>, (&'static str, String)> {
    let named: Vec<(usize, &Served)> = listeners
        .iter()
        .enumerate()
        .filter(|(_, s)| section.is_none_or(|n| s.listener.name == n))
        .filter(|(_, s)| port.is_none_or(|p| s.listener.port == p))
        .collect();
    if named.is_empty() {
        return Err((
            reason::NO_MATCHING_PARENT,
            "no listener of the Gateway has that sectionName and port".into(),
        ));
    }
    let allowed: Vec<(usize, &Served)> = named
        .into_iter()
        .filter(|(_, s)| s.usable && allows(s, gw_ns, route_ns))
        .collect();
    if allowed.is_empty() {
        return Err((
            reason::NOT_ALLOWED_BY_LISTENERS,
            format!(
                "no valid listener allows HTTPRoutes from namespace {}",
                route_ns.0
            ),
        ));
    }
    let attached: Vec<Attached> = allowed
        .into_iter()
        .filter_map(|(i, s)| {
            intersect(s.listener.hostname.as_deref(), hostnames).map(|hostnames| Attached {
                listener: i,
                hostnames,
            })
        })
        .collect();
    if attached.is_empty() {
        return Err((
            reason::NO_MATCHING_LISTENER_HOSTNAME,
            "no listener hostname intersects the route's hostnames".into(),
        ));
    }
    Ok(attached)
}

/// Whether the listener's `allowedRoutes` takes HTTPRoutes from the route's namespace.
fn allows(s: &Served, gw_ns: &str, (route_ns, namespace): (&str, Option<&Namespace>)) -> bool {
    let allowed = s.listener.allowed_routes.as_ref();
    let kinds_ok =
        allowed.is_none_or(|a| a.kinds.is_empty() || a.kinds.iter().any(|k| k.kind == HTTP_ROUTE));
    let from = allowed.and_then(|a| a.namespaces.as_ref());
    let ns_ok = match from.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
        "All" => true,
        "Same" => route_ns == gw_ns,
        "Selector" => {
            let selector = from.and_then(|n| n.selector.as_ref());
            let labels = namespace.and_then(|n| n.metadata.labels.as_ref());
            selector.is_some_and(|sel| selects(sel, labels))
        }
        _ => false,
    };
    kinds_ok && ns_ok
}

/// A label selector's verdict on `labels` (matchLabels and matchExpressions).
fn selects(
    sel: &LabelSelector,
    labels: Option<&std::collections::BTreeMap<String, String>>,
) -> bool {
    let get = |k: &str| labels.and_then(|l| l.get(k));
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| get(k) == Some(v));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|e| {
        let values = e.values.as_deref().unwrap_or_default();
        match e.operator.as_str() {
            "In" => get(&e.key).is_some_and(|v| values.contains(v)),
            "NotIn" => get(&e.key).is_none_or(|v| !values.contains(v)),
            "Exists" => get(&e.key).is_some(),
            "DoesNotExist" => get(&e.key).is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// The hostnames a route serves on a listener: Gateway API's intersection of the listener's
/// hostname and the route's; `None` when they do not intersect.
pub fn intersect(listener: Option<&str>, route: &[String]) -> Option<Vec<String>> {
    let Some(l) = listener.map(str::to_ascii_lowercase) else {
        return Some(route.to_vec());
    };
    if route.is_empty() {
        return Some(vec![l]);
    }
    let mut out = Vec::new();
    for r in route.iter().map(|r| r.to_ascii_lowercase()) {
        let hit = if r == l || covers(&l, &r) {
            Some(r)
        } else if covers(&r, &l) {
            Some(l.clone())
        } else {
            None
        };
        if let Some(h) = hit.filter(|h| !out.contains(h)) {
            out.push(h);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether wildcard `pattern` (`*.example.com`) covers `host` (exact or a narrower
/// wildcard): one or more labels in place of `*`.
fn covers(pattern: &str, host: &str) -> bool {
    let Some(suffix) = pattern.strip_prefix('*') else {
        return false;
    };
    let host = host.strip_prefix('*').unwrap_or(host);
    host.len() > suffix.len() && host.ends_with(suffix)
}

#[cfg(test)]
mod tests {
    use super::intersect;

    /// The cases of Gateway API's HTTPRouteHostnameIntersection and ListenerHostnameMatching.
    #[test]
    fn hostnames_intersect_as_the_spec_says() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        type Case = (
            Option<&'static str>,
            &'static [&'static str],
            Option<&'static [&'static str]>,
        );
        let cases: [Case; 8] = [
            (None, &["a.example.com"], Some(&["a.example.com"])),
            (Some("very.specific.com"), &[], Some(&["very.specific.com"])),
            (
                Some("very.specific.com"),
                &["very.specific.com", "other.com"],
                Some(&["very.specific.com"]),
            ),
            (
                Some("*.wildcard.io"),
                &["foo.wildcard.io", "bar.wildcard.io", "wildcard.io"],
                Some(&["foo.wildcard.io", "bar.wildcard.io"]),
            ),
            (
                Some("*.anotherwildcard.io"),
                &["*.anotherwildcard.io"],
                Some(&["*.anotherwildcard.io"]),
            ),
            (
                Some("*.example.com"),
                &["*.a.example.com"],
                Some(&["*.a.example.com"]),
            ),
            (
                Some("foo.example.com"),
                &["*.example.com"],
                Some(&["foo.example.com"]),
            ),
            (
                Some("*.example.com"),
                &["example.net", "*.example.net"],
                None,
            ),
        ];
        for (l, r, want) in cases {
            let got = intersect(l, &s(r));
            assert_eq!(got, want.map(s), "{l:?} x {r:?}");
        }
    }
}
