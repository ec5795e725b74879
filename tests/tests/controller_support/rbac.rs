//! The RBAC the controller needs, computed from the requests the stand-in recorded: every
//! test run writes the (apiGroup, resource, verb, namespaced) it used to
//! `target/rbac-observed/<test>.json`, and the chart tests require the chart to grant exactly
//! their union — no hand-kept list.

use std::collections::BTreeSet;
use std::path::PathBuf;

use wsgate_tests::kube_standin::KubeApi;

/// One grant: (apiGroup, resource or resource/subresource, verb, namespaced).
pub type Grant = (String, String, String, bool);

/// The grants `requests` (`METHOD path?query`) need. Discovery needs none.
pub fn grants(requests: &[String]) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for r in requests {
        let Some((method, rest)) = r.split_once(' ') else {
            continue;
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (group, rest) = match parts.as_slice() {
            ["api", _, rest @ ..] => ("", rest),
            ["apis", g, _, rest @ ..] => (*g, rest),
            _ => continue,
        };
        let (namespaced, rest) = match rest {
            ["namespaces", _, more @ ..] if !more.is_empty() => (true, more),
            other => (false, other),
        };
        let (resource, named) = match rest {
            [plural] => (plural.to_string(), false),
            [plural, _] => (plural.to_string(), true),
            [plural, _, sub] => (format!("{plural}/{sub}"), true),
            _ => continue,
        };
        let watch = query
            .split('&')
            .any(|p| p == "watch=true" || p == "watch=1");
        let verb = match (method, named, watch) {
            ("GET", true, _) => "get",
            ("GET", false, true) => "watch",
            ("GET", false, false) => "list",
            ("POST", _, _) => "create",
            ("PUT", _, _) => "update",
            ("PATCH", _, _) => "patch",
            ("DELETE", true, _) => "delete",
            ("DELETE", false, _) => "deletecollection",
            _ => continue,
        };
        out.insert((group.to_string(), resource, verb.to_string(), namespaced));
    }
    out
}

fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("rbac-observed")
}

/// Writes what the controller asked of `api` during test `name`, run with `--gateway-api`:
/// kept apart (`rbac-observed/gateway-api/`) because the chart grants the Gateway API kinds
/// only with `gatewayAPI.enabled`.
pub fn record_gateway_api(name: &str, api: &KubeApi) {
    record(&format!("gateway-api/{name}"), api);
}

/// Writes what the controller asked of `api` during test `name`.
pub fn record(name: &str, api: &KubeApi) {
    let grants: Vec<serde_json::Value> = grants(&api.requests())
        .into_iter()
        .map(|(g, r, v, ns)| serde_json::json!([g, r, v, ns]))
        .collect();
    let dir = dir();
    std::fs::create_dir_all(&dir).expect("rbac-observed directory");
    let text = serde_json::to_string_pretty(&grants).expect("json");
    let file = dir.join(format!("{name}.json"));
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent).expect("rbac-observed directory");
    }
    std::fs::write(file, text).expect("write observed grants");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_become_grants() {
        let requests: Vec<String> = [
            "GET /api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls&limit=500",
            "GET /api/v1/secrets?watch=true&resourceVersion=5",
            "GET /apis/coordination.k8s.io/v1/namespaces/wsgate/leases/wsgate-leader?",
            "PUT /apis/coordination.k8s.io/v1/namespaces/wsgate/leases/wsgate-leader?",
            "PATCH /apis/wsgate.dev/v1alpha1/namespaces/apps/websocketroutes/chat/status?fieldManager=wsgate",
            "GET /apis?",
            "GET /version?",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let g: Vec<(String, String, String, bool)> = grants(&requests).into_iter().collect();
        let want = [
            ("", "secrets", "list", false),
            ("", "secrets", "watch", false),
            ("coordination.k8s.io", "leases", "get", true),
            ("coordination.k8s.io", "leases", "update", true),
            ("wsgate.dev", "websocketroutes/status", "patch", true),
        ];
        let want: BTreeSet<Grant> = want
            .iter()
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), *d))
            .collect();
        assert_eq!(g.into_iter().collect::<BTreeSet<_>>(), want);
    }
}
