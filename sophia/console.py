"""What every `sophia` command shares: the consoles, exit codes and spec loading."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:  # the spec stack loads when a command reads a spec, not for `--help`
    from .spec import LoadedSpec, SpecError

DEFAULT_SPEC = Path("specs/sophia.yaml")
EXIT_INVALID = 2

# Piped output (CI logs, PR comments) gets room for the tables instead of rich's 80 columns.
# No emoji codes: a value quoted from the spec (`got 'a:fire:'`) is printed as written.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
out = Console(highlight=False, soft_wrap=True, width=_WIDTH, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

SpecArg = Annotated[Path, typer.Argument(help="Spec file.", show_default=True)]
SpecOpt = Annotated[Path, typer.Option("--spec", help="Spec file.", show_default=True)]
StackOpt = Annotated[
    str | None,
    typer.Option("--stack", "-s", help="Stack whose overrides apply (default: check all)."),
]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def exit_invalid(errors: list[SpecError]) -> NoReturn:
    for problem in errors:
        err.print(str(problem), markup=False)
    err.print(f"{plural(len(errors), 'problem')} found", markup=False)
    raise typer.Exit(EXIT_INVALID)


def load_or_exit(path: Path, stack: str | None) -> LoadedSpec:
    """The spec checked for `stack` (None: the base and every stack); exit 2 when invalid."""
    from .spec import InvalidSpecError, load_spec

    try:
        return load_spec(path, stack)
    except InvalidSpecError as invalid:
        exit_invalid(invalid.errors)


def load_stack_or_exit(path: Path, stack: str | None) -> LoadedSpec:
    """The spec for `stack`, or for the default stack when None; exit 2 when invalid."""
    from .spec import InvalidSpecError, load_stack

    try:
        return load_stack(path, stack)
    except InvalidSpecError as invalid:
        exit_invalid(invalid.errors)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(message, markup=False)
    raise typer.Exit(code)
