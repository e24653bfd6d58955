"""The `sophia` command. Exit codes: 0 ok, 1 a check failed, 2 bad input (an invalid spec).

Unlike the rest of the package, the command modules keep their annotations as objects (no
`from __future__ import annotations`): typer reads every command's annotations on every run,
and strings would be compiled again each time (a twentieth of `sophia validate`). Names that
exist only for the type checker are quoted.
"""

import contextlib
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from .console import (
    DEFAULT_SPEC,
    EXIT_INVALID,
    SpecArg,
    StackOpt,
    err,
    exit_invalid,
    fail,
    load_or_exit,
    load_stack_or_exit,
    out,
    plural,
)
from .secrets.cli import secrets_app

if TYPE_CHECKING:
    from .planning.run import PlanReport
    from .spec import SpecError

app = typer.Typer(
    name="sophia",
    help="Validate, preview and operate a Sophia platform described in sophia.yaml.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # Plain help, as click prints it: rich's help renderer (with its Markdown parser) took a
    # third of `sophia --help`; the subcommands inherit this.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"sophia {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Validate, preview and operate a Sophia platform described in sophia.yaml."""


@app.command()
def validate(
    specs: Annotated[
        list[Path] | None, typer.Argument(help="Spec files (default: specs/sophia.yaml).")
    ] = None,
    stack: StackOpt = None,
) -> None:
    """Check spec files: YAML, schema, types and cross-references. Exit 2 when invalid."""
    from .spec import InvalidSpecError, load_spec

    problems: list[SpecError] = []  # in the order the files were named
    for path in specs or [DEFAULT_SPEC]:
        try:
            spec = load_spec(path, stack)
        except InvalidSpecError as invalid:
            problems += invalid.errors
            continue
        p = spec.platform
        credentials = len(p.credential_keys)
        stacks = f"; stacks: {', '.join(p.stacks)}" if p.stacks else ""
        out.print(
            f"{path}: valid — {plural(len(p.services), 'service')}, "
            f"{plural(len(p.hosts), 'host')}, {plural(credentials, 'credential')}{stacks}",
            markup=False,
        )
    if problems:
        exit_invalid(problems)


@app.command()
def summary(spec: SpecArg = DEFAULT_SPEC, stack: StackOpt = None) -> None:
    """Print the platform a spec describes: hosts, services, GPUs, credentials and cost."""
    from .summary import print_summary

    print_summary(load_or_exit(spec, stack), out)


@app.command()
def preview(
    spec: SpecArg = DEFAULT_SPEC,
    stack: Annotated[
        str | None,
        typer.Option("--stack", "-s", help="Stack (default: prod, or the spec's first)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print Infracost's JSON format (v0.2) instead.")
    ] = False,
    policy_config: Annotated[
        Path | None,
        typer.Option("--policy-config", help="Policy config, in --policy-pack-config format."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="Compare with a spec file or git:REF:path (cost delta, diff)."),
    ] = None,
    comment: Annotated[
        Path | None, typer.Option("--comment", help="Also write the PR comment (Markdown) here.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="offline (mock monitor, no CLI) or pulumi (the real engine, via the "
            "Automation API)"
        ),
    ] = "offline",
) -> None:
    """Preview offline: run the program under the mock monitor, check it with the policy pack.

    Exit 0 when no mandatory policy fails, 1 when one does, 2 when the spec is invalid.
    """
    import json

    from .offline.analyzer import PolicyPackError
    from .offline.infracost import infracost_json
    from .offline.preview import BaseSpecError, run_preview
    from .offline.report import markdown, print_report
    from .spec import InvalidSpecError

    if engine not in ("offline", "pulumi"):
        fail(f"sophia preview: --engine must be offline or pulumi, not {engine!r}", EXIT_INVALID)
    if engine == "pulumi":
        _real_engine("preview", spec, stack, policy_config)

    try:
        with err.status("previewing: program under the mock monitor, policies over gRPC…"):
            result = run_preview(spec, stack, policy_config, base)
    except InvalidSpecError as invalid:
        exit_invalid(invalid.errors)
    except (BaseSpecError, PolicyPackError) as problem:
        err.print(f"sophia preview: {problem}", markup=False)
        raise typer.Exit(EXIT_INVALID) from None
    if comment is not None:
        comment.write_text(markdown(result), encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(infracost_json(result), indent=2) + "\n")
    else:
        print_report(result, out)
    raise typer.Exit(result.exit_code)


def _real_engine(
    operation: Literal["preview", "up", "destroy", "refresh"],
    spec: Path,
    stack: str | None,
    policy_config: Path | None = None,
    yes: bool = False,
) -> NoReturn:
    from .automation import EngineError, require_pulumi_cli, run_engine
    from .offline.analyzer import PolicyPackError, load_policy_config

    loaded = load_stack_or_exit(spec, stack)
    stack = loaded.stack or loaded.platform.default_stack
    try:
        require_pulumi_cli()
    except EngineError as missing:
        fail(f"sophia {operation}: {missing}")
    if operation in ("up", "destroy") and stack == "prod" and not yes:
        _confirm(f"{operation} the stack 'prod' for {spec}?")
    try:
        overrides = load_policy_config(policy_config) if policy_config else None
        result = run_engine(
            operation,
            loaded,
            stack,
            lambda line: out.print(line, end="", markup=False),
            overrides,
        )
    except (EngineError, PolicyPackError) as problem:
        fail(f"sophia {operation}: {problem}")
    raise typer.Exit(0 if result.ok else 1)


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        fail(f"{question} Not confirmed: pass --yes to run without a terminal", EXIT_INVALID)
    if not typer.confirm(question, default=False):
        fail("cancelled", 1)


YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask before changing the stack 'prod'.")
]
PolicyConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy-config",
        help="Policy config merged over the spec's (--policy-pack-config format).",
    ),
]
EngineStackOpt = Annotated[
    str | None, typer.Option("--stack", "-s", help="Stack (default: prod, or the spec's first).")
]


