"""Each credential's age against the spec's `maxAgeDays` (`sophia secrets status`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from components.esc import EscGateway, credential_states
from components.esc.definition import load

from ..spec.model import Platform
from .layout import esc_layout


@dataclass(frozen=True)
class CredentialAge:
    group: str
    key: str
    active: str | None
    rotated_at: str | None
    age_days: int | None
    max_age_days: int
    state: str
    """ok, expired (older than maxAgeDays), or missing (in the spec, not in ESC)."""
    origin: str | None = None
    """export or rotate: who set the active value."""


def credential_ages(
    platform: Platform,
    definition: Mapping[str, Any],
    now: datetime,
    environment: str = "the credentials environment",
) -> list[CredentialAge]:
    max_age = platform.secrets.rotation.max_age_days if platform.secrets else 90
    found = {(s.group, s.key): s for s in credential_states(definition, environment)}
    groups = platform.secrets.groups if platform.secrets else {}
    ages = []
    for group, spec in groups.items():
        for key in spec.keys:
            state = found.get((group, key))
            if state is None:
                ages.append(CredentialAge(group, key, None, None, None, max_age, "missing"))
                continue
            age = (now - state.rotated_at).days if state.rotated_at else None
            expired = age is None or age > max_age
            ages.append(
                CredentialAge(
                    group,
                    key,
                    state.active,
                    state.rotated_at.isoformat() if state.rotated_at else None,
                    age,
                    max_age,
                    "expired" if expired else "ok",
                    state.origin,
                )
            )
    return ages


def read_credential_ages(
    gateway: EscGateway, platform: Platform, now: datetime
) -> list[CredentialAge]:
    """The ages of the spec's credentials as ESC holds them now (raises EscError, including
    EscDefinitionError for an outside edit of an unexpected shape)."""
    where = esc_layout(platform).credentials
    definition = load(gateway.read(where).yaml, str(where))
    return credential_ages(platform, definition, now, str(where))
