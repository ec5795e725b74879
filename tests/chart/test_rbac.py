"""The chart grants the controller exactly what it uses, and nothing else."""

from conftest import NAMESPACE, RELEASE, find, one, render

# (apiGroup, resource, verb) the controller needs on namespaced kinds.
NAMESPACED = {
    *{("wsgate.dev", "websocketroutes", v) for v in ("get", "list", "watch")},
    *{("wsgate.dev", "websocketroutes/status", v) for v in ("get", "patch")},
    *{("networking.k8s.io", "ingresses", v) for v in ("get", "list", "watch")},
    *{("networking.k8s.io", "ingresses/status", v) for v in ("update", "patch")},
    *{("", r, v) for r in ("services", "secrets") for v in ("get", "list", "watch")},
    *{("discovery.k8s.io", "endpointslices", v) for v in ("get", "list", "watch")},
    *{(g, "events", v) for g in ("", "events.k8s.io") for v in ("create", "patch")},
}
CLUSTER_SCOPED = {("networking.k8s.io", "ingressclasses", v) for v in ("get", "list", "watch")}
LEASES = {("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")}
LEASE_NAME = f"{RELEASE}-leader"


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


def test_no_wildcards_anywhere(default_objects):
    objects = default_objects + render("--set", "controller.watchNamespaces={a,b}")
    for role in find(objects, "ClusterRole") + find(objects, "Role"):
        for g, r, v, _ in grants(role):
            assert "*" not in (g, r, v), f"{role['metadata']['name']} grants a wildcard"


def test_cluster_role_is_exactly_the_list(default_objects):
    cluster_role = one(default_objects, "ClusterRole")
    granted = grants(cluster_role)
    assert all(not names for *_, names in granted)
    assert unrestricted(granted) == NAMESPACED | CLUSTER_SCOPED


def test_leases_only_in_release_namespace(default_objects):
    roles = find(default_objects, "Role")
    assert [r["metadata"]["namespace"] for r in roles] == [NAMESPACE]
    granted = grants(roles[0])
    # create cannot be narrowed by name; get/update only on the chart's own Lease.
    assert granted == {
        ("coordination.k8s.io", "leases", "create", ()),
        ("coordination.k8s.io", "leases", "get", (LEASE_NAME,)),
        ("coordination.k8s.io", "leases", "update", (LEASE_NAME,)),
    }
    assert {(g, r, v) for g, r, v, _ in granted} == LEASES


def test_watch_namespaces_use_roles_per_namespace():
    objects = render("--set", "controller.watchNamespaces={chat,games}")
    cluster_role = one(objects, "ClusterRole")
    assert unrestricted(grants(cluster_role)) == CLUSTER_SCOPED
    by_ns = {}
    for role in find(objects, "Role"):
        by_ns.setdefault(role["metadata"]["namespace"], []).append(role)
    assert sorted(by_ns) == ["chat", "edge", "games"]
    for ns in ("chat", "games"):
        (role,) = by_ns[ns]
        assert unrestricted(grants(role)) == NAMESPACED
    (own,) = by_ns[NAMESPACE]
    granted = grants(own)
    # --publish-service reads the chart's own Service; nothing else outside the lease.
    service = {(g, r, v) for g, r, v, names in granted if r == "services"}
    assert service <= NAMESPACED
    assert {names for _, r, _, names in granted if r == "services"} == {(RELEASE,)}
    assert {(g, r, v) for g, r, v, _ in granted if r != "services"} == LEASES


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
