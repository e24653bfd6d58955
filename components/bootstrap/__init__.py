"""The script that turns a fresh Lambda Cloud instance into a GPU k3s node."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

BODY = Path(__file__).with_name("k3s_node.sh")
DEVICE_PLUGIN_VERSION = "v0.17.0"


@dataclass(frozen=True)
class NodeSettings:
    role: Literal["server", "agent"]
    host_name: str
    gpu_type: str
    k3s_version: str
    public_ip: str
    private_ip: str = ""
    server_url: str = ""
    """https://<server private ip>:6443, for agents."""
    node_token: str = ""
    """The server's join token, for agents (a secret: the rendered script is one too)."""
    labels: Mapping[str, str] = field(default_factory=dict)

    def node_labels(self) -> dict[str, str]:
        return {
            **self.labels,
            "gpu-type": self.gpu_type,
            "nvidia.com/gpu.present": "true",
            "sophia.ai/host": self.host_name,
        }


def render_script(settings: NodeSettings) -> str:
    if settings.role == "agent" and not (settings.server_url and settings.node_token):
        raise ValueError("an agent needs the server URL and the node token")
    values = {
        "K3S_VERSION": settings.k3s_version,
        "ROLE": settings.role,
        "GPU_TYPE": settings.gpu_type,
        "HOST_NAME": settings.host_name,
        "NODE_LABELS": " ".join(f"{k}={v}" for k, v in sorted(settings.node_labels().items())),
        "PUBLIC_IP": settings.public_ip,
        "PRIVATE_IP": settings.private_ip,
        "SERVER_URL": settings.server_url,
        "NODE_TOKEN": settings.node_token,
        "DEVICE_PLUGIN_VERSION": DEVICE_PLUGIN_VERSION,
    }
    header = "\n".join(f"{name}={shlex.quote(value)}" for name, value in values.items())
    return f"#!/usr/bin/env bash\nset -euo pipefail\n{header}\n\n{BODY.read_text(encoding='utf-8')}"
