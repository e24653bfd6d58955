"""`ServiceKeyPair`: an RSA key pair made once per stack, the private half kept secret.

Snowflake's service users sign in with a key pair, not a password (TYPE = SERVICE): the
public half goes on the user, the private half to the one service that signs in as it.
"""

from __future__ import annotations

import secrets
from typing import Any

import pulumi
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider

from ..secret_inputs import secret_outputs

KEY_PAIR_TYPE = "pulumi-python:dynamic/sophia:ServiceKeyPair"


def _pem_body(pem: bytes) -> str:
    """The key without its header, trailer and line breaks (what Snowflake's RSA_PUBLIC_KEY
    takes)."""
    lines = pem.decode().strip().splitlines()
    return "".join(line for line in lines if not line.startswith("-----"))


class ServiceKeyPairProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return CreateResult(
            f"keypair-{secrets.token_hex(4)}",
            {"private_key_pem": private, "public_key": _pem_body(public)},
        )

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=False)  # made once; rotated by replacing it (`--replace`)


class ServiceKeyPair(pulumi.dynamic.Resource, module="sophia", name="ServiceKeyPair"):
    private_key_pem: pulumi.Output[str]
    """Secret: PKCS#8 PEM."""
    public_key: pulumi.Output[str]
    """The public key's base64 body (one line, no header)."""

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            ServiceKeyPairProvider(),
            resource_name,
            {"private_key_pem": None, "public_key": None},
            secret_outputs(opts, "private_key_pem"),
        )
