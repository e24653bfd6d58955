"""Spec → Pulumi resources: the only place where the spec meets the components.

`build_platform` is what `__main__.py` runs under the Pulumi engine and what the offline
engine runs under Pulumi's mock monitor, so both see the very same resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import (
    Autoscaling,
    ComputeResources,
    ContainerPort,
    EscSecretBundle,
    EscSecretBundleArgs,
    GpuRequest,
    HealthProbe,
    ImageBuild,
    MicroserviceArgs,
    NodeDirectoryClaim,
    NodeDirectoryClaimArgs,
    Rollout,
    SophiaMicroservice,
    WritableVolume,
)
from components.esc import camel_config_key as credential_config_key
from components.gpu_host import (
    K3sJoin,
    LambdaGpuHost,
    LambdaGpuHostArgs,
    SshAccess,
    file_system_selector,
    k3s_firewall_rules,
)
from components.lambda_cloud.firewall import LambdaFirewallRuleset
from components.lambda_cloud.resources import instance_name
from components.lambda_cloud.storage import LambdaFileSystem, mount_point
from components.microservice import HOST_NODE_LABEL
from components.secret_bundle import ExternalSecretsDelivery

from .costs import CostEstimate, estimate_costs
from .data_services import Connection, DataServicesStack, build_data_services
from .secrets.layout import esc_layout
from .spec import LoadedSpec
from .spec.model import ExistingCluster, K3sCluster, Platform, Service

ConfigLookup = Callable[[str], pulumi.Input[str] | None]
"""Reads one secret stack-config value by key (without the project prefix), or None."""


POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
"""The namespace enforces Pod Security `restricted`: the API server itself refuses a pod that
runs as root, escalates or keeps capabilities (the workloads here already comply)."""


class MissingConfigError(Exception):
    """Stack config the spec needs is not set; the message says which keys and how."""


@dataclass(frozen=True)
class PlatformStack:
    """What `build_platform` made, for stack outputs and tests."""

    hosts: dict[str, LambdaGpuHost]
    file_systems: dict[str, LambdaFileSystem]
    firewall: LambdaFirewallRuleset | None
    provider: k8s.Provider
    namespace: k8s.core.v1.Namespace
    bundle: EscSecretBundle | None
    data: DataServicesStack
    services: dict[str, SophiaMicroservice]
    outputs: dict[str, Any]


def stack_config_lookup(config: pulumi.Config) -> ConfigLookup:
    return config.get_secret


def build_platform(spec: LoadedSpec, config: ConfigLookup) -> PlatformStack:
    platform = spec.platform
    labels = {
        "app.kubernetes.io/part-of": platform.metadata.name,
        "sophia.ai/environment": platform.metadata.environment,
    }
    api_key = config(credential_config_key("LAMBDA_API_KEY"))
    file_systems = {
        fs.name: LambdaFileSystem(
            f"fs-{fs.name}",
            name=fs.name,
            region=fs.region,
            api_key=api_key,
            opts=pulumi.ResourceOptions(retain_on_delete=fs.keep_on_destroy),
        )
        for fs in platform.file_systems
    }
    firewall = _firewall(platform, api_key)
    hosts = _gpu_hosts(platform, config, api_key, file_systems, firewall)
    server = hosts.get(platform.server_host.name) if platform.server_host else None
    provider = _kubernetes_provider(platform, config, server)
    k8s_opts = pulumi.ResourceOptions(provider=provider)
    namespace = k8s.core.v1.Namespace(
        "namespace",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=platform.target_namespace, labels={**labels, **POD_SECURITY}
        ),
        opts=k8s_opts,
    )
    namespace_name: pulumi.Output[str] = namespace.metadata.name
    bundle = _secret_bundle(platform, config, namespace_name, labels, provider)
    claims = _file_system_claims(platform, namespace_name, labels, provider)
    data = build_data_services(platform, lambda key: _credential(config, key))

    services: dict[str, SophiaMicroservice] = {}
    endpoints: dict[str, pulumi.Output[str]] = {}
    for service in platform.services:
        args = _microservice_args(
            service,
            spec.path.parent,
            namespace_name,
            bundle,
            labels,
            claims,
            data.connections.get(service.name),
        )
        component = SophiaMicroservice(
            service.name, args, opts=pulumi.ResourceOptions(providers=[provider])
        )
        services[service.name] = component
        endpoints[service.name] = _endpoint(component, service)
    costs = estimate_costs(platform)
    outputs: dict[str, Any] = {
        "endpoints": endpoints,
        "estimatedMonthlyUsd": costs.monthly_usd,
        "gpuInventory": gpu_inventory(platform, costs),
        "hosts": {
            name: {"ip": host.ip, "privateIp": host.private_ip} for name, host in hosts.items()
        },
    }
    if server is not None and server.kubeconfig is not None:
        outputs["kubeconfig"] = server.kubeconfig  # a secret output
    return PlatformStack(
        hosts, file_systems, firewall, provider, namespace, bundle, data, services, outputs
    )


def export_outputs(stack: PlatformStack) -> None:
    for key, value in stack.outputs.items():
        pulumi.export(key, value)


def gpu_inventory(platform: Platform, costs: CostEstimate) -> dict[str, Any]:
    hosts = {h.host: {"gpuType": h.gpu_type, "gpus": h.gpus} for h in costs.hosts}
    requested = {
        s.name: {"gpuType": s.gpu.type, "perPod": s.gpu.count, "maxPods": s.peak_replicas}
        for s in platform.services
        if s.gpu
    }
    return {"hosts": hosts, "requested": requested}


def _require(config: ConfigLookup, key: str, hint: str) -> pulumi.Input[str]:
    value = config(key)
    if value is None:
        raise MissingConfigError(f"stack config '{key}' is not set: {hint}")
    return value


def _credential(config: ConfigLookup, key: str) -> pulumi.Input[str]:
    """A credential's (secret) value from stack config, where the ESC environment puts it."""
    return _require(
        config,
        credential_config_key(key),
        "import the stack's ESC environment (`environment:` in the stack file) or "
        f"`pulumi config set --secret {credential_config_key(key)}`",
    )


