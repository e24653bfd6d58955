"""`LambdaGpuHost`: a Lambda Cloud GPU instance bootstrapped into a k3s node over SSH."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_command as command

from .bootstrap import NodeSettings, render_script
from .catalog import gpu_type_of, load_catalog
from .lambda_cloud.models import FirewallRule
from .lambda_cloud.resources import LambdaInstance, LambdaInstanceArgs, LambdaSshKey
from .lambda_cloud.storage import LambdaFileSystem

K3S_PORT = 6443
FLANNEL_VXLAN_PORT = 8472
KUBELET_PORT = 10250
NODE_PORT_RANGE = (30000, 32767)
FILE_SYSTEM_LABEL_PREFIX = "filesystem.sophia.ai/"
KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml"
NODE_TOKEN_PATH = "/var/lib/rancher/k3s/server/node-token"


@dataclass(frozen=True)
class SshAccess:
    private_key: pulumi.Input[str]
    """Secret: the private half of the Lambda SSH key the instance is launched with."""
    user: str = "ubuntu"


@dataclass(frozen=True)
class K3sJoin:
    """Where an agent joins: the server host's URL and node token (a secret)."""

    server_url: pulumi.Input[str]
    node_token: pulumi.Input[str]


@dataclass(frozen=True)
class LambdaGpuHostArgs:
    instance_name: str
    """Stack-unique Lambda instance name."""
    instance_type: str
    region: str
    ssh_key_name: str
    ssh: SshAccess
    k3s_version: str = "v1.30.6+k3s1"
    file_systems: Sequence[str | LambdaFileSystem] = ()
    """Persistent file systems to mount at /lambda/nfs/<name> (same region): the name of an
    existing one, or the resource the stack makes. The node gets the label
    `filesystem.sophia.ai/<name>=mounted` (`file_system_selector`) for the pods that use it."""
    firewall_ruleset_ids: Sequence[pulumi.Input[str]] = ()
    """Lambda firewall rulesets to attach (same region), e.g. one of `k3s_firewall_rules`."""
    labels: Mapping[str, str] = field(default_factory=dict)
    join: K3sJoin | None = None
    """None: this host runs the k3s server. Otherwise it joins that server as an agent."""
    ssh_public_key: str | None = None
    """Register this public key in Lambda as `ssh_key_name` before launching."""
    api_key: pulumi.Input[str] | None = None
    api_base: str | None = None


def file_system_selector(name: str) -> dict[str, str]:
    """The node label of hosts that mount file system `name`: a pod that uses it selects it."""
    return {f"{FILE_SYSTEM_LABEL_PREFIX}{name}": "mounted"}


def k3s_firewall_rules(
    admin_networks: Sequence[str],
    node_network: str,
    public_ports: Sequence[tuple[str, int]] = (),
) -> list[FirewallRule]:
    """The inbound rules a k3s cluster on Lambda needs, and no more: SSH (the bootstrap) and
    the Kubernetes API from the admin networks; the API, flannel's VXLAN and the kubelet
    between nodes over the private network; NodePorts from the admin networks; and each
    (protocol, port) a LoadBalancer service publishes, from anywhere (k3s' service load
    balancer answers on every node)."""
    rules: list[FirewallRule] = []
    for network in admin_networks:
        rules += [
            FirewallRule("tcp", network, "SSH: bootstrap and operators", (22, 22)),
            FirewallRule("tcp", network, "Kubernetes API (k3s)", (K3S_PORT, K3S_PORT)),
            FirewallRule("tcp", network, "NodePort services", NODE_PORT_RANGE),
        ]
    rules += [
        FirewallRule("tcp", node_network, "k3s API between nodes", (K3S_PORT, K3S_PORT)),
        FirewallRule(
            "udp", node_network, "flannel VXLAN", (FLANNEL_VXLAN_PORT, FLANNEL_VXLAN_PORT)
        ),
        FirewallRule("tcp", node_network, "kubelet", (KUBELET_PORT, KUBELET_PORT)),
    ]
    for protocol, port in sorted(set(public_ports)):
        rules.append(
            FirewallRule(protocol.lower(), "0.0.0.0/0", f"LoadBalancer port {port}", (port, port))
        )
    return rules


def kubeconfig_for(raw: str, address: str) -> str:
    """k3s writes its kubeconfig for 127.0.0.1; point it at the instance instead."""
    return raw.replace("https://127.0.0.1:", f"https://{address}:").replace(
        "https://localhost:", f"https://{address}:"
    )


