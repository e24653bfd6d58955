"""The data services in the program `pulumi up` runs (under Pulumi's mock monitor): what the
spec declares becomes Snowflake, Pinecone and Weaviate resources; credentials stay secret;
each consuming service gets its own connection details and nothing else."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sophia.offline.runner import is_secret, unwrap_secrets
from tests.components.conftest import CANARY, Run, run
from tests.conftest import SPEC

WEAVIATE = """
  weaviate:
    url: https://sophia.weaviate.cloud
    credentials: business_intelligence
    collections:
      - name: SupportTicket
        owner: business-intelligence
        properties:
          - {name: title, dataType: text}
          - {name: priority, dataType: int}
"""


@pytest.fixture(scope="module")
def data_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """sophia.yaml, plus a Weaviate collection the business-intelligence service uses."""
    text = SPEC.read_text(encoding="utf-8")
    text = text.replace(
        "        - PINECONE_API_KEY\n", "        - PINECONE_API_KEY\n        - WEAVIATE_API_KEY\n"
    )
    text = text.replace(
        "prefixes: [SNOWFLAKE_, PINECONE_]", "prefixes: [SNOWFLAKE_, PINECONE_, WEAVIATE_]"
    )
    text = text.replace("\nmcp:\n", WEAVIATE + "\nmcp:\n", 1)
    text = text.replace(
        "      pinecone: [bi-documents]\n",
        "      pinecone: [bi-documents]\n      weaviate: [SupportTicket]\n",
    )
    folder = tmp_path_factory.mktemp("spec")
    (folder / "sophia.yaml").write_text(text, encoding="utf-8")
    return run(folder / "sophia.yaml")


def test_the_spec_becomes_snowflake_pinecone_and_weaviate_resources(data_run: Run) -> None:
    counts = Counter(r.type for r in data_run.resources)
    assert counts["sophia:data:SnowflakeWorkspace"] == 1
    assert counts["pulumi:providers:snowflake"] == 2  # SYSADMIN objects, SECURITYADMIN access
    assert counts["snowflake:index/warehouse:Warehouse"] == 1
    assert counts["snowflake:index/database:Database"] == 1
    assert counts["snowflake:index/schema:Schema"] == 2
    assert counts["snowflake:index/accountRole:AccountRole"] == 1  # one consuming service
    assert counts["snowflake:index/serviceUser:ServiceUser"] == 1
    # warehouse, database, and per schema: usage, all tables, future tables
    assert counts["snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"] == 8
    assert counts["sophia:data:PineconeIndex"] == 1
    assert counts["pulumi-python:dynamic/pinecone:Index"] == 1
    assert counts["sophia:data:WeaviateCollection"] == 1
    assert counts["pulumi-python:dynamic/weaviate:Collection"] == 1


def test_warehouse_and_database_as_declared(data_run: Run) -> None:
    (warehouse,) = data_run.of_type("snowflake:index/warehouse:Warehouse")
    p = warehouse.properties
    assert (p["name"], p["warehouseSize"], p["autoSuspend"], p["autoResume"]) == (
        "SOPHIA_ANALYTICS_WH",
        "XSMALL",
        60,
        "true",
    )
    assert p["maxClusterCount"] == 1 and p["initiallySuspended"] is True
    (database,) = data_run.of_type("snowflake:index/database:Database")
    assert database.protect  # deletionProtection defaults to on


def test_read_access_grants_select_only(data_run: Run) -> None:
    grants = [
        r.properties
        for r in data_run.of_type(
            "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole"
        )
    ]
    privileges = {
        p["privileges"][0] if len(p["privileges"]) == 1 else tuple(p["privileges"]) for p in grants
    }
    assert privileges == {"USAGE", "SELECT"}
    futures = [p for p in grants if "future" in p.get("onSchemaObject", {})]
    assert {f["onSchemaObject"]["future"]["inSchema"] for f in futures} == {
        '"SOPHIA_ANALYTICS"."RAW"',
        '"SOPHIA_ANALYTICS"."MARTS"',
    }


def test_credentials_are_secret_on_the_wire(data_run: Run) -> None:
    providers = data_run.of_type("pulumi:providers:snowflake")
    for provider in providers:
        assert is_secret(provider.properties["password"])
    (index,) = data_run.of_type("pulumi-python:dynamic/pinecone:Index")
    assert is_secret(index.properties["api_key"])
    (collection,) = data_run.of_type("pulumi-python:dynamic/weaviate:Collection")
    assert is_secret(collection.properties["api_key"])
    for r in data_run.resources:
        plain = {k: v for k, v in r.properties.items() if not is_secret(v)}
        for value in plain.values():
            shown = (
                {k: v for k, v in value.items() if not is_secret(v)}
                if isinstance(value, dict)
                else value
            )
            assert CANARY not in str(shown), r.name


def test_each_consumer_gets_only_its_own_connection_details(data_run: Run) -> None:
    secrets = {
        r.properties["metadata"]["name"]: r.properties
        for r in data_run.of_type("kubernetes:core/v1:Secret")
    }
    connections = [name for name in secrets if name.endswith("-connections")]
    assert connections == ["credentials-business-intelligence-connections"]
    data = secrets[connections[0]]["stringData"]
    assert is_secret(data) or all(is_secret(v) for v in data.values())
    keys = set(unwrap_secrets(data))
    assert keys == {
        "SNOWFLAKE_USER",
        "SNOWFLAKE_ROLE",
        "SNOWFLAKE_WAREHOUSE",
        "SNOWFLAKE_DATABASE",
        "SNOWFLAKE_PRIVATE_KEY",
        "PINECONE_HOST_BI_DOCUMENTS",
        "WEAVIATE_URL",
        "WEAVIATE_COLLECTIONS",
    }
    values = unwrap_secrets(data)
    assert values["SNOWFLAKE_WAREHOUSE"] == "SOPHIA_ANALYTICS_WH"
    assert values["PINECONE_HOST_BI_DOCUMENTS"] == "bi-documents.svc.planned.pinecone.io"
    assert values["WEAVIATE_COLLECTIONS"] == "SupportTicket"
    assert "SNOWFLAKE_PASSWORD" not in values  # the admin's sign-in stays with the provider
    deployments = data_run.deployments()
    container = deployments["business-intelligence"]["spec"]["template"]["spec"]["containers"][0]
    # The provider credentials it needs, by reference to the group's Secret (never copied).
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in container["env"]
        if "valueFrom" in e
    }
    assert refs == {
        "OPENROUTER_API_KEY": "credentials-ai-intelligence",
        "SNOWFLAKE_ACCOUNT": "credentials-business-intelligence",
        "PINECONE_API_KEY": "credentials-business-intelligence",
        "WEAVIATE_API_KEY": "credentials-business-intelligence",
    }
    sources = {
        name: [
            e["secretRef"]["name"]
            for e in d["spec"]["template"]["spec"]["containers"][0].get("envFrom", [])
        ]
        for name, d in deployments.items()
    }
    assert sources["business-intelligence"] == ["credentials-business-intelligence-connections"]
    assert all(
        "credentials-business-intelligence-connections" not in s
        for name, s in sources.items()
        if name != "business-intelligence"
    )


def test_pods_roll_when_connection_details_change(tmp_path: Path) -> None:
    """The checksum annotation covers the connection Secret, as it covers credential groups."""
    from components.microservice import CHECKSUM_ANNOTATION

    def checksum(spec: Path) -> str:
        deployment = run(spec).deployments()["business-intelligence"]
        return str(deployment["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION])

    before = checksum(SPEC)
    text = (
        SPEC.read_text(encoding="utf-8")
        .replace("access: read}", "access: read}\n      pinecone: []")
        .replace("      pinecone: [bi-documents]\n", "")
    )
    changed = tmp_path / "sophia.yaml"
    changed.write_text(text, encoding="utf-8")
    assert checksum(changed) != before
