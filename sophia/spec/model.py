"""The `sophia.yaml` language (apiVersion `sophia.ai/v1`, kind `Platform`) as pydantic models.

The committed JSON Schema (`specs/sophia.schema.json`) is generated from these classes, so
every field's description here is also the editor tooltip a platform engineer reads.
YAML keys are camelCase (Kubernetes' convention); Python attributes are snake_case.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from .base import DNS_LABEL, GROUP_NAME, DnsLabel, GroupName, SpecModel
from .data_services import (
    DATA_PATTERN_HINTS,
    DataServices,
    ServiceDataServices,
    WarehouseSize,
)
from .quantities import MEMORY_UNITS

API_VERSION = "sophia.ai/v1"
KIND = "Platform"

# Patterns, each with the sentence an error message uses when a value does not match.
PORT_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
CREDENTIAL_KEY = r"^[A-Z][A-Z0-9_]*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
CPU_QUANTITY = r"^([0-9]{1,9}m|[0-9]{1,6}(\.[0-9]{1,3})?)$"
MEMORY_QUANTITY = r"^[0-9]{1,15}(\.[0-9]{1,6})?(Ki|Mi|Gi|Ti|k|M|G|T)?$"
INSTANCE_TYPE = r"^gpu_[0-9]+x_[a-z0-9_]+$"
K3S_VERSION = r"^v[0-9]+\.[0-9]+\.[0-9]+\+k3s[0-9]+$"
LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
ESC_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
HTTP_PATH = r"^/\S*$"
# Docker's image reference grammar (distribution/reference): [domain/]path[:tag][@digest].
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = (
    rf"^(?:{_DOMAIN}/)?{_PATH}(?:/{_PATH})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
FILE_SYSTEM_NAME = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"

PATTERN_HINTS: dict[str, str] = {
    DNS_LABEL: "must be a DNS-1123 label: lowercase letters, digits and '-', "
    "starting and ending with a letter or digit (e.g. 'ai-intelligence')",
    GROUP_NAME: "must be lowercase letters, digits and '_', starting with a letter "
    "(e.g. 'ai_intelligence')",
    CREDENTIAL_KEY: "must be an upper-case environment variable name (e.g. 'OPENROUTER_API_KEY')",
    ENV_NAME: "must be an environment variable name: letters, digits and '_', not starting "
    "with a digit",
    CPU_QUANTITY: "must be a Kubernetes CPU quantity such as '500m', '1' or '2.5' "
    "(at most 999999 cores)",
    MEMORY_QUANTITY: "must be a Kubernetes memory quantity such as '512Mi', '4Gi' or '1G'",
    IMAGE_REFERENCE: "must be an image reference such as 'ghcr.io/sophia-ai/api:1.4.2' "
    "(lowercase repository, an optional :tag and @sha256:digest, no spaces or control "
    "characters)",
    LABEL_VALUE: "must be a Kubernetes label value: at most 63 letters, digits, '-', '_' and "
    "'.', starting and ending with a letter or digit",
    INSTANCE_TYPE: "must be a Lambda Cloud instance type such as 'gpu_1x_a10' "
    "(see `sophia catalog`)",
    K3S_VERSION: "must be a k3s release such as 'v1.30.6+k3s1'",
    LABEL_KEY: "must be a Kubernetes label key such as 'tier' or 'sophia.ai/team'",
    ESC_NAME: "must be letters, digits, '-', '_' and '.', starting with a letter or digit",
    HTTP_PATH: "must be an absolute HTTP path such as '/healthz'",
    FILE_SYSTEM_NAME: "must be a Lambda file system name: lowercase letters, digits and '-', "
    "starting with a letter, at most 60 characters (e.g. 'model-weights')",
    **DATA_PATTERN_HINTS,
}

CredentialKey = Annotated[str, StringConstraints(pattern=CREDENTIAL_KEY, max_length=128)]
EnvName = Annotated[str, StringConstraints(pattern=ENV_NAME, max_length=128)]
LabelKey = Annotated[str, StringConstraints(pattern=LABEL_KEY, max_length=253)]
EscName = Annotated[str, StringConstraints(pattern=ESC_NAME, max_length=100)]
ImageReference = Annotated[str, StringConstraints(pattern=IMAGE_REFERENCE, max_length=512)]
LabelValue = Annotated[str, StringConstraints(pattern=LABEL_VALUE, max_length=63)]
FileSystemName = Annotated[str, StringConstraints(pattern=FILE_SYSTEM_NAME, max_length=60)]
Region = Literal[
    "asia-northeast-1",
    "asia-northeast-2",
    "asia-south-1",
    "australia-east-1",
    "europe-central-1",
    "me-west-1",
    "us-east-1",
    "us-east-2",
    "us-east-3",
    "us-midwest-1",
    "us-midwest-2",
    "us-south-1",
    "us-south-2",
    "us-south-3",
    "us-west-1",
    "us-west-2",
    "us-west-3",
]


def _scalar_to_str(value: Any) -> Any:
    """YAML reads `8080` and `true` as numbers and booleans; Kubernetes wants strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _quantity_schema(pattern: str, example: str) -> WithJsonSchema:
    """YAML authors write `cpu: 2` as often as `cpu: "2"`: accept both in the schema."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": pattern},
                {"type": "number", "exclusiveMinimum": 0},
            ],
            "examples": [example],
        }
    )


CpuQuantity = Annotated[
    str,
    BeforeValidator(_scalar_to_str),
    StringConstraints(pattern=CPU_QUANTITY),
    _quantity_schema(CPU_QUANTITY, "500m"),
]


def _within_int64(quantity: str) -> str:
    """Kubernetes stores memory as a whole number of bytes in an int64: the API server refuses
    anything larger, and a fraction of a byte ('198.01Gi')."""
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()  # type: ignore[union-attr]
    exact = Decimal(number) * MEMORY_UNITS[unit]
    if exact > 2**63 - 1:
        raise ValueError(f"{quantity} is more than Kubernetes can store (8 EiB)")
    if exact != exact.to_integral_value():
        raise ValueError(f"{quantity} is not a whole number of bytes ({exact} B)")
    return quantity


MemoryQuantity = Annotated[
    str,
    BeforeValidator(_scalar_to_str),
    StringConstraints(pattern=MEMORY_QUANTITY),
    AfterValidator(_within_int64),
    _quantity_schema(MEMORY_QUANTITY, "512Mi"),
]
EnvValue = Annotated[
    str,
    BeforeValidator(_scalar_to_str),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


# --- metadata and budget ---------------------------------------------------------------


class Metadata(SpecModel):
    name: DnsLabel
    """Platform name; prefixes cloud resource names (e.g. 'sophia-ai')."""
    environment: DnsLabel = "production"
    """Environment this file describes (e.g. 'production', 'staging'); a label on every resource."""
    description: str = ""
    """Free text for humans."""


class Budget(SpecModel):
    monthly_usd: float = Field(gt=0, le=1_000_000_000)
    """Most the platform may cost per month in USD; the `monthly-budget` policy enforces it."""
    hours_per_month: float = Field(730, gt=0, le=744)
    """Hours of a month used for cost estimates (industry convention: 730)."""


class Guardrails(SpecModel):
    allowed_instance_types: (
        list[Annotated[str, StringConstraints(pattern=INSTANCE_TYPE)]] | None
    ) = None
    """Lambda instance types a stack may launch (policy `gpu-instance-allowlist`); default:
    the pack's list, every single-GPU type in the catalog."""
    max_gpus_per_host: int | None = Field(None, ge=1, le=8)
    """Most GPUs one host may have (policy `gpu-instance-allowlist`); default 1."""
    allowed_warehouse_sizes: list[WarehouseSize] | None = None
    """Snowflake warehouse sizes a stack may run (policy `snowflake-warehouse-size`); default
    XSMALL, SMALL and MEDIUM."""
    enforcement: dict[DnsLabel, Literal["advisory", "mandatory", "disabled"]] = Field(
        default_factory=dict
    )
    """Enforcement level by policy name, e.g. `pinned-images: mandatory`; `all` sets every
    policy's level first."""


