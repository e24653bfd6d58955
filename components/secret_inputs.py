"""Keeping a dynamic resource's credentials and generated secrets secret in Pulumi state.

A dynamic provider reads its inputs from state on every later call (its key must travel
there, since a pickled provider holds none), so each such input is both a secret input and a
secret output.
"""

from __future__ import annotations

import pulumi


def secret_input(value: pulumi.Input[str] | None) -> pulumi.Output[str] | None:
    return pulumi.Output.secret(value) if value is not None else None


def secret_outputs(opts: pulumi.ResourceOptions | None, *names: str) -> pulumi.ResourceOptions:
    """`opts` with `names` kept secret in the resource's outputs (and state)."""
    return pulumi.ResourceOptions.merge(
        opts or pulumi.ResourceOptions(),
        pulumi.ResourceOptions(additional_secret_outputs=list(names)),
    )
