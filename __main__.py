"""The Pulumi program: build the stack that the spec named in stack config describes."""

import pulumi

from sophia.costs import estimate_costs
from sophia.spec import InvalidSpecError, load_spec

config = pulumi.Config()
try:
    spec = load_spec(config.get("spec") or "specs/sophia.yaml", stack=pulumi.get_stack())
except InvalidSpecError as invalid:
    raise pulumi.RunError(str(invalid)) from None
pulumi.export("estimatedMonthlyUsd", estimate_costs(spec.platform).monthly_usd)