# --- secrets -------------------------------------------------------------------------------


class EscEnvironment(SpecModel):
    organization: EscName
    """Pulumi Cloud organization that owns the ESC environment."""
    project: EscName = "sophia-ai"
    """ESC project."""
    environment: EscName = "production"
    """ESC environment name; stacks import `<project>/<environment>`."""


class SecretGroup(SpecModel):
    description: str = ""
    """What these credentials are for."""
    prefixes: list[CredentialKey] = Field(default_factory=list)
    """Variable-name prefixes that belong to this group (e.g. 'OPENROUTER_'); used to sort
    exported secrets into groups."""
    keys: list[CredentialKey] = Field(default_factory=list)
    """Credentials of this group, by environment variable name; each starts with a prefix."""


class Rotation(SpecModel):
    strategy: Literal["two-secret"] = "two-secret"
    """'two-secret': every credential has slots a and b; a rotation fills the inactive slot
    and moves the pointer, so the previous value stays valid until the next rotation."""
    max_age_days: int = Field(90, ge=1, le=3650)
    """Credentials older than this are reported by `sophia secrets status` and the policies."""


class Secrets(SpecModel):
    esc: EscEnvironment
    """Where the credentials live in Pulumi ESC."""
    rotation: Rotation = Field(default_factory=Rotation)
    """How credentials are rotated and when they are too old."""
    groups: dict[GroupName, SecretGroup] = Field(default_factory=dict)
    """Credential groups by name; each becomes one Kubernetes Secret."""
    delivery: Literal["kubernetes-secrets", "external-secrets"] = "kubernetes-secrets"
    """How the Secrets get their values. 'kubernetes-secrets': `pulumi up` writes them.
    'external-secrets': the External Secrets Operator (installed in the cluster) syncs each
    from its group's ESC environment every `refreshInterval`, so a rotation reaches the
    cluster without `pulumi up` (pods read it at their next start)."""
    refresh_interval: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,4}(s|m|h)$")] = "1h"
    """How often the operator re-reads ESC (external-secrets delivery), e.g. '15m'."""


