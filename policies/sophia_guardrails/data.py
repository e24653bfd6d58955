"""Data services: Snowflake warehouses sized and suspending, data kept in production, every
index and collection owned by a service of the stack."""

from __future__ import annotations

from collections.abc import Mapping
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

from .guard import config, guarded_resource, guarded_stack
from .pricing import PINECONE_INDEX, SNOWFLAKE_WAREHOUSE, warehouse_size
from .props import count

WEAVIATE_COLLECTION = "pulumi-python:dynamic/weaviate:Collection"
SNOWFLAKE_DATABASE = "snowflake:index/database:Database"
MICROSERVICE = "sophia:index:SophiaMicroservice"
DEFAULT_SIZES = ["XSMALL", "SMALL", "MEDIUM"]
DEFAULT_MAX_AUTO_SUSPEND = 600


def _name(props: Mapping[str, Any], fallback: str) -> str:
    name = props.get("name")
    return str(name) if isinstance(name, str) and name else fallback


@guarded_resource
def _check_size(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SNOWFLAKE_WAREHOUSE:
        return
    allowed = [warehouse_size(s) for s in config(args, "allowedSizes", DEFAULT_SIZES)]
    size = args.props.get("warehouseSize")
    if size is None:
        report(
            f"warehouse {_name(args.props, args.name)} has no size (Snowflake's default may be "
            f"larger than allowed); set one of {', '.join(allowed)}",
            None,
        )
    elif warehouse_size(str(size)) not in allowed:
        report(
            f"warehouse {_name(args.props, args.name)} is {size}; allowed: {', '.join(allowed)} "
            "(each size up doubles the credits per hour)",
            None,
        )


@guarded_resource
def _check_auto_suspend(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != SNOWFLAKE_WAREHOUSE:
        return
    most = int(config(args, "maxAutoSuspendSeconds", DEFAULT_MAX_AUTO_SUSPEND))
    name = _name(args.props, args.name)
    raw = args.props.get("autoSuspend")
    seconds = count(raw, "autoSuspend") if raw is not None and raw != -1 else None
    if seconds is None or seconds == 0:
        report(
            f"warehouse {name} never suspends (autoSuspend {seconds}): it bills every hour; set "
            f"autoSuspendSeconds between 60 and {most}",
            None,
        )
    elif seconds > most:
        report(
            f"warehouse {name} suspends after {seconds} s idle, more than {most} s: idle time "
            "is billed",
            None,
        )
    if args.props.get("autoResume") == "false":
        report(f"warehouse {name} does not resume on queries (autoResume false)", None)


@guarded_resource
def _check_deletion_protection(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not config(args, "required", True):
        return
    props = args.props
    if args.resource_type == PINECONE_INDEX and props.get("deletion_protection") != "enabled":
        report(
            f"Pinecone index {_name(props, args.name)} has deletion protection off; set "
            "deletionProtection: true (a deleted index's vectors are gone)",
            None,
        )
    elif args.resource_type == WEAVIATE_COLLECTION and props.get("deletion_protection") is not True:
        report(
            f"Weaviate collection {_name(props, args.name)} has deletion protection off; set "
            "deletionProtection: true (deleting it deletes its objects)",
            None,
        )
    elif args.resource_type == SNOWFLAKE_DATABASE and not args.opts.protect:
        report(
            f"Snowflake database {_name(props, args.name)} is not protected; set "
            "deletionProtection: true (Pulumi's `protect`)",
            None,
        )


@guarded_stack
def _check_owners(args: StackValidationArgs, report: ReportViolation) -> None:
    kinds = set(config(args, "serviceTypes", [MICROSERVICE]))
    services = {r.name for r in args.resources if r.resource_type in kinds}
    for r in args.resources:
        if r.resource_type not in (PINECONE_INDEX, WEAVIATE_COLLECTION):
            continue
        kind = "Pinecone index" if r.resource_type == PINECONE_INDEX else "Weaviate collection"
        name = _name(r.props, r.name)
        owner = r.props.get("owner")
        if not isinstance(owner, str) or not owner:
            report(f"{kind} {name} has no owning service; set owner", r.urn)
        elif owner not in services:
            report(
                f"{kind} {name} is owned by '{owner}', which is not a service of this stack",
                r.urn,
            )


POLICIES = [
    ResourceValidationPolicy(
        name="snowflake-warehouse-size",
        description="Snowflake warehouses are one of the allowed sizes.",
        remediation_steps="Choose an allowed size, or add it to the spec's "
        "`policies.allowedWarehouseSizes`.",
        validate=_check_size,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "allowedSizes": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": DEFAULT_SIZES,
                    "description": "Warehouse sizes allowed (XSMALL, SMALL, MEDIUM, …).",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="snowflake-auto-suspend",
        description="Snowflake warehouses suspend when idle and resume on demand.",
        remediation_steps="Set the warehouse's autoSuspendSeconds (60 is Snowflake's advice "
        "for most workloads) and leave autoResume on.",
        validate=_check_auto_suspend,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "maxAutoSuspendSeconds": {
                    "type": "integer",
                    "minimum": 60,
                    "default": DEFAULT_MAX_AUTO_SUSPEND,
                    "description": "Most idle seconds before a warehouse must suspend.",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="data-deletion-protection",
        description="Pinecone indexes, Weaviate collections and Snowflake databases are "
        "protected from deletion (production).",
        remediation_steps="Set deletionProtection: true; to remove one on purpose, turn it off "
        "in one deploy and remove it in the next.",
        validate=_check_deletion_protection,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "required": {
                    "type": "boolean",
                    "default": True,
                    "description": "Enforce it (`sophia policy-config` sets it for the "
                    "production environment only).",
                }
            }
        ),
    ),
    StackValidationPolicy(
        name="data-owner",
        description="Every Pinecone index and Weaviate collection names a service of the stack "
        "as its owner.",
        remediation_steps="Set the index's or collection's owner to the service that uses it.",
        validate=_check_owners,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "serviceTypes": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": [MICROSERVICE],
                    "description": "Resource types whose names count as the stack's services "
                    "(a component of your own that runs one).",
                }
            }
        ),
    ),
]
