"""How a preview reads: rich text for terminals and CI logs, Markdown for the PR comment."""

from __future__ import annotations

from collections import Counter, defaultdict

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .analyzer import Diagnostic
from .preview import PreviewResult
from .runner import RecordedResource


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


def _violations(title: str, items: list[Diagnostic], style: str) -> Table:
    table = Table(title=f"{title} ({len(items)})", title_justify="left", title_style=style)
    table.add_column("policy", style=style)
    table.add_column("message")
    for d in items:
        table.add_row(d.policy_name, d.message)
    return table


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
    if result.base is not None:
        ch = result.base.changes
        parts.append(
            Text(
                f"Against {result.base.ref}: {len(ch.added)} added, "
                f"{len(ch.changed)} changed, {len(ch.removed)} removed"
            )
        )
        for sign, urns in (("+", ch.added), ("~", ch.changed), ("-", ch.removed)):
            for urn in urns:
                parts.append(Text(f"  {sign} {urn}"))
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


def print_report(result: PreviewResult, console: Console) -> None:
    console.print(render(result))


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
        ch = result.base.changes
        lines += [
            "",
            "| | Previous | New | Diff |",
            "|---|---:|---:|---:|",
            f"| Monthly cost (USD) | {past:,.2f} | {c.monthly_usd:,.2f} | {delta:+,.2f}{percent} |",
            f"| Resources | | {len(result.resources)} | +{len(ch.added)} ~{len(ch.changed)} "
            f"-{len(ch.removed)} |",
        ]
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
    lines += ["", "</details>", "", "<!-- sophia-preview -->"]
    return "\n".join(lines) + "\n"