@app.command()
def up(
    spec: SpecArg = DEFAULT_SPEC,
    stack: EngineStackOpt = None,
    policy_config: PolicyConfigOpt = None,
    yes: YesOpt = False,
) -> None:
    """Deploy SPEC with the real Pulumi engine (Automation API), the policy pack enforcing."""
    _real_engine("up", spec, stack, policy_config, yes)


@app.command()
def destroy(
    spec: SpecArg = DEFAULT_SPEC, stack: EngineStackOpt = None, yes: YesOpt = False
) -> None:
    """Delete every resource of the stack with the real Pulumi engine."""
    _real_engine("destroy", spec, stack, yes=yes)


@app.command()
def refresh(spec: SpecArg = DEFAULT_SPEC, stack: EngineStackOpt = None) -> None:
    """Read the stack's resources back from the clouds and show what drifted."""
    _real_engine("refresh", spec, stack)


stack_app = typer.Typer(help="The Pulumi stacks of a spec.")
app.add_typer(stack_app, name="stack")


@stack_app.command("init")
def stack_init(
    name: Annotated[str, typer.Argument(help="Stack name (a DNS label, e.g. 'staging').")],
    spec: Annotated[Path, typer.Option("--spec", help="Spec file.")] = DEFAULT_SPEC,
) -> None:
    """Add a stack: its entry in the spec, its `Pulumi.NAME.yaml`, and the stack in the
    backend where the Pulumi CLI is installed."""
    import re

    from .spec.base import DNS_LABEL
    from .spec_edit import add_stack
    from .stack_files import stack_file_text

    if not re.match(DNS_LABEL, name) or len(name) > 63:
        fail(f"sophia stack init: '{name}' is not a DNS label (e.g. 'staging')", EXIT_INVALID)
    load_or_exit(spec, None)
    target = Path(f"Pulumi.{name}.yaml")
    if target.exists():
        fail(f"sophia stack init: {target} exists already", EXIT_INVALID)
    outcome = add_stack(spec, name)
    if not outcome.applied:
        err.print(outcome.message, markup=False)
        for problem in outcome.problems:
            err.print(f"  {problem}", markup=False)
        raise typer.Exit(1)
    target.write_text(stack_file_text(load_or_exit(spec, name), spec), encoding="utf-8")
    out.print(f"{outcome.message}; wrote {target}", markup=False)
    _create_in_backend(name)


