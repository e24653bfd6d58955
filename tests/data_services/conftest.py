from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.rest import RetryPolicy
from tests.fakes.pinecone import FakePinecone
from tests.fakes.weaviate import FakeWeaviate

FAST_RETRY = RetryPolicy(attempts=6, initial_seconds=0.01, max_seconds=0.05, jitter_seconds=0.01)


@pytest.fixture
def pinecone() -> Iterator[FakePinecone]:
    with FakePinecone() as fake:
        yield fake
        assert fake.faults.contract_violations == []


@pytest.fixture
def weaviate() -> Iterator[FakeWeaviate]:
    with FakeWeaviate() as fake:
        yield fake
        assert fake.faults.contract_violations == []
