"""Create-or-adopt for Lambda objects found by name (file systems, firewall rulesets, SSH keys).

The API has no idempotency keys, so a create whose answer is lost may or may not have made
the object. The rule, as for instances (`launch.py`): look the object up by name first and
adopt it; create with a single request; after an ambiguous outcome look it up again, and only
when it is not there create again — so one name never becomes two objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .client import LambdaConnectionError
from .errors import AmbiguousCreateError, LambdaApiError
from .launch import is_ambiguous

T = TypeVar("T")


def create_once(
    what: str, find: Callable[[], T | None], create: Callable[[], T], attempts: int = 3
) -> T:
    """The object `find` returns, or the one `create` makes — exactly one either way."""
    last: BaseException | None = None
    for _ in range(attempts):
        found = find()
        if found is not None:
            return found
        try:
            return create()
        except (LambdaApiError, LambdaConnectionError) as exc:
            if not is_ambiguous(exc):
                raise
            last = exc
    found = find()
    if found is not None:
        return found
    raise AmbiguousCreateError(
        0,
        "sophia/ambiguous-create",
        f"creating {what}: {attempts} attempt(s) had no clear answer ({last})",
        "run `pulumi up` again: an object of that name is adopted, never made twice",
    )
