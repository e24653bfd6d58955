"""SnowflakeWorkspace registers its resources by type token, without importing the provider's
SDK (its import took 0.9 s of each preview): every one of them, rebuilt with the SDK from the
same values, must register exactly the same type and properties, with the same plugin
version."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import pulumi
import pulumi_snowflake as sdk

from components.data_services.key_pair import ServiceKeyPair
from components.data_services.snowflake import (
    SNOWFLAKE_VERSION,
    Database,
    SnowflakeConnection,
    SnowflakeConsumer,
    SnowflakeWorkspace,
    SnowflakeWorkspaceArgs,
    Warehouse,
)
from sophia.offline.runner import RecordedResource, is_secret, run_under_mocks, unwrap_secrets


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake(k): _snake_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_keys(v) for v in value]
    return value


def _workspace() -> list[RecordedResource]:
    def program() -> None:
        SnowflakeWorkspace(
            "sf",
            SnowflakeWorkspaceArgs(
                connection=SnowflakeConnection("org-acct", "admin", "pw"),
                warehouses=[Warehouse("WH", "SMALL", 120, True, 2)],
                databases=[Database("DB", ["RAW"])],
                consumers=[
                    SnowflakeConsumer("reader", "WH", "DB", "read"),
                    SnowflakeConsumer("writer", "WH", "DB", "write"),
                ],
            ),
        )

    recorded, _ = run_under_mocks(program, "parity")
    return [r for r in recorded if r.type.startswith(("snowflake:", "pulumi:providers:snow"))]


def _with_sdk(resource: RecordedResource) -> RecordedResource:
    """The same values through the SDK (secret ones as secrets)."""
    props = {
        _snake(key): pulumi.Output.secret(unwrap_secrets(value))
        if is_secret(value)
        else _snake_keys(value)
        for key, value in resource.properties.items()
    }
    cls = (
        sdk.Provider
        if resource.type == "pulumi:providers:snowflake"
        else getattr(sdk, resource.type.rsplit(":", 1)[-1])
    )
    recorded, _ = run_under_mocks(lambda: cls(resource.name, **props), "parity")
    (made,) = recorded
    return made


def test_every_resource_registers_as_the_sdk_registers_it() -> None:
    ours = _workspace()
    assert {r.type.rsplit(":", 1)[-1] for r in ours} == {
        "snowflake",
        "Warehouse",
        "Database",
        "Schema",
        "AccountRole",
        "ServiceUser",
        "GrantAccountRole",
        "GrantPrivilegesToAccountRole",
    }
    for resource in ours:
        theirs = _with_sdk(resource)
        assert (theirs.type, theirs.properties) == (resource.type, resource.properties), (
            resource.name
        )


def test_the_plugin_version_is_the_pinned_sdks() -> None:
    assert version("pulumi-snowflake") == SNOWFLAKE_VERSION


def test_the_key_pair_stays_secret() -> None:
    recorded, _ = run_under_mocks(lambda: ServiceKeyPair("k"), "parity")
    assert recorded[0].type == "pulumi-python:dynamic/sophia:ServiceKeyPair"


def test_the_spec_offers_exactly_the_sizes_the_pricing_knows() -> None:
    from typing import get_args

    from sophia_guardrails.pricing import SNOWFLAKE_CREDITS_PER_HOUR

    from sophia.spec.data_services import WarehouseSize

    assert get_args(WarehouseSize) == tuple(SNOWFLAKE_CREDITS_PER_HOUR)