# --- hosts and cluster --------------------------------------------------------------------


class Host(SpecModel):
    name: DnsLabel
    """Host name, unique in the spec; also the Lambda instance name."""
    instance_type: Annotated[str, StringConstraints(pattern=INSTANCE_TYPE)]
    """Lambda Cloud instance type, e.g. 'gpu_1x_a10' (`sophia catalog` lists them)."""
    region: Region
    """Lambda Cloud region, e.g. 'us-west-1'."""
    ssh_keys: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=1
    )
    """Name of the SSH key registered in Lambda Cloud (the API takes exactly one at launch)."""
    ssh_public_key: (
        Annotated[str, StringConstraints(pattern=r"^(ssh-|ecdsa-)\S+ \S+.*$")] | None
    ) = None
    """Public key the stack registers in Lambda under `sshKeys[0]`; omit when it exists."""
    file_systems: list[FileSystemName] = Field(default_factory=list)
    """Persistent file systems (from `fileSystems`) the host mounts at /lambda/nfs/<name>;
    each in the host's region."""
    k3s_version: Annotated[str, StringConstraints(pattern=K3S_VERSION)] = Field(
        "v1.30.6+k3s1", alias="k3sVersion"
    )
    """Pinned k3s release installed by the bootstrap."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Extra Kubernetes node labels (the bootstrap always adds `gpu-type`)."""


def _ipv4_network(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not an IPv4 network in CIDR notation ({exc})") from None
    return str(network)


Ipv4Network = Annotated[
    str,
    StringConstraints(max_length=18),
    AfterValidator(_ipv4_network),
    WithJsonSchema({"type": "string", "examples": ["203.0.113.0/24"], "maxLength": 18}),
]


class Firewall(SpecModel):
    admin_networks: list[Ipv4Network] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, max_length=50
    )
    """Networks allowed to reach SSH (22/tcp, the bootstrap) and the Kubernetes API
    (6443/tcp, `pulumi up`, kubectl). Default: anywhere, as Lambda's own default; narrow it to
    your office and CI runners."""
    node_network: Ipv4Network = "10.0.0.0/8"
    """The region's private network the nodes talk over (k3s API, flannel VXLAN, kubelet)."""


