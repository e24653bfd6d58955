"""A plan written into the spec: its hosts (existing names kept where the type stays), the
k3s server among them, the demand's replicas, and no host pins (the plan placed the pods
without them, as the capacity policy will) — one checked edit (`spec_edit`): nothing is
written unless every stack validates and passes its policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..spec.model import Platform
from ..spec_edit import EditError, EditOutcome, edit_spec, service_node
from .demand import Demand
from .planner import Plan


def apply_plan(
    path: Path, platform: Platform, plan: Plan, demand: Demand, stack: str | None = None
) -> EditOutcome:
    if not plan.feasible:
        return EditOutcome(False, f"not applied: {plan.reason}")
    server = platform.server_host
    if server is None:
        return EditOutcome(False, "not applied: the spec has no k3s server host to plan from")
    names = [h.name for h in plan.hosts]  # the spec's names (`run.plan_spec` gave them)
    kept_server = server.name if server.name in names else names[0]
    mounted = [f.name for f in platform.file_systems if f.region == server.region]

    def mutate(tree: Any) -> None:
        old = {str(h["name"]): h for h in tree.get("hosts") or []}
        hosts = CommentedSeq()
        for name, planned in zip(names, plan.hosts, strict=True):
            node = old.get(name)
            if node is None:
                node = CommentedMap()
                node["name"] = name
                node["instanceType"] = planned.instance_type
                node["region"] = server.region
                node["sshKeys"] = list(server.ssh_keys)
                node["k3sVersion"] = server.k3s_version
                if mounted:
                    node["fileSystems"] = list(mounted)
            hosts.append(node)
        tree["hosts"] = hosts
        cluster = tree.setdefault("cluster", CommentedMap())
        if cluster.get("server") is not None or kept_server != names[0]:
            cluster["server"] = kept_server
        for service in platform.services:
            node = service_node(tree, service.name)
            if node.get("host") is not None:
                del node["host"]
            peak = demand.peak(service)
            if service.autoscaling is None:
                node["replicas"] = peak
            else:
                hpa = node["autoscaling"]
                hpa["max"] = max(peak, 1)
                if int(hpa.get("min", 1)) > peak:
                    hpa["min"] = max(peak, 1)
                if "replicas" in node:  # within the HPA's range, as validation wants
                    low, high = int(hpa.get("min", 1)), int(hpa["max"])
                    node["replicas"] = min(max(int(node["replicas"]), low), high)
        if not hosts:
            raise EditError("the plan has no hosts")

    summary = ", ".join(f"{n} ({h.instance_type})" for n, h in zip(names, plan.hosts, strict=True))
    return edit_spec(path, mutate, f"hosts → {summary}; {plan.monthly_usd:,.2f} USD/month", stack)
