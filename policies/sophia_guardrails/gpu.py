"""GPU rules: placement of GPU pods, capacity against the stack's hosts, the instance allow-list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .capacity import DEFAULT_RESERVE, LAMBDA_INSTANCE, nodes_of, place, pods_of
from .catalog import load_catalog
from .guard import config, guarded_resource, guarded_stack
from .props import (
    GPU_RESOURCE,
    PodSpec,
    label,
    mapping,
    pod_spec,
    sequence,
)

GPU_TYPE_LABEL = "gpu-type"
DEFAULT_GPU_NODE_LABELS = [GPU_TYPE_LABEL, "nvidia.com/gpu.present", "nvidia.com/gpu.product"]
DEFAULT_ALLOWED_TYPES = sorted(
    t.name for t in load_catalog().instance_types.values() if t.gpus == 1
)
DEFAULT_MAX_GPUS_PER_HOST = 1


def _tolerates_gpu(pod: PodSpec) -> bool:
    for item in sequence(pod.spec.get("tolerations"), f"{pod.path}.tolerations"):
        t = mapping(item, "toleration")
        if t.get("key") == GPU_RESOURCE or (
            t.get("key") in (None, "") and t.get("operator") == "Exists"
        ):
            return True
    return False


def _selects_gpu_nodes(pod: PodSpec, keys: Sequence[str]) -> bool:
    return bool(set(keys) & (set(pod.node_selector()) | pod.required_affinity_keys()))


@guarded_resource
def _check_placement(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    who = label(args.resource_type, args.name, args.props)
    wants_gpu = False
    for c in pod.containers():
        limit, request = c.gpus("limits"), c.gpus("requests")
        wants_gpu = wants_gpu or bool(limit or request)
        if request and not limit:
            report(
                f"{who}: {c.path}.resources.requests asks for {request} {GPU_RESOURCE} but "
                f"resources.limits does not; set limits.{GPU_RESOURCE}: {request}",
                None,
            )
        elif request and request != limit:
            report(
                f"{who}: {c.path} requests {request} {GPU_RESOURCE} but limits {limit}; "
                "GPU requests must equal limits",
                None,
            )
    if not wants_gpu:
        return
    if pod.spec.get("runtimeClassName") != "nvidia":
        report(
            f"{who}: {pod.path}.runtimeClassName is "
            f"{pod.spec.get('runtimeClassName') or 'unset'}; GPU pods need "
            "runtimeClassName: nvidia",
            None,
        )
    keys = config(args, "gpuNodeLabels", DEFAULT_GPU_NODE_LABELS)
    if not _selects_gpu_nodes(pod, keys):
        report(
            f"{who}: {pod.path}.nodeSelector selects no GPU node; add "
            f"{GPU_TYPE_LABEL}: <type> (or a required node affinity on {', '.join(keys)})",
            None,
        )
    if not _tolerates_gpu(pod):
        report(
            f"{who}: {pod.path}.tolerations lacks {{key: {GPU_RESOURCE}, operator: Exists}}; "
            "it must run on GPU nodes that carry that taint",
            None,
        )


@guarded_resource
def _check_reserved(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None or pod.gpus_per_pod():
        return
    selector = pod.node_selector()
    key = config(args, "gpuTypeLabel", GPU_TYPE_LABEL)
    if key in selector:
        report(
            f"{label(args.resource_type, args.name, args.props)}: {pod.path}.nodeSelector "
            f"pins a pod without GPUs to GPU nodes ({key}: "
            f"{selector[key]}); drop the selector or request a GPU",
            None,
        )


@guarded_stack
def _check_capacity(args: StackValidationArgs, report: ReportViolation) -> None:
    nodes = nodes_of(args.resources, config(args, "systemReserve", DEFAULT_RESERVE))
    if not nodes:
        return  # the stack runs on a cluster it does not own: nothing to compare with
    pods = pods_of(args.resources)
    placement = place(pods, nodes)
    if not placement.unplaced:
        return
    shown = "; ".join(f"{pod.label}: {why}" for pod, why in placement.unplaced[:5])
    more = f"; and {len(placement.unplaced) - 5} more" if len(placement.unplaced) > 5 else ""
    hosts = ", ".join(f"{n.name} ({n.instance_type})" for n in nodes)
    report(
        f"{len(placement.unplaced)} of {len(pods)} pod(s) at peak (replicas, autoscaling max, "
        f"rollout surge) cannot be placed on the stack's hosts [{hosts}]: {shown}{more}. Add or "
        "resize a host (`sophia plan`), lower replicas or autoscaling max, or roll out with "
        "Recreate",
        None,
    )


@guarded_resource
def _check_allowlist(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != LAMBDA_INSTANCE:
        return
    itype = args.props.get("instance_type_name")
    who = f"Lambda instance '{args.props.get('name') or args.name}'"
    allowed = config(args, "allowedInstanceTypes", DEFAULT_ALLOWED_TYPES)
    if itype not in allowed:
        report(
            f"{who}: instance_type_name {itype} is not on the allow-list "
            f"({', '.join(allowed)}); pick one of those or extend allowedInstanceTypes",
            None,
        )
    entry = load_catalog().get(str(itype))
    limit = config(args, "maxGpusPerHost", DEFAULT_MAX_GPUS_PER_HOST)
    if entry is not None and entry.gpus > limit:
        report(
            f"{who}: {itype} has {entry.gpus} GPUs, above maxGpusPerHost {limit}; "
            "use a smaller instance type or raise the limit",
            None,
        )


def _schema(properties: Mapping[str, Any]) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties=dict(properties))


GPU_TYPE_LABEL_SCHEMA = {
    "gpuTypeLabel": {
        "type": "string",
        "minLength": 1,
        "default": GPU_TYPE_LABEL,
        "description": "Node label whose value is a node's GPU model (the bootstrap sets it).",
    }
}


POLICIES = [
    ResourceValidationPolicy(
        name="gpu-placement",
        description="Pods that request nvidia.com/gpu set it in limits, use runtimeClassName "
        "nvidia, select GPU nodes and tolerate the GPU taint.",
        remediation_steps="Declare the GPU in the spec (`gpu: {count, type}`) so the component "
        "sets limits, runtimeClassName, the gpu-type node selector and the toleration; in a "
        "hand-written manifest set all four.",
        validate=_check_placement,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(
            {
                "gpuNodeLabels": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": DEFAULT_GPU_NODE_LABELS,
                    "description": "Node label keys that count as selecting GPU nodes.",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="gpu-nodes-reserved",
        description="Advisory half of gpu-placement: pods without GPUs do not pin themselves "
        "to GPU nodes.",
        remediation_steps="Remove the gpu-type node selector from the service, or give it a "
        "`gpu:` request if it really needs a GPU.",
        validate=_check_reserved,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=_schema(GPU_TYPE_LABEL_SCHEMA),
    ),
    StackValidationPolicy(
        name="capacity",
        description="Every pod the stack can run — replicas or the autoscaling maximum, plus "
        "rollout surge — fits the stack's hosts (vCPUs, memory and GPUs less a system "
        "reserve), honouring node selectors, affinity, taints and tolerations.",
        remediation_steps="Add or resize a host (`sophia plan` finds the cheapest), lower the "
        "service's replicas or autoscaling max, or give it `rollout: {strategy: Recreate}`.",
        validate=_check_capacity,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(
            {
                "systemReserve": {
                    "type": "object",
                    "properties": {"cpu": {"type": "string"}, "memory": {"type": "string"}},
                    "additionalProperties": False,
                    "default": DEFAULT_RESERVE,
                    "description": "What k3s, the device plugin and the OS keep of each host.",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="gpu-instance-allowlist",
        description="Lambda instance types are on the allow-list and have at most "
        "maxGpusPerHost GPUs.",
        remediation_steps="Pick an allowed instance type (`sophia catalog`), or extend "
        "allowedInstanceTypes / maxGpusPerHost in the policy config after review.",
        validate=_check_allowlist,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_schema(
            {
                "allowedInstanceTypes": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": DEFAULT_ALLOWED_TYPES,
                    "description": "Lambda instance types a stack may launch.",
                },
                "maxGpusPerHost": {
                    "type": "integer",
                    "minimum": 1,
                    "default": DEFAULT_MAX_GPUS_PER_HOST,
                    "description": "Most GPUs one instance may have.",
                },
            }
        ),
    ),
]