class K3sCluster(SpecModel):
    type: Literal["k3s"] = "k3s"
    """'k3s': the stack installs k3s on the spec's hosts."""
    server: DnsLabel | None = None
    """Host that runs the k3s server; the others join as agents. Default: the first host."""
    firewall: Firewall = Field(default_factory=Firewall)
    """Inbound rules of the cluster's Lambda firewall ruleset (attached to every host): SSH and
    the API from `adminNetworks`, node ports from the private network, LoadBalancer services'
    ports from anywhere. Nothing else reaches the hosts."""


class FileSystem(SpecModel):
    name: FileSystemName
    """Lambda file system name, unique in the account; an existing one of this name (in this
    region) is adopted rather than made again."""
    region: Region
    """Region it lives in; only hosts of this region can mount it."""
    keep_on_destroy: bool = True
    """`pulumi destroy` leaves it and its data in Lambda (the default: weights are expensive
    to download again). false: destroy deletes it."""


class ExistingCluster(SpecModel):
    type: Literal["existing"]
    """'existing': deploy into a cluster you already run (EKS, GKE, AKS, …)."""
    kubeconfig_config_key: Annotated[
        str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_:-]*$")
    ] = "kubeconfig"
    """Stack config key whose (secret) value is the cluster's kubeconfig."""
    context: str | None = None
    """kubeconfig context to use; default: the kubeconfig's current context."""


def _cluster_type_defaults_to_k3s(value: Any) -> Any:
    """`type` chooses the cluster model; left out, it is 'k3s' (its documented default)."""
    if isinstance(value, dict) and "type" not in value:
        return {**value, "type": "k3s"}
    return value


CLUSTER_TYPES = ("k3s", "existing")
Cluster = Annotated[
    K3sCluster | ExistingCluster,
    Field(discriminator="type"),
    BeforeValidator(_cluster_type_defaults_to_k3s),
]


# --- services ------------------------------------------------------------------------------


class Build(SpecModel):
    context: Annotated[str, StringConstraints(min_length=1)]
    """Docker build context, relative to the spec file."""
    dockerfile: str = "Dockerfile"
    """Dockerfile path inside the context."""
    args: dict[EnvName, EnvValue] = Field(default_factory=dict)
    """Build arguments."""
    platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"
    """Target platform (gpu_1x_gh200 hosts are arm64)."""


class Port(SpecModel):
    name: Annotated[str, StringConstraints(pattern=PORT_NAME, max_length=15)]
    """Port name (IANA service name, ≤ 15 characters), e.g. 'http'."""
    port: int = Field(ge=1, le=65535)
    """Container port the process listens on."""
    protocol: Literal["TCP", "UDP"] = "TCP"
    """Transport protocol."""


class Requests(SpecModel):
    cpu: CpuQuantity = "100m"
    """CPU the scheduler reserves, e.g. '500m' or 2."""
    memory: MemoryQuantity = "128Mi"
    """Memory the scheduler reserves, e.g. '512Mi'."""


class Limits(SpecModel):
    cpu: CpuQuantity = "500m"
    """Most CPU the container may use."""
    memory: MemoryQuantity = "512Mi"
    """Most memory the container may use; above it the container is killed."""


class Resources(SpecModel):
    requests: Requests = Field(default_factory=Requests)
    """What the scheduler reserves (default 100m CPU, 128Mi memory)."""
    limits: Limits = Field(default_factory=Limits)
    """The most the container may use (default 500m CPU, 512Mi memory)."""


class Gpu(SpecModel):
    count: int = Field(ge=1, le=8)
    """GPUs per pod (`nvidia.com/gpu`)."""
    type: DnsLabel
    """GPU model the pod needs, as in the host's `gpu-type` node label (e.g. 'a10', 'h100')."""


class Autoscaling(SpecModel):
    min_replicas: int = Field(1, ge=1, le=100, alias="min")
    """Fewest replicas."""
    max_replicas: int = Field(ge=1, le=100, alias="max")
    """Most replicas (GPU capacity is checked against this)."""
    target_cpu_percent: int = Field(70, ge=1, le=100, alias="targetCPUPercent")
    """Average CPU utilisation, in percent of requests, the autoscaler aims for."""


