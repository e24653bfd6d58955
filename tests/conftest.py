"""Shared fixtures: the repository's paths, throwaway spec files, the data-service API fakes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.pinecone import FakePinecone
from tests.fakes.weaviate import FakeWeaviate

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "specs" / "sophia.yaml"
EXAMPLES = sorted((REPO / "specs" / "examples").glob("*.yaml"))


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[[str | bytes, str], Path]:
    def write(content: str | bytes, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def pinecone() -> Iterator[FakePinecone]:
    """Pinecone's control plane on loopback; nothing may have gone off its document."""
    with FakePinecone() as fake:
        yield fake
        assert fake.faults.contract_violations == []


@pytest.fixture
def weaviate() -> Iterator[FakeWeaviate]:
    """Weaviate's schema API on loopback; nothing may have gone off its document."""
    with FakeWeaviate() as fake:
        yield fake
        assert fake.faults.contract_violations == []
