"""`Pulumi.<stack>.yaml`, the stack settings file a spec's stack needs."""

from __future__ import annotations

from pathlib import Path

from .spec import LoadedSpec


def stack_file_text(spec: LoadedSpec, spec_path: Path) -> str:
    """The spec the stack deploys and, where it has credentials, the ESC environment it reads
    them from (as `sophia secrets export` names it)."""
    stack = spec.stack or "prod"
    lines = [f"# The {stack} stack: {spec_path} with its `stacks.{stack}` overrides."]
    secrets = spec.platform.secrets
    if secrets is not None:
        lines += ["environment:", f"  - {secrets.esc.project}/{secrets.esc.environment}"]
    lines += ["config:", f"  sophia-ai:spec: {spec_path}"]
    return "\n".join(lines) + "\n"