class HealthCheck(SpecModel):
    path: Annotated[str, StringConstraints(pattern=HTTP_PATH)] | None = None
    """HTTP path that answers 200 when healthy; without it the probe is a TCP connect."""
    port: Annotated[str, StringConstraints(pattern=PORT_NAME)] | int = "http"
    """Port name from `ports`, or a port number."""
    initial_delay_seconds: int = Field(5, ge=0, le=3600)
    """Seconds to wait after start before probing."""
    period_seconds: int = Field(10, ge=1, le=3600)
    """Seconds between probes."""
    failure_threshold: int = Field(3, ge=1, le=100)
    """Failed probes in a row before the pod is unready (readiness); liveness restarts it after
    three times as many."""
    startup_seconds: int = Field(120, ge=5, le=7200)
    """How long the process may take to answer at all (a startup probe; a model loading onto
    a GPU may need minutes); liveness and readiness wait for it."""


SurgeOrUnavailable = Annotated[
    int | Annotated[str, StringConstraints(pattern=r"^(100|[1-9]?[0-9])%$")], Field(ge=0)
]


class PullSecret(SpecModel):
    server: Annotated[str, StringConstraints(pattern=r"^[a-z0-9.-]+(:[0-9]+)?$", max_length=253)]
    """Registry host, e.g. 'ghcr.io' or 'registry-1.docker.io'."""
    username_key: CredentialKey
    """Credential (from `secrets.groups`) holding the user name."""
    password_key: CredentialKey
    """Credential holding the password or access token."""


class Volume(SpecModel):
    name: DnsLabel
    """Volume name, unique in the service (not 'tmp': /tmp is always there)."""
    mount_path: Annotated[str, StringConstraints(pattern=r"^/[^\x00-\x1f]*$", max_length=256)]
    """Where the container sees it, e.g. '/models'."""
    size_limit: MemoryQuantity | None = "10Gi"
    """Scratch space that lives as long as the pod, at most this much (a model cache)."""
    claim: DnsLabel | None = None
    """An existing PersistentVolumeClaim to mount instead (weights that outlive the pod)."""
    memory: bool = False
    """Scratch space in RAM (tmpfs); it counts against the container's memory limit."""
    file_system: FileSystemName | None = None
    """A Lambda persistent file system (from `fileSystems`) instead: shared by every pod on
    the hosts that mount it, kept across deploys; the pods run only on those hosts."""
    read_only: bool = False
    """Mount read-only (weights many replicas read)."""


class Rollout(SpecModel):
    strategy: Literal["RollingUpdate", "Recreate"] | None = None
    """'Recreate' stops the old pods first (the default for GPU services: a one-GPU host has no
    GPU for a second pod); 'RollingUpdate' starts new pods first (the default otherwise)."""
    max_surge: SurgeOrUnavailable | None = None
    """RollingUpdate: extra pods during a rollout, a number or a percentage (default 25%)."""
    max_unavailable: SurgeOrUnavailable | None = None
    """RollingUpdate: pods that may be down during a rollout (default 25%)."""


class Expose(SpecModel):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    """Kubernetes Service type: ClusterIP (inside the cluster), NodePort or LoadBalancer."""
    allow_from: list[DnsLabel] | None = None
    """Only these services may connect (a NetworkPolicy); omit to allow any pod."""


class DisruptionBudget(SpecModel):
    min_available: int = Field(ge=1)
    """Pods that must stay up during voluntary disruptions (needs replicas ≥ 2)."""


class ServiceSecrets(SpecModel):
    groups: list[GroupName] = Field(default_factory=list)
    """Secret groups whose every credential becomes an environment variable (`envFrom`)."""
    keys: list[CredentialKey] = Field(default_factory=list)
    """Single credentials, by name, from any group (`secretKeyRef`)."""


