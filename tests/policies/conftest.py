from __future__ import annotations

from collections.abc import Iterator

import pytest

from sophia.offline.analyzer import PolicyPackProcess
from tests.policies.harness import Pack


@pytest.fixture(scope="session")
def pack() -> Iterator[Pack]:
    with PolicyPackProcess() as process:
        yield Pack(process)