def _firewall(
    platform: Platform, api_key: pulumi.Input[str] | None
) -> LambdaFirewallRuleset | None:
    """The k3s cluster's firewall ruleset (its hosts share one region: validation sees to it)."""
    server = platform.server_host
    if server is None or not isinstance(platform.cluster, K3sCluster):
        return None
    firewall = platform.cluster.firewall
    published = [
        (port.protocol, port.port)
        for service in platform.services
        if service.expose.type == "LoadBalancer"
        for port in service.ports
    ]
    return LambdaFirewallRuleset(
        "firewall",
        name=instance_name(platform.metadata.name, pulumi.get_stack(), "k3s"),
        region=server.region,
        rules=k3s_firewall_rules(firewall.admin_networks, firewall.node_network, published),
        api_key=api_key,
    )


def _gpu_hosts(
    platform: Platform,
    config: ConfigLookup,
    api_key: pulumi.Input[str] | None,
    file_systems: dict[str, LambdaFileSystem],
    firewall: LambdaFirewallRuleset | None,
) -> dict[str, LambdaGpuHost]:
    """The k3s server host first, then the agents that join it over the private network."""
    server = platform.server_host
    if server is None:
        return {}
    ssh = SshAccess(
        private_key=_require(
            config,
            "sshPrivateKey",
            "`pulumi config set --secret sshPrivateKey < ~/.ssh/KEY` (the key the hosts trust)",
        )
    )
    prefix = f"{platform.metadata.name}-{pulumi.get_stack()}"
    hosts: dict[str, LambdaGpuHost] = {}
    for host in [server, *(h for h in platform.hosts if h.name != server.name)]:
        first = hosts.get(server.name)
        join = (
            K3sJoin(server_url=first.server_url, node_token=first.node_token)
            if first is not None and first.server_url is not None and first.node_token is not None
            else None
        )
        hosts[host.name] = LambdaGpuHost(
            host.name,
            LambdaGpuHostArgs(
                instance_name=instance_name(prefix, host.name),
                instance_type=host.instance_type,
                region=host.region,
                ssh_key_name=host.ssh_keys[0],
                ssh=ssh,
                k3s_version=host.k3s_version,
                file_systems=[file_systems[name] for name in host.file_systems],
                firewall_ruleset_ids=[firewall.ruleset_id] if firewall else [],
                labels=host.labels,
                join=join,
                ssh_public_key=host.ssh_public_key,
                api_key=api_key,
            ),
        )
    return hosts


