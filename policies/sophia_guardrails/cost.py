"""Cost: the stack's Lambda instances (priced from the catalog), Snowflake warehouses and
Pinecone indexes (`pricing`), within the monthly budget."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .capacity import LAMBDA_INSTANCE
from .catalog import HOURS_PER_MONTH, load_catalog
from .guard import config, guarded_stack
from .pricing import (
    DEFAULT_ACTIVE_HOURS_PER_DAY,
    DEFAULT_USD_PER_CREDIT,
    PINECONE_INDEX,
    SNOWFLAKE_WAREHOUSE,
    PricedItem,
    pinecone_pod_index,
    pinecone_serverless_index,
    snowflake_warehouse,
)
from .props import count, mapping

DEFAULT_BUDGET_USD = 1000.0


@guarded_stack
def _check_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    catalog = load_catalog()
    hours = float(config(args, "hoursPerMonth", HOURS_PER_MONTH))
    budget = float(config(args, "monthlyBudgetUsd", DEFAULT_BUDGET_USD))
    items = []
    total = 0.0
    # In name order: the engine registers resources in whatever order the program's
    # coroutines finish, and the same stack must get the same message.
    hosts = [r for r in args.resources if r.resource_type == LAMBDA_INSTANCE]
    for r in sorted(hosts, key=lambda r: str(r.props.get("name") or r.name)):
        itype = str(r.props.get("instance_type_name"))
        entry = catalog.get(itype)
        name = r.props.get("name") or r.name
        if entry is None:
            items.append(f"{name} ({itype}): not in the catalog of {catalog.taken_at}, unpriced")
            continue
        monthly = entry.monthly_usd(hours)
        total += monthly
        items.append(
            f"{name} ({itype}) {entry.price_usd_per_hour:.2f} USD/h × {hours:g} h = {monthly:,.2f}"
        )
    for item in sorted(_data_services(args, hours), key=lambda item: item.item):
        total += item.monthly_usd
        items.append(f"{item.item} {item.monthly_usd:,.2f} ({item.assumptions})")
    if total > budget:
        report(
            f"estimated {total:,.2f} USD/month exceeds the monthly budget of {budget:,.2f} USD "
            f"(catalog of {catalog.taken_at}): {'; '.join(items)}. Remove or downsize a host or a "
            "data service, or raise monthlyBudgetUsd",
            None,
        )


def _data_services(args: StackValidationArgs, hours: float) -> list[PricedItem]:
    """Warehouses and indexes, priced with the usage the config states (the spec's)."""
    per_credit = float(config(args, "snowflakeUsdPerCredit", DEFAULT_USD_PER_CREDIT))
    active = mapping(config(args, "warehouseActiveHoursPerDay", {}), "warehouseActiveHoursPerDay")
    usage = mapping(config(args, "pineconeUsage", {}), "pineconeUsage")
    priced = []
    for r in args.resources:
        name = str(r.props.get("name") or r.name)
        if r.resource_type == SNOWFLAKE_WAREHOUSE:
            suspend = r.props.get("autoSuspend")
            priced.append(
                snowflake_warehouse(
                    name,
                    str(r.props.get("warehouseSize") or "XSMALL"),
                    count(r.props.get("maxClusterCount") or 1, "maxClusterCount"),
                    -1 if suspend is None else int(suspend),
                    float(active.get(name, DEFAULT_ACTIVE_HOURS_PER_DAY)),
                    per_credit,
                    hours,
                )
            )
        elif r.resource_type == PINECONE_INDEX:
            spec = mapping(r.props.get("spec"), "spec")
            pod = spec.get("pod")
            if pod is not None:
                pod = mapping(pod, "spec.pod")
                priced.append(
                    pinecone_pod_index(
                        name,
                        str(pod.get("pod_type") or "p1.x1"),
                        count(pod.get("replicas") or 1, "spec.pod.replicas")
                        * count(pod.get("shards") or 1, "spec.pod.shards"),
                        hours,
                    )
                )
            else:
                expected = mapping(usage.get(name), f"pineconeUsage.{name}")
                priced.append(
                    pinecone_serverless_index(
                        name,
                        float(expected.get("readUnitsPerMonth", 0)),
                        float(expected.get("writeUnitsPerMonth", 0)),
                        float(expected.get("storageGb", 0)),
                    )
                )
    return priced


POLICIES = [
    StackValidationPolicy(
        name="monthly-budget",
        description="Estimated monthly cost (hosts: catalog price × hours per month; Snowflake "
        "warehouses and Pinecone indexes: `pricing`) stays within monthlyBudgetUsd.",
        remediation_steps="Remove or downsize a host, or raise the spec's `budget.monthlyUsd` "
        "(per stack under `stacks.<name>.budget`); `sophia policy-config` passes it here.",
        validate=_check_budget,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "monthlyBudgetUsd": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": DEFAULT_BUDGET_USD,
                    "description": "Most the stack may cost per month, in USD.",
                },
                "hoursPerMonth": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": 744,
                    "default": HOURS_PER_MONTH,
                    "description": "Billed hours per month (convention: 730).",
                },
                "snowflakeUsdPerCredit": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "default": DEFAULT_USD_PER_CREDIT,
                    "description": "Price of one Snowflake credit, in USD.",
                },
                "warehouseActiveHoursPerDay": {
                    "type": "object",
                    "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                    "default": {},
                    "description": "Hours per day each warehouse runs queries, by name "
                    f"(default {DEFAULT_ACTIVE_HOURS_PER_DAY:g}).",
                },
                "pineconeUsage": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "readUnitsPerMonth": {"type": "number", "minimum": 0},
                            "writeUnitsPerMonth": {"type": "number", "minimum": 0},
                            "storageGb": {"type": "number", "minimum": 0},
                        },
                    },
                    "default": {},
                    "description": "Expected use of each serverless index, by name.",
                },
            }
        ),
    ),
]
