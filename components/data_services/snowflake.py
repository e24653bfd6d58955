"""`SnowflakeWorkspace`: warehouses, databases and schemas, and for each consuming service a
role, a key-pair service user and exactly the grants it needs — through the official
`pulumi-snowflake` provider.

Two providers on the admin credentials, as Snowflake's access-control guide advises:
SYSADMIN owns the warehouses and databases, SECURITYADMIN the roles, users and grants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_snowflake as snowflake

from .key_pair import ServiceKeyPair

WAREHOUSE_TYPE = "snowflake:index/warehouse:Warehouse"
DATABASE_TYPE = "snowflake:index/database:Database"
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
    warehouses: dict[str, snowflake.Warehouse]
    databases: dict[str, snowflake.Database]
    connections: dict[str, ConsumerConnection]
    """Per consuming service."""

    def __init__(
        self, name: str, args: SnowflakeWorkspaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sophia:data:SnowflakeWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        conn = args.connection
        account = pulumi.Output.secret(conn.account)
        organization = account.apply(lambda a: a.split("-", 1)[0])
        account_name = account.apply(lambda a: a.split("-", 1)[-1])

        def provider(role: str) -> snowflake.Provider:
            return snowflake.Provider(
                f"{name}-{role.lower()}",
                organization_name=organization,
                account_name=account_name,
                user=conn.user,
                password=pulumi.Output.secret(conn.password),
                role=role,
                opts=child,
            )

        objects = pulumi.ResourceOptions(parent=self, provider=provider(conn.objects_role))
        access = pulumi.ResourceOptions(parent=self, provider=provider(conn.access_role))

        self.warehouses = {
            w.name: snowflake.Warehouse(
                f"{name}-wh-{w.name.lower()}",
                name=w.name,
                warehouse_size=w.size,
                auto_suspend=w.auto_suspend_seconds,
                auto_resume="true" if w.auto_resume else "false",
                min_cluster_count=1,
                max_cluster_count=w.max_clusters,
                initially_suspended=True,
                comment=args.comment,
                opts=objects,
            )
            for w in args.warehouses
        }
        self.databases = {}
        schemas: dict[tuple[str, str], snowflake.Schema] = {}
        for db in args.databases:
            self.databases[db.name] = snowflake.Database(
                f"{name}-db-{db.name.lower()}",
                name=db.name,
                comment=args.comment,
                opts=pulumi.ResourceOptions.merge(
                    objects, pulumi.ResourceOptions(protect=db.deletion_protection)
                ),
            )
            for schema in db.schemas:
                schemas[db.name, schema] = snowflake.Schema(
                    f"{name}-schema-{db.name.lower()}-{schema.lower()}",
                    database=self.databases[db.name].name,
                    name=schema,
                    comment=args.comment,
                    opts=objects,
                )
        by_db = {db.name: db for db in args.databases}
        self.connections = {
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
        schemas: Mapping[tuple[str, str], snowflake.Schema],
        access: pulumi.ResourceOptions,
    ) -> ConsumerConnection:
        base = f"{args.name_prefix}_{consumer.service.upper().replace('-', '_')}"
        slug = f"{name}-{consumer.service}"
        depends = [self.warehouses[consumer.warehouse], self.databases[database.name]]
        grant_opts = pulumi.ResourceOptions.merge(
            access, pulumi.ResourceOptions(depends_on=[*depends, *schemas.values()])
        )
        role = snowflake.AccountRole(
            f"{slug}-role", name=f"{base}_ROLE", comment=args.comment, opts=access
        )
        keys = ServiceKeyPair(f"{slug}-key", opts=pulumi.ResourceOptions(parent=self))
        user = snowflake.ServiceUser(
            f"{slug}-user",
            name=base,
            rsa_public_key=keys.public_key,
            default_role=role.name,
            default_warehouse=consumer.warehouse,
            default_namespace=database.name,
            comment=f"{args.comment}: the {consumer.service} service",
            opts=access,
        )
        snowflake.GrantAccountRole(
            f"{slug}-role-grant", role_name=role.name, user_name=user.name, opts=access
        )

        def grant(suffix: str, privileges: list[str], **on: Any) -> None:
            snowflake.GrantPrivilegesToAccountRole(
                f"{slug}-{suffix}",
                snowflake.GrantPrivilegesToAccountRoleArgs(
                    account_role_name=role.name, privileges=privileges, **on
                ),
                opts=grant_opts,
            )

        for kind, object_name in (("WAREHOUSE", consumer.warehouse), ("DATABASE", database.name)):
            grant(
                kind.lower(),
                ["USAGE"],
                on_account_object=snowflake.GrantPrivilegesToAccountRoleOnAccountObjectArgs(
                    object_type=kind, object_name=object_name
                ),
            )
        writes = consumer.access == "write"
        for schema in database.schemas:
            qualified = identifier(database.name, schema)
            suffix = schema.lower()
            grant(
                f"schema-{suffix}",
                ["USAGE", "CREATE TABLE"] if writes else ["USAGE"],
                on_schema=snowflake.GrantPrivilegesToAccountRoleOnSchemaArgs(schema_name=qualified),
            )
            tables = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectAllArgs(
                object_type_plural="TABLES", in_schema=qualified
            )
            future = snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectFutureArgs(
                object_type_plural="TABLES", in_schema=qualified
            )
            privileges = WRITE_PRIVILEGES if writes else READ_PRIVILEGES
            grant(
                f"all-tables-{suffix}",
                privileges,
                on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                    all=tables
                ),
            )
            grant(
                f"future-tables-{suffix}",
                privileges,
                on_schema_object=snowflake.GrantPrivilegesToAccountRoleOnSchemaObjectArgs(
                    future=future
                ),
            )
        return ConsumerConnection(
            user=user.name,
            role=role.name,
            warehouse=consumer.warehouse,
            database=database.name,
            private_key_pem=keys.private_key_pem,
        )
