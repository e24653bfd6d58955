"""What a bad spec produces: one line per problem, `FILE:LINE:COL: path.to.field: message`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

ROOT_PATH = "$"
"""Path shown for problems of the whole file (empty, unreadable, wrong top-level type)."""


@dataclass(frozen=True, order=True, slots=True)
class SpecError:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return _printable(f"{where}: {self.path}: {self.message}")


def _printable(text: str) -> str:
    """Keys and values from the file may hold newlines or control characters: escape them."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class InvalidSpecError(Exception):
    """The spec has problems; `errors` lists every one found, in file order."""

    def __init__(self, errors: Iterable[SpecError]) -> None:
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(e) for e in self.errors))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A ` (did you mean 'x'?)` suffix for a near miss, else an empty string."""
    pool = [c for c in candidates if isinstance(c, str)]
    exact_case = [c for c in pool if c.lower() == word.lower()]
    matches = exact_case or difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def quoted_list(values: Iterable[str], limit: int = 8) -> str:
    items = [f"'{v}'" for v in values]
    if len(items) > limit:
        items = [*items[:limit], f"… {len(items) - limit} more"]
    return ", ".join(items) if items else "none"
