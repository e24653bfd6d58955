"""Create-or-adopt for Lambda objects found by name (file systems, firewall rulesets, SSH keys).

The API has no idempotency keys, so a create whose answer is lost may or may not have made
the object. The rule, as for instances (`launch.py`): look the object up by name first and
adopt it; create with a single request; after an ambiguous outcome look it up again, and only
when it is not there create again — so one name never becomes two objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .. import rest
from .errors import AmbiguousCreateError
from .launch import is_ambiguous

T = TypeVar("T")


def create_once(
    what: str, find: Callable[[], T | None], create: Callable[[], T], attempts: int = 3
) -> T:
    """The object `find` returns, or the one `create` makes — exactly one either way."""
    try:
        return rest.create_once(what, find, create, is_ambiguous=is_ambiguous, attempts=attempts)
    except rest.AmbiguousCreateError as exc:
        raise AmbiguousCreateError(
            0,
            "sophia/ambiguous-create",
            f"creating {what}: no clear answer",
            str(exc).split("; ", 1)[-1],
        ) from exc
