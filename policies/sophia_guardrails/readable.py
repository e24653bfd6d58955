"""Every request answered, with bounded work: resources the pack cannot read are refused up front.

pulumi-policy decodes each resource's properties (once per policy) before any policy runs;
a NaN, a secret without its value or a tree nested thousands of levels deep made that decoding
fail, and the engine's request went unanswered. The pack's servicer checks the raw protobuf
first, iteratively and within a budget, and answers such a resource with one violation of the
mandatory policy `readable-resources` instead (the other policies skip it: they cannot read it
either). The rule:

- a number that is NaN or infinite, a secret with no value, nesting deeper than `MAX_DEPTH`,
  more than `MAX_VALUES` values or more than `MAX_BYTES` of properties: `readable-resources`
  (mandatory), naming the first problem and where it is;
- anything else goes to the policies, which report shapes they cannot read as their own
  violations (guard.py).
"""

from __future__ import annotations

import math
from typing import Any

from google.protobuf import struct_pb2
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

POLICY_NAME = "readable-resources"
MAX_DEPTH = 64
MAX_VALUES = 200_000
MAX_BYTES = 16 * 1024 * 1024
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def unreadable(
    properties: struct_pb2.Struct, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES
) -> str | None:
    """The first reason the pack cannot read these properties, or None."""
    size = properties.ByteSize()
    if size > MAX_BYTES:
        return f"its properties are {size / 1024 / 1024:.1f} MiB; the pack reads at most 16 MiB"
    budget = max_values
    stack: list[tuple[Any, str, int]] = [(properties, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        budget -= 1
        if budget < 0:
            return f"its properties hold more than {max_values} values"
        if depth > max_depth:
            return f"{path or 'its properties'} are nested deeper than {max_depth} levels"
        if isinstance(node, struct_pb2.Struct):
            fields = node.fields
            signature = fields.get(SECRET_SIG_KEY)
            is_secret = signature is not None and signature.string_value == SECRET_SIG
            if is_secret and "value" not in fields:
                return f"{path or 'a property'} is a secret without a value"
            for key, child in fields.items():
                stack.append((child, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(node, struct_pb2.ListValue):
            for index, child in enumerate(node.values):
                stack.append((child, f"{path}[{index}]", depth + 1))
        else:
            kind = node.WhichOneof("kind")
            if kind == "number_value" and not math.isfinite(node.number_value):
                return f"{path} is {node.number_value}, not a finite number"
            if kind == "struct_value":
                stack.append((node.struct_value, path, depth))
            elif kind == "list_value":
                stack.append((node.list_value, path, depth))
    return None


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
