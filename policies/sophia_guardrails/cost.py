"""Cost: the stack's Lambda instances, priced from the catalog, within the monthly budget."""

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

DEFAULT_BUDGET_USD = 1000.0


@guarded_stack
def _check_budget(args: StackValidationArgs, report: ReportViolation) -> None:
    catalog = load_catalog()
    hours = float(config(args, "hoursPerMonth", HOURS_PER_MONTH))
    budget = float(config(args, "monthlyBudgetUsd", DEFAULT_BUDGET_USD))
    items = []
    total = 0.0
    for r in args.resources:
        if r.resource_type != LAMBDA_INSTANCE:
            continue
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
    if total > budget:
        report(
            f"estimated {total:,.2f} USD/month exceeds the monthly budget of {budget:,.2f} USD "
            f"(catalog of {catalog.taken_at}): {'; '.join(items)}. Remove or downsize a host, "
            "or raise monthlyBudgetUsd",
            None,
        )


POLICIES = [
    StackValidationPolicy(
        name="monthly-budget",
        description="Estimated monthly cost (catalog price × hours per month) stays within "
        "monthlyBudgetUsd.",
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
            }
        ),
    ),
]
