"""Checks that need the whole spec: references between sections, GPUs against hosts, names.

Runs after the schema and the model have accepted the document, so every value has its
type; what is checked here is whether the values make sense together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from components.catalog import Catalog, load_catalog

from .data_semantics import data_service_errors, service_data_errors
from .errors import SpecError, did_you_mean, quoted_list
from .model import ExistingCluster, K3sCluster, Platform, Service, Volume
from .quantities import cpu_cores, memory_bytes
from .source import FieldPath, SpecDocument

_CREDENTIAL_NAME = re.compile(
    r"(_KEY|_TOKEN|_SECRET|_PASSWORD|_PASSWD|_CREDENTIALS?|_PRIVATE_KEY)$|PASSWORD|SECRET_KEY"
)


def image_problem(image: str) -> str | None:
    """Why a (well-formed: the model checked it) image reference is not pinned, or None."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else None
    if tag is None:
        return f"'{image}' has no tag; pin a version such as '{image}:1.0.0' or a digest"
    if tag == "latest":
        return f"'{image}' uses ':latest'; pin a version or a digest so deploys are repeatable"
    return None


def looks_like_credential(name: str) -> bool:
    return bool(_CREDENTIAL_NAME.search(name.upper()))


def semantic_errors(
    platform: Platform, doc: SpecDocument, catalog: Catalog | None = None
) -> list[SpecError]:
    checker = _Checker(platform, doc, catalog or load_catalog())
    return list(checker.run())


