"""Hygiene: pinned images and resource requests/limits on every container (advisory)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .guard import guarded_resource
from .props import label, pod_spec


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return "has no tag"
    if name.rsplit(":", 1)[1] == "latest":
        return "uses :latest"
    return None


@guarded_resource
def _check_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for c in pod.containers():
        image = c.spec.get("image")
        problem = image_problem(str(image)) if image else "is not set"
        if problem:
            report(
                f"{label(args.resource_type, args.name, args.props)}: {c.path}.image "
                f"{image or ''} {problem}; pin a version tag or a digest",
                None,
            )


@guarded_resource
def _check_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for c in pod.containers():
        missing = [
            f"{kind}.{what}"
            for kind in ("requests", "limits")
            for what in ("cpu", "memory")
            if c.resources(kind).get(what) in (None, "")
        ]
        if missing:
            report(
                f"{label(args.resource_type, args.name, args.props)}: {c.path}.resources lacks "
                f"{', '.join(missing)}; set cpu and memory requests and limits",
                None,
            )


POLICIES = [
    ResourceValidationPolicy(
        name="pinned-images",
        description="Container images carry a version tag or digest, never :latest or none.",
        validate=_check_images,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    ResourceValidationPolicy(
        name="resource-limits",
        description="Every container sets cpu and memory requests and limits.",
        validate=_check_limits,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]