@stack_app.command("select")
def stack_select(
    name: Annotated[str, typer.Argument(help="Stack to make current (e.g. 'staging').")],
) -> None:
    """Make NAME the Pulumi CLI's current stack for this project."""
    from .automation import EngineError, select_stack

    try:
        select_stack(name)
    except EngineError as problem:
        fail(f"sophia stack select: {problem}")
    out.print(f"stack {name} selected", markup=False)


@app.command()
def outputs(
    stack: EngineStackOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    spec: Annotated[Path, typer.Option("--spec", help="Spec file.")] = DEFAULT_SPEC,
) -> None:
    """The outputs of the stack's last deployment (endpoints, host IPs; secrets hidden)."""
    import json

    from .automation import EngineError, stack_outputs

    chosen = stack or load_or_exit(spec, None).platform.default_stack
    try:
        found = stack_outputs(chosen)
    except EngineError as problem:
        fail(f"sophia outputs: {problem}")
    if as_json:
        sys.stdout.write(json.dumps(found, indent=2, default=str) + "\n")
        return
    if not found:
        out.print(f"stack {chosen} has no outputs (not deployed yet)", markup=False)
    for key, value in sorted(found.items()):
        out.print(f"{key}: {json.dumps(value, default=str)}", markup=False)


def _create_in_backend(name: str) -> None:
    from .automation import PROJECT_DIR, PROJECT_NAME, EngineError, require_pulumi_cli

    try:
        require_pulumi_cli()
    except EngineError:
        out.print(
            "no Pulumi CLI here: create the stack later with `pulumi stack init`", markup=False
        )
        return
    from pulumi import automation as auto

    try:
        auto.create_stack(
            stack_name=name,
            project_name=PROJECT_NAME,
            program=lambda: None,
            opts=auto.LocalWorkspaceOptions(work_dir=str(PROJECT_DIR)),
        )
    except auto.StackAlreadyExistsError:
        out.print(f"stack {name} exists in the backend already", markup=False)
        return
    except auto.CommandError as problem:
        fail(f"sophia stack init: the backend refused the stack: {str(problem).strip()[:300]}")
    out.print(f"created stack {name} in the backend", markup=False)


