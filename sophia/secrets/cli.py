"""`sophia secrets export | rotate | status | audit`: the spec's credentials in Pulumi ESC.

Values arrive on stdin only, and nothing here prints, logs or raises with one. Annotations
are objects, as in `sophia/cli.py` (which says why).
"""

import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..console import DEFAULT_SPEC, EXIT_INVALID, SpecOpt, StackOpt, err, fail, load_or_exit, out

if TYPE_CHECKING:
    from components.esc import EscGateway

    from ..spec.model import Platform

# The ESC SDK and the secret operations load when a command runs, not with every `sophia` call.

ENV_PREFIX = "SOPHIA_SECRET_"
secrets_app = typer.Typer(help="Credentials in Pulumi ESC: export, rotate, audit.")
ApiUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--api-url", help="Pulumi Cloud API (default: PULUMI_BACKEND_URL or api.pulumi.com)."
    ),
]


def _platform(spec: Any, stack: str | None) -> "Platform":
    platform = load_or_exit(spec, stack).platform
    if platform.secrets is None:
        fail(f"{spec}: the spec has no 'secrets' section", EXIT_INVALID)
    return platform


def _gateway(api_url: str | None) -> "EscGateway":
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


def _read_environment(platform: "Platform") -> dict[str, str]:
    """Only the names the spec lists: the workflow hands over nothing else."""
    found = {k: os.environ.get(f"{ENV_PREFIX}{k}", "") for k in platform.credential_keys}
    return {k: v for k, v in found.items() if v}


@secrets_app.command("export")
def export_command(
    spec: SpecOpt = DEFAULT_SPEC,
    stack: StackOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the redacted definition; write nothing.")
    ] = False,
    prefer_github: Annotated[
        list[str] | None,
        typer.Option(
            "--prefer-github",
            help="KEY whose GitHub value replaces a rotation made since (a conflict otherwise).",
        ),
    ] = None,
    adopt: Annotated[
        bool,
        typer.Option(
            "--adopt", help="Add names only a group's prefix matches to that group's keys."
        ),
    ] = False,
    from_env: Annotated[
        bool,
        typer.Option(
            "--from-env",
            help="Read each credential of the spec from SOPHIA_SECRET_<KEY> instead of stdin.",
        ),
    ] = False,
    api_url: ApiUrlOpt = None,
) -> None:
    """Write the spec's credentials to ESC, read as a JSON object on stdin (toJSON(secrets)) or,
    with --from-env, one SOPHIA_SECRET_<KEY> variable per credential the spec names.

    Exit 1 when GitHub changed a credential after a rotation (a conflict: nothing applied for
    it) or when names only a prefix matches were left out."""
    from components.esc import EscError
    from components.esc.definition import dump

    from ..secrets.layout import esc_layout
    from ..secrets.sync import export, plan_export, redact

    platform = _platform(spec, stack)
    values = _read_environment(platform) if from_env else _read_json_object()
    now = datetime.now(UTC)
    if adopt:
        platform = _adopt(spec, stack, platform, values)
    layout = esc_layout(platform)
    if dry_run:
        plan = plan_export(platform, values, {}, {}, now)
        out.print(f"# {layout.credentials} (dry run: nothing written)", markup=False)
        sys.stdout.write(dump(redact(plan.definition)))
        for env, definition in layout.derived(platform).items():
            out.print(f"# {env}", markup=False)
            sys.stdout.write(dump(definition))
    else:
        try:
            plan = export(_gateway(api_url), platform, values, now, prefer_github or ())
        except EscError as problem:
            fail(f"sophia secrets export: {problem}")
        out.print(
            f"exported to {layout.credentials}: {len(plan.added)} added, "
            f"{len(plan.rotated)} rotated, {len(plan.unchanged)} unchanged, "
            f"{len(plan.stale)} kept (rotated since)",
            markup=False,
        )
    for label in plan.stale:
        err.print(
            f"kept {label}: it was rotated in ESC and GitHub still has the value it replaced; "
            "update the GitHub secret to the rotated value",
            markup=False,
        )
    for label in plan.conflicts:
        key = label.split(".", 1)[1]
        err.print(
            f"conflict {label}: GitHub's value changed after `sophia secrets rotate`; nothing "
            f"applied. Keep the rotation (update GitHub to it) or take GitHub's value with "
            f"`--prefer-github {key}`",
            markup=False,
        )
    for unclaimed in plan.unclaimed:
        err.print(
            f"not exported: {unclaimed.name} matches prefix {unclaimed.prefix} of group "
            f"{unclaimed.group} but is not one of its keys; {unclaimed.edit} (or rerun with "
            "--adopt)",
            markup=False,
        )
    if plan.ungrouped:
        err.print(f"not exported (no group claims them): {', '.join(plan.ungrouped)}", markup=False)
    if plan.missing:
        err.print(
            f"listed in the spec but not in the input: {', '.join(plan.missing)}", markup=False
        )
    if plan.conflicts or plan.unclaimed:
        raise typer.Exit(1)


