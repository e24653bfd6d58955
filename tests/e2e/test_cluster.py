"""The rendered stack on a real API server: accepted as it is, scheduled by the real scheduler."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sophia.spec import load_spec
from tests.conftest import REPO, SPEC
from tests.e2e.cluster import add_nodes, host_node, settle
from tests.e2e.environment import ControlPlane


def _render(spec: Path, out: Path, stack: str = "prod") -> None:
    subprocess.run(
        [
            str(REPO / ".venv" / "bin" / "sophia"),
            "render",
            "--out",
            str(out),
            "--stack",
            stack,
            str(spec),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


def test_the_platform_applies_and_every_pod_is_placed(
    cluster: ControlPlane, tmp_path: Path
) -> None:
    platform = load_spec(SPEC, "prod").platform
    add_nodes(cluster, [host_node(h) for h in platform.hosts])
    out = tmp_path / "manifests"
    _render(SPEC, out)
    namespace = platform.target_namespace
    # What `pulumi up` writes from ESC: Secrets are never rendered, only listed.
    listing = (out / "SECRETS.txt").read_text(encoding="utf-8").splitlines()[1:]
    cluster.kubectl("apply", "-f", str(out / f"namespace-{namespace}.yaml"))
    for line in listing:
        where, _, keys = line.partition(": ")
        ns, name = where.split("/")
        literals = [f"--from-literal={k}=value-of-{k.lower()}" for k in keys.split(", ")]
        cluster.kubectl("create", "secret", "generic", name, "-n", ns, *literals)

    applied = cluster.kubectl("apply", "--server-side", "--field-manager=e2e", "-f", str(out))
    assert "serverside-applied" in applied.stdout
    again = cluster.kubectl("apply", "--server-side", "--field-manager=e2e", "-f", str(out))
    assert again.returncode == 0

    for manifest in sorted(out.glob("*.yaml")):
        kind = manifest.name.split("-", 1)[0]
        name = manifest.stem.split("-", 1)[1]
        args = [kind, name] if kind == "namespace" else [kind, name, "-n", namespace]
        assert cluster.kubectl("get", *args, check=False).returncode == 0, manifest.name

    # Every pod of every Deployment is placed and runs (kwok runs what the scheduler binds).
    expected = sum(s.replicas for s in platform.services)
    found = settle(cluster, namespace, expected)
    phases = {p["metadata"]["name"]: p["status"].get("phase") for p in found}
    assert len(found) == expected and set(phases.values()) == {"Running"}, json.dumps(phases)
    gpu_pods = [
        p
        for p in found
        if p["metadata"]["labels"]["app.kubernetes.io/name"] == "business-intelligence"
    ]
    assert [p["spec"]["nodeName"] for p in gpu_pods] == ["gpu-a10"]

    # The model weights' claim is bound to its volume (the real PV controller) and the pod
    # reads it on the one node that mounts the file system.
    claim = json.loads(
        cluster.kubectl(
            "get", "pvc", "lambda-fs-sophia-models", "-n", namespace, "-o", "json"
        ).stdout
    )
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"] == f"{namespace}-lambda-fs-sophia-models"

    # Without the file system on the node, the scheduler leaves the GPU pod Pending: the node
    # selector and the volume's node affinity place it (the capacity policy reads the same).
    label = "filesystem.sophia.ai/sophia-models"
    cluster.kubectl("label", "node", "gpu-a10", f"{label}-")
    try:
        (old,) = gpu_pods
        cluster.kubectl("delete", "pod", old["metadata"]["name"], "-n", namespace, "--wait")
        again = settle(cluster, namespace, expected)
        waiting = [
            p
            for p in again
            if p["metadata"]["labels"]["app.kubernetes.io/name"] == "business-intelligence"
        ]
        assert [p["status"].get("phase") for p in waiting] == ["Pending"]
    finally:
        cluster.kubectl("label", "node", "gpu-a10", f"{label}=mounted", "--overwrite")