@app.command("policy-config")
def policy_config_command(
    spec: SpecArg = DEFAULT_SPEC,
    stack: EngineStackOpt = None,
    merge: Annotated[
        Path | None, typer.Option("--merge", help="A config file merged over the spec's.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """The policy pack's config for a stack, from its spec (budget, allow-list, levels).

    Pass it to `pulumi preview --policy-pack policies --policy-pack-config FILE`; `sophia
    preview` and `sophia up` use the same config themselves.
    """
    from .offline.analyzer import PolicyPackError, load_policy_config
    from .policy_config import policy_config_json

    loaded = load_stack_or_exit(spec, stack)
    try:
        overrides = load_policy_config(merge) if merge else None
    except PolicyPackError as problem:
        fail(f"sophia policy-config: {problem}", EXIT_INVALID)
    text = policy_config_json(loaded.platform, overrides)
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}", markup=False)


@app.command()
def plan(
    spec: SpecArg = DEFAULT_SPEC,
    stack: StackOpt = None,
    replicas: Annotated[
        list[str] | None,
        typer.Option("--replicas", "-r", help="SERVICE=N: pods of a service at peak."),
    ] = None,
    factor: Annotated[
        float,
        typer.Option("--factor", min=0.1, max=100, help="Every other service's peak × this."),
    ] = 1.0,
    max_hosts: Annotated[int, typer.Option("--max-hosts", min=1, max=12)] = 6,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the hosts and replicas into the spec.")
    ] = False,
) -> None:
    """The cheapest Lambda hosts that fit every pod at the demand, within the budget.

    Exit 1 when nothing fits or the cheapest plan is over budget (or --apply was refused)."""
    import json

    from .planning.apply import apply_plan
    from .planning.demand import Demand, PlanningError
    from .planning.run import plan_spec

    wanted: dict[str, int] = {}
    for item in replicas or []:
        name, _, count = item.partition("=")
        if not count.isdigit() or not 0 <= int(count) <= 100:
            fail(f"sophia plan: --replicas {item!r}: expected SERVICE=N with N in 0..100", 2)
        wanted[name] = int(count)
    loaded = load_stack_or_exit(spec, stack)
    chosen = loaded.stack or loaded.platform.default_stack
    demand = Demand(wanted, factor)
    try:
        report = plan_spec(loaded, chosen, demand, max_hosts)
    except PlanningError as problem:
        fail(f"sophia plan: {problem}", 2)
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        _print_plan(report)
    if apply and report.within_budget:
        outcome = apply_plan(spec, loaded.platform, report.plan, demand, stack)
        (out if outcome.applied else err).print(outcome.message, markup=False)
        for line in outcome.problems:
            err.print(f"  {line}", markup=False)
        raise typer.Exit(0 if outcome.applied else 1)
    raise typer.Exit(0 if report.within_budget else 1)


def _print_plan(report: "PlanReport") -> None:
    plan_ = report.plan
    if not plan_.feasible:
        err.print(f"no plan: {plan_.reason}", markup=False)
        return
    from rich.table import Table

    table = Table(title="Cheapest hosts for the demand", title_justify="left")
    for column in ("host", "type", "GPUs", "USD/month", "CPU", "memory", "pods"):
        table.add_column(column)
    for h in plan_.hosts:
        table.add_row(
            h.name, h.instance_type, h.gpus, f"{h.monthly_usd:,.2f}", f"{h.cpu_used:.0%}",
            f"{h.memory_used:.0%}", ", ".join(h.pods),
        )  # fmt: skip
    out.print(table)
    data = f" + data services {report.data_monthly_usd:,.2f}" if report.data_monthly_usd else ""
    out.print(
        f"hosts {plan_.monthly_usd:,.2f}{data} = {report.monthly_usd:,.2f} USD/month "
        f"({report.delta_monthly_usd:+,.2f} against the spec now), budget "
        f"{report.budget_usd:,.2f}: {'within' if report.within_budget else 'OVER'}; binds on "
        f"{plan_.binding}; {plan_.explored} host sets placed",
        markup=False,
    )


@app.command()
def scale(
    service: Annotated[str, typer.Argument(help="Service name from the spec.")],
    replicas: Annotated[int, typer.Argument(min=0, max=100, help="New replica count.")],
    spec: Annotated[Path, typer.Option("--spec", help="Spec file.")] = DEFAULT_SPEC,
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="Stack to preview.")] = None,
) -> None:
    """Edit a service's replicas in the spec (comments kept), only if the preview passes."""
    from .spec_edit import scale as scale_service

    load_or_exit(spec, None)
    outcome = scale_service(spec, service, replicas, stack)
    (out if outcome.applied else err).print(outcome.message, markup=False)
    for problem in outcome.problems:
        err.print(f"  {problem}", markup=False)
    raise typer.Exit(0 if outcome.applied else 1)


@app.command("add-index")
def add_index(
    name: Annotated[str, typer.Argument(help="Pinecone index name (lower case, digits, '-').")],
    owner: Annotated[str, typer.Option("--owner", help="Service that owns and uses it.")],
    dimension: Annotated[
        int, typer.Option("--dimension", min=1, max=20_000, help="Vector dimension.")
    ],
    metric: Annotated[str, typer.Option("--metric", help="cosine, euclidean or dotproduct.")] = (
        "cosine"
    ),
    region: Annotated[str, typer.Option("--region", help="Serverless region (aws).")] = (
        "us-east-1"
    ),
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    reads: Annotated[float, typer.Option("--reads", min=0, help="Read units per month.")] = 0,
    writes: Annotated[float, typer.Option("--writes", min=0, help="Write units per month.")] = 0,
    storage_gb: Annotated[float, typer.Option("--storage-gb", min=0, help="GB stored.")] = 1,
    spec: Annotated[Path, typer.Option("--spec", help="Spec file.")] = DEFAULT_SPEC,
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="Stack to preview.")] = None,
) -> None:
    """Add a serverless Pinecone index (deletion protection on) for a service, only if every
    stack stays valid and within policy; prints the cost change."""
    from .spec_edit import NewIndex, add_pinecone_index

    before = load_or_exit(spec, stack)
    index = NewIndex(
        name, owner, dimension, metric, "aws", region, description, reads, writes, storage_gb
    )
    outcome = add_pinecone_index(spec, index, stack)
    (out if outcome.applied else err).print(outcome.message, markup=False)
    for problem in outcome.problems:
        err.print(f"  {problem}", markup=False)
    if outcome.applied and outcome.preview is not None:
        from .costs import estimate_costs

        was = estimate_costs(before.platform).monthly_usd
        now = outcome.preview.costs.monthly_usd
        out.print(
            f"estimated {now:,.2f} USD/month ({now - was:+,.2f}) of "
            f"{outcome.preview.costs.budget_usd:,.2f}; deploy with `sophia up`",
            markup=False,
        )
    raise typer.Exit(0 if outcome.applied else 1)


@app.command()
def mcp(
    spec: Annotated[Path, typer.Option("--spec", help="Spec file.")] = DEFAULT_SPEC,
    stack: Annotated[str | None, typer.Option("--stack", "-s", help="Stack to use.")] = None,
) -> None:
    """Serve the platform over MCP on stdio (for Cursor and other MCP clients).

    Starts on a broken spec too: its tools report the problems (a half-edited file must not
    take the server away from the chat that is fixing it)."""
    from .mcp_server import build_server

    if not spec.is_file():
        fail(f"sophia mcp: {spec}: no such file", EXIT_INVALID)
    build_server(spec.resolve(), stack).run()


@app.command("mcp-config")
def mcp_config_command(
    spec: Annotated[Path, typer.Option("--spec", help="Spec file.")] = DEFAULT_SPEC,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write.")] = Path(
        ".cursor/mcp.json"
    ),
) -> None:
    """Write .cursor/mcp.json: this server and the spec's MCP servers, credentials via esc run."""
    from .mcp_config import mcp_config, write_mcp_config

    loaded = load_or_exit(spec, None)
    command = str(Path(sys.executable).with_name("sophia"))
    write_mcp_config(mcp_config(loaded.platform, spec.resolve(), command), out_file)
    out.print(f"wrote {out_file}: {len(loaded.platform.mcp) + 1} MCP servers", markup=False)


