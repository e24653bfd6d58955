"""Every request answered, with bounded work: resources the pack cannot read are refused up front.

pulumi-policy decodes each resource's properties before any policy runs; a NaN, a secret
without its value or a tree nested thousands of levels deep made that decoding fail, and the
engine's request went unanswered. The pack's servicer decodes each request itself, once and
within a budget (decode.py), and answers such a resource with one violation of the mandatory
policy `readable-resources` instead (the other policies skip it: they cannot read it either).
The rule:

- a number that is NaN or infinite, a secret with no value, an unknown signature, nesting
  deeper than `MAX_DEPTH`, more than `MAX_VALUES` values or more than `MAX_BYTES` of
  properties: `readable-resources` (mandatory), naming the first problem and where it is;
- anything else goes to the policies, which report shapes they cannot read as their own
  violations (guard.py).
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .decode import MAX_DEPTH, MAX_VALUES

POLICY_NAME = "readable-resources"


def _nothing_more(_args: ResourceValidationArgs, _report: ReportViolation) -> None:
    """Resources that reach the policies were readable: the servicer reports the others."""


POLICY = ResourceValidationPolicy(
    name=POLICY_NAME,
    description="The pack can read every resource: finite numbers, secrets with values, at "
    f"most {MAX_DEPTH} levels, {MAX_VALUES} values and 16 MiB of properties.",
    remediation_steps="Fix the resource's definition: a NaN or infinite number, a secret "
    "without a value or a runaway structure is not something a provider accepts either.",
    validate=_nothing_more,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=PolicyConfigSchema(
        properties={
            "maxDepth": {
                "type": "integer",
                "minimum": 8,
                "maximum": 256,
                "default": MAX_DEPTH,
                "description": "Deepest nesting of a resource's properties the pack reads.",
            },
            "maxValues": {
                "type": "integer",
                "minimum": 1000,
                "maximum": 1_000_000,
                "default": MAX_VALUES,
                "description": "Most values in one resource's properties the pack reads.",
            },
        }
    ),
)