class _Checker:
    def __init__(self, platform: Platform, doc: SpecDocument, catalog: Catalog) -> None:
        self.p = platform
        self.doc = doc
        self.catalog = catalog
        self.host_names = [h.name for h in platform.hosts]
        self.service_names = [s.name for s in platform.services]
        groups = platform.secrets.groups if platform.secrets else {}
        self.group_names = list(groups)
        self.credential_keys = platform.credential_keys

    def err(self, path: FieldPath, message: str) -> SpecError:
        return self.doc.error(path, message)

    def run(self) -> Iterator[SpecError]:
        yield from self.unique(("hosts",), self.host_names, "host name")
        yield from self.unique(("services",), self.service_names, "service name")
        yield from self.cluster()
        yield from self.file_systems()
        for i, host in enumerate(self.p.hosts):
            if host.instance_type not in self.catalog:
                yield self.err(
                    ("hosts", i, "instanceType"),
                    f"unknown instance type '{host.instance_type}'"
                    f"{did_you_mean(host.instance_type, self.catalog.instance_types)}; "
                    "`sophia catalog` lists them",
                )
        yield from self.secret_groups()
        yield from data_service_errors(self)
        for i, service in enumerate(self.p.services):
            yield from self.service(("services", i), service)
            yield from service_data_errors(self, ("services", i), service)
        yield from self.stack_references()
        yield from self.unique(("mcp",), [m.name for m in self.p.mcp], "MCP server name")
        for i, server in enumerate(self.p.mcp):
            if server.name == "sophia":
                yield self.err(
                    ("mcp", i, "name"), "'sophia' is the project's own MCP server; choose another"
                )
        for i, server in enumerate(self.p.mcp):
            if server.secret_groups and self.p.secrets is None:
                yield self.err(
                    ("mcp", i, "secretGroups"), "the spec has no top-level 'secrets' section"
                )
                continue
            for j, group in enumerate(server.secret_groups):
                if group not in self.group_names:
                    yield self.reference(
                        ("mcp", i, "secretGroups", j), group, self.group_names, "secret group"
                    )

    def unique(
        self, base: FieldPath, values: list[str], what: str, field: str = "name"
    ) -> Iterator[SpecError]:
        first: dict[str, int] = {}
        for i, value in enumerate(values):
            if value in first:
                line = self.doc.locate((*base, first[value])).line
                at: FieldPath = (*base, i, field) if field else (*base, i)
                yield self.err(at, f"duplicate {what} '{value}' (first used on line {line})")
            else:
                first[value] = i

    def reference(self, path: FieldPath, name: str, known: list[str], what: str) -> SpecError:
        hint = did_you_mean(name, known)
        return self.err(
            path,
            f"unknown {what} '{name}'{hint}" + ("" if hint else f"; known: {quoted_list(known)}"),
        )

    # --- cluster and hosts ---

    def cluster(self) -> Iterator[SpecError]:
        cluster = self.p.cluster
        if isinstance(cluster, K3sCluster):
            if not self.p.hosts and self.p.services:
                yield self.err(
                    ("cluster",),
                    "k3s runs on the spec's hosts, but 'hosts' is empty; "
                    "add a host or set cluster.type: existing",
                )
            if cluster.server and cluster.server not in self.host_names:
                yield self.reference(("cluster", "server"), cluster.server, self.host_names, "host")
        elif isinstance(cluster, ExistingCluster) and self.p.hosts:
            yield self.err(
                ("hosts",),
                "hosts run k3s only with cluster.type: k3s; remove them or change the cluster",
            )
        if isinstance(cluster, K3sCluster) and len({h.region for h in self.p.hosts}) > 1:
            server = self.p.server_host
            assert server is not None
            for i, host in enumerate(self.p.hosts):
                if host.region != server.region:
                    yield self.err(
                        ("hosts", i, "region"),
                        f"host '{host.name}' is in {host.region} but the k3s server "
                        f"'{server.name}' is in {server.region}: Lambda's private network is "
                        "per region, so agents join only in the server's region",
                    )

    def file_systems(self) -> Iterator[SpecError]:
        declared = [f.name for f in self.p.file_systems]
        yield from self.unique(("fileSystems",), declared, "file system name")
        for i, host in enumerate(self.p.hosts):
            for j, name in enumerate(host.file_systems):
                where = ("hosts", i, "fileSystems", j)
                fs = self.p.file_system(name)
                if fs is None:
                    yield self.reference(where, name, declared, "file system")
                elif fs.region != host.region:
                    yield self.err(
                        where,
                        f"file system '{name}' is in {fs.region} but host '{host.name}' is in "
                        f"{host.region}: Lambda mounts a file system only in its own region",
                    )

    def host_gpu(self, host_name: str) -> tuple[str, int] | None:
        """(GPU type, GPU count) of a host whose instance type the catalog knows."""
        host = self.p.host(host_name)
        entry = self.catalog.get(host.instance_type) if host else None
        return (entry.gpu_type, entry.gpus) if entry else None

    # --- secrets ---

    def secret_groups(self) -> Iterator[SpecError]:
        if self.p.secrets is None:
            return
        if (
            self.p.secrets.delivery == "external-secrets"
            and "PULUMI_ACCESS_TOKEN" not in self.credential_keys
        ):
            yield self.err(
                ("secrets", "delivery"),
                "external-secrets delivery reads ESC with the PULUMI_ACCESS_TOKEN credential; "
                "add it to a group's keys",
            )
        owner_of_key: dict[str, str] = {}
        owner_of_prefix: dict[str, str] = {}
        for name, group in self.p.secrets.groups.items():
            base: FieldPath = ("secrets", "groups", name)
            if name == "credentials":
                yield self.err(
                    base,
                    "'credentials' names the environment that holds every value "
                    "(<env>-credentials); choose another group name",
                )
            if not group.prefixes and not group.keys:
                yield self.err(base, f"group '{name}' has neither prefixes nor keys")
            for j, prefix in enumerate(group.prefixes):
                clash = next(
                    (p for p in owner_of_prefix if p.startswith(prefix) or prefix.startswith(p)),
                    None,
                )
                if clash is not None:
                    yield self.err(
                        (*base, "prefixes", j),
                        f"prefix '{prefix}' overlaps '{clash}' of group '{owner_of_prefix[clash]}'",
                    )
                else:
                    owner_of_prefix[prefix] = name
            for j, key in enumerate(group.keys):
                if key in owner_of_key:
                    yield self.err(
                        (*base, "keys", j), f"key '{key}' is already in group '{owner_of_key[key]}'"
                    )
                    continue
                owner_of_key[key] = name
                if group.prefixes and not key.startswith(tuple(group.prefixes)):
                    yield self.err(
                        (*base, "keys", j),
                        f"key '{key}' starts with none of the group's prefixes "
                        f"({quoted_list(group.prefixes)})",
                    )

    # --- services ---

    def service(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        problem = image_problem(s.image)
        if problem:
            yield self.err((*base, "image"), problem)
        if s.build is not None:
            context = Path(self.doc.file).parent / s.build.context
            if not context.is_dir():
                yield self.err(
                    (*base, "build", "context"),
                    f"build context '{s.build.context}' is not a directory "
                    f"(relative to {Path(self.doc.file).parent or '.'})",
                )
        yield from self.placement(base, s)
        yield from self.architecture(base, s)
        yield from self.volumes(base, s)
        yield from self.service_secrets(base, s)
        yield from self.scaling(base, s)
        yield from self.resources(base, s)
        yield from self.networking(base, s)
        for name in s.env:
            if looks_like_credential(name):
                yield self.err(
                    (*base, "env", name),
                    f"'{name}' looks like a credential; plain env is stored in "
                    "clear text: list it under secrets.keys instead",
                )
            elif name in self.credential_keys:
                yield self.err(
                    (*base, "env", name),
                    f"'{name}' is a credential of secrets.groups; take it from "
                    "secrets.keys, not env",
                )

    def volumes(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        names: set[str] = {"tmp"}
        paths: set[str] = {"/tmp"}
        for i, v in enumerate(s.volumes):
            where = (*base, "volumes", i)
            if v.name in names:
                yield self.err((*where, "name"), f"volume name '{v.name}' is taken (so is 'tmp')")
            if v.mount_path.rstrip("/") in paths:
                yield self.err((*where, "mountPath"), f"{v.mount_path} is mounted already")
            if v.claim is not None and v.memory:
                yield self.err((*where, "memory"), "a claim is a persistent volume, not memory")
            if v.file_system is not None:
                yield from self.file_system_volume(where, s, v.file_system, v)
            names.add(v.name)
            paths.add(v.mount_path.rstrip("/"))

    def file_system_volume(
        self, where: FieldPath, s: Service, name: str, v: Volume
    ) -> Iterator[SpecError]:
        """A file system volume runs the pods on the hosts that mount it: there must be one
        (the service's own host, if it names one)."""
        if v.claim is not None or v.memory:
            yield self.err(
                (*where, "fileSystem"), "a volume is a file system, a claim or memory: one of them"
            )
            return
        if isinstance(self.p.cluster, ExistingCluster):
            yield self.err(
                (*where, "fileSystem"),
                "Lambda file systems are mounted by the spec's hosts; an existing cluster has "
                "none (use `claim` with a PersistentVolumeClaim of that cluster)",
            )
            return
        declared = [f.name for f in self.p.file_systems]
        if name not in declared:
            yield self.reference((*where, "fileSystem"), name, declared, "file system")
            return
        mounting = [h.name for h in self.p.hosts if name in h.file_systems]
        if s.host is not None and s.host not in mounting:
            yield self.err(
                (*where, "fileSystem"),
                f"host '{s.host}' does not mount file system '{name}'; add it to the host's "
                "fileSystems" + (f" or run on {quoted_list(mounting)}" if mounting else ""),
            )
        elif not mounting:
            yield self.err(
                (*where, "fileSystem"),
                f"no host mounts file system '{name}'; add it to a host's fileSystems",
            )

    def architecture(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        """An image built or declared for one CPU architecture on a host of another."""
        platform = s.platform or (s.build.platform if s.build else None)
        if platform is None or isinstance(self.p.cluster, ExistingCluster):
            return
        wanted = "arm64" if platform.endswith("arm64") else "x86_64"
        hosts = [s.host] if s.host else self.host_names
        if s.gpu is not None:
            hosts = [h for h in hosts if (g := self.host_gpu(h)) and g[0] == s.gpu.type]
        arch = {
            h: entry.architecture
            for h in hosts
            if (host := self.p.host(h)) and (entry := self.catalog.get(host.instance_type))
        }
        wrong = [h for h, a in arch.items() if a != wanted]
        if wrong and len(wrong) == len(arch):
            where = "platform" if s.platform else "build.platform"
            yield self.err(
                (*base, where),
                f"the image is {platform} but host(s) {', '.join(wrong)} run {arch[wrong[0]]}; "
                "build for that platform or place the service on another host",
            )

    def placement(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        if s.host is not None:
            if isinstance(self.p.cluster, ExistingCluster):
                yield self.err(
                    (*base, "host"),
                    "'host' pins to a spec host; an existing cluster "
                    "has none (use gpu.type for GPU placement)",
                )
                return
            if s.host not in self.host_names:
                yield self.reference((*base, "host"), s.host, self.host_names, "host")
                return
        if s.gpu is None or isinstance(self.p.cluster, ExistingCluster):
            return
        candidates = [s.host] if s.host else self.host_names
        offered = {h: g for h in candidates if (g := self.host_gpu(h)) is not None}
        if not offered:  # unknown instance types are reported on the host itself
            return
        matching = [g for g in offered.values() if g[0] == s.gpu.type]
        if not matching:
            have = ", ".join(f"{h} ({g[0]})" for h, g in offered.items())
            where = f"host '{s.host}' has no" if s.host else "no host has a"
            yield self.err((*base, "gpu", "type"), f"{where} '{s.gpu.type}' GPU (hosts: {have})")
            return
        most = max(g[1] for g in matching)
        if s.gpu.count > most:
            yield self.err(
                (*base, "gpu", "count"),
                f"asks for {s.gpu.count} GPUs per pod, but the largest "
                f"'{s.gpu.type}' host has {most}",
            )

    def service_secrets(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        wanted = [*s.secrets.groups, *s.secrets.keys]
        if wanted and self.p.secrets is None:
            yield self.err((*base, "secrets"), "the spec has no top-level 'secrets' section")
            return
        for j, group in enumerate(s.secrets.groups):
            if group not in self.group_names:
                yield self.reference(
                    (*base, "secrets", "groups", j), group, self.group_names, "secret group"
                )
        for j, key in enumerate(s.secrets.keys):
            if key not in self.credential_keys:
                yield self.reference(
                    (*base, "secrets", "keys", j), key, self.credential_keys, "secret key"
                )
        pull = s.image_pull_secret
        if pull is not None:
            for field, key in (
                ("usernameKey", pull.username_key),
                ("passwordKey", pull.password_key),
            ):
                if key not in self.credential_keys:
                    yield self.reference(
                        (*base, "imagePullSecret", field), key, self.credential_keys, "secret key"
                    )

    def scaling(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        auto = s.autoscaling
        if auto is not None:
            if auto.min_replicas > auto.max_replicas:
                yield self.err(
                    (*base, "autoscaling", "min"),
                    f"min ({auto.min_replicas}) is above max ({auto.max_replicas})",
                )
            elif not auto.min_replicas <= s.replicas <= auto.max_replicas:
                yield self.err(
                    (*base, "replicas"),
                    f"replicas ({s.replicas}) is outside autoscaling "
                    f"{auto.min_replicas}..{auto.max_replicas}",
                )
        budget = s.disruption_budget
        if budget is not None:
            if s.replicas < 2:
                yield self.err(
                    (*base, "disruptionBudget"),
                    "a disruption budget needs replicas ≥ 2; with one pod it blocks "
                    "every node drain",
                )
            elif budget.min_available >= s.replicas:
                yield self.err(
                    (*base, "disruptionBudget", "minAvailable"),
                    f"minAvailable ({budget.min_available}) must be below replicas "
                    f"({s.replicas}) or no node can ever be drained",
                )

    def resources(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        req, lim = s.resources.requests, s.resources.limits
        for field, measure in (("cpu", cpu_cores), ("memory", memory_bytes)):
            requested, limit = getattr(req, field), getattr(lim, field)
            if measure(limit) <= 0:
                yield self.err((*base, "resources", "limits", field), "must be greater than 0")
            elif measure(requested) > measure(limit):
                yield self.err(
                    (*base, "resources", "requests", field),
                    f"request {requested} is above the limit {limit}",
                )

    def networking(self, base: FieldPath, s: Service) -> Iterator[SpecError]:
        yield from self.unique((*base, "ports"), [p.name for p in s.ports], "port name")
        yield from self.unique(
            (*base, "ports"), [str(p.port) for p in s.ports], "port number", field="port"
        )
        if s.health is not None:
            port = s.health.port
            names = [p.name for p in s.ports]
            if isinstance(port, str) and not names:
                yield self.err(
                    (*base, "health", "port"),
                    f"no port named '{port}': the service declares no ports",
                )
            elif isinstance(port, str) and port not in names:
                yield self.reference((*base, "health", "port"), port, names, "port")
            if isinstance(port, int) and not 1 <= port <= 65535:
                yield self.err((*base, "health", "port"), f"port {port} is out of range")
        if s.expose.type != "ClusterIP" and not s.ports:
            yield self.err(
                (*base, "expose", "type"), f"{s.expose.type} exposes no ports; add 'ports'"
            )
        for j, other in enumerate(s.expose.allow_from or []):
            if other not in self.service_names:
                yield self.reference(
                    (*base, "expose", "allowFrom", j), other, self.service_names, "service"
                )

    # --- stacks ---

    def stack_references(self) -> Iterator[SpecError]:
        for stack, override in self.p.stacks.items():
            for name in override.services:
                if name not in self.service_names:
                    yield self.reference(
                        ("stacks", stack, "services", name), name, self.service_names, "service"
                    )
            for name in override.hosts:
                if name not in self.host_names:
                    yield self.reference(
                        ("stacks", stack, "hosts", name), name, self.host_names, "host"
                    )
