"""The builder's part for `dataServices`: the spec's warehouses, databases, indexes and
collections as components, and each consuming service's own connection details.

Provider credentials are read from stack config (the ESC credentials environment imported by
the stack file), like every other credential; they never sit in the spec or in plain state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

from components.data_services.pinecone import PineconeIndex, PineconeIndexArgs
from components.data_services.weaviate import (
    CollectionProperty,
    WeaviateCollection,
    WeaviateCollectionArgs,
)

from .spec.model import Platform

if TYPE_CHECKING:
    from components.data_services.snowflake import SnowflakeWorkspace


@dataclass
class Connection:
    """What one service receives of the data services it uses."""

    values: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Made by the stack (its own Snowflake user and key, index hosts, names): a Secret of its
    own."""
    credentials: list[str] = field(default_factory=list)
    """Credentials of the bundle it also needs (PINECONE_API_KEY, …): referenced from the
    group's Secret, never copied."""


@dataclass
class DataServicesStack:
    snowflake: SnowflakeWorkspace | None = None
    indexes: dict[str, PineconeIndex] = field(default_factory=dict)
    collections: dict[str, WeaviateCollection] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)
    """Service name → what it receives of what it uses (and nothing else)."""


def build_data_services(
    platform: Platform, credential: Callable[[str], pulumi.Input[str]]
) -> DataServicesStack:
    """`credential(KEY)` returns a credential's (secret) value; validation has checked that
    each provider's group holds its keys."""
    data = platform.data_services
    made = DataServicesStack()
    if data.snowflake is not None:
        # Its service key pairs load `cryptography`: only a spec with Snowflake pays for it.
        from components.data_services.snowflake import (
            Database,
            SnowflakeConnection,
            SnowflakeConsumer,
            SnowflakeWorkspace,
            SnowflakeWorkspaceArgs,
            Warehouse,
        )

        sf = data.snowflake
        made.snowflake = SnowflakeWorkspace(
            "snowflake",
            SnowflakeWorkspaceArgs(
                connection=SnowflakeConnection(
                    account=credential("SNOWFLAKE_ACCOUNT"),
                    user=credential("SNOWFLAKE_USER"),
                    password=credential("SNOWFLAKE_PASSWORD"),
                ),
                warehouses=[
                    Warehouse(w.name, w.size, w.auto_suspend_seconds, w.auto_resume, w.max_clusters)
                    for w in sf.warehouses
                ],
                databases=[
                    Database(d.name, list(d.schemas), d.deletion_protection) for d in sf.databases
                ],
                consumers=[
                    SnowflakeConsumer(
                        s.name,
                        s.data_services.snowflake.warehouse,
                        s.data_services.snowflake.database,
                        s.data_services.snowflake.access,
                    )
                    for s in platform.services
                    if s.data_services.snowflake is not None
                ],
                name_prefix=platform.metadata.name.upper().replace("-", "_"),
            ),
        )
    if data.pinecone is not None:
        key = credential("PINECONE_API_KEY")
        for index in data.pinecone.indexes:
            made.indexes[index.name] = PineconeIndex(
                f"pinecone-{index.name}",
                PineconeIndexArgs(
                    name=index.name,
                    dimension=index.dimension,
                    owner=index.owner,
                    metric=index.metric,
                    cloud=index.serverless.cloud if index.serverless else "aws",
                    region=index.serverless.region if index.serverless else "us-east-1",
                    pod_environment=index.pod.environment if index.pod else None,
                    pod_type=index.pod.type if index.pod else "p1.x1",
                    replicas=index.pod.replicas if index.pod else 1,
                    deletion_protection=index.deletion_protection,
                    api_key=key,
                ),
            )
    if data.weaviate is not None:
        wv = data.weaviate
        key = credential("WEAVIATE_API_KEY")
        for collection in wv.collections:
            made.collections[collection.name] = WeaviateCollection(
                f"weaviate-{collection.name.lower()}",
                WeaviateCollectionArgs(
                    name=collection.name,
                    url=wv.url,
                    owner=collection.owner,
                    properties=[
                        CollectionProperty(p.name, p.data_type, p.description)
                        for p in collection.properties
                    ],
                    vectorizer=collection.vectorizer,
                    replication_factor=collection.replication,
                    description=collection.description,
                    deletion_protection=collection.deletion_protection,
                    api_key=key,
                ),
            )
    made.connections = _connections(platform, made)
    return made


def _connections(platform: Platform, made: DataServicesStack) -> dict[str, Connection]:
    connections: dict[str, Connection] = {}
    for service in platform.services:
        uses = service.data_services
        if uses.empty:
            continue
        connection = Connection()
        if uses.snowflake is not None and made.snowflake is not None:
            connection.values.update(made.snowflake.connections[service.name].as_env())
            connection.credentials.append("SNOWFLAKE_ACCOUNT")
        if uses.pinecone:
            connection.credentials.append("PINECONE_API_KEY")
            for name in uses.pinecone:
                connection.values[f"PINECONE_HOST_{_env_suffix(name)}"] = made.indexes[name].host
        if uses.weaviate and platform.data_services.weaviate is not None:
            connection.credentials.append("WEAVIATE_API_KEY")
            connection.values["WEAVIATE_URL"] = platform.data_services.weaviate.url
            connection.values["WEAVIATE_COLLECTIONS"] = ",".join(uses.weaviate)
        connections[service.name] = connection
    return connections


def _env_suffix(name: str) -> str:
    return name.upper().replace("-", "_")
