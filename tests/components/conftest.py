"""Runs of the real program under Pulumi's mock monitor, shared by the component tests."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from sophia.builder import PlatformStack
from sophia.offline.runner import RecordedResource, run_spec
from sophia.spec import load_spec
from tests.conftest import EXAMPLES, SPEC

CANARY = "CANARY-7f3a9c2e"


def canary_config(key: str) -> pulumi.Output[str]:
    """Every credential and the kubeconfig: a recognisable value that must never leak."""
    return pulumi.Output.secret(f"{CANARY}-{key}")


class Run:
    def __init__(self, resources: list[RecordedResource], stack: PlatformStack) -> None:
        self.resources = resources
        self.stack = stack

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str) -> dict[str, Any]:
        (found,) = [r for r in self.of_type(type_) if r.name == name]
        return found.properties

    def deployments(self) -> dict[str, dict[str, Any]]:
        return {
            r.properties["metadata"]["name"]: r.properties
            for r in self.of_type("kubernetes:apps/v1:Deployment")
        }


def run(spec_path: Any = SPEC, stack: str = "prod") -> Run:
    return Run(*run_spec(load_spec(spec_path, stack), stack, canary_config))


@pytest.fixture(scope="module")
def sophia_run() -> Run:
    return run()


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def example_run(request: pytest.FixtureRequest) -> Run:
    return run(request.param)
