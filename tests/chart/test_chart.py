"""What an operator checks in the rendered chart: pod security, probes, shutdown, Service,
IngressClass, the controller's command line, and typo-proof values."""

import base64
import re

import pytest

from conftest import NAMESPACE, RELEASE, find, helm_template, one, render


def container(objects):
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    return pod, c


def flag(args, name):
    """Values of a repeated `--name value` flag."""
    return [args[i + 1] for i, a in enumerate(args) if a == name]


def seconds(text):
    m = re.fullmatch(r"(\d+)s", text)
    assert m, f"duration {text!r} is not in whole seconds"
    return int(m.group(1))


def test_pod_runs_non_root_read_only_without_capabilities(default_objects):
    pod, c = container(default_objects)
    psc, csc = pod["securityContext"], c["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] == 65532
    assert psc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["capabilities"] == {"drop": ["ALL"]}
    assert csc["runAsNonRoot"] is True and csc["runAsUser"] == 65532
    assert csc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_probes_on_admin_port(default_objects):
    _, c = container(default_objects)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"http": 8080, "https": 8443, "admin": 9090}
    live, ready = c["livenessProbe"]["httpGet"], c["readinessProbe"]["httpGet"]
    assert (live["path"], ports[live["port"]]) == ("/healthz", 9090)
    assert (ready["path"], ports[ready["port"]]) == ("/readyz", 9090)


@pytest.mark.parametrize(
    "values",
    [
        [],
        ["--set", "controller.shutdownTimeoutSeconds=300"],
        ["--set", "lifecycle.preStopSleepSeconds=20"],
        ["--set", "terminationGracePeriodSeconds=40"],
    ],
)
def test_grace_period_outlasts_prestop_and_drain(values):
    pod, c = container(render(*values))
    args = c["args"]
    (timeout,) = flag(args, "--shutdown-timeout")
    sleep = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert sleep >= 1
    assert pod["terminationGracePeriodSeconds"] > seconds(timeout) + sleep


def test_too_short_grace_period_is_refused():
    proc = helm_template("--set", "terminationGracePeriodSeconds=30")
    assert proc.returncode != 0
    assert "terminationGracePeriodSeconds" in proc.stderr


def test_controller_command_line(default_objects):
    _, c = container(default_objects)
    args = c["args"]
    assert args[0] == "controller"
    assert flag(args, "--http-listen") == ["0.0.0.0:8080"]
    assert flag(args, "--https-listen") == ["0.0.0.0:8443"]
    assert flag(args, "--admin-listen") == ["0.0.0.0:9090"]
    assert flag(args, "--ingress-class") == ["wsgate"]
    assert flag(args, "--watch-namespace") == []
    assert flag(args, "--publish-service") == [f"{NAMESPACE}/{RELEASE}"]
    assert flag(args, "--leader-election-namespace") == ["$(POD_NAMESPACE)"]
    assert flag(args, "--leader-election-id") == [f"{RELEASE}-leader"]
    assert flag(args, "--log-format") == ["json"]
    env = {e["name"]: e["valueFrom"] for e in c["env"]}
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["WSGATE_AFFINITY_KEY"] == {
        "secretKeyRef": {"name": f"{RELEASE}-affinity", "key": "key", "optional": True}
    }


def test_l1_the_affinity_key_secret_is_random_and_shared_by_every_replica(default_objects):
    secret = one(default_objects, "Secret", f"{RELEASE}-affinity")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    key = base64.b64decode(secret["data"]["key"])
    assert len(key) >= 32
    again = one(render(), "Secret", f"{RELEASE}-affinity")
    assert base64.b64decode(again["data"]["key"]) != key, "random per install"
    _, c = container(render("--set", "affinityCookie.secretName=mine",
                            "--set", "affinityCookie.createSecret=false"))
    ref = {e["name"]: e["valueFrom"] for e in c["env"]}["WSGATE_AFFINITY_KEY"]
    assert ref["secretKeyRef"]["name"] == "mine"


