"""Files that are not specs at all: each gets one clear line, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sophia.spec import InvalidSpecError, load_spec

WriteSpec = Callable[..., Path]

TOO_BIG = b"# padding\n" * (1024 * 1024)  # 10 MiB


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "",
            "1:1: $: the file is empty; a spec starts with 'apiVersion: sophia.ai/v1'",
            id="empty",
        ),
        pytest.param(
            "# only a comment\n\n",
            "1:1: $: the file is empty; a spec starts with 'apiVersion: sophia.ai/v1'",
            id="only-comments",
        ),
        pytest.param(
            b"\x7fELF\x02\x01\x01\x00\x00\x00",
            "1:1: $: is a binary file, not YAML text",
            id="binary",
        ),
        pytest.param(
            b"name: caf\xe9\n", "1:1: $: is not UTF-8 text (bad byte at offset 9)", id="latin-1"
        ),
        pytest.param(
            "- apiVersion: sophia.ai/v1\n- kind: Platform\n",
            "1:1: $: the top level is a list; a spec is a mapping that starts with "
            "'apiVersion: sophia.ai/v1'",
            id="top-level-list",
        ),
        pytest.param(
            "just a string\n",
            "1:1: $: the top level is a single value; a spec is a "
            "mapping that starts with 'apiVersion: sophia.ai/v1'",
            id="top-level-scalar",
        ),
        pytest.param(
            TOO_BIG, "1:1: $: file is 10.0 MiB; a spec may be at most 1 MiB", id="ten-megabytes"
        ),
        pytest.param(
            "a: 1\n---\nb: 2\n",
            "1:1: $: holds 2 YAML documents; a spec is exactly one",
            id="two-documents",
        ),
        pytest.param(
            "a: [1, 2\nb: 3\n",
            "2:2: $: invalid YAML: expected ',' or ']', but got ':'",
            id="syntax-error",
        ),
        pytest.param(
            "a:\n\tb: 1\n",
            "2:1: $: invalid YAML: found character '\\t' that cannot start any token",
            id="tab-indent",
        ),
    ],
)
def test_unreadable_file(write_spec: WriteSpec, content: str | bytes, expected: str) -> None:
    path = write_spec(content)
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(path)
    assert [str(e) for e in raised.value.errors] == [f"{path}:{expected}"]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(path)
    assert [str(e) for e in raised.value.errors] == [f"{path}:1:1: $: file not found"]


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(tmp_path)
    assert [str(e) for e in raised.value.errors] == [
        f"{tmp_path}:1:1: $: is a directory, not a spec file"
    ]


def test_alias_bomb_is_refused_quickly(write_spec: WriteSpec) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = write_spec("\n".join(lines) + "\n")
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(path)
    (error,) = raised.value.errors
    assert error.path == "$"
    assert "expands to more than 100000 values" in error.message


def test_deep_nesting_is_refused(write_spec: WriteSpec) -> None:
    path = write_spec("a: " + "[" * 200 + "]" * 200 + "\n")
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(path)
    assert [e.message for e in raised.value.errors] == ["nesting is deeper than 64 levels"]


def test_all_duplicate_keys_are_reported(write_spec: WriteSpec) -> None:
    path = write_spec(
        "apiVersion: sophia.ai/v1\nkind: Platform\nkind: Platform\nmetadata: {name: a, name: b}\n"
    )
    with pytest.raises(InvalidSpecError) as raised:
        load_spec(path)
    assert [str(e).removeprefix(f"{path}:") for e in raised.value.errors] == [
        "3:1: kind: duplicate key 'kind' (first set on line 2)",
        "4:21: metadata.name: duplicate key 'name' (first set on line 4)",
    ]
