"""`sophia secrets audit` against the fake's audit log: who opened which environment, each
credential's last read, and the flags (overdue, unread) — paging through the log as the API
pages, bounded by the window."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from components.esc import EnvironmentRef, EscGateway
from sophia.secrets.sync import export
from sophia.spec import load_spec
from tests.conftest import REPO, SPEC
from tests.esc.test_secrets_cli import CANARY, canaries
from tests.fakes.esc import AUDIT_PAGE, VALID_TOKEN, FakeEsc

SOPHIA = str(Path(sys.executable).with_name("sophia"))
ALICE = "pul-alice00000000000000000000000000000000"
BOB = "pul-bob0000000000000000000000000000000000"


def _audit(esc: FakeEsc, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PULUMI_ACCESS_TOKEN": VALID_TOKEN, "PULUMI_BACKEND_URL": esc.url}
    return subprocess.run(
        [SOPHIA, "secrets", "audit", "--spec", str(SPEC), "--json", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )


def _open(esc: FakeEsc, token: str, name: str, at: datetime) -> None:
    esc.state.clock = at.timestamp()
    EscGateway(token, esc.url).open_values(EnvironmentRef("sophia-ai", "sophia-ai", name))


def _setup(esc: FakeEsc) -> datetime:
    now = datetime.now(UTC)
    esc.state.users |= {ALICE: "alice", BOB: "bob"}
    esc.state.clock = (now - timedelta(days=2)).timestamp()
    export(EscGateway(VALID_TOKEN, esc.url), load_spec(SPEC).platform, canaries(), now)
    return now


def test_who_read_what_and_what_nobody_reads(esc: FakeEsc) -> None:
    now = _setup(esc)
    _open(esc, ALICE, "production-mcp-tavily", now - timedelta(hours=5))
    _open(esc, BOB, "production-infrastructure", now - timedelta(hours=3))
    _open(esc, ALICE, "production-mcp-tavily", now - timedelta(hours=1))
    esc.state.clock = None
    result = _audit(esc)
    assert result.returncode == 1, result.stderr  # most credentials nobody read
    assert CANARY not in result.stdout + result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    opened = [
        (e["user"], e["environment"])
        for e in report["events"]
        if e["event"] == "Environment Opened"
    ]
    assert opened == [
        ("alice", "sophia-ai/production-mcp-tavily"),
        ("bob", "sophia-ai/production-infrastructure"),
        ("alice", "sophia-ai/production-mcp-tavily"),
    ]
    by_key = {c["key"]: c for c in report["credentials"]}
    tavily = by_key["TAVILY_API_KEY"]
    assert tavily["readers"] == ["alice"] and tavily["flags"] == []
    assert tavily["last_read"] == (now - timedelta(hours=1)).replace(microsecond=0).isoformat()
    assert by_key["LAMBDA_API_KEY"]["readers"] == ["bob"]
    assert by_key["OPENROUTER_API_KEY"]["flags"] == ["unread"]
    assert by_key["PINECONE_API_KEY"]["last_read"] is None


def test_the_window_bounds_the_log_and_pages_are_followed(esc: FakeEsc) -> None:
    now = _setup(esc)
    _open(esc, BOB, "production", now - timedelta(days=40))  # outside a 30-day window
    for minute in range(AUDIT_PAGE * 2 + 7):  # three pages of opens
        _open(esc, ALICE, "production-mcp-pinecone", now - timedelta(minutes=minute + 1))
    esc.state.clock = None
    report = json.loads(_audit(esc, "--days", "30").stdout)
    opened = [e for e in report["events"] if e["event"] == "Environment Opened"]
    assert len(opened) == AUDIT_PAGE * 2 + 7
    assert {e["user"] for e in opened} == {"alice"}  # bob's open is 40 days old
    wide = json.loads(_audit(esc, "--days", "60").stdout)
    assert any(e["user"] == "bob" for e in wide["events"])
    by_key = {c["key"]: c for c in wide["credentials"]}
    assert by_key["OPENROUTER_API_KEY"]["readers"] == ["bob"]  # the stack's environment has all


def test_overdue_credentials_are_flagged_and_the_table_reads(esc: FakeEsc) -> None:
    _setup(esc)
    stored = esc.state.environments[("sophia-ai", "sophia-ai", "production-credentials")]
    node = stored.definition["values"]["ai_intelligence"]["ARIZE_API_KEY"]
    node["rotatedAt"] = (datetime.now(UTC) - timedelta(days=200)).isoformat(timespec="seconds")
    report = json.loads(_audit(esc).stdout)
    arize = next(c for c in report["credentials"] if c["key"] == "ARIZE_API_KEY")
    assert arize["flags"] == ["overdue", "unread"] and arize["age_days"] == 200
    env = {**os.environ, "PULUMI_ACCESS_TOKEN": VALID_TOKEN, "PULUMI_BACKEND_URL": esc.url}
    table = subprocess.run(
        [SOPHIA, "secrets", "audit", "--spec", str(SPEC)],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=60,
    )
    assert "ai_intelligence.ARIZE_API_KEY" in table.stdout and "overdue, unread" in table.stdout
