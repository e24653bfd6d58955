"""Hygiene: pinned images and resource requests/limits on every container (advisory)."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .guard import config, guarded_resource
from .props import label, pod_spec

DEFAULT_FORBIDDEN_TAGS = ["latest"]
RESOURCE_FIELDS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]


def image_problem(
    image: str, forbidden_tags: list[str] = DEFAULT_FORBIDDEN_TAGS, require_digest: bool = False
) -> str | None:
    if "@sha256:" in image:
        return None
    if require_digest:
        return "is not pinned by digest"
    name = image.rsplit("/", 1)[-1]
    if ":" not in name:
        return "has no tag"
    tag = name.rsplit(":", 1)[1]
    if tag in forbidden_tags:
        return f"uses :{tag}"
    return None


@guarded_resource
def _check_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    forbidden = config(args, "forbiddenTags", DEFAULT_FORBIDDEN_TAGS)
    digest = bool(config(args, "requireDigest", False))
    for c in pod.containers():
        image = c.spec.get("image")
        problem = image_problem(str(image), forbidden, digest) if image else "is not set"
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
    required = config(args, "required", RESOURCE_FIELDS)
    for c in pod.containers():
        missing = [
            field
            for field in required
            if c.resources(field.partition(".")[0]).get(field.partition(".")[2]) in (None, "")
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
        remediation_steps="Set the service's `image` to a release tag (e.g. `:1.4.2`) or a "
        "digest (`@sha256:…`).",
        validate=_check_images,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema(
            properties={
                "forbiddenTags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": DEFAULT_FORBIDDEN_TAGS,
                    "description": "Tags that do not pin a version.",
                },
                "requireDigest": {
                    "type": "boolean",
                    "default": False,
                    "description": "Accept only images pinned by digest.",
                },
            }
        ),
    ),
    ResourceValidationPolicy(
        name="resource-limits",
        description="Every container sets cpu and memory requests and limits.",
        remediation_steps="Set `resources.requests` and `resources.limits` on the service (the "
        "component's defaults are small: 100m/128Mi requested, 500m/512Mi at most).",
        validate=_check_limits,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=PolicyConfigSchema(
            properties={
                "required": {
                    "type": "array",
                    "items": {"type": "string", "enum": RESOURCE_FIELDS},
                    "default": RESOURCE_FIELDS,
                    "description": "Which requests and limits every container must set.",
                }
            }
        ),
    ),
]
