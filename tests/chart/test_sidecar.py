"""The sidecar chart: wsgate next to the app, routes file from a ConfigMap, TLS from a Secret,
and a routes file the real wsgate binary accepts."""

import json
import os
import pathlib
import subprocess
import time
import urllib.request

import pytest
import yaml

from conftest import ROOT, find, one, render

SIDECAR = ROOT / "charts" / "wsgate-sidecar"
CI = SIDECAR / "ci"


def sidecar(values_file):
    return render("-f", str(CI / values_file), chart=SIDECAR)


def containers(objects):
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    return pod, {c["name"]: c for c in pod["containers"]}


def routes_documents(objects):
    text = one(objects, "ConfigMap")["data"]["routes.yaml"]
    return text, [d for d in yaml.safe_load_all(text) if d]


def test_wsgate_runs_proxy_from_the_configmap():
    objects = sidecar("socketio-values.yaml")
    pod, c = containers(objects)
    wsgate = c["wsgate"]
    assert wsgate["args"][:3] == ["proxy", "--config", "/etc/wsgate/routes.yaml"]
    mounts = {m["name"]: m for m in wsgate["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    config = mounts["wsgate-config"]
    assert config["mountPath"] == "/etc/wsgate"
    # subPath mounts never see ConfigMap/Secret updates; the reload depends on this.
    assert all("subPath" not in m for m in wsgate["volumeMounts"])
    assert volumes["wsgate-config"]["configMap"]["name"] == one(objects, "ConfigMap")["metadata"]["name"]
    assert volumes["wsgate-tls"]["secret"]["secretName"] == "chat-tls"
    assert wsgate["securityContext"]["readOnlyRootFilesystem"] is True
    assert wsgate["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_routes_point_at_the_app_on_loopback_with_tls_from_the_secret():
    objects = sidecar("socketio-values.yaml")
    pod, c = containers(objects)
    _, docs = routes_documents(objects)
    config, route = docs
    assert config["kind"] == "ProxyConfig"
    assert config["spec"]["listen"]["https"] == "0.0.0.0:8443"
    assert route["kind"] == "WebSocketRoute"
    spec = route["spec"]
    assert [r["backend"]["addresses"] for r in spec["rules"]] == [["127.0.0.1:3000"]]
    assert spec["origins"] == {"allow": ["https://chat.example.com"]}
    tls_dir = next(
        m["mountPath"] for m in c["wsgate"]["volumeMounts"] if m["name"] == "wsgate-tls"
    )
    assert spec["tls"] == {"certFile": f"{tls_dir}/tls.crt", "keyFile": f"{tls_dir}/tls.key"}
    svc = one(objects, "Service")
    assert {p["port"]: p["targetPort"] for p in svc["spec"]["ports"]} == {80: "http", 443: "https"}


def test_app_outlives_the_drain():
    objects = sidecar("socketio-values.yaml")
    pod, c = containers(objects)
    _, docs = routes_documents(objects)
    drain = int(docs[0]["spec"]["shutdownTimeout"].rstrip("s"))
    proxy_sleep = c["wsgate"]["lifecycle"]["preStop"]["sleep"]["seconds"]
    app_sleep = c["app"]["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert app_sleep >= proxy_sleep + drain
    assert pod["terminationGracePeriodSeconds"] > app_sleep


def test_plain_sidecar_has_no_tls():
    objects = sidecar("plain-values.yaml")
    pod, c = containers(objects)
    _, (config, route) = routes_documents(objects)
    assert "https" not in config["spec"]["listen"]
    assert "tls" not in route["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["wsgate-config"]
    assert route["spec"]["rules"][0]["backend"]["addresses"] == ["127.0.0.1:8000"]


def test_app_image_is_required():
    from conftest import helm_template

    proc = helm_template(chart=SIDECAR)
    assert proc.returncode != 0 and "app.image is required" in proc.stderr


def wsgate_binary():
    explicit = os.environ.get("WSGATE_BIN")
    if explicit:
        return pathlib.Path(explicit)
    subprocess.run(["cargo", "build", "-q", "-p", "wsgate"], cwd=ROOT, check=True)
    return ROOT / "target" / "debug" / "wsgate"


def test_real_wsgate_serves_the_rendered_routes_file(tmp_path):
    text, _ = routes_documents(sidecar("plain-values.yaml"))
    routes = tmp_path / "routes.yaml"
    routes.write_text(text)
    addresses = tmp_path / "addresses.json"
    proc = subprocess.Popen(
        [str(wsgate_binary()), "proxy", "--config", str(routes),
         "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
         "--addresses-file", str(addresses)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not addresses.exists() or not addresses.read_text().endswith("\n"):
            if proc.poll() is not None:
                pytest.fail(f"wsgate exited {proc.returncode}: {proc.stderr.read()}")
            assert time.monotonic() < deadline, "wsgate did not bind in 20s"
            time.sleep(0.05)
        admin = json.loads(addresses.read_text())["admin"]
        with urllib.request.urlopen(f"http://{admin}/readyz", timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=40)
