"""The admission webhooks in the chart: off by default; when on, a Service, the webhook
configurations pointing at it with a caBundle that really signed the served certificate (or
cert-manager's objects instead), the controller serving on the named port with the
certificate mounted, and never the release's own namespace."""

import base64
import subprocess

import pytest

from conftest import NAMESPACE, find, helm_template, one, render

ON = ["--set", "webhooks.inject.enabled=true", "--set", "webhooks.validate.enabled=true"]


def container(objects):
    return one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]


def configurations(objects):
    return find(objects, "MutatingWebhookConfiguration") + find(
        objects, "ValidatingWebhookConfiguration"
    )


def test_off_by_default(default_objects):
    assert configurations(default_objects) == []
    assert not any("webhook" in a for a in container(default_objects)["args"])


def test_webhooks_reach_the_controller_through_their_service():
    objects = render(*ON)
    service = one(objects, "Service", "wsgate-webhook")
    port = service["spec"]["ports"][0]
    ports = {p["name"]: p["containerPort"] for p in container(objects)["ports"]}
    assert port["targetPort"] in ports
    args = container(objects)["args"]
    assert args[args.index("--webhook-listen") + 1] == f"0.0.0.0:{ports['webhook']}"
    paths = set()
    for config in configurations(objects):
        for hook in config["webhooks"]:
            svc = hook["clientConfig"]["service"]
            assert (svc["name"], svc["namespace"], svc["port"]) == (
                "wsgate-webhook",
                NAMESPACE,
                port["port"],
            )
            paths.add(svc["path"])
            assert hook["admissionReviewVersions"] == ["v1"]
            assert hook["sideEffects"] == "None"
            own = {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [NAMESPACE]}
            assert own in hook["namespaceSelector"]["matchExpressions"], hook["name"]
    assert paths == {"/inject", "/validate"}


def test_failure_policies_are_chosen_and_switchable():
    objects = render(*ON)
    mutating = one(objects, "MutatingWebhookConfiguration")
    validating = one(objects, "ValidatingWebhookConfiguration")
    assert {h["failurePolicy"] for h in mutating["webhooks"]} == {"Fail"}
    assert {h["failurePolicy"] for h in validating["webhooks"]} == {"Ignore"}
    flipped = render(*ON, "--set", "webhooks.inject.failurePolicy=Ignore")
    assert {h["failurePolicy"] for h in one(flipped, "MutatingWebhookConfiguration")["webhooks"]} == {"Ignore"}
    refused = helm_template(*ON, "--set", "webhooks.validate.failurePolicy=Maybe")
    assert refused.returncode != 0


def test_injection_selects_labelled_namespaces_and_labelled_pods():
    hooks = {h["name"]: h for h in one(render(*ON), "MutatingWebhookConfiguration")["webhooks"]}
    ns = hooks["namespace.inject.wsgate.dev"]
    assert ns["namespaceSelector"]["matchLabels"] == {"wsgate.dev/inject": "enabled"}
    assert ns["rules"][0]["operations"] == ["CREATE"] and ns["rules"][0]["resources"] == ["pods"]
    pod = hooks["pod.inject.wsgate.dev"]
    assert pod["objectSelector"]["matchLabels"] == {"wsgate.dev/inject": "enabled"}


def test_the_ca_bundle_signed_the_served_certificate(tmp_path):
    objects = render(*ON)
    secret = one(objects, "Secret", "wsgate-webhook-tls")
    mounted = one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    assert next(v for v in mounted if v["name"] == "webhook-tls")["secret"]["secretName"] == "wsgate-webhook-tls"
    cert = tmp_path / "tls.crt"
    cert.write_bytes(base64.b64decode(secret["data"]["tls.crt"]))
    for config in configurations(objects):
        for hook in config["webhooks"]:
            ca = tmp_path / "ca.crt"
            ca.write_bytes(base64.b64decode(hook["clientConfig"]["caBundle"]))
            verify = subprocess.run(
                ["openssl", "verify", "-CAfile", str(ca), str(cert)],
                capture_output=True, text=True, check=False,
            )
            assert verify.returncode == 0, verify.stdout + verify.stderr
    names = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", str(cert)],
        capture_output=True, text=True, check=True,
    ).stdout
    assert f"DNS:wsgate-webhook.{NAMESPACE}.svc" in names


def test_cert_manager_issues_the_certificate_instead():
    objects = render(*ON, "--set", "webhooks.certificate.certManager=true")
    assert find(objects, "Secret", "wsgate-webhook-tls") == []
    cert = one(objects, "Certificate")
    assert cert["spec"]["secretName"] == "wsgate-webhook-tls"
    assert f"wsgate-webhook.{NAMESPACE}.svc" in cert["spec"]["dnsNames"]
    assert one(objects, "Issuer")["spec"] == {"selfSigned": {}}
    for config in configurations(objects):
        assert config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == f"{NAMESPACE}/wsgate-webhook"
        assert all("caBundle" not in h["clientConfig"] for h in config["webhooks"])


@pytest.mark.parametrize("flag", ["webhooks.inject.enabled=true", "webhooks.validate.enabled=true"])
def test_each_webhook_switches_alone(flag):
    objects = render("--set", flag)
    kinds = {c["kind"] for c in configurations(objects)}
    assert kinds == ({"MutatingWebhookConfiguration"} if "inject" in flag else {"ValidatingWebhookConfiguration"})


def test_webhooks_need_no_more_rbac(default_objects):
    rules = lambda objects: [r["rules"] for r in find(objects, "ClusterRole") + find(objects, "Role")]
    assert rules(render(*ON)) == rules(default_objects)
