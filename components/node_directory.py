"""`NodeDirectoryClaim`: a directory some nodes have (a Lambda persistent file system the
instance mounts), offered to pods as a PersistentVolumeClaim.

Why a claim and not a `hostPath` volume: Pod Security `restricted`, which the namespace
enforces, refuses `hostPath` in pods but admits claims. The PersistentVolume is a `local`
volume whose node affinity names the nodes that have the directory, so the scheduler places
the pods there (and only there); the claim is bound to it by name, no provisioner involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

NOMINAL_CAPACITY = "1Ti"
"""A network file system has no fixed size; Kubernetes wants one on both sides of a binding
(the claim asks for no more than the volume offers). Nothing enforces it."""


@dataclass(frozen=True)
class NodeDirectoryClaimArgs:
    namespace: pulumi.Input[str]
    claim_name: str
    """The claim pods mount (`WritableVolume(claim=…)`)."""
    path: str
    """The directory on the nodes, e.g. /lambda/nfs/model-weights."""
    node_selector: Mapping[str, str]
    """Labels of the nodes that have the directory; pods using the claim must select them."""
    labels: Mapping[str, str] | None = None


class NodeDirectoryClaim(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        args: NodeDirectoryClaimArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("sophia:index:NodeDirectoryClaim", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels or {})
        # PersistentVolumes are cluster-wide: the namespace keeps two stacks' volumes apart.
        volume_name = pulumi.Output.concat(args.namespace, "-", args.claim_name)
        volume = k8s.core.v1.PersistentVolume(
            f"{name}-volume",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=volume_name, labels=labels),
            spec=k8s.core.v1.PersistentVolumeSpecArgs(
                capacity={"storage": NOMINAL_CAPACITY},
                access_modes=["ReadWriteMany"],
                persistent_volume_reclaim_policy="Retain",  # the data is the file system's
                storage_class_name="",
                volume_mode="Filesystem",
                local=k8s.core.v1.LocalVolumeSourceArgs(path=args.path),
                claim_ref=k8s.core.v1.ObjectReferenceArgs(
                    namespace=args.namespace, name=args.claim_name
                ),
                node_affinity=k8s.core.v1.VolumeNodeAffinityArgs(
                    required=k8s.core.v1.NodeSelectorArgs(
                        node_selector_terms=[
                            k8s.core.v1.NodeSelectorTermArgs(
                                match_expressions=[
                                    k8s.core.v1.NodeSelectorRequirementArgs(
                                        key=key, operator="In", values=[value]
                                    )
                                    for key, value in sorted(args.node_selector.items())
                                ]
                            )
                        ]
                    )
                ),
            ),
            opts=child,
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-claim",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.claim_name, namespace=args.namespace, labels=labels
            ),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteMany"],
                storage_class_name="",
                volume_name=volume.metadata.name,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(
                    requests={"storage": NOMINAL_CAPACITY}
                ),
            ),
            opts=child.merge(pulumi.ResourceOptions(depends_on=[volume])),
        )
        self.claim_name: pulumi.Output[str] = claim.metadata.name
        self.volume_name: pulumi.Output[str] = volume.metadata.name
        self.register_outputs({"claimName": self.claim_name, "volumeName": self.volume_name})
