"""The real Pulumi engine through the Automation API: `sophia up`, `destroy`, `refresh`,
`outputs` and `preview --engine pulumi`.

The program runs inline (the engine speaks to it over Pulumi's language protocol), for the
spec it is given, in this project's directory so that `Pulumi.<stack>.yaml` applies. The
policy pack is enforced with the config derived from that spec and stack — the same config
`sophia preview` uses — and the engine's output is streamed as it comes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    pass

from .policy_config import policy_config
from .spec import LoadedSpec
from .spec.model import K3sCluster

PROJECT_NAME = "sophia-ai"
PROJECT_DIR = Path(__file__).resolve().parent.parent
POLICY_PACK = PROJECT_DIR / "policies"

Operation = Literal["preview", "up", "destroy", "refresh"]


class EngineError(Exception):
    """The real engine cannot run this here; the message says what is missing and how to fix it."""


class PulumiCliMissingError(EngineError):
    """The Automation API drives the Pulumi CLI, and it is not installed."""


@dataclass(frozen=True)
class EngineResult:
    ok: bool
    outputs: dict[str, Any]


def require_pulumi_cli() -> str:
    found = shutil.which("pulumi")
    if found is None:
        raise PulumiCliMissingError(
            "the Pulumi CLI is not installed (see https://www.pulumi.com/docs/install/, or "
            "`make e2e` builds the pinned one); `sophia preview` without --engine pulumi needs "
            "no CLI"
        )
    return found


def required_plugins(spec: LoadedSpec) -> dict[str, str]:
    """Resource plugins (name → version) the program for this spec needs."""
    platform = spec.platform
    packages = {"kubernetes": "pulumi-kubernetes"}
    if platform.hosts and isinstance(platform.cluster, K3sCluster):
        packages["command"] = "pulumi-command"
    if any(s.build for s in platform.services):
        packages["docker"] = "pulumi-docker"
    found = {}
    for plugin, package in packages.items():
        try:
            found[plugin] = version(package)
        except PackageNotFoundError:
            found[plugin] = ""
    return found


def missing_plugins(pulumi: str, wanted: Mapping[str, str], env: Mapping[str, str]) -> list[str]:
    """Plugins the CLI could not find: not on PATH and not installed in PULUMI_HOME."""
    listed = subprocess.run(
        [pulumi, "plugin", "ls", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=60,
    )
    installed = set()
    if listed.returncode == 0 and listed.stdout.strip():
        installed = {
            (p.get("name"), p.get("version"))
            for p in json.loads(listed.stdout)
            if p.get("kind") == "resource"
        }
    return [
        name
        for name, wanted_version in wanted.items()
        if shutil.which(f"pulumi-resource-{name}") is None
        and (name, wanted_version) not in installed
    ]


def check_plugins(pulumi: str, spec: LoadedSpec, env: Mapping[str, str]) -> None:
    """Fail early and clearly where the CLI would fail late: a plugin it may not download."""
    downloads_off = {**os.environ, **env}.get("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "")
    if downloads_off.lower() not in ("1", "true"):
        return  # the CLI installs a missing plugin itself
    wanted = required_plugins(spec)
    missing = missing_plugins(pulumi, wanted, env)
    if missing:
        installs = "; ".join(f"`pulumi plugin install resource {m} {wanted[m]}`" for m in missing)
        raise EngineError(
            f"resource plugin(s) {', '.join(missing)} not installed and automatic plugin "
            f"downloads are off (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION): {installs}, or "
            "put pulumi-resource-<name> on PATH"
        )


@contextmanager
def _policy_config_file(spec: LoadedSpec, overrides: Mapping[str, Any] | None) -> Iterator[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="policy-config-") as handle:
        json.dump(policy_config(spec.platform, overrides), handle)
        handle.flush()
        yield handle.name


def run_engine(
    operation: Operation,
    spec: LoadedSpec,
    stack: str,
    on_output: Callable[[str], None],
    policy_overrides: Mapping[str, Any] | None = None,
    project_dir: Path = PROJECT_DIR,
    env: Mapping[str, str] | None = None,
) -> EngineResult:
    """Run one engine operation on `stack` for `spec`; ok is False when the engine failed."""
    pulumi_cli = require_pulumi_cli()
    from pulumi import automation as auto

    from .program import run

    env_vars = {"PULUMI_PYTHON_CMD": sys.executable, **(env or {})}
    if operation in ("preview", "up") and not (POLICY_PACK / "venv" / "bin" / "python").exists():
        raise EngineError(
            f"the policy pack's virtualenv {POLICY_PACK / 'venv'} is missing: `make policy-venv`"
        )
    check_plugins(pulumi_cli, spec, env_vars)
    workspace = auto.LocalWorkspaceOptions(work_dir=str(project_dir), env_vars=env_vars)
    stack_ = _selected(stack, workspace, lambda: run(spec.path, stack))
    try:
        with _policy_config_file(spec, policy_overrides) as config_file:
            packs = {"policy_packs": [str(POLICY_PACK)], "policy_pack_configs": [config_file]}
            if operation == "preview":
                stack_.preview(on_output=on_output, **packs)
            elif operation == "up":
                stack_.up(on_output=on_output, **packs)
            elif operation == "destroy":
                stack_.destroy(on_output=on_output)
            else:
                stack_.refresh(on_output=on_output)
    except auto.CommandError:
        return EngineResult(False, {})
    return EngineResult(True, _masked(stack_.outputs()))


def _masked(outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Stack outputs as a user may see them: a secret output (the kubeconfig) stays hidden."""
    return {k: "[secret]" if v.secret else v.value for k, v in outputs.items()}


def _selected(stack: str, workspace: Any, program: Callable[[], None] = lambda: None) -> Any:
    """The project's stack `stack` (an EngineError naming the fix when it does not exist)."""
    from pulumi import automation as auto

    try:
        return auto.select_stack(
            stack_name=stack, project_name=PROJECT_NAME, program=program, opts=workspace
        )
    except auto.StackNotFoundError:
        raise EngineError(
            f"stack '{stack}' does not exist: `sophia stack init {stack}` creates it"
        ) from None


def stack_outputs(
    stack: str, project_dir: Path = PROJECT_DIR, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The outputs of the last deployment of `stack` (secrets hidden)."""
    require_pulumi_cli()
    from pulumi import automation as auto

    workspace = auto.LocalWorkspaceOptions(work_dir=str(project_dir), env_vars=dict(env or {}))
    selected = _selected(stack, workspace)
    try:
        return _masked(selected.outputs())
    except auto.CommandError as problem:
        raise EngineError(
            f"reading the outputs of '{stack}': {str(problem).strip()[:300]}"
        ) from None


def select_stack(stack: str, project_dir: Path = PROJECT_DIR) -> None:
    """Make `stack` the Pulumi CLI's current stack of the project."""
    require_pulumi_cli()
    from pulumi import automation as auto

    _selected(stack, auto.LocalWorkspaceOptions(work_dir=str(project_dir)))
