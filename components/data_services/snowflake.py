"""`SnowflakeWorkspace`: warehouses, databases and schemas, and for each consuming service a
role, a key-pair service user and exactly the grants it needs — through the official
`pulumi-snowflake` provider.

Two providers on the admin credentials, as Snowflake's access-control guide advises:
SYSADMIN owns the warehouses and databases, SECURITYADMIN the roles, users and grants.

The resources are registered by type token with the provider's own property names, as its
Python SDK registers them, without importing that SDK: `import pulumi_snowflake` executes
every class of the provider's schema and took 0.9 s of each `sophia preview`.
`tests/data_services/test_snowflake_parity.py` rebuilds every resource here with the SDK and
requires the same registration (type, properties, secrets, plugin version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from .key_pair import ServiceKeyPair

SNOWFLAKE_VERSION = "2.22.0"
"""The provider plugin's version: pyproject's pin of `pulumi-snowflake` (a test checks)."""


class SnowflakeResource(pulumi.CustomResource):
    """A resource of the `snowflake` provider, by type token (`warehouse:Warehouse`)."""

    name: pulumi.Output[str]

    def __init__(
        self,
        token: str,
        resource_name: str,
        props: Mapping[str, object],
        opts: pulumi.ResourceOptions,
        secrets: Sequence[str] = (),
    ) -> None:
        super().__init__(
            f"snowflake:index/{token}",
            resource_name,
            {key: value for key, value in props.items() if value is not None},
            pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    version=SNOWFLAKE_VERSION, additional_secret_outputs=list(secrets)
                ),
            ),
        )


PROVIDER_SECRETS = ["oauthAuthorizationUrl", "oauthClientId", "oauthClientSecret",
                    "oauthRedirectUri", "oauthTokenRequestUrl", "passcode", "password",
                    "privateKey", "privateKeyPassphrase", "proxyPassword", "token"]  # fmt: skip
"""What the provider's schema marks secret (its SDK's `additional_secret_outputs`)."""

Access = Literal["read", "write"]
READ_PRIVILEGES = ["SELECT"]
WRITE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"]


@dataclass(frozen=True)
class SnowflakeConnection:
    """The admin sign-in the providers use (from the ESC credentials group)."""

    account: pulumi.Input[str]
    """'<organization>-<account>', Snowflake's account identifier (SNOWFLAKE_ACCOUNT)."""
    user: pulumi.Input[str]
    password: pulumi.Input[str]
    objects_role: str = "SYSADMIN"
    access_role: str = "SECURITYADMIN"


@dataclass(frozen=True)
class Warehouse:
    name: str
    size: str = "XSMALL"
    auto_suspend_seconds: int = 60
    auto_resume: bool = True
    max_clusters: int = 1


@dataclass(frozen=True)
class Database:
    name: str
    schemas: Sequence[str] = ()
    deletion_protection: bool = True
    """Pulumi's `protect`: a `pulumi destroy` or a removal from the program is refused."""


@dataclass(frozen=True)
class SnowflakeConsumer:
    """A service that uses the workspace: its own role and service user."""

    service: str
    warehouse: str
    database: str
    access: Access = "read"


@dataclass(frozen=True)
class SnowflakeWorkspaceArgs:
    connection: SnowflakeConnection
    warehouses: Sequence[Warehouse] = ()
    databases: Sequence[Database] = ()
    consumers: Sequence[SnowflakeConsumer] = ()
    name_prefix: str = "SOPHIA"
    comment: str = "managed by sophia-infra"


@dataclass(frozen=True)
class ConsumerConnection:
    """What one consuming service needs to connect, and nothing more (the account identifier
    is a credential of the caller's: it reaches the service from where the caller keeps it)."""

    user: pulumi.Output[str]
    role: pulumi.Output[str]
    warehouse: str
    database: str
    private_key_pem: pulumi.Output[str]

    def as_env(self) -> Mapping[str, pulumi.Input[str]]:
        return {
            "SNOWFLAKE_USER": self.user,
            "SNOWFLAKE_ROLE": self.role,
            "SNOWFLAKE_WAREHOUSE": self.warehouse,
            "SNOWFLAKE_DATABASE": self.database,
            "SNOWFLAKE_PRIVATE_KEY": self.private_key_pem,
        }


def identifier(*parts: str) -> str:
    """A quoted Snowflake identifier ('"DB"."SCHEMA"')."""
    return ".".join(f'"{p}"' for p in parts)


