"""A long-lived process (the MCP server) runs the program again and again: nothing may pile up."""

from __future__ import annotations

import pickle

from sophia.offline.runner import run_spec
from sophia.spec import load_spec
from tests.conftest import SPEC


def test_serializing_dynamic_providers_leaves_the_pickler_as_it_was() -> None:
    """pulumi.dynamic wraps pickle's `_batch_setitems` once per dynamic resource and never
    unwraps it; after ~1000 of them a process died of RecursionError. The runner restores it."""
    before = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    spec = load_spec(SPEC, "prod")
    for _ in range(3):
        run_spec(spec, "prod")
    assert pickle._Pickler._batch_setitems is before  # type: ignore[attr-defined]


def test_each_run_has_the_root_stack_of_its_own_stack() -> None:
    """The MCP server previews prod, then staging: parents must not keep prod's stack URN."""
    spec = load_spec(SPEC, None)
    for stack in ("prod", "staging", "prod"):
        resources, _ = run_spec(load_spec(SPEC, stack), stack)
        top = [r for r in resources if r.type == "kubernetes:core/v1:Namespace"]
        assert (
            top[0].parent
            == f"urn:pulumi:{stack}::sophia-ai::pulumi:pulumi:Stack::sophia-ai-{stack}"
        )
    assert spec.platform.stacks
