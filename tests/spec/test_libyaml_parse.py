"""The spec reader composes with libyaml (C) and resolves with ruamel's YAML 1.2 table: the
data and every location must be exactly what ruamel's own pure-Python composer gives, and a
document libyaml refuses is reported as ruamel reports it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia.spec import source
from sophia.spec.errors import InvalidSpecError
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from run import synthetic_spec

EDGES = """\
apiVersion: sophia.ai/v1
yes11: yes
no11: no
on11: on
octal12: 0o17
octal11: 017
sexagesimal11: 1:20
date: 2024-01-01
stamp: 2001-12-14t21:59:43.10-05:00
inf: .inf
nan: .NaN
under: 1_000
hex: 0x1F
binary: 0b101
null1: ~
null2: null
null3:
bools: [true, True, TRUE, false]
floats: [1.5, -2e3, .5, 6.]
quoted: ["yes", 'no', "1.0", '~']
unicode: é中文 — ok
"clé é": "line\\u00e9"
block: |
  two
  lines
folded: >-
  folded
  text
plain multi: first
  continued
anchors:
  base: &base {a: 1, b: [x, y]}
  merged: {<<: *base, c: 2}
  list: [*base, *base]
explicit: !!str 123
flow: {k: [1, {n: v}], "q": 'r'}
"""


def both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    def outcome() -> Any:
        try:
            doc = source.parse_document(text, "spec.yaml")
        except InvalidSpecError as invalid:
            return ("invalid", [str(e) for e in invalid.errors])
        return (doc.data, doc.locations)

    fast = outcome()
    with monkeypatch.context() as m:

        def refuse(*_args: object, **_kwargs: object) -> Any:
            raise source.libyaml.YAMLError("forced: compose with ruamel")

        m.setattr(source.libyaml, "compose_all", refuse)
        slow = outcome()
    return fast, slow


def _repo_specs() -> list[Path]:
    return sorted([*REPO.glob("specs/**/*.yaml"), *REPO.glob("tests/specs/*.yaml")])


@pytest.mark.parametrize("path", _repo_specs(), ids=lambda p: p.name)
def test_every_spec_of_the_repository_reads_the_same(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = both(path.read_text(encoding="utf-8"), monkeypatch)
    assert fast == slow


def test_yaml_1_2_edges_read_as_ruamel_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both(EDGES, monkeypatch)
    assert fast == slow
    data = fast[0]
    assert (data["yes11"], data["on11"], data["octal12"], data["octal11"]) == ("yes", "on", 15, 17)
    assert data["sexagesimal11"] == "1:20" and data["date"] == "2024-01-01"
    assert data["quoted"] == ["yes", "no", "1.0", "~"] and data["explicit"] == "123"
    assert data["anchors"]["merged"] == {"a": 1, "b": ["x", "y"], "c": 2}
    assert fast[1][("clé é",)] == source.Location(22, 1)
    assert fast[1][("unicode",)].line == 21


def test_a_generated_platform_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from ruamel.yaml import YAML

    out = io.StringIO()
    YAML().dump(synthetic_spec(60), out)
    fast, slow = both(out.getvalue(), monkeypatch)
    assert fast == slow


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\n",  # unclosed flow
        "a: 1\n\tb: 2\n",  # a tab
        "a: *nowhere\n",  # undefined alias
        "a: 1\na: 2\n",  # duplicate key (the walker's)
        "%YAML 1.2\n---\na: 1\n",
        "a: !custom 1\n",
        "a: '\\x'\n",
        'a: "\\UFFFFFFFF"\n',
        "- 1\n- 2\n",
        "a: 1\n---\nb: 2\n",
    ],
)
def test_broken_documents_are_reported_as_ruamel_reports_them(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = both(text, monkeypatch)
    assert fast == slow


_SCALARS = st.sampled_from(
    ["yes", "No", "on", "0o17", "017", "0x1f", "1_0", "1:2", "~", "null", "", "1e3", ".5", "-.inf",
     "true", "2024-01-01", "'q'", '"d"', "a b", "é", "-", "?x", "a:b", "# c", "[1]", "{a: 1}"]
)  # fmt: skip


@given(st.lists(st.tuples(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _SCALARS), max_size=12))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_mappings_read_the_same(pairs: list[tuple[str, str]]) -> None:
    text = "".join(f"{key}: {value}\n" for key, value in pairs) or "a: 1\n"
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = both(text, monkeypatch)
    assert fast == slow
