"""The Pulumi program: build the stack a spec describes. `__main__.py` and `sophia up` run it.

`pulumi up` in this directory runs `__main__.py` (the spec named in stack config); `sophia up
SPEC` runs the same function inline through the Automation API, for the spec it is given.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from .builder import MissingConfigError, build_platform, export_outputs, stack_config_lookup
from .spec import InvalidSpecError, load_spec

DEFAULT_SPEC = "specs/sophia.yaml"


def run(spec_path: str | Path, stack: str | None = None) -> None:
    """Build every resource of `spec_path` for `stack` (default: the engine's stack)."""
    config = pulumi.Config()
    try:
        spec = load_spec(Path(spec_path), stack=stack or pulumi.get_stack())
        export_outputs(build_platform(spec, stack_config_lookup(config)))
    except (InvalidSpecError, MissingConfigError) as problem:
        raise pulumi.RunError(str(problem)) from None


def main() -> None:
    """`__main__.py`: the spec named by the stack's `sophia-ai:spec` config."""
    run(pulumi.Config().get("spec") or DEFAULT_SPEC)