def _adopt(
    spec: Any, stack: str | None, platform: "Platform", values: dict[str, str]
) -> "Platform":
    """Add the input's prefix-only names to their groups in the spec file (a checked edit)."""
    from ..secrets.sync import plan_export
    from ..spec_edit import EditError, add_credential_keys

    unclaimed = plan_export(platform, values, {}, {}, datetime.now(UTC)).unclaimed
    if not unclaimed:
        return platform
    keys: dict[str, list[str]] = {}
    for u in unclaimed:
        keys.setdefault(u.group, []).append(u.name)
    try:
        outcome = add_credential_keys(spec, keys)
    except EditError as problem:
        fail(f"sophia secrets export --adopt: {problem}", EXIT_INVALID)
    if not outcome.applied:
        fail(f"sophia secrets export --adopt: {'; '.join(outcome.problems)}", EXIT_INVALID)
    err.print(f"{spec}: {outcome.message}", markup=False)
    return _platform(spec, stack)


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

    from ..secrets.sync import rotate as rotate_credential

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

    from ..secrets.ages import read_credential_ages
    from ..secrets.layout import esc_layout

    platform = _platform(spec, stack)
    where = esc_layout(platform).credentials
    try:
        ages = read_credential_ages(_gateway(api_url), platform, datetime.now(UTC))
    except EscError as problem:
        fail(f"sophia secrets status: {problem}")
    if as_json:
        sys.stdout.write(json.dumps([a.__dict__ for a in ages], indent=2) + "\n")
    else:
        from rich.table import Table

        table = Table(title=f"Credentials in {where}", title_justify="left")
        for column in (
            "credential",
            "active slot",
            "set by",
            "rotated at",
            "age (days)",
            "max",
            "state",
        ):
            table.add_column(column)
        for a in ages:
            style = "green" if a.state == "ok" else "red"
            table.add_row(
                f"{a.group}.{a.key}",
                a.active or "—",
                a.origin or "—",
                a.rotated_at or "—",
                "—" if a.age_days is None else str(a.age_days),
                str(a.max_age_days),
                f"[{style}]{a.state}[/{style}]",
            )
        out.print(table)
    if any(a.state != "ok" for a in ages):
        raise typer.Exit(1)


@secrets_app.command("audit")
def audit_command(
    spec: SpecOpt = DEFAULT_SPEC,
    stack: StackOpt = None,
    days: Annotated[
        int, typer.Option("--days", min=1, max=400, help="How far back to read the audit log.")
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    api_url: ApiUrlOpt = None,
) -> None:
    """Who opened which credentials environment, and each credential's age and last read.

    Exit 1 if a credential is overdue, missing or unread in the window."""
    from components.esc import EscError

    from ..secrets.ages import read_credential_ages
    from ..secrets.audit import audit_report, fetch_events, window_start
    from ..secrets.layout import esc_layout

    platform = _platform(spec, stack)
    layout = esc_layout(platform)
    since = window_start(days)
    try:
        ages = read_credential_ages(_gateway(api_url), platform, datetime.now(UTC))
        events = fetch_events(layout.credentials.organization, since, api_url)
        report = audit_report(platform, layout, ages, events, since)
    except EscError as problem:
        fail(f"sophia secrets audit: {problem}")
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        from rich.table import Table

        accesses = Table(
            title=f"Access to the credentials since {report.since}", title_justify="left"
        )
        for column in ("when", "who", "event", "environment"):
            accesses.add_column(column)
        for e in report.events:
            accesses.add_row(e.when, e.user, e.event, e.environment)
        out.print(accesses)
        table = Table(title="Credentials", title_justify="left")
        for column in ("credential", "age (days)", "last read", "read by", "flags"):
            table.add_column(column)
        for c in report.credentials:
            flags = ", ".join(c.flags)
            table.add_row(
                f"{c.group}.{c.key}",
                "—" if c.age_days is None else str(c.age_days),
                c.last_read or "—",
                ", ".join(c.readers) or "—",
                f"[red]{flags}[/red]" if flags else "[green]ok[/green]",
            )
        out.print(table)
    if report.flagged:
        raise typer.Exit(1)
