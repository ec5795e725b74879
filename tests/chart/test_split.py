"""Split mode in the chart: off by default; when on, the controllers serve route tables on a
Service of their own, a proxy workload (Deployment or DaemonSet) without a ServiceAccount
token or RBAC follows them with a client certificate from the same CA as the server's
(chart-made, or cert-manager's), and the traffic Service selects the proxies."""

import base64
import subprocess

import yaml

from conftest import NAMESPACE, ROOT, find, helm_template, one, render

ON = ["--set", "split.enabled=true"]


def workload(objects, name):
    found = [o for o in objects if o["kind"] in ("Deployment", "DaemonSet") and o["metadata"]["name"] == name]
    assert len(found) == 1, name
    return found[0]


def pod(objects, name):
    return workload(objects, name)["spec"]["template"]


def arg(container, flag):
    args = container["args"]
    return args[args.index(flag) + 1]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def test_off_by_default(default_objects):
    assert find(default_objects, "Service", "wsgate-tables") == []
    assert [o for o in default_objects if o["metadata"]["name"] == "wsgate-proxy"] == []
    controller = pod(default_objects, "wsgate")["spec"]["containers"][0]
    assert "--serve-tables" not in controller["args"]
    selector = one(default_objects, "Service", "wsgate")["spec"]["selector"]
    assert matches(selector, pod(default_objects, "wsgate")["metadata"]["labels"])


