from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SPEC


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """specs/sophia.yaml in a directory of its own: the tools edit it."""
    path = tmp_path / "sophia.yaml"
    shutil.copy(SPEC, path)
    return path
