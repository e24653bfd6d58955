"""The capacity policy against the real kube-scheduler: pods stay Pending exactly when the
policy says the stack does not fit.

Each case is a spec with one Lambda host and near misses on every dimension — CPU, memory,
GPUs, the autoscaling maximum, a rollout's surge. The real side: a kwok node shaped like the
host's instance type (allocatable = the catalog's vCPUs and memory less the system reserve the
policy assumes), the rendered stack applied, every Deployment scaled to its peak, then all of
them rolled out at once; the scheduler binds what fits and leaves the rest Pending.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.preview import check_resources
from sophia.offline.runner import run_spec
from sophia.policy_config import policy_config
from sophia.spec import load_spec
from tests.conftest import REPO
from tests.e2e.cluster import add_nodes, host_node
from tests.e2e.environment import ControlPlane

RESERVE = {"cpu": 1000, "memory": 2 * 2**30}  # the policy's default system reserve

SPEC = """\
apiVersion: sophia.ai/v1
kind: Platform
metadata: {{name: {case}}}
budget: {{monthlyUsd: 5000}}
hosts:
  - {{name: {case}, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k]}}
namespace: {case}
services:
{services}
"""


def _service(name: str, case: str, cpu: str, memory: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n"
        f"    image: ghcr.io/sophia-ai/{name}:1.0.0\n"
        f"    host: {case}\n"
        f"    resources: {{requests: {{cpu: '{cpu}', memory: {memory}}}, "
        f"limits: {{cpu: '{cpu}', memory: {memory}}}}}\n"
        f"{extra}"
    )


RECREATE = "    rollout: {strategy: Recreate}\n"
GPU = "    gpu: {count: 1, type: a10}\n"
# (case, services, fits): a gpu_1x_a10 is 30 vCPUs, 200 GiB and one A10.
CASES = [
    ("cpu-fits", lambda c: _service("a", c, "29", "1Gi", RECREATE), True),
    ("cpu-over", lambda c: _service("a", c, "29001m", "1Gi", RECREATE), False),
    ("mem-fits", lambda c: _service("a", c, "1", "198Gi", RECREATE), True),
    ("mem-over", lambda c: _service("a", c, "1", "202753Mi", RECREATE), False),  # 198Gi + 1Mi
    ("gpu-fits", lambda c: _service("a", c, "2", "8Gi", GPU), True),
    ("gpu-over", lambda c: _service("a", c, "2", "8Gi", GPU + "    replicas: 2\n"), False),
    (
        "hpa-over",
        lambda c: _service("a", c, "2", "8Gi", GPU + "    autoscaling: {min: 1, max: 2}\n"),
        False,
    ),
    (
        "surge-over",
        lambda c: _service(
            "a",
            c,
            "2",
            "8Gi",
            GPU + "    rollout: {strategy: RollingUpdate, maxSurge: 1, maxUnavailable: 0}\n",
        ),
        False,
    ),
    (
        "surge-fits",
        lambda c: _service(
            "a",
            c,
            "14",
            "1Gi",
            "    rollout: {strategy: RollingUpdate, maxSurge: 1, maxUnavailable: 0}\n",
        ),
        True,
    ),
    (
        "two-services-over",
        lambda c: (
            _service("a", c, "15", "1Gi", RECREATE) + _service("b", c, "14001m", "1Gi", RECREATE)
        ),
        False,
    ),
]


@pytest.fixture(scope="module")
def pack() -> PolicyPackProcess:
    with PolicyPackProcess() as process:
        yield process  # type: ignore[misc]


def _policy_says_fits(path: Path, pack: PolicyPackProcess) -> bool:
    spec = load_spec(path, None)
    resources, _ = run_spec(spec, "prod")
    found = check_resources(pack, resources, "prod", policy_config(spec.platform))
    return not [d for d in found if d.policy_name == "capacity"]


def _pending_after_peak_and_rollout(cluster: ControlPlane, spec_path: Path, tmp: Path) -> list[str]:
    platform = load_spec(spec_path, None).platform
    host = platform.hosts[0]
    node = host_node(host)
    for resource, held in RESERVE.items():
        total = node["status"]["capacity"][resource]
        value = int(total) * 1000 - held if resource == "cpu" else int(total[:-2]) * 2**30 - held
        node["status"]["allocatable"][resource] = f"{value}m" if resource == "cpu" else str(value)
    add_nodes(cluster, [node])
    out = tmp / "manifests"
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "sophia"), "render", "--out", str(out), str(spec_path)],
        check=True,
        capture_output=True,
    )
    namespace = platform.target_namespace
    cluster.kubectl("apply", "-f", str(out / f"namespace-{namespace}.yaml"))
    cluster.kubectl("apply", "--server-side", "-f", str(out))
    for service in platform.services:
        cluster.kubectl(
            "scale",
            "deployment",
            service.name,
            "-n",
            namespace,
            f"--replicas={service.peak_replicas}",
        )
    _settle(cluster, namespace)
    for service in platform.services:
        cluster.kubectl("rollout", "restart", "deployment", service.name, "-n", namespace)
    _settle(cluster, namespace)
    pods = json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    return [p["metadata"]["name"] for p in pods if p["status"].get("phase") == "Pending"]


def _settle(cluster: ControlPlane, namespace: str, seconds: float = 20) -> None:
    """Until no pod is waiting for its first scheduling attempt and nothing changes for 2 s."""
    deadline = time.monotonic() + seconds
    last, stable_since = "", time.monotonic()
    while time.monotonic() < deadline:
        pods = json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)[
            "items"
        ]
        state = json.dumps(sorted((p["metadata"]["name"], p["status"].get("phase")) for p in pods))
        untried = [
            p
            for p in pods
            if p["status"].get("phase") == "Pending"
            and not any(
                c.get("reason") == "Unschedulable" for c in p["status"].get("conditions", [])
            )
        ]
        if state != last:
            last, stable_since = state, time.monotonic()
        elif not untried and time.monotonic() - stable_since >= 2:
            return
        time.sleep(0.3)


@pytest.mark.parametrize(("case", "services", "fits"), CASES, ids=[c[0] for c in CASES])
def test_the_policy_agrees_with_the_scheduler(
    cluster: ControlPlane,
    pack: PolicyPackProcess,
    tmp_path: Path,
    case: str,
    services: object,
    fits: bool,
) -> None:
    path = tmp_path / "sophia.yaml"
    path.write_text(SPEC.format(case=case, services=services(case)), encoding="utf-8")  # type: ignore[operator]
    assert _policy_says_fits(path, pack) is fits
    pending = _pending_after_peak_and_rollout(cluster, path, tmp_path)
    assert (not pending) is fits, pending
