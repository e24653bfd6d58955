"""The `dataServices` section: Snowflake, Pinecone and Weaviate objects the platform owns, and
what each service uses of them (`services[].dataServices`).

Provider credentials come from a credential group of `secrets` (never the spec); each service
receives only the connection details of what it references.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from .base import DnsLabel, GroupName, SpecModel

SNOWFLAKE_IDENTIFIER = r"^[A-Z][A-Z0-9_]{0,254}$"
PINECONE_INDEX = r"^[a-z0-9]([a-z0-9-]{0,43}[a-z0-9])?$"
WEAVIATE_COLLECTION = r"^[A-Z][_0-9A-Za-z]{0,254}$"
WEAVIATE_PROPERTY = r"^[_A-Za-z][_0-9A-Za-z]{0,230}$"

SnowflakeName = Annotated[str, StringConstraints(pattern=SNOWFLAKE_IDENTIFIER)]
PineconeIndexName = Annotated[str, StringConstraints(pattern=PINECONE_INDEX)]
CollectionName = Annotated[str, StringConstraints(pattern=WEAVIATE_COLLECTION)]

DATA_PATTERN_HINTS = {
    SNOWFLAKE_IDENTIFIER: "must be an upper-case Snowflake identifier: a letter, then letters, "
    "digits and '_' (e.g. 'SOPHIA_ANALYTICS')",
    PINECONE_INDEX: "must be a Pinecone index name: 1-45 lower-case letters, digits and '-', "
    "starting and ending with a letter or digit (e.g. 'customer-segments')",
    WEAVIATE_COLLECTION: "must be a Weaviate collection name: a capital letter, then letters, "
    "digits and '_' (e.g. 'SupportTicket')",
    WEAVIATE_PROPERTY: "must be a Weaviate property name: letters, digits and '_', not "
    "starting with a digit",
}

WarehouseSize = Literal[
    "XSMALL",
    "SMALL",
    "MEDIUM",
    "LARGE",
    "XLARGE",
    "XXLARGE",
    "XXXLARGE",
    "X4LARGE",
    "X5LARGE",
    "X6LARGE",
]

SNOWFLAKE_KEYS = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_PASSWORD")
PINECONE_KEYS = ("PINECONE_API_KEY",)
WEAVIATE_KEYS = ("WEAVIATE_API_KEY",)


# --- Snowflake ------------------------------------------------------------------------------


class SnowflakeWarehouse(SpecModel):
    name: SnowflakeName
    """Warehouse name (upper case, e.g. 'SOPHIA_ANALYTICS_WH')."""
    size: WarehouseSize = "XSMALL"
    """Compute size; each step up doubles the credits per hour (XSMALL: 1)."""
    auto_suspend_seconds: int = Field(60, ge=0, le=86_400)
    """Idle seconds before the warehouse suspends and stops billing (0: never — the
    `snowflake-auto-suspend` policy refuses that)."""
    auto_resume: bool = True
    """Resume on the first query."""
    max_clusters: int = Field(1, ge=1, le=10)
    """Most clusters a multi-cluster warehouse scales out to (the cost estimate assumes all)."""
    active_hours_per_day: float = Field(8, gt=0, le=24)
    """Hours per day it runs queries (for the cost estimate)."""


class SnowflakeDatabase(SpecModel):
    name: SnowflakeName
    """Database name (upper case)."""
    schemas: list[SnowflakeName] = Field(default_factory=list)
    """Schemas made in it; consuming services get access to these."""
    deletion_protection: bool = True
    """Pulumi refuses to drop it (`protect`); required in production."""


class Snowflake(SpecModel):
    credentials: GroupName
    """Credential group holding SNOWFLAKE_ACCOUNT ('<org>-<account>'), SNOWFLAKE_USER and
    SNOWFLAKE_PASSWORD of the admin the provider signs in as."""
    usd_per_credit: float = Field(3.0, gt=0, le=100)
    """Your contract's price of one Snowflake credit (Standard ~2, Enterprise ~3 USD)."""
    warehouses: list[SnowflakeWarehouse] = Field(default_factory=list)
    """Virtual warehouses (compute)."""
    databases: list[SnowflakeDatabase] = Field(default_factory=list)
    """Databases and their schemas (storage)."""


class SnowflakeUse(SpecModel):
    warehouse: SnowflakeName
    """Warehouse the service's queries run on."""
    database: SnowflakeName
    """Database it reads (and with access 'write', writes)."""
    access: Literal["read", "write"] = "read"
    """'read': SELECT on the schemas' tables; 'write': also INSERT/UPDATE/DELETE and CREATE
    TABLE."""


# --- Pinecone -------------------------------------------------------------------------------


class ServerlessPlacement(SpecModel):
    cloud: Literal["aws", "gcp", "azure"] = "aws"
    """Cloud the serverless index runs in."""
    region: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")] = "us-east-1"
    """Region, e.g. 'us-east-1'."""