@app.command()
def render(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the manifests.")],
    spec: SpecArg = DEFAULT_SPEC,
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to render.")] = "prod",
) -> None:
    """Write the Kubernetes manifests the stack would create (Secret values redacted)."""
    from .offline.render import write_manifests
    from .offline.runner import run_spec

    loaded = load_or_exit(spec, stack)
    resources, _ = run_spec(loaded, stack)
    for path in write_manifests(resources, out_dir):
        out.print(f"wrote {path}", markup=False)


@app.command()
def schema(
    write: Annotated[Path | None, typer.Option(help="Write the schema to this file.")] = None,
    check: Annotated[
        Path | None, typer.Option(help="Exit 1 when this file differs from the generated schema.")
    ] = None,
) -> None:
    """Print the JSON Schema (Draft 2020-12) of sophia.yaml."""
    from .spec import schema_text

    text = schema_text()
    if check is not None:
        if not check.is_file() or check.read_text(encoding="utf-8") != text:
            err.print(f"{check} is out of date: run `sophia schema --write {check}`", markup=False)
            raise typer.Exit(1)
        out.print(f"{check} is up to date", markup=False)
    elif write is not None:
        write.write_text(text, encoding="utf-8")
        out.print(f"wrote {write}", markup=False)
    else:
        sys.stdout.write(text)


