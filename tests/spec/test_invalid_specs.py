"""Every bad spec gets exact one-line errors: FILE:LINE:COL: path: message.

Each case replaces one line of `base_spec.yaml` (a valid spec) and lists every error the
loader must report, in file order — all problems in one run, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from sophia.spec import InvalidSpecError, load_spec
from tests.conftest import SPEC as REPO_SPEC

BASE = Path(__file__).with_name("base_spec.yaml")


class Case(NamedTuple):
    id: str
    line: int
    replacement: str
    errors: list[str]


CASES = [
    Case(
        "api-version",
        1,
        "apiVersion: sophia.ai/v2",
        ["1:1: apiVersion: must be 'sophia.ai/v1', got 'sophia.ai/v2' (a string)"],
    ),
    Case(
        "kind-typo",
        2,
        "kind: Platfrom",
        ["2:1: kind: must be 'Platform', got 'Platfrom' (a string)"],
    ),
    Case(
        "name-not-dns",
        4,
        "  name: Demo_App",
        [
            "4:3: metadata.name: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. 'ai-intelligence'); got 'Demo_App' (a string)"
        ],
    ),
    Case(
        "budget-key-case",
        6,
        "  monthlyUSD: 500",
        [
            "5:1: budget: missing required field 'monthlyUsd'",
            "6:3: budget.monthlyUSD: unknown field 'monthlyUSD' (did you mean 'monthlyUsd'?)",
        ],
    ),
    Case(
        "budget-negative",
        6,
        "  monthlyUsd: -5",
        ["6:3: budget.monthlyUsd: must be greater than 0, got -5"],
    ),
    Case(
        "esc-key-typo",
        9,
        "    organisation: acme",
        [
            "8:3: secrets.esc: missing required field 'organization'",
            "9:5: secrets.esc.organisation: unknown field 'organisation' (did you mean 'organization'?)",
        ],
    ),
    Case(
        "prefix-lowercase",
        12,
        "      prefixes: [openrouter_]",
        [
            "12:18: secrets.groups.ai.prefixes[0]: must be an upper-case environment variable name (e.g. 'OPENROUTER_API_KEY'); got 'openrouter_' (a string)"
        ],
    ),
    Case(
        "key-outside-prefixes",
        13,
        "      keys: [OPENROUTER_API_KEY, TAVILY_API_KEY]",
        [
            "13:34: secrets.groups.ai.keys[1]: key 'TAVILY_API_KEY' starts with none of the group's prefixes ('OPENROUTER_')"
        ],
    ),
    Case(
        "group-name-uppercase",
        11,
        "    AI:",
        [
            "11:5: secrets.groups.AI: key 'AI' must be lowercase letters, digits and '_', starting with a letter (e.g. 'ai_intelligence')"
        ],
    ),
    Case(
        "unknown-instance-type",
        16,
        "    instanceType: gpu_1x_a11",
        [
            "16:5: hosts[gpu-a10].instanceType: unknown instance type 'gpu_1x_a11' (did you mean 'gpu_1x_a10'?); `sophia catalog` lists them"
        ],
    ),
    Case(
        "unknown-region",
        17,
        "    region: us-west-9",
        [
            "17:5: hosts[gpu-a10].region: 'us-west-9' (a string) is not allowed (did you mean 'us-west-3'?)"
        ],
    ),
    Case(
        "ssh-keys-empty", 18, "    sshKeys: []", ["18:5: hosts[gpu-a10].sshKeys: must not be empty"]
    ),
    Case(
        "ssh-keys-two",
        18,
        "    sshKeys: [a, b]",
        ["18:5: hosts[gpu-a10].sshKeys: takes at most 1 item, got 2"],
    ),
    Case(
        "service-name-uppercase",
        20,
        "  - name: API",
        [
            "20:5: services[API].name: must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. 'ai-intelligence'); got 'API' (a string)"
        ],
    ),
    Case(
        "image-without-tag",
        21,
        "    image: ghcr.io/acme/api",
        [
            "21:5: services[api].image: 'ghcr.io/acme/api' has no tag; pin a version such as 'ghcr.io/acme/api:1.0.0' or a digest"
        ],
    ),
    Case(
        "image-latest",
        21,
        "    image: ghcr.io/acme/api:latest",
        [
            "21:5: services[api].image: 'ghcr.io/acme/api:latest' uses ':latest'; pin a version or a digest so deploys are repeatable"
        ],
    ),
    Case(
        "image-malformed",
        21,
        "    image: 'ghcr.io/Acme/API:1.0'",
        [
            "21:5: services[api].image: must be an image reference such as 'ghcr.io/sophia-ai/api:1.4.2' (lowercase repository, an optional :tag and @sha256:digest, no spaces or control characters); got 'ghcr.io/Acme/API:1.0' (a string)"
        ],
    ),
    Case(
        "replicas-not-int",
        22,
        "    replicas: two",
        ["22:5: services[api].replicas: expected an integer, got 'two' (a string)"],
    ),
    Case(
        "replicas-typo",
        22,
        "    replicsa: 2",
        ["22:5: services[api].replicsa: unknown field 'replicsa' (did you mean 'replicas'?)"],
    ),
    Case(
        "replicas-too-many",
        22,
        "    replicas: 101",
        ["22:5: services[api].replicas: must be at most 100, got 101"],
    ),
    Case(
        "port-out-of-range",
        24,
        "      - {name: http, port: 70000}",
        ["24:22: services[api].ports[http].port: must be at most 65535, got 70000"],
    ),
    Case(
        "unknown-secret-group",
        26,
        "      groups: [ai_intel]",
        ["26:16: services[api].secrets.groups[0]: unknown secret group 'ai_intel'; known: 'ai'"],
    ),
    Case(
        "unknown-secret-key",
        26,
        "      keys: [OPENROUTER_KEY]",
        [
            "26:14: services[api].secrets.keys[0]: unknown secret key 'OPENROUTER_KEY' (did you mean 'OPENROUTER_API_KEY'?)"
        ],
    ),
    Case(
        "gpu-type-not-on-host",
        27,
        "    gpu: {count: 1, type: h100}",
        ["27:21: services[api].gpu.type: host 'gpu-a10' has no 'h100' GPU (hosts: gpu-a10 (a10))"],
    ),
    Case(
        "gpu-count-above-host",
        27,
        "    gpu: {count: 2, type: a10}",
        [
            "27:11: services[api].gpu.count: asks for 2 GPUs per pod, but the largest 'a10' host has 1"
        ],
    ),
    Case(
        "gpu-count-not-int",
        27,
        "    gpu: {count: one, type: a10}",
        ["27:11: services[api].gpu.count: expected an integer, got 'one' (a string)"],
    ),
    Case(
        "unknown-host",
        28,
        "    host: gpu-a100",
        ["28:5: services[api].host: unknown host 'gpu-a100' (did you mean 'gpu-a10'?)"],
    ),
    Case(
        "autoscaling-min-above-max",
        29,
        "    autoscaling: {min: 4, max: 3}",
        ["29:19: services[api].autoscaling.min: min (4) is above max (3)"],
    ),
    Case(
        "replicas-outside-autoscaling",
        29,
        "    autoscaling: {min: 3, max: 5}",
        ["22:5: services[api].replicas: replicas (2) is outside autoscaling 3..5"],
    ),
    Case(
        "health-unknown-port",
        30,
        "    health: {path: /healthz, port: web}",
        ["30:30: services[api].health.port: unknown port 'web'; known: 'http'"],
    ),
    Case(
        "health-relative-path",
        30,
        "    health: {path: healthz, port: http}",
        [
            "30:14: services[api].health.path: must be an absolute HTTP path such as '/healthz'; got 'healthz' (a string)"
        ],
    ),
    Case(
        "stack-unknown-service",
        34,
        "      apx: {replicas: 2}",
        ["34:7: stacks.staging.services.apx: unknown service 'apx' (did you mean 'api'?)"],
    ),
    Case(
        "stack-breaks-autoscaling",
        34,
        "      api: {replicas: 1}",
        [
            "34:13: services[api].replicas: in stack 'staging': replicas (1) is outside autoscaling 2..3"
        ],
    ),
    Case(
        "duplicate-key",
        22,
        "    replicas: 2\n    replicas: 3",
        ["23:5: services[0].replicas: duplicate key 'replicas' (first set on line 22)"],
    ),
    Case(
        "duplicate-service-name",
        30,
        "    health: {path: /healthz, port: http}\n  - name: api\n    image: nginx:1.27\n    ports: [{name: http, port: 80}]",
        ["31:5: services[api].name: duplicate service name 'api' (first used on line 20)"],
    ),
    Case(
        "credential-in-env",
        30,
        "    health: {path: /healthz, port: http}\n    env: {OPENAI_API_KEY: sk-123}",
        [
            "31:11: services[api].env.OPENAI_API_KEY: 'OPENAI_API_KEY' looks like a credential; plain env is stored in clear text: list it under secrets.keys instead"
        ],
    ),
    Case(
        "request-above-limit",
        30,
        "    resources: {requests: {cpu: '2'}, limits: {cpu: 1}}",
        ["30:28: services[api].resources.requests.cpu: request 2 is above the limit 1"],
    ),
    Case(
        "bad-memory-quantity",
        30,
        "    resources: {limits: {memory: 4GB}}",
        [
            "30:26: services[api].resources.limits.memory: must be a Kubernetes memory quantity such as '512Mi', '4Gi' or '1G'; got '4GB' (a string)"
        ],
    ),
    Case(
        "bad-cpu-quantity",
        30,
        "    resources: {limits: {cpu: lots}}",
        [
            "30:26: services[api].resources.limits.cpu: must be a Kubernetes CPU quantity such as '500m', '1' or '2.5' (at most 999999 cores); got 'lots' (a string)"
        ],
    ),
    Case(
        "existing-cluster-with-hosts",
        14,
        "cluster: {type: existing}\nhosts:",
        [
            "15:1: hosts: hosts run k3s only with cluster.type: k3s; remove them or change the cluster",
            "29:5: services[api].host: 'host' pins to a spec host; an existing cluster has none (use gpu.type for GPU placement)",
        ],
    ),
    Case(
        "cluster-type-typo",
        14,
        "cluster: {type: k3z}\nhosts:",
        ["14:11: cluster.type: 'k3z' (a string) is not allowed (did you mean 'k3s'?)"],
    ),
    Case(
        "cluster-type-not-a-string",
        14,
        "cluster: {type: []}\nhosts:",
        ["14:11: cluster.type: a list is not allowed; choose one of 'existing', 'k3s'"],
    ),
    Case(
        "cluster-server-unknown",
        14,
        "cluster: {type: k3s, server: gpu-a100}\nhosts:",
        ["14:22: cluster.server: unknown host 'gpu-a100' (did you mean 'gpu-a10'?)"],
    ),
    Case(
        "pdb-blocks-drains",
        30,
        "    disruptionBudget: {minAvailable: 2}",
        [
            "30:24: services[api].disruptionBudget.minAvailable: minAvailable (2) must be below replicas (2) or no node can ever be drained"
        ],
    ),
    Case(
        "env-name-invalid",
        30,
        "    env: {9LIVES: 'yes'}",
        [
            "30:11: services[api].env.9LIVES: key '9LIVES' must be an environment variable name: letters, digits and '_', not starting with a digit"
        ],
    ),
    Case(
        "expose-unknown-service",
        30,
        "    expose: {allowFrom: [web]}",
        ["30:26: services[api].expose.allowFrom[0]: unknown service 'web'; known: 'api'"],
    ),
    Case(
        "custom-tag",
        22,
        "    replicas: !include replicas.txt",
        ["22:15: services[0].replicas: unsupported YAML tag '!include'"],
    ),
    Case(
        "yaml-syntax",
        24,
        "      - {name: http, port: 8080",
        ["25:12: $: invalid YAML: expected ',' or '}', but got ':'"],
    ),
]


def test_base_spec_is_valid() -> None:
    load_spec(BASE)


def test_there_are_at_least_30_distinct_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_spec(case: Case, tmp_path: Path) -> None:
    lines = BASE.read_text(encoding="utf-8").splitlines()
    lines[case.line - 1] = case.replacement
    path = tmp_path / "spec.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(path)
    assert [str(e) for e in raised.value.errors] == [f"{path}:{e}" for e in case.errors]


def test_unknown_stack_is_named_with_a_suggestion() -> None:
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(BASE, stack="stagign")
    assert [str(e) for e in raised.value.errors] == [
        f"{BASE}:31:1: stacks: no stack 'stagign' here (did you mean 'staging'?); stacks: 'staging'"
    ]


def test_schema_and_cross_reference_problems_are_reported_together(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    """The README's example: a typo the schema refuses and a GPU no host has, in one run."""
    path = write_spec(
        "apiVersion: sophia.ai/v1\n"
        "kind: Platform\n"
        "metadata: {name: sophia-ai}\n"
        "budget: {monthlyUsd: 1000}\n"
        "hosts:\n"
        "  - {name: gpu-a10, instanceType: gpu_1x_a10, region: us-west-1, sshKeys: [deploy]}\n"
        "services:\n"
        "  - name: api\n"
        "    image: ghcr.io/sophia-ai/api:1.0\n"
        "    replicsa: 2\n"
        "    host: gpu-a10\n"
        "    gpu: {count: 1, type: h100}\n",
        "spec.yaml",
    )
    with pytest.raises(InvalidSpecError) as caught:
        load_spec(path)
    assert [str(e).split(": ", 1)[1] for e in caught.value.errors] == [
        "services[api].replicsa: unknown field 'replicsa' (did you mean 'replicas'?)",
        "services[api].gpu.type: host 'gpu-a10' has no 'h100' GPU (hosts: gpu-a10 (a10))",
    ]


