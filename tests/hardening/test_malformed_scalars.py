"""Every malformed scalar or structure gets a located one-line error, never a crash; and what
validates goes through every later command. Generated: hostile YAML scalars put in every
scalar position of the real spec."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sophia.offline.analyzer import PolicyPackProcess
from sophia.spec import InvalidSpecError
from tests.conftest import SPEC
from tests.hardening.test_valid_specs_never_crash import _every_later_command

BASE = SPEC.read_text(encoding="utf-8").splitlines(keepends=True)
SCALAR_LINES = [
    i for i, line in enumerate(BASE) if ": " in line and not line.lstrip().startswith("#")
]

HOSTILE = st.one_of(
    st.sampled_from(
        [
            ".inf",
            "-.inf",
            ".nan",
            "!!int abc",
            "!!float x",
            "!!bool maybe",
            "!!binary AAAA",
            '"\\UFFFFFFFF"',
            '"\\U0011FFFF"',
            '"\\uD800"',
            '"\\x00"',
            '"a\\nb"',
            '"\\t"',
            "9" * 4301,
            "1e999",
            "-0",
            "0x1F",
            "0o17",
            "1_000",
            "~",
            "null",
            "[]",
            "{}",
            "&a x",
            "*missing",
            "<<: {}",
            "'ghcr.io/x/a:1\n'",
            '"ghcr.io/x/a:1\\n"',
            '"999999999999999999999Ti"',
            '"99999999999m"',
            "2001-02-03",
            "!!timestamp x",
        ]
    ),
    st.integers(-(2**80), 2**80).map(str),
    st.text(max_size=12).map(
        lambda t: '"' + t.encode("unicode_escape").decode().replace('"', "") + '"'
    ),
)


@pytest.fixture(scope="module")
def pack() -> PolicyPackProcess:
    with PolicyPackProcess() as process:
        yield process  # type: ignore[misc]


def test_hostile_scalars_anywhere(
    tmp_path_factory: pytest.TempPathFactory, pack: PolicyPackProcess
) -> None:
    tally: Counter[str] = Counter()

    @settings(
        max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(st.sampled_from(SCALAR_LINES), HOSTILE)
    def check(line_number: int, scalar: str) -> None:
        lines = list(BASE)
        key, _, _ = lines[line_number].partition(": ")
        lines[line_number] = f"{key}: {scalar}\n"
        path = tmp_path_factory.mktemp("hostile") / "sophia.yaml"
        path.write_text("".join(lines), encoding="utf-8", errors="surrogatepass")
        try:
            _every_later_command(path, pack)
        except InvalidSpecError as invalid:
            for error in invalid.errors:
                text = str(error)
                assert "\n" not in text and error.line >= 1 and error.column >= 1, text
                assert text.startswith(f"{path}:"), text
            tally["refused with a located line"] += 1
            return
        tally["valid, every later command ran"] += 1

    check()
    assert tally["refused with a located line"] > 100, tally
    print(dict(tally))
