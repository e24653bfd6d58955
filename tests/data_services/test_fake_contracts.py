"""Schemathesis against the Pinecone and Weaviate fakes: requests generated from each
published document, answers checked against it (status codes, schemas, content types), for
every operation the fake serves. A fake that drifts from its document hides client bugs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.fakes import pinecone as pinecone_fake
from tests.fakes import weaviate as weaviate_fake
from tests.fakes.openapi_contract import HERE
from tests.fakes.pinecone import FakePinecone
from tests.fakes.weaviate import FakeWeaviate

pinecone_schema = schemathesis.openapi.from_path(
    str(HERE / "pinecone-db-control-2026-04.oas.yaml")
).include(path_regex=r"^/indexes(/\{index_name\})?$")
weaviate_schema = schemathesis.openapi.from_path(
    str(HERE / "weaviate-openapi-1.39.0.json")
).include(
    path_regex=r"^/schema(/\{className\}(/properties)?)?$", method=["POST", "GET", "PUT", "DELETE"]
)


@pytest.fixture(scope="module")
def pinecone() -> Iterator[FakePinecone]:
    with FakePinecone() as fake:
        yield fake


@pytest.fixture(scope="module")
def weaviate() -> Iterator[FakeWeaviate]:
    with FakeWeaviate() as fake:
        yield fake


@pinecone_schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_pinecone_fake_answers_as_the_document_says(
    case: schemathesis.Case, pinecone: FakePinecone
) -> None:
    # Schema-valid is not always acceptable: Pinecone, and so the fake, refuses an unknown
    # index (404) or a protected delete (403), as documented; every other check applies.
    case.call_and_validate(
        base_url=pinecone.origin,
        headers={"Api-Key": pinecone_fake.VALID_KEY, "X-Pinecone-Api-Version": "2026-04"},
        excluded_checks=[positive_data_acceptance],
    )


@weaviate_schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_weaviate_fake_answers_as_the_document_says(
    case: schemathesis.Case, weaviate: FakeWeaviate
) -> None:
    # The document gives these operations no answer for a malformed `consistency` header:
    # refusing one would be an undocumented status, so the fake (like Weaviate) ignores it.
    case.call_and_validate(
        base_url=weaviate.origin + "/v1",
        headers={"Authorization": f"Bearer {weaviate_fake.VALID_KEY}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
