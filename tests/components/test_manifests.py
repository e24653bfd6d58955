"""Rendered manifests are real Kubernetes 1.30 objects and hold no secret value."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from sophia.offline.render import manifests, secret_outlines
from tests.components.conftest import CANARY, Run
from tests.conftest import REPO, SPEC

KUBERNETES_VERSION = "1.30.0"


def _validate_all(found: list[dict[str, object]]) -> None:
    assert found
    for manifest in found:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_sophia_manifests_validate_strictly(sophia_run: Run) -> None:
    _validate_all(manifests(sophia_run.resources))


def test_example_manifests_validate_strictly(example_run: Run) -> None:
    _validate_all(manifests(example_run.resources))


def test_strict_validation_rejects_unknown_fields(sophia_run: Run) -> None:
    deployment = next(m for m in manifests(sophia_run.resources) if m["kind"] == "Deployment")
    deployment["spec"]["replicaz"] = 2  # type: ignore[index]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_secrets_are_listed_never_rendered(sophia_run: Run) -> None:
    """A rendered Secret with placeholder values would overwrite the real ones when applied."""
    found = manifests(sophia_run.resources)
    assert CANARY not in json.dumps(found)
    assert [m for m in found if m["kind"] == "Secret"] == []
    outlines = secret_outlines(sophia_run.resources)
    assert len(outlines) == 5  # four credential groups, business intelligence's connections
    assert CANARY not in "".join(outlines)
    assert (
        "sophia/credentials-ai-intelligence: ARIZE_API_KEY, ARIZE_SPACE_ID, "
        "HUGGINGFACE_API_TOKEN, OPENROUTER_API_KEY, PORTKEY_API_KEY, TOGETHER_API_KEY"
    ) in outlines


def test_sophia_render_writes_one_file_per_object(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("sophia")), "render", "--out", str(out), str(SPEC)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 20  # 19 objects (with the model weights volume and claim) and SECRETS.txt
    assert "deployment-business-intelligence.yaml" in files
    assert not [f for f in files if f.startswith("secret-")]
    listing = (out / "SECRETS.txt").read_text(encoding="utf-8")
    assert "sophia/credentials-ai-intelligence: ARIZE_API_KEY" in listing
    yaml = YAML(typ="safe", pure=True)
    for path in out.glob("*.yaml"):
        kubernetes_validate.validate(yaml.load(path), KUBERNETES_VERSION, strict=True)
        assert "offline-placeholder" not in path.read_text(encoding="utf-8")


def test_workload_conventions(sophia_run: Run) -> None:
    """Pod Security `restricted` enforced on the namespace, the recommended labels, three
    distinct probes, and no `replicas` fighting an autoscaler in rendered manifests."""
    found = manifests(sophia_run.resources)
    namespace = next(m for m in found if m["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"  # type: ignore[index]
    deployments = {m["metadata"]["name"]: m for m in found if m["kind"] == "Deployment"}  # type: ignore[index]
    bi = deployments["business-intelligence"]
    labels = bi["metadata"]["labels"]  # type: ignore[index]
    assert labels["app.kubernetes.io/instance"] == "business-intelligence"
    assert labels["app.kubernetes.io/version"] == "2.0.1"
    assert labels["app.kubernetes.io/component"] == "gpu-service"
    container = bi["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
    startup, ready, live = (
        container[k] for k in ("startupProbe", "readinessProbe", "livenessProbe")
    )
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 120
    assert live["failureThreshold"] == 3 * ready["failureThreshold"]
    assert startup != ready != live
    assert bi["spec"]["strategy"] == {"type": "Recreate"}  # type: ignore[index]
    assert "replicas" not in deployments["ai-intelligence"]["spec"]  # an HPA owns it
    assert deployments["infrastructure"]["spec"]["replicas"] == 1  # type: ignore[index]


def test_writable_volumes_for_model_caches(sophia_run: Run) -> None:
    """specs/sophia.yaml gives the GPU service its model weights on a Lambda file system
    (through a claim: Pod Security `restricted` refuses hostPath) besides the 1Gi /tmp."""
    found = manifests(sophia_run.resources)
    bi = next(
        m
        for m in found
        if m["kind"] == "Deployment" and m["metadata"]["name"] == "business-intelligence"
    )  # type: ignore[index]
    pod = bi["spec"]["template"]["spec"]  # type: ignore[index]
    weights = {
        "name": "model-weights",
        "persistentVolumeClaim": {"claimName": "lambda-fs-sophia-models"},
    }
    assert weights in pod["volumes"]
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "model-weights", "mountPath": "/models"} in mounts
    kinds = {(m["kind"], m["metadata"]["name"]) for m in found}  # type: ignore[index]
    assert ("PersistentVolume", "sophia-lambda-fs-sophia-models") in kinds
    assert ("PersistentVolumeClaim", "lambda-fs-sophia-models") in kinds
    startup = pod["containers"][0]["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