def _kubernetes_provider(
    platform: Platform, config: ConfigLookup, server: LambdaGpuHost | None
) -> k8s.Provider:
    cluster = platform.cluster
    if server is not None and server.kubeconfig is not None:
        kubeconfig: pulumi.Input[str] = server.kubeconfig
        context = None
    else:
        key = (
            cluster.kubeconfig_config_key if isinstance(cluster, ExistingCluster) else "kubeconfig"
        )
        kubeconfig = _require(
            config,
            key,
            f"`pulumi config set --secret {key} < kubeconfig.yaml` (the cluster's kubeconfig)",
        )
        context = cluster.context if isinstance(cluster, ExistingCluster) else None
    # Secrets mutable: a credential rotation updates the Secret in place; by default
    # pulumi-kubernetes replaces a Secret whose data changes (delete first: it is named).
    return k8s.Provider(
        "kubernetes",
        kubeconfig=kubeconfig,
        context=context,
        enable_server_side_apply=True,
        enable_secret_mutable=True,
    )


def _secret_bundle(
    platform: Platform,
    config: ConfigLookup,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    provider: k8s.Provider,
) -> EscSecretBundle | None:
    if platform.secrets is None or not platform.secrets.groups:
        return None
    groups = {name: list(group.keys) for name, group in platform.secrets.groups.items()}
    values: dict[str, pulumi.Input[str]] = {}
    missing: list[str] = []
    for key in (k for keys in groups.values() for k in keys):
        value = config(credential_config_key(key))
        if value is None:
            missing.append(credential_config_key(key))
        else:
            values[key] = value
    if missing:
        raise MissingConfigError(
            f"{len(missing)} credential(s) missing from stack config: {', '.join(missing)}; "
            f"import the ESC environment {platform.secrets.esc.project}/"
            f"{platform.secrets.esc.environment} in the stack file "
            "(`environment:`) or `pulumi config set --secret KEY`"
        )
    return EscSecretBundle(
        "credentials",
        EscSecretBundleArgs(
            namespace=namespace,
            groups=groups,
            values=values,
            labels=labels,
            delivery=_delivery(platform),
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


def _file_system_claims(
    platform: Platform,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    provider: k8s.Provider,
) -> dict[str, NodeDirectoryClaim]:
    """One claim per file system the services use, on the hosts that mount it."""
    used = sorted({v.file_system for s in platform.services for v in s.volumes if v.file_system})
    return {
        name: NodeDirectoryClaim(
            f"fs-{name}",
            NodeDirectoryClaimArgs(
                namespace=namespace,
                claim_name=f"lambda-fs-{name}",
                path=mount_point(name),
                node_selector=file_system_selector(name),
                labels=labels,
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        for name in used
    }


def _delivery(platform: Platform) -> ExternalSecretsDelivery | None:
    """The External Secrets Operator's view of the stack's ESC layout, if the spec asks."""
    secrets = platform.secrets
    if secrets is None or secrets.delivery != "external-secrets":
        return None
    layout = esc_layout(platform)
    return ExternalSecretsDelivery(
        organization=secrets.esc.organization,
        project=secrets.esc.project,
        environments={group: env.name for group, env in layout.groups.items()},
        refresh_interval=secrets.refresh_interval,
    )


def _endpoint(component: SophiaMicroservice, service: Service) -> pulumi.Output[str]:
    """`name.namespace.svc.cluster.local:port` (no port for a service without ports)."""
    port = f":{service.ports[0].port}" if service.ports else ""
    return component.service_dns_name.apply(lambda dns: dns + port)


def _microservice_args(
    service: Service,
    spec_dir: Path,
    namespace: pulumi.Input[str],
    bundle: EscSecretBundle | None,
    labels: dict[str, str],
    claims: dict[str, NodeDirectoryClaim],
    connection: Connection | None = None,
) -> MicroserviceArgs:
    """`connection`: what the service receives of the data services it uses (a Secret of its
    own, and references to the bundle's credentials)."""
    groups = list(service.secrets.groups)
    secret_env = []
    secret_env_from = [bundle.secret_names[g] for g in groups] if bundle else []
    checksum = None
    if bundle is not None and (groups or service.secrets.keys or connection):
        keys = [*service.secrets.keys]
        used = set(groups)
        if connection is not None:
            keys += [k for k in connection.credentials if k not in keys]
            name, entry = bundle.connection_secret(service.name, connection.values)
            secret_env_from.append(name)
            used.add(entry)
        secret_env = [bundle.key_ref(key) for key in keys]
        used |= {bundle.group_of(key) for key in keys}
        checksum = bundle.checksum_of(used)
    r = service.resources
    return MicroserviceArgs(
        namespace=namespace,
        image=service.image,
        replicas=service.replicas,
        ports=[ContainerPort(p.name, p.port, p.protocol) for p in service.ports],
        command=service.command,
        args=service.args,
        env=dict(service.env),
        secret_env_from=secret_env_from,
        secret_env=secret_env,
        secrets_checksum=checksum,
        resources=ComputeResources(
            cpu_request=r.requests.cpu,
            memory_request=r.requests.memory,
            cpu_limit=r.limits.cpu,
            memory_limit=r.limits.memory,
        ),
        gpu=GpuRequest(service.gpu.count, service.gpu.type) if service.gpu else None,
        node_selector=_node_selector(service),
        autoscaling=(
            Autoscaling(
                service.autoscaling.min_replicas,
                service.autoscaling.max_replicas,
                service.autoscaling.target_cpu_percent,
            )
            if service.autoscaling
            else None
        ),
        health=(
            HealthProbe(
                port=service.health.port,
                path=service.health.path,
                initial_delay_seconds=service.health.initial_delay_seconds,
                period_seconds=service.health.period_seconds,
                failure_threshold=service.health.failure_threshold,
                startup_seconds=service.health.startup_seconds,
            )
            if service.health
            else None
        ),
        service_type=service.expose.type,
        allow_from=service.expose.allow_from,
        min_available=(
            service.disruption_budget.min_available if service.disruption_budget else None
        ),
        build=(
            ImageBuild(
                context=str((spec_dir / service.build.context).resolve()),
                dockerfile=service.build.dockerfile,
                args=dict(service.build.args),
                platform=service.build.platform,
            )
            if service.build
            else None
        ),
        labels=labels,
        rollout=_rollout(service),
        volumes=[
            WritableVolume(
                v.name,
                v.mount_path,
                v.size_limit,
                claims[v.file_system].claim_name if v.file_system else v.claim,
                v.memory,
                v.read_only,
            )
            for v in service.volumes
        ],
        image_pull_secrets=_pull_secrets(service, bundle),
    )


def _node_selector(service: Service) -> dict[str, str]:
    """The service's host, and the hosts that mount the file systems it uses."""
    selector = {HOST_NODE_LABEL: service.host} if service.host else {}
    for volume in service.volumes:
        if volume.file_system:
            selector.update(file_system_selector(volume.file_system))
    return selector


def _pull_secrets(service: Service, bundle: EscSecretBundle | None) -> list[pulumi.Output[str]]:
    pull = service.image_pull_secret
    if pull is None or bundle is None:  # cross-references checked that the keys exist
        return []
    registry = pull.server.replace(".", "-").replace(":", "-")
    return [bundle.registry_secret(registry, pull.server, pull.username_key, pull.password_key)]


def _rollout(service: Service) -> Rollout | None:
    """The spec's rollout over the component's default (Recreate for GPU services)."""
    given = service.rollout
    if given is None:
        return None
    default = Rollout("Recreate") if service.gpu and given.strategy is None else Rollout()
    return Rollout(
        strategy=given.strategy or default.strategy,
        max_surge=given.max_surge if given.max_surge is not None else default.max_surge,
        max_unavailable=(
            given.max_unavailable if given.max_unavailable is not None else default.max_unavailable
        ),
    )
