from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.esc import EnvironmentRef, EscGateway
from tests.fakes.esc import VALID_TOKEN, FakeEsc, running_fake_esc

CREDENTIALS = EnvironmentRef("sophia-ai", "sophia-ai", "production-credentials")
PROJECTION = EnvironmentRef("sophia-ai", "sophia-ai", "production")


@pytest.fixture
def esc() -> Iterator[FakeEsc]:
    with running_fake_esc() as fake:
        yield fake


@pytest.fixture
def gateway(esc: FakeEsc) -> EscGateway:
    return EscGateway(VALID_TOKEN, esc.url)