class Service(SpecModel):
    name: DnsLabel
    """Service name, unique in the spec; the Kubernetes Deployment and Service get it."""
    image: ImageReference
    """Container image pinned by tag or digest, e.g. 'ghcr.io/sophia-ai/api:1.4.2'; with
    `build`, the name the built image is pushed as."""
    build: Build | None = None
    """Build the image from source and push it as `image`."""
    platform: Literal["linux/amd64", "linux/arm64"] | None = None
    """The image's platform where it is known (e.g. amd64-only images): a host of another
    architecture (gpu_1x_gh200 is arm64) is refused."""
    replicas: int = Field(1, ge=0, le=100)
    """Pods to run (the starting point when `autoscaling` is set)."""
    ports: list[Port] = Field(default_factory=list)
    """Ports the container listens on; the Kubernetes Service exposes them."""
    command: list[str] = Field(default_factory=list)
    """Overrides the image's entrypoint."""
    args: list[str] = Field(default_factory=list)
    """Arguments to the entrypoint."""
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    """Plain, non-secret environment variables. Credentials belong in `secrets`."""
    secrets: ServiceSecrets = Field(default_factory=ServiceSecrets)
    """Credentials the service receives, from the Secrets of `secrets.groups`."""
    resources: Resources = Field(default_factory=Resources)
    """CPU and memory requests and limits (always set; defaults are small)."""
    gpu: Gpu | None = None
    """GPUs per pod; the pod is placed on a host with that GPU type."""
    host: DnsLabel | None = None
    """Pin the service to this host (name from `hosts`)."""
    autoscaling: Autoscaling | None = None
    """Scale on CPU between min and max replicas (a HorizontalPodAutoscaler)."""
    health: HealthCheck | None = None
    """Readiness and liveness probe."""
    expose: Expose = Field(default_factory=Expose)
    """How other workloads reach the service."""
    disruption_budget: DisruptionBudget | None = None
    """Keep this many pods during node drains (a PodDisruptionBudget)."""
    rollout: Rollout | None = None
    """How new versions replace old pods (default: Recreate for GPU services)."""
    volumes: list[Volume] = Field(default_factory=list)
    """Writable directories besides /tmp: the root filesystem is read-only."""
    image_pull_secret: PullSecret | None = None
    """Credentials for a private registry (a dockerconfigjson Secret made from two credentials
    of the bundle; values never in the spec)."""
    data_services: ServiceDataServices = Field(default_factory=ServiceDataServices)
    """Data services it uses (`dataServices`); it receives their connection details — its own
    Snowflake user, index hosts, collection names — and nothing else."""

    @property
    def peak_replicas(self) -> int:
        """Pods at peak: the autoscaling maximum where set (what GPUs and costs must cover)."""
        return self.autoscaling.max_replicas if self.autoscaling else self.replicas


# --- MCP servers ----------------------------------------------------------------------------


class McpServer(SpecModel):
    name: DnsLabel
    """Name the server gets in `.cursor/mcp.json`."""
    command: Annotated[str, StringConstraints(min_length=1)]
    """Program to start, e.g. 'npx'."""
    args: list[str] = Field(default_factory=list)
    """Its arguments."""
    secret_groups: list[GroupName] = Field(default_factory=list)
    """Credential groups it needs; `sophia mcp-config` starts it through `esc run` so they
    reach it as environment variables at launch and never sit in the file."""


# --- per-stack overrides --------------------------------------------------------------------


class MetadataOverride(SpecModel):
    environment: DnsLabel | None = None
    """Environment name for this stack."""


class EscEnvironmentOverride(SpecModel):
    organization: EscName | None = None
    """Pulumi Cloud organization for this stack."""
    project: EscName | None = None
    """ESC project for this stack."""
    environment: EscName | None = None
    """ESC environment for this stack, e.g. 'staging'."""


class SecretsOverride(SpecModel):
    esc: EscEnvironmentOverride | None = None
    """Where this stack's credentials live."""


class HostOverride(SpecModel):
    instance_type: Annotated[str, StringConstraints(pattern=INSTANCE_TYPE)] | None = None
    """Instance type for this stack."""
    region: Region | None = None
    """Region for this stack."""
    k3s_version: Annotated[str, StringConstraints(pattern=K3S_VERSION)] | None = Field(
        None, alias="k3sVersion"
    )
    """k3s release for this stack."""
    labels: dict[LabelKey, LabelValue] | None = None
    """Node labels merged over the base ones."""


