"""Fixtures of the real environment (`make e2e`); every test under tests/e2e is marked `e2e`."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.environment import ControlPlane, control_plane, pulumi_environment
from tests.fakes.esc import FakeEsc, running_fake_esc
from tests.fakes.lambda_cloud import FakeLambdaCloud, running_fake


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with control_plane(tmp_path_factory.mktemp("control-plane")) as plane:
        yield plane


@pytest.fixture
def lambda_cloud() -> Iterator[FakeLambdaCloud]:
    with running_fake() as fake:
        fake.state.boot_polls = 1
        yield fake
        assert fake.state.contract_violations == []


@pytest.fixture
def esc() -> Iterator[FakeEsc]:
    with running_fake_esc() as fake:
        yield fake


@pytest.fixture
def passphrase() -> str:
    return f"e2e-passphrase-{secrets.token_hex(8)}"


@pytest.fixture
def pulumi_env(tmp_path: Path, passphrase: str) -> dict[str, str]:
    return pulumi_environment(tmp_path / "state", passphrase)