class PodPlacement(SpecModel):
    environment: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,40}$")]
    """Pod environment, e.g. 'us-east-1-aws'."""
    type: Annotated[str, StringConstraints(pattern=r"^(s1|p1|p2)\.x(1|2|4|8)$")] = "p1.x1"
    """Pod type: s1/p1/p2 with size x1, x2, x4 or x8."""
    replicas: int = Field(1, ge=1, le=20)
    """Replicas (each a billed pod)."""


class PineconeUsage(SpecModel):
    read_units_per_month: float = Field(0, ge=0)
    """Expected read units per month (serverless estimate)."""
    write_units_per_month: float = Field(0, ge=0)
    """Expected write units per month (serverless estimate)."""
    storage_gb: float = Field(1, ge=0)
    """Expected stored GB (serverless estimate)."""


class PineconeIndex(SpecModel):
    name: PineconeIndexName
    """Index name: 1-45 lower-case letters, digits and '-'."""
    owner: DnsLabel
    """The service that owns the index (tagged on it; a policy requires one)."""
    description: str = ""
    """What the index is for."""
    dimension: int = Field(ge=1, le=20_000)
    """Vector dimension (the embedding model's); changing it replaces the index."""
    metric: Literal["cosine", "euclidean", "dotproduct"] = "cosine"
    """Similarity metric; changing it replaces the index."""
    serverless: ServerlessPlacement | None = None
    """A serverless index (the default: aws/us-east-1)."""
    pod: PodPlacement | None = None
    """A pod-based index instead of serverless."""
    deletion_protection: bool = True
    """Pinecone refuses to delete it; required in production."""
    usage: PineconeUsage = Field(default_factory=PineconeUsage)
    """Expected use, for a serverless index's cost estimate."""

    @model_validator(mode="after")
    def _one_placement(self) -> PineconeIndex:
        if self.serverless is not None and self.pod is not None:
            raise ValueError("give 'serverless' or 'pod', not both")
        return self


class Pinecone(SpecModel):
    credentials: GroupName
    """Credential group holding PINECONE_API_KEY."""
    indexes: list[PineconeIndex] = Field(default_factory=list)
    """Vector indexes."""


# --- Weaviate -------------------------------------------------------------------------------


class WeaviateProperty(SpecModel):
    name: Annotated[str, StringConstraints(pattern=WEAVIATE_PROPERTY)]
    """Property name."""
    data_type: Literal[
        "text",
        "text[]",
        "int",
        "int[]",
        "number",
        "number[]",
        "boolean",
        "boolean[]",
        "date",
        "date[]",
        "uuid",
        "uuid[]",
        "blob",
        "geoCoordinates",
        "object",
        "object[]",
    ] = "text"
    """Weaviate data type; changing it replaces the collection."""
    description: str = ""
    """What it holds."""


class WeaviateCollection(SpecModel):
    name: CollectionName
    """Collection (class) name: a capital letter, then letters, digits and '_'."""
    owner: DnsLabel
    """The service that owns the collection (a policy requires one)."""
    description: str = ""
    """What the collection holds."""
    properties: list[WeaviateProperty] = Field(default_factory=list)
    """Properties; new ones are added in place, removing one replaces the collection."""
    vectorizer: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{2,64}$")] = "none"
    """'none' (vectors come with objects) or a module such as 'text2vec-openai'."""
    replication: int = Field(1, ge=1, le=9)
    """Copies of each shard across the cluster's nodes."""
    deletion_protection: bool = True
    """Deleting a collection deletes its objects: kept unless this is false."""


class Weaviate(SpecModel):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(:[0-9]+)?/?$")]
    """The Weaviate cluster's URL, e.g. 'https://sophia.weaviate.cloud'."""
    credentials: GroupName
    """Credential group holding WEAVIATE_API_KEY."""
    collections: list[WeaviateCollection] = Field(default_factory=list)
    """Collections on the cluster."""


# --- the section and a service's use --------------------------------------------------------


class DataServices(SpecModel):
    snowflake: Snowflake | None = None
    """Snowflake warehouses, databases and per-service roles and users."""
    pinecone: Pinecone | None = None
    """Pinecone indexes."""
    weaviate: Weaviate | None = None
    """Weaviate collections."""

    def pinecone_index(self, name: str) -> PineconeIndex | None:
        indexes = self.pinecone.indexes if self.pinecone else []
        return next((i for i in indexes if i.name == name), None)


class ServiceDataServices(SpecModel):
    snowflake: SnowflakeUse | None = None
    """The warehouse and database the service uses; it gets its own role and user."""
    pinecone: list[PineconeIndexName] = Field(default_factory=list)
    """Pinecone indexes it uses (it receives their hosts and the API key)."""
    weaviate: list[CollectionName] = Field(default_factory=list)
    """Weaviate collections it uses (it receives the URL, the API key and their names)."""

    @property
    def empty(self) -> bool:
        return self.snowflake is None and not self.pinecone and not self.weaviate
