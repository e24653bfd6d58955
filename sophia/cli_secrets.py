"""`sophia secrets export | rotate | status`: the spec's credentials in Pulumi ESC.

Values arrive on stdin only, and nothing here prints, logs or raises with one.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from .console import DEFAULT_SPEC, EXIT_INVALID, SpecOpt, StackOpt, err, fail, load_or_exit, out
from .spec.model import Platform

if TYPE_CHECKING:
    from components.esc import EscGateway

# The ESC SDK and the secret operations load when a command runs, not with every `sophia` call.

secrets_app = typer.Typer(help="Credentials in Pulumi ESC: export, rotate, audit.")
ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url", help="Pulumi Cloud API (default: PULUMI_BACKEND_URL or api.pulumi.com)."
    ),
]


def _platform(spec: Any, stack: str | None) -> Platform:
    platform = load_or_exit(spec, stack).platform
    if platform.secrets is None:
        fail(f"{spec}: the spec has no 'secrets' section", EXIT_INVALID)
    return platform


def _gateway(api_url: str | None) -> EscGateway:
    from components.esc import EscError, EscGateway

    try:
        return EscGateway(api_url=api_url)
    except EscError as problem:
        fail(f"sophia secrets: {problem}")


def _read_json_object() -> dict[str, str]:
    try:
        data = json.loads(sys.stdin.read() or "null")
    except ValueError:
        fail(
            "sophia secrets export: stdin is not JSON (expected the output of toJSON(secrets))",
            EXIT_INVALID,
        )
    if not isinstance(data, dict):
        fail("sophia secrets export: stdin must be a JSON object of NAME: value", EXIT_INVALID)
    return {str(k): str(v) for k, v in data.items() if v is not None}


@secrets_app.command("export")
def export_command(
    spec: SpecOpt = DEFAULT_SPEC,
    stack: StackOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the redacted definition; write nothing.")
    ] = False,
    api_url: ApiUrlOpt = None,
) -> None:
    """Read toJSON(secrets) on stdin, group it by the spec's prefixes, write it to ESC."""
    from components.esc import EscError
    from components.esc.definition import dump

    from .secret_ops import esc_location, export, plan_export, projection_yaml, redact

    platform = _platform(spec, stack)
    values = _read_json_object()
    now = datetime.now(UTC)
    location = esc_location(platform)
    if dry_run:
        plan = plan_export(platform, values, {}, {}, now)
        out.print(f"# {location.credentials} (dry run: nothing written)", markup=False)
        sys.stdout.write(dump(redact(plan.definition)))
        out.print(f"# {location.projection}", markup=False)
        sys.stdout.write(projection_yaml(platform, location))
    else:
        try:
            plan = export(_gateway(api_url), platform, values, now)
        except EscError as problem:
            fail(f"sophia secrets export: {problem}")
        out.print(
            f"exported to {location.credentials}: {len(plan.added)} added, "
            f"{len(plan.rotated)} rotated, {len(plan.unchanged)} unchanged",
            markup=False,
        )
    if plan.ungrouped:
        err.print(f"not exported (no group claims them): {', '.join(plan.ungrouped)}", markup=False)
    if plan.missing:
        err.print(
            f"listed in the spec but not in the input: {', '.join(plan.missing)}", markup=False
        )


@secrets_app.command("rotate")
def rotate_command(
    credential: Annotated[
        str, typer.Argument(help="GROUP.KEY, e.g. ai_intelligence.OPENROUTER_API_KEY")
    ],
    spec: SpecOpt = DEFAULT_SPEC,
    stack: StackOpt = None,
    api_url: ApiUrlOpt = None,
) -> None:
    """Two-slot rotation: the new value (stdin) fills the inactive slot and becomes active."""
    from components.esc import EscError

    from .secret_ops import rotate as rotate_credential

    platform = _platform(spec, stack)
    group, _, key = credential.partition(".")
    groups = platform.secrets.groups if platform.secrets else {}
    if group not in groups or key not in groups[group].keys:
        fail(
            f"sophia secrets rotate: {credential} is not a credential of the spec "
            "(GROUP.KEY from secrets.groups)",
            EXIT_INVALID,
        )
    value = sys.stdin.read().rstrip("\r\n")
    if not value:
        fail("sophia secrets rotate: no new value on stdin", EXIT_INVALID)
    try:
        active = rotate_credential(
            _gateway(api_url), platform, group, key, value, datetime.now(UTC)
        )
    except EscError as problem:
        fail(f"sophia secrets rotate: {problem}")
    previous = "b" if active == "a" else "a"
    out.print(
        f"rotated {credential}: slot {active} is active; slot {previous} keeps the previous "
        "value until the next rotation",
        markup=False,
    )


@secrets_app.command("status")
def status_command(
    spec: SpecOpt = DEFAULT_SPEC,
    stack: StackOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    api_url: ApiUrlOpt = None,
) -> None:
    """Each credential's age against maxAgeDays (never a value). Exit 1 if one is overdue."""
    from components.esc import EscError
    from components.esc.definition import load

    from .secret_ops import credential_ages, esc_location

    platform = _platform(spec, stack)
    location = esc_location(platform)
    try:
        definition = load(_gateway(api_url).read(location.credentials).yaml)
    except EscError as problem:
        fail(f"sophia secrets status: {problem}")
    ages = credential_ages(platform, definition, datetime.now(UTC))
    if as_json:
        sys.stdout.write(json.dumps([a.__dict__ for a in ages], indent=2) + "\n")
    else:
        table = Table(title=f"Credentials in {location.credentials}", title_justify="left")
        for column in ("credential", "active slot", "rotated at", "age (days)", "max", "state"):
            table.add_column(column)
        for a in ages:
            style = "green" if a.state == "ok" else "red"
            table.add_row(
                f"{a.group}.{a.key}",
                a.active or "—",
                a.rotated_at or "—",
                "—" if a.age_days is None else str(a.age_days),
                str(a.max_age_days),
                f"[{style}]{a.state}[/{style}]",
            )
        out.print(table)
    if any(a.state != "ok" for a in ages):
        raise typer.Exit(1)
