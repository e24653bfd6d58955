"""`StackSecretKey`: 32 random bytes made once per stack and kept, encrypted, in its state.

What it is for: keying digests that must not reveal what they digest, such as the checksum
annotation that rolls pods when a credential changes — a plain SHA-256 of a short password is
a dictionary lookup away from the password; an HMAC under a key nobody outside the stack's
state has is not.
"""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider

from .secret_inputs import secret_outputs

SECRET_KEY_TYPE = "pulumi-python:dynamic/sophia:StackSecretKey"


class StackSecretKeyProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"key-{secrets.token_hex(4)}", {"value": secrets.token_hex(32)})

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False)  # made once; replaced only by hand (`--replace`)


class StackSecretKey(pulumi.dynamic.Resource, module="sophia", name="StackSecretKey"):
    value: pulumi.Output[str]
    """Secret: 64 hex digits."""

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            StackSecretKeyProvider(),
            resource_name,
            {"value": None},
            secret_outputs(opts, "value"),
        )
