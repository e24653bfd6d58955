"""LambdaGpuHost wired into the builder: one k3s server, or a server and agents."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.sync_await import _sync_await

from components.gpu_host import kubeconfig_for
from sophia.offline.render import redact
from sophia.offline.runner import is_secret, unwrap_secrets
from tests.components.conftest import CANARY, Run, run
from tests.conftest import REPO

MULTI = REPO / "specs" / "examples" / "multi-host.yaml"
COMMAND = "command:remote:Command"
INSTANCE = "pulumi-python:dynamic/lambda:Instance"


def _by_name(run_: Run, type_: str) -> dict[str, dict[str, object]]:
    return {r.name: r.properties for r in run_.of_type(type_)}


def test_single_host_runs_the_server_and_feeds_the_provider(sophia_run: Run) -> None:
    (instance,) = sophia_run.of_type(INSTANCE)
    assert instance.name == "gpu-a10-instance"
    props = unwrap_secrets(instance.properties)
    assert props["name"] == "sophia-ai-prod-gpu-a10"
    assert (props["instance_type_name"], props["region_name"]) == ("gpu_1x_a10", "us-west-1")
    assert props["ssh_key_names"] == ["sophia-deploy"]
    assert is_secret(instance.properties["api_key"])
    commands = _by_name(sophia_run, COMMAND)
    assert set(commands) == {"gpu-a10-bootstrap", "gpu-a10-kubeconfig", "gpu-a10-node-token"}
    script = commands["gpu-a10-bootstrap"]["create"]
    assert is_secret(script)
    text = unwrap_secrets(script)
    assert "ROLE=server" in text and "gpu-type=a10" in text
    assert "sophia.ai/pool=gpu" in text  # the host's labels from the spec
    connection = commands["gpu-a10-bootstrap"]["connection"]
    assert is_secret(connection)  # it holds the SSH private key
    assert unwrap_secrets(connection)["user"] == "ubuntu"
    provider = next(r for r in sophia_run.resources if r.type == "pulumi:providers:kubernetes")
    assert is_secret(provider.properties["kubeconfig"])
    kubeconfig = unwrap_secrets(provider.properties["kubeconfig"])
    assert "https://192.0.2." in kubeconfig and "127.0.0.1" not in kubeconfig


def test_multi_host_server_then_agents_with_their_own_labels() -> None:
    multi = run(MULTI)
    instances = sorted(r.name for r in multi.of_type(INSTANCE))
    assert instances == ["gpu-a10-instance", "gpu-a100-instance"]  # both launch in parallel
    commands = {r.name: r for r in multi.of_type(COMMAND)}
    assert set(commands) == {
        "gpu-a10-bootstrap",
        "gpu-a10-kubeconfig",
        "gpu-a10-node-token",
        "gpu-a100-bootstrap",
    }
    server = unwrap_secrets(commands["gpu-a10-bootstrap"].properties["create"])
    agent = unwrap_secrets(commands["gpu-a100-bootstrap"].properties["create"])
    assert "ROLE=server" in server and "gpu-type=a10 " in server
    assert "ROLE=agent" in agent and "gpu-type=a100 " in agent
    assert "SERVER_URL=https://10.0.0." in agent  # joins over the private network
    assert "NODE_TOKEN=offline-placeholder:node-token" in agent
    # The agent waits for the server's token: it is registered after, and depends on it.
    order = [r.name for r in multi.resources]
    assert order.index("gpu-a100-bootstrap") > order.index("gpu-a10-node-token")
    token_urn = commands["gpu-a10-node-token"].urn
    assert token_urn in commands["gpu-a100-bootstrap"].dependencies


def test_hosts_expose_gpu_and_kubeconfig_outputs(sophia_run: Run) -> None:
    host = sophia_run.stack.hosts["gpu-a10"]
    assert (host.gpu_type, host.gpu_count) == ("a10", 1)
    assert host.kubeconfig is not None and host.server_url is not None
    assert _sync_await(host.kubeconfig.is_secret())
    assert _sync_await(host.server_url.future()).startswith("https://10.0.0.")


def test_no_credential_in_plain_host_inputs(sophia_run: Run) -> None:
    for r in sophia_run.of_type(INSTANCE) + sophia_run.of_type(COMMAND):
        assert CANARY not in json.dumps(redact(r.properties))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("server: https://127.0.0.1:6443\n", "server: https://198.51.100.2:6443\n"),
        ("server: https://localhost:6443\n", "server: https://198.51.100.2:6443\n"),
    ],
)
def test_kubeconfig_server_is_rewritten(raw: str, expected: str) -> None:
    assert kubeconfig_for(raw, "198.51.100.2") == expected
