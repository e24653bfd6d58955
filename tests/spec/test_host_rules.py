"""Host rules: one region per k3s cluster, CPU architecture, unique cloud names, the catalog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from components.catalog import load_catalog
from components.lambda_cloud.resources import MAX_NAME_LENGTH, instance_name
from sophia.spec import InvalidSpecError, load_spec

HEAD = """\
apiVersion: sophia.ai/v1
kind: Platform
metadata: {name: sophia-ai}
budget: {monthlyUsd: 10000}
hosts:
"""


def _errors(write: Callable[[str | bytes, str], Path], text: str) -> list[str]:
    with pytest.raises(InvalidSpecError) as caught:
        load_spec(write(text, "spec.yaml"))
    return [f"{e.path}: {e.message}" for e in caught.value.errors]


def test_hosts_of_one_cluster_share_the_servers_region(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    text = HEAD + (
        "  - {name: a, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k]}\n"
        "  - {name: b, instanceType: gpu_1x_a10, region: us-east-1, sshKeys: [k]}\n"
    )
    assert _errors(write_spec, text) == [
        "hosts[b].region: host 'b' is in us-east-1 but the k3s server 'a' is in us-west-1: "
        "Lambda's private network is per region, so agents join only in the server's region"
    ]


def test_an_amd64_image_is_refused_on_an_arm64_host(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    text = HEAD + (
        "  - {name: grace, instanceType: gpu_1x_gh200, region: us-east-1, sshKeys: [k]}\n"
        "services:\n"
        "  - {name: api, image: 'ghcr.io/x/api:1.0', host: grace, platform: linux/amd64}\n"
    )
    assert _errors(write_spec, text) == [
        "services[api].platform: the image is linux/amd64 but host(s) grace run arm64; build "
        "for that platform or place the service on another host"
    ]
    assert load_spec(write_spec(text.replace("linux/amd64", "linux/arm64"), "ok.yaml"))


def test_long_names_get_distinct_instances() -> None:
    prefix = "sophia-ai-production-" + "x" * 30
    first = instance_name(prefix, "gpu-h100-inference-primary")
    second = instance_name(prefix, "gpu-h100-inference-secondary")
    assert len(first) <= MAX_NAME_LENGTH and len(second) <= MAX_NAME_LENGTH
    assert first != second  # plain truncation made them one instance
    assert instance_name("sophia-ai-prod", "gpu-a10") == "sophia-ai-prod-gpu-a10"


def test_catalog_knows_every_listed_type_with_architecture_and_gpu_memory() -> None:
    catalog = load_catalog()
    a100 = catalog.get("gpu_1x_a100")
    assert a100 is not None and a100.gpu_type == "a100" and a100.gpu_memory_gib == 40
    assert catalog.get("gpu_1x_gh200").architecture == "arm64"  # type: ignore[union-attr]
    assert {t.architecture for t in catalog if "gh200" not in t.name} == {"x86_64"}
    assert all(t.gpu_memory_gib > 0 for t in catalog)


def test_volumes_do_not_collide(write_spec: Callable[[str | bytes, str], Path]) -> None:
    text = (
        "apiVersion: sophia.ai/v1\nkind: Platform\nmetadata: {name: x}\nbudget: {monthlyUsd: 10}\n"
        "cluster: {type: existing}\nservices:\n"
        "  - name: api\n    image: 'ghcr.io/x/api:1.0'\n    volumes:\n"
        "      - {name: tmp, mountPath: /cache}\n"
        "      - {name: weights, mountPath: /tmp/, claim: weights, memory: true}\n"
    )
    assert _errors(write_spec, text) == [
        "services[api].volumes[tmp].name: volume name 'tmp' is taken (so is 'tmp')",
        "services[api].volumes[weights].mountPath: /tmp/ is mounted already",
        "services[api].volumes[weights].memory: a claim is a persistent volume, not memory",
    ]


FILE_SYSTEMS = HEAD.replace(
    "hosts:\n", "fileSystems:\n  - {name: weights, region: us-west-1}\nhosts:\n"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  - {name: a, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k],"
            " fileSystems: [wieghts]}\n",
            "hosts[a].fileSystems[0]: unknown file system 'wieghts' (did you mean 'weights'?)",
        ),
        (
            "  - {name: a, instanceType: gpu_1x_a10, region: us-east-1, sshKeys: [k],"
            " fileSystems: [weights]}\n",
            "hosts[a].fileSystems[0]: file system 'weights' is in us-west-1 but host 'a' is in "
            "us-east-1: Lambda mounts a file system only in its own region",
        ),
        (
            "  - {name: a, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k]}\n"
            "services:\n  - name: api\n    image: 'ghcr.io/x/api:1.0'\n    volumes:\n"
            "      - {name: w, mountPath: /w, fileSystem: weights}\n",
            "services[api].volumes[w].fileSystem: no host mounts file system 'weights'; add it "
            "to a host's fileSystems",
        ),
        (
            "  - {name: a, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k],"
            " fileSystems: [weights]}\n"
            "  - {name: b, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k]}\n"
            "services:\n  - name: api\n    image: 'ghcr.io/x/api:1.0'\n    host: b\n"
            "    volumes:\n      - {name: w, mountPath: /w, fileSystem: weights}\n",
            "services[api].volumes[w].fileSystem: host 'b' does not mount file system "
            "'weights'; add it to the host's fileSystems or run on 'a'",
        ),
        (
            "  - {name: a, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k],"
            " fileSystems: [weights]}\n"
            "services:\n  - name: api\n    image: 'ghcr.io/x/api:1.0'\n    volumes:\n"
            "      - {name: w, mountPath: /w, fileSystem: weights, claim: other}\n",
            "services[api].volumes[w].fileSystem: a volume is a file system, a claim or "
            "memory: one of them",
        ),
    ],
)
def test_file_systems_are_declared_in_the_hosts_region_and_mounted_where_used(
    write_spec: Callable[[str | bytes, str], Path], body: str, expected: str
) -> None:
    assert _errors(write_spec, FILE_SYSTEMS + body) == [expected]


def test_a_file_system_volume_on_an_existing_cluster_is_refused(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    text = FILE_SYSTEMS.replace("hosts:\n", "cluster: {type: existing}\n") + (
        "services:\n  - name: api\n    image: 'ghcr.io/x/api:1.0'\n    volumes:\n"
        "      - {name: w, mountPath: /w, fileSystem: weights}\n"
    )
    (error,) = _errors(write_spec, text)
    assert error.startswith("services[api].volumes[w].fileSystem: Lambda file systems are mounted")


@pytest.mark.parametrize(
    ("networks", "fragment"),
    [
        ("[10.0.0.1/8]", "has host bits set"),
        ("[not-a-network]", "is not an IPv4 network"),
        ("['::/0']", "is not an IPv4 network"),
        ("[]", "must not be empty"),
    ],
)
def test_firewall_networks_must_be_ipv4_cidrs(
    write_spec: Callable[[str | bytes, str], Path], networks: str, fragment: str
) -> None:
    text = HEAD + (
        "  - {name: a, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [k]}\n"
        f"cluster: {{type: k3s, firewall: {{adminNetworks: {networks}}}}}\n"
    )
    (error,) = _errors(write_spec, text)
    assert error.startswith(
        ("cluster.firewall.adminNetworks:", "cluster.firewall.adminNetworks[0]:")
    )
    assert fragment in error, error
