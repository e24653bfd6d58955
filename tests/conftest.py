"""Shared fixtures: the repository's paths and a way to write throwaway spec files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

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