class ServiceOverride(SpecModel):
    image: ImageReference | None = None
    """Image for this stack."""
    replicas: int | None = Field(None, ge=0, le=100)
    """Replicas for this stack."""
    env: dict[EnvName, EnvValue] | None = None
    """Plain environment variables merged over the base ones."""
    resources: Resources | None = None
    """Requests and limits merged over the base ones."""
    gpu: Gpu | None = None
    """GPUs for this stack."""
    host: DnsLabel | None = None
    """Host for this stack."""
    autoscaling: Autoscaling | None = None
    """Autoscaling for this stack."""
    rollout: Rollout | None = None
    """Rollout for this stack."""


class StackOverride(SpecModel):
    metadata: MetadataOverride | None = None
    """Metadata for this stack."""
    budget: Budget | None = None
    """Budget for this stack."""
    policies: Guardrails | None = None
    """Policy settings for this stack, merged over the base ones."""
    namespace: DnsLabel | None = None
    """Namespace for this stack."""
    secrets: SecretsOverride | None = None
    """ESC location for this stack."""
    hosts: dict[DnsLabel, HostOverride] = Field(default_factory=dict)
    """Changes to hosts, by host name."""
    services: dict[DnsLabel, ServiceOverride] = Field(default_factory=dict)
    """Changes to services, by service name."""


# --- the document -----------------------------------------------------------------------------


class Platform(SpecModel):
    """A whole AI platform: GPU hosts, the cluster on them, services and their credentials."""

    api_version: Literal["sophia.ai/v1"] = Field(alias="apiVersion")
    """Version of this file format: 'sophia.ai/v1'."""
    kind: Literal["Platform"]
    """Always 'Platform'."""
    metadata: Metadata
    """Name and environment of the platform."""
    budget: Budget
    """Monthly spending limit."""
    policies: Guardrails = Field(default_factory=Guardrails)
    """Settings of the `sophia-guardrails` policies (`sophia policy-config` passes them to
    `pulumi preview --policy-pack`; `sophia preview` uses them as they are)."""
    secrets: Secrets | None = None
    """Credentials, held in Pulumi ESC and projected into Kubernetes Secrets."""
    file_systems: list[FileSystem] = Field(default_factory=list)
    """Lambda persistent file systems (NFS, one region each) hosts mount and services use."""
    hosts: list[Host] = Field(default_factory=list)
    """Lambda Cloud GPU machines the stack launches."""
    cluster: Cluster = Field(default_factory=K3sCluster)
    """Where services run: k3s on `hosts` (default) or an existing cluster."""
    namespace: DnsLabel | None = None
    """Kubernetes namespace for every service; default: `metadata.name`."""
    services: list[Service] = Field(default_factory=list)
    """Containerized services."""
    data_services: DataServices = Field(default_factory=DataServices)
    """Snowflake, Pinecone and Weaviate objects the platform owns (costed, guarded)."""
    mcp: list[McpServer] = Field(default_factory=list)
    """MCP servers for the team's IDE (`sophia mcp-config` writes `.cursor/mcp.json`)."""
    stacks: dict[DnsLabel, StackOverride] = Field(default_factory=dict)
    """Per-stack changes (e.g. 'staging': fewer replicas); the base applies to every stack."""

    @property
    def credential_keys(self) -> list[str]:
        """Every credential the spec declares, in group order."""
        groups = self.secrets.groups.values() if self.secrets else []
        return [key for group in groups for key in group.keys]

    @property
    def default_stack(self) -> str:
        """The stack a command uses when none is named: `prod` when the spec has no stacks or
        lists it, else the first it lists."""
        stacks = list(self.stacks)
        return "prod" if not stacks or "prod" in stacks else stacks[0]

    @property
    def target_namespace(self) -> str:
        return self.namespace or self.metadata.name

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)

    def file_system(self, name: str) -> FileSystem | None:
        return next((f for f in self.file_systems if f.name == name), None)

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    @property
    def server_host(self) -> Host | None:
        """The host that runs the k3s server (None for an existing cluster or no hosts)."""
        if not isinstance(self.cluster, K3sCluster) or not self.hosts:
            return None
        return self.host(self.cluster.server) if self.cluster.server else self.hosts[0]
