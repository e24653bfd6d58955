"""The spec loader under sustained fuzzing: 10,000 inputs, never a traceback, bounded memory.

2,500 edits of the real spec (which reach every validation layer) and 7,500 arbitrary byte
strings, plus the adversarial shapes a hostile file uses: alias and merge-key bombs, deep
nesting, huge scalars, wide mappings, long lists.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia.spec import InvalidSpecError, validate_document
from sophia.spec.source import parse_document
from tests.conftest import SPEC

BASE = SPEC.read_text(encoding="utf-8")
YAML_TOKENS = st.lists(
    st.sampled_from([*":-[]{},&*!|>'\"#%@` \n\t?", "a", "1", "yes", "~", "<<", "*a", "&a "]),
    max_size=12,
).map("".join)


def outcome(text: str | bytes) -> None:
    try:
        validate_document(parse_document(text, "fuzz.yaml"), Path("fuzz.yaml"))
    except InvalidSpecError as invalid:
        assert invalid.errors and all("\n" not in str(e) for e in invalid.errors)


@settings(
    max_examples=2500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.integers(0, len(BASE)), st.integers(0, 60), YAML_TOKENS)
def test_yaml_edits_of_the_real_spec(start: int, length: int, insert: str) -> None:
    outcome(BASE[:start] + insert + BASE[start + length :])


@settings(max_examples=7500, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes(data: bytes) -> None:
    outcome(data)


ADVERSARIAL = {
    "billion-laughs": "\n".join(
        ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    ),
    "merge-key-bomb": "\n".join(
        ["b0: &b0 {k0: v}"]
        + [f"b{i}: &b{i} {{<<: [*b{i - 1}, *b{i - 1}], k{i}: v}}" for i in range(1, 40)]
    ),
    "deep-flow-nesting": "x: " + "[" * 5000 + "]" * 5000,
    "deep-block-nesting": "".join(f"{' ' * i}k{i}:\n" for i in range(400)),
    "huge-scalar": "apiVersion: sophia.ai/v1\nkind: Platform\nmetadata: {name: '"
    + "x" * 900_000
    + "'}\n",
    "wide-mapping": "\n".join(f"key{i}: {i}" for i in range(60_000)),
    "long-list": "services: [" + ", ".join("{}" for _ in range(100_000)) + "]",
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_documents_are_refused_in_bounded_time_and_memory(name: str) -> None:
    text = ADVERSARIAL[name]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    outcome(text)
    elapsed = time.monotonic() - started
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 512, f"{name}: peak memory grew by {grown_mib:.0f} MiB"
    assert elapsed < 60, (
        f"{name}: {elapsed:.1f} s — a hang, not a slow path"
    )  # a bound, not a speed test