def test_proxies_follow_the_controllers_table_service_and_take_the_traffic():
    objects = render(*ON)
    controller = pod(objects, "wsgate")["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in controller["ports"]}
    assert arg(controller, "--serve-tables") == f"0.0.0.0:{ports['tables']}"
    tables = one(objects, "Service", "wsgate-tables")
    assert tables["spec"]["ports"][0]["targetPort"] == "tables"
    assert matches(tables["spec"]["selector"], pod(objects, "wsgate")["metadata"]["labels"])
    proxy_pod = pod(objects, "wsgate-proxy")
    proxy = proxy_pod["spec"]["containers"][0]
    assert proxy["args"][0] == "proxy"
    port = tables["spec"]["ports"][0]["port"]
    assert arg(proxy, "--tables-from") == f"https://wsgate-tables.{NAMESPACE}.svc:{port}"
    # The traffic Service selects the proxies, never the controllers; the controllers'
    # Deployment does not adopt proxy pods.
    traffic = one(objects, "Service", "wsgate")["spec"]["selector"]
    assert matches(traffic, proxy_pod["metadata"]["labels"])
    assert not matches(traffic, pod(objects, "wsgate")["metadata"]["labels"])
    selector = workload(objects, "wsgate")["spec"]["selector"]["matchLabels"]
    assert not matches(selector, proxy_pod["metadata"]["labels"])
    budget = one(objects, "PodDisruptionBudget", "wsgate-proxy")["spec"]["selector"]["matchLabels"]
    assert matches(budget, proxy_pod["metadata"]["labels"])


def test_proxies_get_no_api_credentials_and_no_rbac(default_objects):
    objects = render(*ON)
    spec = pod(objects, "wsgate-proxy")["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in spec
    rules = lambda objs: [r["rules"] for r in find(objs, "ClusterRole") + find(objs, "Role")]
    subjects = lambda objs: [b["subjects"] for b in find(objs, "ClusterRoleBinding") + find(objs, "RoleBinding")]
    assert rules(objects) == rules(default_objects)
    assert subjects(objects) == subjects(default_objects)
    secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
    assert secrets == {"wsgate-tables-client"}, "only its client certificate"


def secret_file(objects, name, key, path):
    path.write_bytes(base64.b64decode(one(objects, "Secret", name)["data"][key]))
    return str(path)


def openssl(*args):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def test_server_and_client_certificates_chain_to_the_ca_each_side_trusts(tmp_path):
    objects = render(*ON)
    mounted = {
        "wsgate": "wsgate-tables-server",
        "wsgate-proxy": "wsgate-tables-client",
    }
    for workload_name, secret in mounted.items():
        volumes = pod(objects, workload_name)["spec"]["volumes"]
        assert next(v for v in volumes if v["name"] == "tables-tls")["secret"]["secretName"] == secret
    for side in ("server", "client"):
        name = f"wsgate-tables-{side}"
        ca = secret_file(objects, name, "ca.crt", tmp_path / f"{side}-ca.crt")
        cert = secret_file(objects, name, "tls.crt", tmp_path / f"{side}.crt")
        verify = openssl("verify", "-CAfile", ca, cert)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        purpose = "sslserver" if side == "server" else "sslclient"
        verify = openssl("verify", "-purpose", purpose, "-CAfile", ca, cert)
        assert verify.returncode == 0, verify.stdout + verify.stderr
    names = openssl("x509", "-noout", "-ext", "subjectAltName", "-in", str(tmp_path / "server.crt")).stdout
    assert f"DNS:wsgate-tables.{NAMESPACE}.svc" in names
    ca = one(objects, "Secret", "wsgate-tables-ca")["data"]
    assert set(ca) == {"ca.crt", "ca.key"}, "the CA is kept for upgrades"


def test_cert_manager_issues_the_stream_certificates_instead():
    objects = render(*ON, "--set", "split.certificate.certManager=true")
    assert [s for s in find(objects, "Secret") if s["metadata"]["name"].startswith("wsgate-tables")] == []
    certs = {c["metadata"]["name"]: c["spec"] for c in find(objects, "Certificate")}
    assert certs["wsgate-tables-ca"]["isCA"] is True
    server, client = certs["wsgate-tables-server"], certs["wsgate-tables-client"]
    assert f"wsgate-tables.{NAMESPACE}.svc" in server["dnsNames"]
    assert "server auth" in server["usages"] and "client auth" in client["usages"]
    assert server["issuerRef"]["name"] == client["issuerRef"]["name"] == "wsgate-tables-ca"
    issuer = one(objects, "Issuer", "wsgate-tables-ca")
    assert issuer["spec"] == {"ca": {"secretName": "wsgate-tables-ca"}}


def test_proxies_can_run_as_a_daemonset():
    objects = render(*ON, "--set", "split.proxy.kind=DaemonSet")
    proxy = workload(objects, "wsgate-proxy")
    assert proxy["kind"] == "DaemonSet"
    assert "replicas" not in proxy["spec"]
    assert find(objects, "PodDisruptionBudget", "wsgate-proxy") == []
    bad = helm_template(*ON, "--set", "split.proxy.kind=StatefulSet")
    assert bad.returncode != 0 and "kind" in bad.stderr


def test_network_policies_open_the_table_port_to_the_proxies_only():
    objects = render(*ON, "--set", "networkPolicy.enabled=true")
    policy = one(objects, "NetworkPolicy", "wsgate-tables")
    assert matches(policy["spec"]["podSelector"]["matchLabels"], pod(objects, "wsgate")["metadata"]["labels"])
    (rule,) = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": "tables", "protocol": "TCP"}]
    (peer,) = rule["from"]
    assert matches(peer["podSelector"]["matchLabels"], pod(objects, "wsgate-proxy")["metadata"]["labels"])
    proxies = one(objects, "NetworkPolicy", "wsgate-proxy")
    ports = {p["port"] for p in proxies["spec"]["ingress"][0]["ports"]}
    assert ports == {"http", "https"}


def test_the_proxies_settings_follow_the_controller_values():
    objects = render(
        *ON,
        "--set", "controller.proxyProtocol=true",
        "--set", "controller.trustedProxies={10.0.0.0/8}",
        "--set", "sharedState.redis.url=redis://redis:6379",
        "--set", "sharedState.redis.passwordSecretRef.name=redis-pw",
    )
    config = yaml.safe_load(one(objects, "ConfigMap", "wsgate-proxy")["data"]["proxy.yaml"])
    assert config["kind"] == "ProxyConfig"
    spec = config["spec"]
    assert spec["listen"]["proxyProtocol"] is True
    assert spec["trustedProxies"] == ["10.0.0.0/8"]
    assert spec["sharedState"]["redis"] == {
        "url": "redis://redis:6379",
        "passwordFile": "/etc/wsgate/redis-password/password",
    }
    proxy = pod(objects, "wsgate-proxy")["spec"]
    mounts = {m["mountPath"] for m in proxy["containers"][0]["volumeMounts"]}
    assert "/etc/wsgate/redis-password" in mounts
    assert arg(proxy["containers"][0], "--config") == "/etc/wsgate/proxy/proxy.yaml"


def test_the_readme_split_values_render(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Split mode"):]
    block = section[section.index("```yaml\n") + len("```yaml\n"):]
    values = tmp_path / "values-split.yaml"
    values.write_text(block[: block.index("```")])
    objects = render("-f", str(values))
    proxy = workload(objects, "wsgate-proxy")
    assert proxy["kind"] == "DaemonSet"
    assert one(objects, "Service", "wsgate-tables")["spec"]["ports"][0]["port"] == 9443


def test_the_service_monitor_scrapes_the_proxies_too():
    objects = render(*ON, "--set", "metrics.serviceMonitor.enabled=true")
    monitor = one(objects, "ServiceMonitor")["spec"]["selector"]["matchLabels"]
    service = one(objects, "Service", "wsgate-proxy-metrics")
    assert matches(monitor, service["metadata"]["labels"])
    assert matches(service["spec"]["selector"], pod(objects, "wsgate-proxy")["metadata"]["labels"])
    assert service["spec"]["ports"][0]["targetPort"] == "admin"
    assert matches(monitor, one(objects, "Service", "wsgate-metrics")["metadata"]["labels"])
