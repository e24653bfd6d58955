"""Secret-leak audit: a canary in every secret input; none may surface anywhere in clear.

Secret inputs: every credential (stack config from ESC), the kubeconfig, the hosts' SSH
private key, the Lambda API key and the Pulumi access token. Places checked: the engine's
wire properties outside secret wrappers, the mock monitor's state, the pickled dynamic
providers, rendered manifests, the preview's JSON and report, policy messages, logs and
exception texts.
"""

from __future__ import annotations

import base64
import io
import json
import logging
from typing import Any

import pulumi
import pytest
from rich.console import Console

from sophia.builder import MissingConfigError, build_platform
from sophia.costs import estimate_costs, service_costs
from sophia.offline.analyzer import PolicyPackProcess
from sophia.offline.preview import PreviewResult, check_resources, to_json
from sophia.offline.render import manifests, redact
from sophia.offline.report import markdown, render
from sophia.offline.runner import run_under_mocks, unwrap_secrets
from sophia.spec import load_spec
from tests.conftest import EXAMPLES, SPEC

CANARY = "CANARY-leak-91c3e7"


def canary_config(key: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(f"{CANARY}-{key}")


def _everything(spec_path: Any, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    spec = load_spec(spec_path, "prod" if load_spec(spec_path).platform.stacks else None)
    caplog.set_level(logging.DEBUG)
    resources, _ = run_under_mocks(lambda: build_platform(spec, canary_config), "prod")
    with PolicyPackProcess() as pack:
        diagnostics = check_resources(pack, resources, "prod", {})
    costs = estimate_costs(spec.platform)
    result = PreviewResult(
        spec, "prod", resources, diagnostics, costs, service_costs(spec.platform, costs), None
    )
    console = Console(file=io.StringIO(), width=200)
    console.print(render(result))
    pickled = [
        base64.b64decode(unwrap_secrets(r.properties)["__provider"]).decode("latin-1")
        for r in resources
        if "__provider" in r.properties
    ]
    return {
        "wire properties outside secrets": json.dumps([redact(r.properties) for r in resources]),
        "rendered manifests": json.dumps(manifests(resources)),
        "preview --json": json.dumps(to_json(result)),
        "preview report": console.file.getvalue(),  # type: ignore[attr-defined]
        "PR comment": markdown(result),
        "policy messages": json.dumps([d.message for d in diagnostics]),
        "pickled providers": "\n".join(pickled),
        "logs": caplog.text,
    }


@pytest.mark.parametrize("spec_path", [SPEC, *EXAMPLES], ids=lambda p: p.stem)
def test_no_canary_anywhere(spec_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    places = _everything(spec_path, caplog)
    assert places["pickled providers"] or spec_path != SPEC  # the audit really saw providers
    leaked = [where for where, text in places.items() if CANARY in text]
    assert leaked == []


def test_canaries_did_go_in(caplog: pytest.LogCaptureFixture) -> None:
    """The audit is meaningful only if the canaries reached the program's secret inputs."""
    spec = load_spec(SPEC, "prod")
    resources, _ = run_under_mocks(lambda: build_platform(spec, canary_config), "prod")
    inside = json.dumps([r.properties for r in resources])
    for key in ("openrouterApiKey", "lambdaApiKey", "pulumiAccessToken", "sshPrivateKey"):
        assert f"{CANARY}-{key}" in inside, key


def test_errors_name_keys_never_values() -> None:
    def half(key: str) -> pulumi.Output[str] | None:
        return None if key == "tavilyApiKey" else canary_config(key)

    with pytest.raises(MissingConfigError) as raised:
        run_under_mocks(lambda: build_platform(load_spec(SPEC, "prod"), half))
    assert "tavilyApiKey" in str(raised.value) and CANARY not in str(raised.value)