class LambdaGpuHost(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: LambdaGpuHostArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.gpu_type: str = gpu_type_of(args.instance_type)
        file_system_names = [
            fs if isinstance(fs, str) else fs.file_system_name for fs in args.file_systems
        ]
        labels = dict(args.labels)
        for fs_name in file_system_names:
            labels.update(file_system_selector(fs_name))
        # Registered as the component's properties so that policies see the host as a whole:
        # the node the bootstrap makes of it (the capacity policy places pods on it).
        node_labels = NodeSettings(
            role="server", host_name=name, gpu_type=self.gpu_type, k3s_version="", public_ip="",
            labels=labels,
        ).node_labels()  # fmt: skip
        super().__init__(
            "sophia:index:LambdaGpuHost",
            name,
            {
                "instanceName": args.instance_name,
                "instanceType": args.instance_type,
                "region": args.region,
                "nodeLabels": node_labels,
                "nodeTaints": [],
            },
            opts,
        )
        entry = load_catalog().get(args.instance_type)
        self.gpu_count: int = entry.gpus if entry else 0
        child = pulumi.ResourceOptions(parent=self)

        depends: list[pulumi.Resource] = []
        if args.ssh_public_key is not None:
            depends.append(
                LambdaSshKey(
                    f"{name}-ssh-key",
                    name=args.ssh_key_name,
                    public_key=args.ssh_public_key,
                    api_key=args.api_key,
                    api_base=args.api_base,
                    opts=child,
                )
            )
        self.instance: LambdaInstance = LambdaInstance(
            f"{name}-instance",
            LambdaInstanceArgs(
                name=args.instance_name,
                instance_type_name=args.instance_type,
                region_name=args.region,
                ssh_key_names=[args.ssh_key_name],
                file_system_names=[
                    fs if isinstance(fs, str) else fs.name for fs in args.file_systems
                ],
                firewall_ruleset_ids=args.firewall_ruleset_ids,
                api_key=args.api_key,
                api_base=args.api_base,
            ),
            opts=child.merge(pulumi.ResourceOptions(depends_on=depends)),
        )
        self.ip: pulumi.Output[str] = self.instance.ip
        self.private_ip: pulumi.Output[str] = self.instance.private_ip
        connection = command.remote.ConnectionArgs(
            host=self.ip, user=args.ssh.user, private_key=args.ssh.private_key
        )
        role: Literal["server", "agent"] = "agent" if args.join else "server"

        def render(values: list[str]) -> str:
            public_ip, private_ip, server_url, node_token = values
            return render_script(
                NodeSettings(
                    role=role,
                    host_name=name,
                    gpu_type=self.gpu_type,
                    k3s_version=args.k3s_version,
                    public_ip=public_ip,
                    private_ip=private_ip or "",
                    server_url=server_url,
                    node_token=node_token,
                    labels=labels,
                )
            )

        script: pulumi.Output[str] = pulumi.Output.all(
            self.ip,
            self.private_ip,
            args.join.server_url if args.join else "",
            args.join.node_token if args.join else "",
        ).apply(render)
        secret_script: pulumi.Output[str] = pulumi.Output.secret(script)  # holds the join token
        bootstrap = command.remote.Command(
            f"{name}-bootstrap",
            connection=connection,
            create=secret_script,
            triggers=[self.instance.instance_id, args.k3s_version],
            logging=command.remote.Logging.STDERR,
            opts=child,
        )
        # Secrets, and only on the server host.
        self.kubeconfig: pulumi.Output[str] | None = None
        self.node_token: pulumi.Output[str] | None = None
        self.server_url: pulumi.Output[str] | None = None
        if args.join is None:
            self.kubeconfig = pulumi.Output.secret(
                pulumi.Output.all(
                    self._read(name, "kubeconfig", KUBECONFIG_PATH, connection, bootstrap), self.ip
                ).apply(lambda v: kubeconfig_for(v[0], v[1]))
            )
            self.node_token = pulumi.Output.secret(
                self._read(name, "node-token", NODE_TOKEN_PATH, connection, bootstrap).apply(
                    str.strip
                )
            )
            self.server_url = pulumi.Output.all(self.private_ip, self.ip).apply(
                lambda v: f"https://{v[0] or v[1]}:{K3S_PORT}"
            )
        self.register_outputs(
            {
                "ip": self.ip,
                "gpuType": self.gpu_type,
                "gpuCount": self.gpu_count,
                "kubeconfig": self.kubeconfig,
                "serverUrl": self.server_url,
            }
        )

    def _read(
        self,
        name: str,
        what: str,
        path: str,
        connection: command.remote.ConnectionArgs,
        after: pulumi.Resource,
    ) -> pulumi.Output[str]:
        """A file of the server as a secret output (never logged)."""
        read = command.remote.Command(
            f"{name}-{what}",
            connection=connection,
            create=f"sudo cat {path}",
            logging=command.remote.Logging.NONE,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[after], additional_secret_outputs=["stdout"]
            ),
        )
        return read.stdout