class SnowflakeWorkspace(pulumi.ComponentResource):
    """Warehouses, databases and schemas, and each consuming service's connection."""

    def __init__(
        self, name: str, args: SnowflakeWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sophia:data:SnowflakeWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        conn = args.connection
        account = pulumi.Output.secret(conn.account)
        organization = account.apply(lambda a: a.split("-", 1)[0])
        account_name = account.apply(lambda a: a.split("-", 1)[-1])

        def provider(role: str) -> pulumi.ProviderResource:
            return pulumi.ProviderResource(
                "snowflake",
                f"{name}-{role.lower()}",
                {
                    "organizationName": organization,
                    "accountName": account_name,
                    "user": conn.user,
                    "password": pulumi.Output.secret(conn.password),
                    "role": role,
                },
                pulumi.ResourceOptions.merge(
                    child,
                    pulumi.ResourceOptions(
                        version=SNOWFLAKE_VERSION, additional_secret_outputs=PROVIDER_SECRETS
                    ),
                ),
            )

        objects = pulumi.ResourceOptions(parent=self, provider=provider(conn.objects_role))
        access = pulumi.ResourceOptions(parent=self, provider=provider(conn.access_role))

        self.warehouses: dict[str, SnowflakeResource] = {
            w.name: SnowflakeResource(
                "warehouse:Warehouse",
                f"{name}-wh-{w.name.lower()}",
                {
                    "name": w.name,
                    "warehouseSize": w.size,
                    "autoSuspend": w.auto_suspend_seconds,
                    "autoResume": "true" if w.auto_resume else "false",
                    "minClusterCount": 1,
                    "maxClusterCount": w.max_clusters,
                    "initiallySuspended": True,
                    "comment": args.comment,
                },
                objects,
            )
            for w in args.warehouses
        }
        self.databases: dict[str, SnowflakeResource] = {}
        schemas: dict[tuple[str, str], SnowflakeResource] = {}
        for db in args.databases:
            self.databases[db.name] = SnowflakeResource(
                "database:Database",
                f"{name}-db-{db.name.lower()}",
                {"name": db.name, "comment": args.comment},
                pulumi.ResourceOptions.merge(
                    objects, pulumi.ResourceOptions(protect=db.deletion_protection)
                ),
            )
            for schema in db.schemas:
                schemas[db.name, schema] = SnowflakeResource(
                    "schema:Schema",
                    f"{name}-schema-{db.name.lower()}-{schema.lower()}",
                    {
                        "database": self.databases[db.name].name,
                        "name": schema,
                        "comment": args.comment,
                    },
                    objects,
                )
        by_db = {db.name: db for db in args.databases}
        # Per consuming service.
        self.connections: dict[str, ConsumerConnection] = {
            c.service: self._consumer(name, args, c, by_db[c.database], schemas, access)
            for c in args.consumers
        }
        self.register_outputs(
            {
                "warehouses": list(self.warehouses),
                "databases": list(self.databases),
                "users": {s: c.user for s, c in self.connections.items()},
            }
        )

    def _consumer(
        self,
        name: str,
        args: SnowflakeWorkspaceArgs,
        consumer: SnowflakeConsumer,
        database: Database,
        schemas: Mapping[tuple[str, str], SnowflakeResource],
        access: pulumi.ResourceOptions,
    ) -> ConsumerConnection:
        base = f"{args.name_prefix}_{consumer.service.upper().replace('-', '_')}"
        slug = f"{name}-{consumer.service}"
        depends = [self.warehouses[consumer.warehouse], self.databases[database.name]]
        grant_opts = pulumi.ResourceOptions.merge(
            access, pulumi.ResourceOptions(depends_on=[*depends, *schemas.values()])
        )
        role = SnowflakeResource(
            "accountRole:AccountRole",
            f"{slug}-role",
            {"name": f"{base}_ROLE", "comment": args.comment},
            access,
        )
        keys = ServiceKeyPair(f"{slug}-key", opts=pulumi.ResourceOptions(parent=self))
        user = SnowflakeResource(
            "serviceUser:ServiceUser",
            f"{slug}-user",
            {
                "name": base,
                "rsaPublicKey": keys.public_key,
                "defaultRole": role.name,
                "defaultWarehouse": consumer.warehouse,
                "defaultNamespace": database.name,
                "comment": f"{args.comment}: the {consumer.service} service",
            },
            access,
            secrets=["email", "loginName"],
        )
        SnowflakeResource(
            "grantAccountRole:GrantAccountRole",
            f"{slug}-role-grant",
            {"roleName": role.name, "userName": user.name},
            access,
        )

        def grant(suffix: str, privileges: list[str], on: str, target: dict[str, Any]) -> None:
            SnowflakeResource(
                "grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole",
                f"{slug}-{suffix}",
                {"accountRoleName": role.name, "privileges": privileges, on: target},
                grant_opts,
            )

        for kind, object_name in (("WAREHOUSE", consumer.warehouse), ("DATABASE", database.name)):
            grant(
                kind.lower(),
                ["USAGE"],
                "onAccountObject",
                {"objectType": kind, "objectName": object_name},
            )
        writes = consumer.access == "write"
        for schema in database.schemas:
            qualified = identifier(database.name, schema)
            suffix = schema.lower()
            grant(
                f"schema-{suffix}",
                ["USAGE", "CREATE TABLE"] if writes else ["USAGE"],
                "onSchema",
                {"schemaName": qualified},
            )
            privileges = WRITE_PRIVILEGES if writes else READ_PRIVILEGES
            for scope in ("all", "future"):
                grant(
                    f"{scope}-tables-{suffix}",
                    privileges,
                    "onSchemaObject",
                    {scope: {"objectTypePlural": "TABLES", "inSchema": qualified}},
                )
        return ConsumerConnection(
            user=user.name,
            role=role.name,
            warehouse=consumer.warehouse,
            database=database.name,
            private_key_pem=keys.private_key_pem,
        )
