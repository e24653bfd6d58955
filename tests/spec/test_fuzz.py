"""Property tests: no input, however mangled, makes the loader raise anything but its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia.spec import InvalidSpecError, validate_document
from sophia.spec.source import parse_document, read_document
from tests.conftest import SPEC

BASE_TEXT = SPEC.read_text(encoding="utf-8")
BASE_DATA = read_document(SPEC).data

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(["", "latest", "a10", "gpu-a10", "500m", "4Gi", "ai_intelligence", "k3s"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, (*prefix, index))
    return found


ALL_PATHS = _paths(BASE_DATA)[1:]


def _check_outcome(text: str) -> None:
    try:
        validate_document(parse_document(text, "fuzz.yaml"), Path("fuzz.yaml"))
    except InvalidSpecError as invalid:
        assert invalid.errors
        for error in invalid.errors:
            assert "\n" not in str(error)
            assert error.line >= 1 and error.column >= 1
            assert str(error).startswith("fuzz.yaml:")


@st.composite
def mutated_specs(draw: st.DrawFn) -> str:
    data = json.loads(json.dumps(BASE_DATA))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "rename", "add"]))
            last = path[-1]
            if action == "replace":
                parent[last] = draw(values)
            elif action == "delete":
                del parent[last]
            elif action == "rename" and isinstance(parent, dict):
                parent[str(last) + draw(st.text(min_size=1, max_size=3))] = parent.pop(last)
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.text(max_size=10))] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue
    return json.dumps(data, allow_nan=True)  # JSON is YAML


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_never_crash(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(BASE_TEXT)), st.integers(0, 40), st.text(max_size=20))
def test_edited_text_never_crashes(start: int, length: int, insert: str) -> None:
    _check_outcome(BASE_TEXT[:start] + insert + BASE_TEXT[start + length :])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _check_outcome(text)