app.add_typer(secrets_app, name="secrets")

catalog_app = typer.Typer(help="The Lambda Cloud instance catalog used for costs and policies.")
app.add_typer(catalog_app, name="catalog")


@catalog_app.callback(invoke_without_command=True)
def catalog(ctx: typer.Context) -> None:
    """Print the Lambda Cloud instance catalog that cost estimates and policies use."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from components.catalog import HOURS_PER_MONTH, load_catalog

    data = load_catalog()
    table = Table(
        title=f"Lambda Cloud instance types (taken {data.taken_at})", title_justify="left"
    )
    for column in (
        "instance type",
        "GPUs",
        "GPU",
        "vCPUs",
        "memory GiB",
        "disk GiB",
        "USD/h",
        "USD/month",
    ):
        table.add_column(column, justify="left" if column in ("instance type", "GPU") else "right")
    for t in data:
        table.add_row(
            t.name,
            str(t.gpus),
            t.gpu_type,
            str(t.vcpus),
            str(t.memory_gib),
            str(t.storage_gib),
            f"{t.price_usd_per_hour:.2f}",
            f"{t.monthly_usd(HOURS_PER_MONTH):,.2f}",
        )
    out.print(table)
    out.print(f"source: {data.source}", markup=False)


@catalog_app.command("refresh")
def catalog_refresh(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: the committed catalog).")
    ] = None,
) -> None:
    """Rebuild the catalog from the API's instance-types endpoint (needs LAMBDA_API_KEY)."""
    from datetime import UTC, datetime

    from components.catalog import DATA_FILE, catalog_from_api, load_catalog, save_catalog
    from components.lambda_cloud import (
        LambdaApiError,
        LambdaCloudClient,
        LambdaConfigError,
        LambdaConnectionError,
    )

    try:
        with LambdaCloudClient() as client:
            offers = client.instance_types()
    except (LambdaConfigError, LambdaApiError, LambdaConnectionError) as problem:
        err.print(f"sophia catalog refresh: {problem}", markup=False)
        raise typer.Exit(1) from None
    today = datetime.now(UTC).date().isoformat()
    fresh = catalog_from_api(
        (o.instance_type for o in offers.values()), today, load_catalog().regions
    )
    target = out_file or DATA_FILE
    save_catalog(fresh, target)
    out.print(
        f"wrote {target}: {len(fresh.instance_types)} instance types, taken {today}", markup=False
    )
    if out_file is None:
        _sync_pack_catalog()


@catalog_app.command("sync")
def catalog_sync() -> None:
    """Copy the catalog data the policy pack reads into the pack (after editing the catalog)."""
    _sync_pack_catalog()


def _sync_pack_catalog() -> None:
    from .policy_pack import sync_pack_catalog

    out.print(f"wrote {sync_pack_catalog()} (the policy pack's copy)", markup=False)


def _close_event_loop() -> None:
    if "asyncio" not in sys.modules:
        return  # no command here used a loop
    import asyncio

    from .loops import close_event_loop

    with contextlib.suppress(RuntimeError):
        close_event_loop(asyncio.get_event_loop_policy().get_event_loop())


def main() -> None:
    """Console-script entry: no Python traceback reaches the user unless SOPHIA_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SOPHIA_DEBUG"):
            raise
        err.print(
            f"sophia: internal error: {type(exc).__name__}: {exc} "
            "(set SOPHIA_DEBUG=1 for the traceback)",
            markup=False,
        )
        sys.exit(70)
    finally:
        _close_event_loop()
        # Everything still alive lives until the process ends: move it out of the collector's
        # sight, or the interpreter's last full collection rescans the SDKs' hundreds of
        # thousands of objects on the way out (0.4 s after a preview, for nothing).
        gc.freeze()


if __name__ == "__main__":
    main()