def test_a_refused_list_item_does_not_invent_reference_errors(
    write_spec: Callable[[str | bytes, str], Path],
) -> None:
    """Where nothing can be set aside safely (a bad list item), only the schema speaks."""
    path = write_spec(
        "apiVersion: sophia.ai/v1\nkind: Platform\nmetadata: {name: x}\n"
        "budget: {monthlyUsd: 10}\nservices: [7]\n",
        "spec.yaml",
    )
    with pytest.raises(InvalidSpecError) as caught:
        load_spec(path)
    assert len(caught.value.errors) == 1


def test_memory_must_be_whole_bytes(write_spec: Callable[[str | bytes, str], Path]) -> None:
    """The API server refuses '198.01Gi' (a fraction of a byte); so does validation."""
    text = (
        (REPO_SPEC.read_text(encoding="utf-8"))
        .replace("requests: {cpu: 100m, memory: 256Mi}", "requests: {cpu: 100m, memory: 0.5Ki}")
        .replace("limits: {cpu: 500m, memory: 512Mi}", "limits: {cpu: 500m, memory: 198.01Gi}")
    )
    with pytest.raises(InvalidSpecError) as caught:
        load_spec(write_spec(text, "sophia.yaml"))
    assert [e.message for e in caught.value.errors] == [
        "198.01Gi is not a whole number of bytes (212611618570.24 B)"
    ]
