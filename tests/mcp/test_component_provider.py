"""The component provider started as the CLI starts it, asked for its schema over gRPC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from tests.conftest import REPO

PROVIDER_DIR = REPO / "provider"


@pytest.fixture(scope="module")
def schema() -> Iterator[dict[str, object]]:
    # The language host runs the plugin directory with the engine's address as argument.
    process = subprocess.Popen(
        [sys.executable, str(PROVIDER_DIR), "127.0.0.1:1"],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            response = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
        yield json.loads(response.schema)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_three_components_are_in_the_schema(schema: dict[str, object]) -> None:
    assert schema["name"] == "sophia"
    resources = schema["resources"]
    assert isinstance(resources, dict)
    assert set(resources) == {
        "sophia:index:SophiaMicroservice",
        "sophia:index:EscSecretBundle",
        "sophia:index:LambdaGpuHost",
    }
    assert all(r["isComponent"] for r in resources.values())


def test_inputs_and_outputs(schema: dict[str, object]) -> None:
    resources = schema["resources"]
    assert isinstance(resources, dict)
    service = resources["sophia:index:SophiaMicroservice"]
    assert set(service["requiredInputs"]) == {"namespace", "image"}
    inputs = service["inputProperties"]
    for name in (
        "replicas",
        "ports",
        "gpuCount",
        "gpuType",
        "maxReplicas",
        "secretEnvFrom",
        "secretsChecksum",
        "minAvailable",
        "allowFrom",
    ):
        assert name in inputs, name
    assert inputs["replicas"]["type"] == "integer"
    assert "Pods to run" in inputs["replicas"]["description"]
    assert set(service["properties"]) >= {"serviceDnsName", "deploymentName", "imageRef"}
    bundle = resources["sophia:index:EscSecretBundle"]
    assert set(bundle["requiredInputs"]) == {"namespace", "groups", "values"}
    host = resources["sophia:index:LambdaGpuHost"]
    assert {"instanceType", "region", "sshKeyName", "sshPrivateKey"} <= set(host["requiredInputs"])
    assert {"kubeconfig", "ip", "gpuType"} <= set(host["properties"])


def test_plugin_file_points_at_the_python_runtime() -> None:
    text = (PROVIDER_DIR / "PulumiPlugin.yaml").read_text()
    assert "name: python" in text


def test_the_provider_components_build_from_plain_args() -> None:
    sys.path.insert(0, str(PROVIDER_DIR))
    try:
        import sophia_provider as sp
    finally:
        sys.path.remove(str(PROVIDER_DIR))
    from sophia.offline.runner import run_under_mocks

    resources, _ = run_under_mocks(
        lambda: sp.SophiaMicroservice(
            "api",
            {
                "namespace": "apps",
                "image": "ghcr.io/acme/api:1.0.0",
                "replicas": 2,
                "ports": [{"name": "http", "port": 8080}],
                "gpu_count": 1,
                "gpu_type": "a10",
                "max_replicas": 3,
                "min_available": 1,
            },
        )
    )
    types = sorted(r.type for r in resources)
    assert types.count("kubernetes:apps/v1:Deployment") == 1
    assert "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" in types
    (deployment,) = [r for r in resources if r.type == "kubernetes:apps/v1:Deployment"]
    pod = deployment.properties["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"gpu-type": "a10"} and pod["runtimeClassName"] == "nvidia"
    with pytest.raises(ValueError, match="service_type must be one of"):
        sp._service_type("Ingress")
