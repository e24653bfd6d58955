"""The real Pulumi engine through the Automation API: `sophia up`, `sophia preview --engine pulumi`.

A LocalWorkspace on this project (Pulumi.yaml beside `__main__.py`), the chosen stack, the
policy pack, and the engine's output streamed as it comes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

PROJECT_DIR = Path(__file__).resolve().parent.parent
POLICY_PACK = PROJECT_DIR / "policies"


class PulumiCliMissingError(Exception):
    """The Automation API drives the Pulumi CLI, and it is not installed."""


def require_pulumi_cli() -> str:
    found = shutil.which("pulumi")
    if found is None:
        raise PulumiCliMissingError(
            "the Pulumi CLI is not installed (see https://www.pulumi.com/docs/install/); "
            "`sophia preview` without --engine pulumi needs no CLI"
        )
    return found


def run_engine(
    operation: Literal["preview", "up"],
    stack: str,
    on_output: Callable[[str], None],
    policy_config: Path | None = None,
    project_dir: Path = PROJECT_DIR,
) -> bool:
    """Run `pulumi preview` or `pulumi up` with the policy pack; True when it succeeded."""
    require_pulumi_cli()
    from pulumi import automation as auto

    workspace_stack = auto.select_stack(stack_name=stack, work_dir=str(project_dir))
    configs = [str(policy_config)] if policy_config else None
    try:
        if operation == "preview":
            workspace_stack.preview(
                policy_packs=[str(POLICY_PACK)], policy_pack_configs=configs, on_output=on_output
            )
        else:
            workspace_stack.up(
                policy_packs=[str(POLICY_PACK)], policy_pack_configs=configs, on_output=on_output
            )
    except auto.CommandError:
        return False
    return True
