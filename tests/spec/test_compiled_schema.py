"""Large specs are checked first by the schema compiled to Python (fastjsonschema); its
"valid" is trusted, so it must never accept what jsonschema refuses."""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from sophia.spec import load_spec, source
from sophia.spec.errors import InvalidSpecError
from sophia.spec.schema import (
    _compiled_check_passes,
    platform_schema,
    schema_errors,
)
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from run import synthetic_spec, write_spec

ODD_VALUES: list[Any] = [None, "", "x\n", -1, 0, 1.5, 10**12, True, [], {}, "UPPER", "a" * 300]


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) of a document."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    found = []
    for key, child in items:
        found.append((node, key))
        if isinstance(child, dict | list):
            found += _slots(child)
    return found


def _mutations(data: dict[str, Any], count: int, seed: int) -> list[dict[str, Any]]:
    """Copies of `data` with one value somewhere replaced by something odd."""
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        copied = copy.deepcopy(data)
        parent, key = rng.choice(_slots(copied))
        parent[key] = rng.choice(ODD_VALUES)
        result.append(copied)
    return result


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_check_never_accepts_what_jsonschema_refuses(seed: int) -> None:
    full = Draft202012Validator(platform_schema())
    base = synthetic_spec(8)
    for mutated in _mutations(base, 150, seed):
        if _compiled_check_passes(mutated):
            assert list(full.iter_errors(mutated)) == [], mutated


def test_the_repository_specs_agree() -> None:
    full = Draft202012Validator(platform_schema())
    for path in [*REPO.glob("specs/**/*.yaml"), *REPO.glob("tests/specs/*.yaml")]:
        data = source.read_document(path).data
        assert _compiled_check_passes(data) == (not list(full.iter_errors(data))), path


def test_a_large_invalid_spec_gets_jsonschemas_located_errors(tmp_path: Path) -> None:
    path = write_spec(tmp_path / "large.yaml", 400)
    text = path.read_text(encoding="utf-8").replace('"replicas":2', '"replicas":"two"', 1)
    path.write_text(text, encoding="utf-8")
    document = source.read_document(path)
    errors = schema_errors(document)
    assert len(errors) == 1 and "replicas" in errors[0].path and errors[0].line == 3
    with pytest.raises(InvalidSpecError):
        load_spec(path)
