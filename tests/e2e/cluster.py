"""Nodes shaped like Lambda instance types, on the real API server, run by kwok."""

from __future__ import annotations

import json
import time
from typing import Any

from components.catalog import load_catalog
from components.gpu_host import file_system_selector
from sophia.spec.model import Host
from tests.e2e.environment import ControlPlane

GPU_RESOURCE = "nvidia.com/gpu"


def host_node(host: Host) -> dict[str, Any]:
    """The node a spec host becomes: its labels and those of the file systems it mounts."""
    labels = dict(host.labels)
    for name in host.file_systems:
        labels.update(file_system_selector(name))
    return node_manifest(host.name, host.instance_type, labels)


def node_manifest(
    name: str, instance_type: str, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """What the bootstrap (k3s, its node labels) and the NVIDIA device plugin make of a fresh
    instance of this type: no taint, so services without GPUs share the host."""
    entry = load_catalog().get(instance_type)
    assert entry is not None, instance_type
    capacity = {
        "cpu": str(entry.vcpus),
        "memory": f"{entry.memory_gib}Gi",
        "pods": "110",
        GPU_RESOURCE: str(entry.gpus),
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "type": "kwok",  # kwok manages nodes with this label (environment.py)
                "kubernetes.io/hostname": name,
                "gpu-type": entry.gpu_type,
                "nvidia.com/gpu.present": "true",
                "sophia.ai/host": name,
                **(labels or {}),
            },
        },
        "spec": {},
        "status": {"capacity": capacity, "allocatable": capacity},
    }


def add_nodes(cluster: ControlPlane, nodes: list[dict[str, Any]]) -> None:
    for node in nodes:
        cluster.kubectl("apply", "-f", "-", input_text=json.dumps(node))
    # k3s ships the `nvidia` RuntimeClass the GPU pods name; the API server refuses pods that
    # name a RuntimeClass that does not exist.
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input_text=json.dumps(
            {
                "apiVersion": "node.k8s.io/v1",
                "kind": "RuntimeClass",
                "metadata": {"name": "nvidia"},
                "handler": "nvidia",
            }
        ),
    )
    deadline = time.monotonic() + 60
    names = [n["metadata"]["name"] for n in nodes]
    while time.monotonic() < deadline:
        ready = json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
        ok = {
            n["metadata"]["name"]
            for n in ready
            if not any(
                t["key"] == "node.kubernetes.io/not-ready" for t in n["spec"].get("taints", [])
            )
            and any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n["status"].get("conditions", [])
            )
        }
        if set(names) <= ok:
            return
        time.sleep(0.5)
    raise AssertionError(f"nodes {names} did not become Ready")


def pods(cluster: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    return list(
        json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    )


def settle(
    cluster: ControlPlane, namespace: str, expected: int, seconds: float = 60
) -> list[dict[str, Any]]:
    """Wait until `expected` pods exist and none is still waiting for a first scheduling try."""
    deadline = time.monotonic() + seconds
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = pods(cluster, namespace)
        tried = [
            p
            for p in found
            if p["status"].get("phase") == "Running"
            or any(c.get("reason") == "Unschedulable" for c in p["status"].get("conditions", []))
        ]
        if len(found) >= expected and len(tried) == len(found):
            return found
        time.sleep(0.5)
    return found
