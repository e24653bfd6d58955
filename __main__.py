"""The Pulumi program: build the stack that the spec named in stack config describes."""

import pulumi

from sophia.builder import (
    MissingConfigError,
    build_platform,
    export_outputs,
    stack_config_lookup,
)
from sophia.spec import InvalidSpecError, load_spec

config = pulumi.Config()
try:
    spec = load_spec(config.get("spec") or "specs/sophia.yaml", stack=pulumi.get_stack())
    export_outputs(build_platform(spec, stack_config_lookup(config)))
except (InvalidSpecError, MissingConfigError) as problem:
    raise pulumi.RunError(str(problem)) from None
