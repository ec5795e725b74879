"""Shared helpers for the chart tests: render charts/wsgate with helm and index the objects."""

import os
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "wsgate"
HELM = os.environ.get("HELM", str(ROOT / ".tools" / "bin" / "helm"))
RELEASE = "wsgate"
NAMESPACE = "edge"


def helm_template(*args, chart=CHART):
    """Runs `helm template`; returns the CompletedProcess (stdout/stderr as text)."""
    return subprocess.run(
        [HELM, "template", RELEASE, str(chart), "--namespace", NAMESPACE, *args],
        capture_output=True,
        text=True,
        check=False,
    )


def render(*args, chart=CHART):
    """Renders the chart and returns its objects (empty documents dropped)."""
    proc = helm_template(*args, chart=chart)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def find(objects, kind, name=None):
    """The objects of one kind (and name, when given)."""
    return [
        o
        for o in objects
        if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]


def one(objects, kind, name=None):
    """The single object of one kind (and name)."""
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="session")
def default_objects():
    return render()
