"""A readable overview of a validated platform: hosts, services, GPUs, credentials, cost."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .costs import estimate_costs
from .spec import LoadedSpec
from .spec.model import ExistingCluster, Platform, Service


def _replicas(service: Service) -> str:
    auto = service.autoscaling
    return f"{auto.min_replicas}–{auto.max_replicas}" if auto else str(service.replicas)


def _gpu(service: Service) -> str:
    return f"{service.gpu.count}× {service.gpu.type}" if service.gpu else "—"


def _secrets(service: Service) -> str:
    return ", ".join([*service.secrets.groups, *service.secrets.keys]) or "—"


def _hosts_table(platform: Platform) -> Table:
    costs = {h.host: h for h in estimate_costs(platform).hosts}
    server = platform.server_host
    table = Table(title="Hosts (Lambda Cloud)", title_justify="left")
    for column in ("host", "role", "instance type", "region", "GPUs", "USD/h", "USD/month"):
        table.add_column(column, justify="right" if column.startswith(("GPU", "USD")) else "left")
    for host in platform.hosts:
        cost = costs.get(host.name)
        table.add_row(
            host.name,
            "k3s server" if server and host.name == server.name else "k3s agent",
            host.instance_type,
            host.region,
            f"{cost.gpus}× {cost.gpu_type}" if cost else "?",
            f"{cost.usd_per_hour:.2f}" if cost else "?",
            f"{cost.monthly_usd:,.2f}" if cost else "?",
        )
    return table


def _services_table(platform: Platform) -> Table:
    table = Table(title=f"Services (namespace {platform.target_namespace})", title_justify="left")
    for column in (
        "service",
        "image",
        "replicas",
        "GPU",
        "cpu req/lim",
        "memory req/lim",
        "host",
        "credentials",
    ):
        table.add_column(column)
    for s in platform.services:
        r = s.resources
        table.add_row(
            s.name,
            s.image,
            _replicas(s),
            _gpu(s),
            f"{r.requests.cpu}/{r.limits.cpu}",
            f"{r.requests.memory}/{r.limits.memory}",
            s.host or "any",
            _secrets(s),
        )
    return table


def _secrets_table(platform: Platform) -> Table | None:
    if platform.secrets is None:
        return None
    esc = platform.secrets.esc
    table = Table(
        title=f"Credentials (ESC {esc.organization}/{esc.project}/{esc.environment}, "
        f"rotation {platform.secrets.rotation.strategy}, "
        f"max age {platform.secrets.rotation.max_age_days} days)",
        title_justify="left",
    )
    for column in ("group", "keys", "prefixes", "used by"):
        table.add_column(column)
    for name, group in platform.secrets.groups.items():
        users = [
            s.name
            for s in platform.services
            if name in s.secrets.groups or set(group.keys) & set(s.secrets.keys)
        ]
        table.add_row(name, str(len(group.keys)), " ".join(group.prefixes), ", ".join(users) or "—")
    return table


def render_summary(spec: LoadedSpec) -> Group:
    p = spec.platform
    costs = estimate_costs(p)
    gpus_wanted = sum(s.peak_replicas * s.gpu.count for s in p.services if s.gpu)
    gpus_owned = sum(h.gpus for h in costs.hosts)
    credentials = len(p.credential_keys)
    groups = len(p.secrets.groups) if p.secrets else 0
    cluster = (
        f"existing cluster (kubeconfig from config '{p.cluster.kubeconfig_config_key}')"
        if isinstance(p.cluster, ExistingCluster)
        else f"k3s on {len(p.hosts)} host{'s' if len(p.hosts) != 1 else ''}"
    )
    stack = f", stack {spec.stack}" if spec.stack else ""
    header = Text.assemble(
        (f"{p.metadata.name}", "bold"),
        f" ({p.metadata.environment}{stack}) — {spec.path}\n",
        f"cluster: {cluster}; {len(p.services)} services; GPUs: {gpus_wanted} wanted at peak, "
        f"{gpus_owned} on hosts; {credentials} credentials in {groups} groups\n",
        "estimated cost: ",
        (
            f"{costs.monthly_usd:,.2f} USD/month",
            "bold green" if costs.within_budget else "bold red",
        ),
        f" of a {costs.budget_usd:,.2f} USD budget "
        f"(catalog of {costs.catalog_date}, {costs.hours_per_month:g} h/month)",
    )
    parts: list[Table | Text] = [header]
    if p.hosts:
        parts.append(_hosts_table(p))
    parts.append(_services_table(p))
    if costs.data:
        data = Table(title="Data services", title_justify="left")
        for column in ("item", "assumptions", "USD/month"):
            data.add_column(column, justify="right" if column == "USD/month" else "left")
        for item in costs.data:
            data.add_row(item.item, item.assumptions, f"{item.monthly_usd:,.2f}")
        parts.append(data)
    secrets = _secrets_table(p)
    if secrets is not None:
        parts.append(secrets)
    return Group(*parts)


def print_summary(spec: LoadedSpec, console: Console) -> None:
    console.print(render_summary(spec))
