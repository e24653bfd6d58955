"""`sophia secrets audit`: who opened which credentials environment when, next to each
credential's age — from the organisation's audit log (Pulumi Cloud REST API,
`GET /api/orgs/{org}/auditlogs`; Enterprise and Business Critical editions).

Opening an environment is reading its values, so a credential counts as read when any
environment that exposes it (`layout.py`: the credentials, its group's, the stack's, an MCP
server's) was opened. Flags: `overdue` (older than maxAgeDays), `unread` (nobody opened an
environment exposing it within the window: a candidate for removal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from components.esc import EscError
from components.esc.gateway import pulumi_cloud

from ..spec.model import Platform
from .ages import CredentialAge
from .layout import EscLayout

_OPENED = re.compile(r"open", re.IGNORECASE)
_ENV_PATH = re.compile(r"[\w.-]+/[\w.-]+")
MAX_PAGES = 200
"""A bound on pagination (at the API's page size, about ten thousand events)."""


@dataclass(frozen=True)
class AccessEvent:
    when: str
    user: str
    event: str
    environment: str


@dataclass
class CredentialAudit:
    group: str
    key: str
    age_days: int | None
    state: str
    last_read: str | None = None
    readers: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuditReport:
    since: str
    events: list[AccessEvent]
    credentials: list[CredentialAudit]

    @property
    def flagged(self) -> list[CredentialAudit]:
        return [c for c in self.credentials if c.flags]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def fetch_events(
    organization: str,
    since: datetime,
    api_url: str | None = None,
    access_token: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[dict[str, Any]]:
    """Audit log events newer than `since`, newest first (the API pages backwards in time)."""
    token, base = pulumi_cloud(access_token, api_url)
    headers = {"Authorization": f"token {token}", "Accept": "application/vnd.pulumi+8"}
    params: dict[str, str] = {"startTime": str(int(datetime.now(UTC).timestamp()) + 1)}
    cutoff = since.timestamp()
    with httpx.Client(base_url=base, headers=headers, timeout=30, transport=transport) as http:
        for _ in range(MAX_PAGES):
            try:
                response = http.get(f"/api/orgs/{organization}/auditlogs", params=params)
            except httpx.TransportError as exc:
                raise EscError(0, f"audit log unreachable ({type(exc).__name__})") from None
            if response.status_code != 200:
                raise EscError(
                    response.status_code,
                    f"audit log of {organization}: HTTP {response.status_code} (the audit log "
                    "needs an organisation admin's token on the Enterprise edition)",
                )
            try:
                page = response.json()
                events = list(page["auditLogEvents"])
            except (ValueError, KeyError, TypeError):
                raise EscError(0, f"audit log of {organization}: unreadable answer") from None
            for event in events:
                if float(event.get("timestamp", 0)) < cutoff:
                    return
                yield event
            token_next = page.get("continuationToken")
            if not token_next or not events:
                return
            params = {"continuationToken": str(token_next)}


def audit_report(
    platform: Platform,
    layout: EscLayout,
    ages: list[CredentialAge],
    events: Iterator[Mapping[str, Any]],
    since: datetime,
) -> AuditReport:
    exposures = layout.exposed_keys(platform)
    access: list[AccessEvent] = []
    reads: dict[str, list[tuple[int, str]]] = {}
    for event in events:
        description = str(event.get("description", ""))
        environment = next((p for p in _ENV_PATH.findall(description) if p in exposures), None)
        if environment is None:
            continue
        stamp = int(event.get("timestamp", 0))
        user = str((event.get("user") or {}).get("githubLogin") or "unknown")
        name = str(event.get("event", ""))
        access.append(AccessEvent(_iso(stamp), user, name, environment))
        if _OPENED.search(name):
            for key in exposures[environment]:
                reads.setdefault(key, []).append((stamp, user))
    credentials = []
    for age in ages:
        seen = sorted(reads.get(age.key, []), reverse=True)
        audit = CredentialAudit(age.group, age.key, age.age_days, age.state)
        if seen:
            audit.last_read = _iso(seen[0][0])
            audit.readers = sorted({user for _, user in seen})
        if age.state == "expired":
            audit.flags.append("overdue")
        if age.state == "missing":
            audit.flags.append("missing")
        elif not seen:
            audit.flags.append("unread")
        credentials.append(audit)
    return AuditReport(since.isoformat(timespec="seconds"), access, credentials)


def _iso(stamp: int) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def window_start(days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)
