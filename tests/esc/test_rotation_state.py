"""Export and rotate in every order: GitHub's weekly export never undoes a rotation, a genuine
change in GitHub after a rotation is a conflict (applied only when asked), and every derived
environment follows — against the fake ESC API through the real SDK."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from components.esc import EscGateway
from sophia.secrets.sync import export, rotate
from sophia.spec import load_spec
from tests.conftest import SPEC
from tests.fakes.esc import VALID_TOKEN, FakeEsc

ORG = PROJECT = "sophia-ai"
KEY, GROUP = "OPENROUTER_API_KEY", "ai_intelligence"
Step = tuple[str, str]
"""("github", value): the organisation secret changes; ("export", ""): the weekly export;
("rotate", value): `sophia secrets rotate`."""


def _values(github: str) -> dict[str, str]:
    platform = load_spec(SPEC).platform
    return {k: f"{k}-v0" for k in platform.credential_keys} | {KEY: github}


def _active(esc: FakeEsc) -> str:
    opened = esc.open(ORG, PROJECT, "production-credentials")
    return str(opened[GROUP][KEY]["current"])


def _play(esc: FakeEsc, steps: tuple[Step, ...]) -> list[dict[str, Any]]:
    """Run the steps from a first export of 'v1'; a record per step of what happened."""
    gateway = EscGateway(VALID_TOKEN, esc.url)
    platform = load_spec(SPEC).platform
    github = "v1"
    export(gateway, platform, _values(github), datetime.now(UTC))
    records = []
    for kind, value in steps:
        before = _active(esc)
        outcome = None
        if kind == "github":
            github = value
        elif kind == "export":
            plan = export(gateway, platform, _values(github), datetime.now(UTC))
            outcome = plan
        else:
            rotate(gateway, platform, GROUP, KEY, value, datetime.now(UTC))
        after = _active(esc)
        records.append(
            {"kind": kind, "before": before, "after": after, "plan": outcome, "github": github}
        )
    return records


STEPS: list[Step] = [("github", "v2"), ("export", ""), ("rotate", "r1"), ("github", "v3")]
ORDERINGS = [p for n in range(1, 5) for p in itertools.permutations(STEPS, n)]


@pytest.mark.parametrize("steps", ORDERINGS, ids=lambda s: "-".join(k for k, _ in s))
def test_every_ordering_of_export_and_rotate(esc: FakeEsc, steps: tuple[Step, ...]) -> None:
    records = _play(esc, steps)
    rotated_since_export = False
    for record in records:
        if record["kind"] == "rotate":
            assert record["after"] == "r1"
            rotated_since_export = True
        elif record["kind"] == "export":
            plan = record["plan"]
            label = f"{GROUP}.{KEY}"
            if record["github"] == record["before"]:
                assert label in plan.unchanged and record["after"] == record["before"]
            elif rotated_since_export:
                # The rotation stands, whatever GitHub holds: stale or a conflict, never undone.
                assert record["after"] == record["before"] == "r1"
                assert label in plan.stale + plan.conflicts
            else:
                assert label in plan.rotated and record["after"] == record["github"]
        if record["kind"] == "export" and record["after"] != record["before"]:
            rotated_since_export = False
    # The projection every stack imports always shows the active value.
    opened = esc.open(ORG, PROJECT, "production")
    assert opened["environmentVariables"][KEY] == _active(esc)


def test_the_weekly_export_keeps_a_rotation(esc: FakeEsc) -> None:
    """The reported bug: export, rotate, export with unchanged GitHub secrets."""
    records = _play(esc, (("rotate", "r1"), ("export", "")))
    plan = records[-1]["plan"]
    assert plan.stale == [f"{GROUP}.{KEY}"] and plan.rotated == []
    assert _active(esc) == "r1"


def test_a_github_change_after_a_rotation_is_a_conflict_until_chosen(esc: FakeEsc) -> None:
    records = _play(esc, (("rotate", "r1"), ("github", "v2"), ("export", "")))
    assert records[-1]["plan"].conflicts == [f"{GROUP}.{KEY}"]
    assert _active(esc) == "r1"
    gateway = EscGateway(VALID_TOKEN, esc.url)
    chosen = export(
        gateway, load_spec(SPEC).platform, _values("v2"), datetime.now(UTC), prefer_github=[KEY]
    )
    assert chosen.rotated == [f"{GROUP}.{KEY}"] and _active(esc) == "v2"
    # Taken from GitHub, the next change in GitHub flows again without a choice.
    again = export(gateway, load_spec(SPEC).platform, _values("v3"), datetime.now(UTC))
    assert again.rotated == [f"{GROUP}.{KEY}"] and _active(esc) == "v3"
