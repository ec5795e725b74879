"""The chart grants the controller exactly what it uses, and nothing else.

What it uses is not a hand-kept list: the controller end-to-end tests record every request
the real binary makes to the API stand-in and write the (apiGroup, resource, verb) each
needs to target/rbac-observed/*.json (tests/tests/controller_support/rbac.rs). Run the
controller tests first (scripts/test.sh does).
"""

import json
import os
import pathlib

import pytest

from conftest import NAMESPACE, RELEASE, ROOT, find, one, render

TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
OBSERVED_DIR = TARGET / "rbac-observed"
CLUSTER_SCOPED_RESOURCES = {"ingressclasses"}
LEASE_NAME = f"{RELEASE}-leader"


def observed():
    files = sorted(OBSERVED_DIR.glob("*.json"))
    if not files:
        pytest.fail(
            f"no observed requests in {OBSERVED_DIR}: run the controller tests first "
            "(cargo test -p wsgate-tests --test 'controller*')"
        )
    used = set()
    for f in files:
        for group, resource, verb, _namespaced in json.loads(f.read_text()):
            used.add((group, resource, verb))
    return used


def split(used):
    """(namespaced rules, cluster-scoped rules, lease rules) of what the controller used."""
    leases = {g for g in used if g[1] == "leases"}
    cluster = {g for g in used if g[1] in CLUSTER_SCOPED_RESOURCES}
    return used - leases - cluster, cluster, leases


def grants(role):
    """Every (apiGroup, resource, verb, resourceNames) a Role or ClusterRole grants."""
    out = set()
    for rule in role.get("rules") or []:
        assert not rule.get("nonResourceURLs"), f"{role['metadata']['name']}: nonResourceURLs"
        names = tuple(sorted(rule.get("resourceNames") or ()))
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                for verb in rule.get("verbs") or []:
                    out.add((group, resource, verb, names))
    return out


def unrestricted(granted):
    return {(g, r, v) for (g, r, v, names) in granted if not names}


def controller_roles(objects, kind):
    """The roles bound to the controller (not the aggregated edit/view roles)."""
    return [r for r in find(objects, kind) if "aggregate" not in json.dumps(r["metadata"].get("labels", {}))]


def test_observed_requests_are_plausible():
    used = observed()
    assert ("", "secrets", "watch") in used
    assert ("coordination.k8s.io", "leases", "update") in used
    assert not {g for g in used if g[2] in ("delete", "deletecollection")}, "the controller deletes nothing"


def test_no_wildcards_anywhere(default_objects):
    objects = default_objects + render("--set", "controller.watchNamespaces={a,b}")
    for role in find(objects, "ClusterRole") + find(objects, "Role"):
        for g, r, v, _ in grants(role):
            assert "*" not in (g, r, v), f"{role['metadata']['name']} grants a wildcard"


def test_cluster_role_is_exactly_what_the_controller_used(default_objects):
    namespaced, cluster, _ = split(observed())
    (cluster_role,) = controller_roles(default_objects, "ClusterRole")
    granted = grants(cluster_role)
    assert all(not names for *_, names in granted)
    assert unrestricted(granted) == namespaced | cluster


def test_leases_only_in_release_namespace(default_objects):
    _, _, leases = split(observed())
    roles = find(default_objects, "Role")
    assert [r["metadata"]["namespace"] for r in roles] == [NAMESPACE]
    granted = grants(roles[0])
    # create cannot be narrowed by name; everything else only on the chart's own Lease.
    for g, r, v, names in granted:
        assert names == (() if v == "create" else (LEASE_NAME,)), (g, r, v, names)
    assert {(g, r, v) for g, r, v, _ in granted} == leases


def test_watch_namespaces_use_roles_per_namespace():
    namespaced, cluster, leases = split(observed())
    objects = render("--set", "controller.watchNamespaces={chat,games}")
    (cluster_role,) = controller_roles(objects, "ClusterRole")
    assert unrestricted(grants(cluster_role)) == cluster
    by_ns = {}
    for role in find(objects, "Role"):
        by_ns.setdefault(role["metadata"]["namespace"], []).append(role)
    assert sorted(by_ns) == ["chat", "edge", "games"]
    for ns in ("chat", "games"):
        (role,) = by_ns[ns]
        assert unrestricted(grants(role)) == namespaced
    (own,) = by_ns[NAMESPACE]
    granted = grants(own)
    # --publish-service reads the chart's own Service by name; nothing else beside the lease.
    service = {(g, r, v, names) for g, r, v, names in granted if r == "services"}
    assert service == {("", "services", "get", (RELEASE,))}
    assert {(g, r, v) for g, r, v, _ in granted if r != "services"} == leases


def test_namespace_editors_manage_websocketroutes(default_objects):
    edit = one(default_objects, "ClusterRole", f"{RELEASE}-edit")
    labels = edit["metadata"]["labels"]
    assert labels["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert labels["rbac.authorization.k8s.io/aggregate-to-admin"] == "true"
    assert {(g, r) for g, r, _, _ in grants(edit)} == {("wsgate.dev", "websocketroutes")}
    assert {"create", "update", "patch", "delete"} <= {v for *_, v, _ in grants(edit)}
    view = one(default_objects, "ClusterRole", f"{RELEASE}-view")
    assert view["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert {v for _, _, v, _ in grants(view)} == {"get", "list", "watch"}
    assert not find(render("--set", "rbac.aggregateToEdit=false"), "ClusterRole", f"{RELEASE}-edit")


def test_bindings_name_the_service_account(default_objects):
    sa = one(default_objects, "ServiceAccount")["metadata"]["name"]
    deployment = one(default_objects, "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == sa
    bindings = find(default_objects, "ClusterRoleBinding") + find(default_objects, "RoleBinding")
    assert len(bindings) == 2
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": sa, "namespace": NAMESPACE}
        ]


def test_rbac_can_be_disabled():
    objects = render("--set", "rbac.create=false")
    for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        assert not find(objects, kind)


def test_gateway_api_role_is_exactly_what_the_controller_used_with_it(default_objects):
    """With gatewayAPI.enabled the chart adds one ClusterRole: exactly what the controller
    asked for beyond its usual rules when run with --gateway-api (recorded apart, in
    rbac-observed/gateway-api/)."""
    files = sorted((OBSERVED_DIR / "gateway-api").glob("*.json"))
    if not files:
        pytest.fail("no Gateway API requests observed: run cargo test -p wsgate-tests --test controller_gateway")
    used = set()
    for f in files:
        for group, resource, verb, _namespaced in json.loads(f.read_text()):
            used.add((group, resource, verb))
    extra = used - observed()
    name = f"{RELEASE}-gateway-api"
    assert not find(default_objects, "ClusterRole", name), "off by default"
    role = one(render("--set", "gatewayAPI.enabled=true"), "ClusterRole", name)
    assert unrestricted(grants(role)) == extra
