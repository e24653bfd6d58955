"""How a preview reads: rich text for terminals and CI logs, Markdown for the PR comment."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..memory import fewer_collections
from .analyzer import Diagnostic
from .changes import Change, Plan
from .preview import PreviewResult
from .runner import PROJECT, RecordedResource


def _tree(result: PreviewResult) -> Tree:
    children: dict[str, list[RecordedResource]] = defaultdict(list)
    known = {r.urn for r in result.resources}
    for r in result.resources:
        children[r.parent if r.parent in known else ""].append(r)
    root = Tree(Text(f"{result.spec.platform.metadata.name}-{result.stack} (stack)", style="bold"))

    def add(node: Tree, parent: str) -> None:
        for r in children.get(parent, []):
            add(node.add(Text.assemble((r.type, "cyan"), " ", r.name)), r.urn)

    add(root, "")
    return root


def _counts(result: PreviewResult) -> Table:
    table = Table(title="Resources by type", title_justify="left")
    table.add_column("type")
    table.add_column("count", justify="right")
    for type_, count in sorted(Counter(r.type for r in result.resources).items()):
        table.add_row(type_, str(count))
    table.add_row(Text("total", style="bold"), Text(str(len(result.resources)), style="bold"))
    return table


def _costs(result: PreviewResult) -> Table:
    c = result.costs
    table = Table(
        title=f"Estimated monthly cost (catalog of {c.catalog_date}, "
        f"{c.hours_per_month:g} h/month)",
        title_justify="left",
    )
    for column in ("item", "detail", "USD/h", "USD/month"):
        table.add_column(column, justify="right" if column.startswith("USD") else "left")
    for h in c.hosts:
        table.add_row(
            f"host {h.host}",
            f"{h.instance_type} ({h.gpus}× {h.gpu_type})",
            f"{h.usd_per_hour:.2f}",
            f"{h.monthly_usd:,.2f}",
        )
    for name, share in result.service_costs.items():
        table.add_row(f"  service {name}", "share of its hosts", "", f"{share:,.2f}")
    for item in c.data:
        table.add_row(item.item, item.assumptions, "", f"{item.monthly_usd:,.2f}")
    style = "bold green" if c.within_budget else "bold red"
    table.add_row(
        Text("total", style="bold"),
        f"budget {c.budget_usd:,.2f}",
        "",
        Text(f"{c.monthly_usd:,.2f}", style=style),
    )
    if result.base is not None:
        delta = c.monthly_usd - result.base.monthly_usd
        table.add_row("previous", result.base.ref, "", f"{result.base.monthly_usd:,.2f}")
        table.add_row("difference", "", "", f"{delta:+,.2f}")
    return table


def _headroom(result: PreviewResult) -> Table | None:
    """Each host at peak (replicas, autoscaling max, rollout surge): what is used, what is left."""
    nodes = result.capacity.nodes
    if not nodes:
        return None
    table = Table(title="Capacity at peak (after the system reserve)", title_justify="left")
    for column in (
        "host",
        "instance type",
        "CPU used / allocatable",
        "memory used / allocatable",
        "GPUs",
        "pods",
    ):
        table.add_column(column, justify="left" if column in ("host", "instance type") else "right")
    for n in nodes:
        table.add_row(
            n.name,
            n.instance_type,
            f"{n.used.cpu_m / 1000:g} / {n.allocatable.cpu_m / 1000:g}",
            f"{n.used.memory / 2**30:.1f} / {n.allocatable.memory / 2**30:.1f} Gi",
            f"{n.used.gpus} / {n.allocatable.gpus}",
            str(len(n.pods)),
        )
    return table


def _violations(title: str, items: list[Diagnostic], style: str) -> Table:
    table = Table(title=f"{title} ({len(items)})", title_justify="left", title_style=style)
    table.add_column("policy", style=style)
    table.add_column("message")
    for d in items:
        table.add_row(d.policy_name, d.message)
    return table


_STYLES = {"create": "green", "update": "yellow", "replace": "bold magenta", "delete": "red"}


def describe(change: Change) -> str:
    """`-/+ type name (fields forcing it) — deleted first`: one change on one line."""
    why = f" ({', '.join(change.fields)})" if change.fields and change.operation != "create" else ""
    first = (
        " — deleted first" if change.operation == "replace" and change.delete_before_replace else ""
    )
    return f"{change.marker} {change.type} {change.name}{why}{first}"


def plan_counts(plan: Plan) -> str:
    counts = plan.counts()
    return (
        f"{counts['create']} to create, {counts['update']} to update, "
        f"{counts['replace']} to replace, {counts['delete']} to delete"
    )


def _plan(ref: str, plan: Plan) -> list[Text]:
    lines = [Text(f"Against {ref}: {plan_counts(plan)}")]
    for c in plan.changes:
        why = f" ({', '.join(c.fields)})" if c.fields and c.operation != "create" else ""
        order = " — deleted first" if c.operation == "replace" and c.delete_before_replace else ""
        lines.append(
            Text(f"  {c.marker} {c.type} {c.name}{why}{order}", style=_STYLES[c.operation])
        )
    for c in plan.warnings:
        lines.append(Text(f"WARNING: {c.name} — {c.warning}", style="bold red"))
    return lines


def render(result: PreviewResult) -> Group:
    parts: list[Tree | Table | Text] = [
        Text.assemble(
            ("sophia preview", "bold"),
            f" — {result.spec.path}, stack {result.stack}: the program under Pulumi's mock "
            "monitor, checked by sophia-guardrails over gRPC",
        ),
        _tree(result),
        _counts(result),
        _costs(result),
    ]
    headroom = _headroom(result)
    if headroom is not None:
        parts.append(headroom)
    if result.base is not None:
        parts += _plan(result.base.ref, result.base.changes)
    if result.mandatory:
        parts.append(_violations("Mandatory policy violations", result.mandatory, "bold red"))
    if result.advisory:
        parts.append(_violations("Advisory policy violations", result.advisory, "yellow"))
    verdict = (
        Text(f"FAILED: {len(result.mandatory)} mandatory violation(s)", style="bold red")
        if result.mandatory
        else Text("PASSED: no mandatory policy violation", style="bold green")
    )
    parts.append(
        Text.assemble(
            verdict,
            f" — {len(result.resources)} resources, {len(result.advisory)} advisory; estimated "
            f"{result.costs.monthly_usd:,.2f} USD/month of {result.costs.budget_usd:,.2f}",
        )
    )
    return Group(*parts)


@fewer_collections()
def print_report(result: PreviewResult, console: Console) -> None:
    console.print(render(result))


_DIFF_SIGN = {"create": "+", "update": "!", "replace": "-", "delete": "-"}


def project_name(result: PreviewResult) -> str:
    return f"{PROJECT}/{result.stack}"


@fewer_collections()
def markdown(result: PreviewResult) -> str:
    """The PR comment: Infracost's headline and table, details folded."""
    c = result.costs
    lines = []
    if result.base is not None:
        past, delta = result.base.monthly_usd, c.monthly_usd - result.base.monthly_usd
        percent = f" ({delta / past:+.0%})" if past else ""
        if abs(delta) < 0.005:
            lines.append("## Monthly cost will not change")
        else:
            direction = "increase" if delta > 0 else "decrease"
            lines.append(f"## Monthly cost will {direction} by ${abs(delta):,.0f}{percent}")
        plan = result.base.changes
        counts = plan.counts()
        lines += [
            "",
            "| Project | Previous | New | Diff | Resources |",
            "|---|---:|---:|---:|---|",
            f"| {project_name(result)} | ${past:,.2f} | ${c.monthly_usd:,.2f} | "
            f"{delta:+,.2f}{percent} | +{counts['create']} ~{counts['update']} "
            f"-/+{counts['replace']} -{counts['delete']} |",
        ]
        for change in plan.warnings:
            lines += ["", "> [!WARNING]", f"> **{change.name}**: {change.warning}."]
    else:
        lines.append(f"## Monthly cost: ${c.monthly_usd:,.2f}")
    verdict = "❌ failed" if result.mandatory else "✅ passed"
    lines += [
        "",
        f"Budget: ${c.budget_usd:,.2f}/month. Policies {verdict}: {len(result.mandatory)} "
        f"mandatory, {len(result.advisory)} advisory violation(s).",
        "",
    ]
    for title, items in (("Mandatory", result.mandatory), ("Advisory", result.advisory)):
        for d in items:
            lines.append(f"- **{title}** `{d.policy_name}`: {d.message}")
    lines += [
        "",
        "<details><summary>Cost details</summary>",
        "",
        "| Item | Detail | USD/month |",
        "|---|---|---:|",
    ]
    for h in c.hosts:
        lines.append(f"| host {h.host} | {h.instance_type} | {h.monthly_usd:,.2f} |")
    for name, share in result.service_costs.items():
        lines.append(f"| service {name} | share | {share:,.2f} |")
    for item in c.data:
        lines.append(f"| {item.item} | {item.assumptions} | {item.monthly_usd:,.2f} |")
    lines += ["", "</details>"]
    if result.base is not None and result.base.changes.changes:
        lines += [
            "",
            "<details><summary>Resource changes: "
            + plan_counts(result.base.changes)
            + "</summary>",
            "",
            "```diff",
        ]
        for change in result.base.changes.changes:
            why = (
                f" ({', '.join(change.fields)})"
                if change.fields and change.operation != "create"
                else ""
            )
            lines.append(
                f"{_DIFF_SIGN[change.operation]} {change.marker} {change.type} {change.name}{why}"
            )
        lines += ["```", "", "</details>"]
    lines += ["", "<!-- sophia-preview -->"]
    return "\n".join(lines) + "\n"