def test_watch_namespaces_become_flags():
    _, c = container(render("--set", "controller.watchNamespaces={chat,games}"))
    assert flag(c["args"], "--watch-namespace") == ["chat", "games"]


def test_deployment_defaults(default_objects):
    deployment = one(default_objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    pdb = one(default_objects, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    for kind in ("HorizontalPodAutoscaler", "ServiceMonitor"):
        assert not find(default_objects, kind), f"{kind} is optional and off by default"


@pytest.mark.parametrize(
    "settings, pdb",
    [
        ((), True),
        (("--set", "replicaCount=1"), False),
        (("--set", "replicaCount=1", "--set", "autoscaling.enabled=true"), True),
        (("--set", "autoscaling.enabled=true", "--set", "autoscaling.minReplicas=1"), False),
        (("--set", "podDisruptionBudget.enabled=false"), False),
    ],
)
def test_pdb_only_with_more_than_one_replica(settings, pdb):
    """A PDB over one pod blocks every node drain."""
    assert bool(find(render(*settings), "PodDisruptionBudget")) == pdb


def test_controller_options_become_flags():
    _, c = container(render(
        "--set", "controller.catchAllNamespaces={edge}",
        "--set", "controller.proxyProtocol=true",
        "--set", "controller.trustedProxies={10.0.0.0/8}",
    ))
    assert flag(c["args"], "--catch-all-namespace") == ["edge"]
    assert "--proxy-protocol" in c["args"]
    assert flag(c["args"], "--trusted-proxy") == ["10.0.0.0/8"]
    _, plain = container(render())
    assert "--proxy-protocol" not in plain["args"] and "--catch-all-namespace" not in plain["args"]


def test_extra_volumes_and_session_affinity():
    objects = render(
        "--set", "extraVolumes[0].name=ca",
        "--set", "extraVolumes[0].configMap.name=corp-ca",
        "--set", "extraVolumeMounts[0].name=ca",
        "--set", "extraVolumeMounts[0].mountPath=/etc/corp-ca",
        "--set", "service.sessionAffinity=ClientIP",
    )
    pod, c = container(objects)
    assert pod["volumes"] == [{"name": "ca", "configMap": {"name": "corp-ca"}}]
    assert c["volumeMounts"] == [{"name": "ca", "mountPath": "/etc/corp-ca"}]
    assert one(objects, "Service", RELEASE)["spec"]["sessionAffinity"] == "ClientIP"


def test_service_maps_80_443_to_container_ports(default_objects):
    svc = one(default_objects, "Service", RELEASE)
    assert svc["spec"]["type"] == "LoadBalancer"
    assert svc["spec"]["externalTrafficPolicy"] == "Cluster"
    ports = {p["port"]: p["targetPort"] for p in svc["spec"]["ports"]}
    assert ports == {80: "http", 443: "https"}, "admin port must not face clients"
    local = one(render("--set", "service.externalTrafficPolicy=Local"), "Service", RELEASE)
    assert local["spec"]["externalTrafficPolicy"] == "Local"


def test_ingress_class(default_objects):
    ic = one(default_objects, "IngressClass")
    assert ic["metadata"]["name"] == "wsgate"
    assert ic["spec"]["controller"] == "wsgate.dev/ingress-controller"
    assert "ingressclass.kubernetes.io/is-default-class" not in (
        ic["metadata"].get("annotations") or {}
    )
    default = one(render("--set", "ingressClass.default=true"), "IngressClass")
    assert default["metadata"]["annotations"] == {
        "ingressclass.kubernetes.io/is-default-class": "true"
    }


def test_optional_objects_render():
    objects = render(
        "--set", "autoscaling.enabled=true",
        "--set", "metrics.serviceMonitor.enabled=true",
        "--set", "networkPolicy.enabled=true",
    )
    hpa = one(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == RELEASE
    assert "replicas" not in one(objects, "Deployment")["spec"]
    monitor = one(objects, "ServiceMonitor")
    metrics_svc = one(objects, "Service", f"{RELEASE}-metrics")
    labels = metrics_svc["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
    assert monitor["spec"]["endpoints"][0]["port"] == "admin"
    policy = one(objects, "NetworkPolicy")
    ports = [p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]]
    assert ports == ["http", "https", "admin"]


def test_m8_network_policy_is_on_and_admits_only_prometheus_to_the_admin_port(default_objects):
    policy = one(default_objects, "NetworkPolicy")
    clients, admin = policy["spec"]["ingress"]
    assert "from" not in clients, "clients from anywhere"
    assert [p["port"] for p in clients["ports"]] == ["http", "https"]
    assert [p["port"] for p in admin["ports"]] == ["admin"]
    assert admin["from"] == [{
        "namespaceSelector": {},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }]
    closed = one(render("--set", "networkPolicy.adminFrom=null"), "NetworkPolicy")
    ports = [p["port"] for rule in closed["spec"]["ingress"] for p in rule["ports"]]
    assert ports == ["http", "https"], "admin port closed without adminFrom"


@pytest.mark.parametrize(
    "setting",
    ["typoKey=1", "image.tga=latest", "service.externalTraficPolicy=Local", "replicaCount=0",
     "service.type=Ingress", "controller.logFormat=xml"],
)
def test_schema_rejects_typos_and_bad_values(setting):
    proc = helm_template("--set", setting)
    assert proc.returncode != 0, f"--set {setting} was accepted"
    assert "schema" in proc.stderr


def test_crds_ship_with_the_chart():
    objects = render("--include-crds")
    for name, kind in [
        ("websocketroutes.wsgate.dev", "WebSocketRoute"),
        ("websocketpolicies.wsgate.dev", "WebSocketPolicy"),
    ]:
        crd = one(objects, "CustomResourceDefinition", name)
        assert crd["spec"]["group"] == "wsgate.dev"
        assert crd["spec"]["names"]["kind"] == kind
    assert len(find(objects, "CustomResourceDefinition")) == 2


def test_shared_state_redis_flags_and_secret_files():
    """The password reaches the pod as a mounted Secret file, never as a flag or variable."""
    pod, c = container(render(
        "--set", "sharedState.redis.url=rediss://wsgate@redis.data:6380",
        "--set", "sharedState.redis.passwordSecretRef.name=redis-auth",
        "--set", "sharedState.redis.caSecretRef.name=redis-ca",
        "--set", "extraVolumes[0].name=x",
        "--set", "extraVolumes[0].emptyDir.medium=Memory",
        "--set", "extraVolumeMounts[0].name=x",
        "--set", "extraVolumeMounts[0].mountPath=/x",
    ))
    args = c["args"]
    assert flag(args, "--shared-state-redis-url") == ["rediss://wsgate@redis.data:6380"]
    assert flag(args, "--shared-state-redis-password-file") == ["/etc/wsgate/redis-password/password"]
    assert flag(args, "--shared-state-redis-ca-file") == ["/etc/wsgate/redis-ca/ca.crt"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["redis-password"]["secret"]["secretName"] == "redis-auth"
    assert volumes["redis-ca"]["secret"]["secretName"] == "redis-ca"
    assert "x" in volumes, "extra volumes stay"
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/x", "/etc/wsgate/redis-password", "/etc/wsgate/redis-ca"} <= mounts
    _, plain = container(render())
    assert not any(a.startswith("--shared-state") for a in plain["args"])
    assert "volumeMounts" not in plain


@pytest.mark.parametrize("url", ["redis://user:secret@redis:6379", "http://redis"])
def test_shared_state_schema_refuses_inline_passwords_and_other_schemes(url):
    proc = helm_template("--set", f"sharedState.redis.url={url}")
    assert proc.returncode != 0
    assert "sharedState" in proc.stderr
def test_m9_external_auth_allowed_hosts_become_flags():
    _, c = container(render("--set", "externalAuth.allowedHosts={auth.example.com,*.auth.svc}"))
    assert flag(c["args"], "--external-auth-host") == ["auth.example.com", "*.auth.svc"]
