"""The Weaviate collection provider against the loopback fake of the schema API (v1.39.0)."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

from components.data_services.weaviate import (
    CollectionProperty,
    WeaviateCollectionProvider,
)
from components.data_services.weaviate_client import WeaviateClient
from components.rest import DeletionProtectedError
from tests.data_services.conftest import FAST_RETRY
from tests.fakes.weaviate import VALID_KEY, FakeWeaviate

TITLE = CollectionProperty("title", "text").to_api()
SEGMENT = CollectionProperty("segment", "int").to_api()


def props(fake: FakeWeaviate, **changes: Any) -> dict[str, Any]:
    base = {
        "name": "CustomerSegment",
        "url": fake.url,
        "description": "segments",
        "vectorizer": "none",
        "replication_factor": 1,
        "properties": [TITLE],
        "deletion_protection": True,
        "owner": "bi",
        "api_key": VALID_KEY,
    }
    return {**base, **changes}


def provider() -> WeaviateCollectionProvider:
    return WeaviateCollectionProvider(FAST_RETRY)


def test_create_makes_the_class(weaviate: FakeWeaviate) -> None:
    made = provider().create(props(weaviate))
    assert made.id == "CustomerSegment"
    found = weaviate.state.classes["CustomerSegment"]
    assert found["vectorizer"] == "none" and found["properties"][0]["name"] == "title"


FAULTS = ["drop_after_create_next", "server_errors_next", "rate_limit_next"]


@pytest.mark.parametrize(("first", "second"), list(product(FAULTS, FAULTS)))
def test_created_exactly_once_under_every_fault_pair(
    weaviate: FakeWeaviate, first: str, second: str
) -> None:
    weaviate.faults.retry_after = "0"
    for fault in (first, second):
        setattr(weaviate.faults, fault, getattr(weaviate.faults, fault) + 1)
    provider().create(props(weaviate))
    assert weaviate.state.creates == 1


def test_an_existing_collection_is_adopted_and_completed(weaviate: FakeWeaviate) -> None:
    provider().create(props(weaviate))
    provider().create(props(weaviate, properties=[TITLE, SEGMENT]))
    assert weaviate.state.creates == 1
    names = [p["name"] for p in weaviate.state.classes["CustomerSegment"]["properties"]]
    assert names == ["title", "segment"]


def test_an_existing_collection_of_another_vectorizer_is_refused(weaviate: FakeWeaviate) -> None:
    provider().create(props(weaviate))
    with pytest.raises(RuntimeError, match="vectorizer none"):
        provider().create(props(weaviate, vectorizer="text2vec-openai"))


def test_added_properties_update_in_place_removed_or_retyped_replace(
    weaviate: FakeWeaviate,
) -> None:
    p = provider()
    old = p.create(props(weaviate)).outs
    added = props(weaviate, properties=[TITLE, SEGMENT])
    diff = p.diff("CustomerSegment", old, added)
    assert diff.changes and not diff.replaces
    p.update("CustomerSegment", old, added)
    assert len(weaviate.state.classes["CustomerSegment"]["properties"]) == 2
    retyped = props(weaviate, properties=[CollectionProperty("title", "int").to_api()])
    assert p.diff("CustomerSegment", added, retyped).replaces == ["properties"]
    removed = props(weaviate, properties=[SEGMENT])
    assert p.diff("CustomerSegment", added, removed).replaces == ["properties"]
    revectorized = {**added, "vectorizer": "text2vec-openai"}
    assert p.diff("CustomerSegment", added, revectorized).replaces == ["vectorizer"]


def test_replication_and_description_change_in_place(weaviate: FakeWeaviate) -> None:
    p = provider()
    old = p.create(props(weaviate)).outs
    new = props(weaviate, replication_factor=3, description="customer segments")
    assert not p.diff("CustomerSegment", old, new).replaces
    p.update("CustomerSegment", old, new)
    found = weaviate.state.classes["CustomerSegment"]
    assert found["replicationConfig"]["factor"] == 3 and found["description"] == "customer segments"


def test_a_protected_collection_is_never_deleted(weaviate: FakeWeaviate) -> None:
    p = provider()
    made = p.create(props(weaviate))
    with pytest.raises(DeletionProtectedError, match="deletes its objects"):
        p.delete(made.id, made.outs)
    assert "CustomerSegment" in weaviate.state.classes
    unprotected = props(weaviate, deletion_protection=False)
    p.delete(made.id, unprotected)
    assert weaviate.state.classes == {}


def test_read_reports_a_vanished_collection(weaviate: FakeWeaviate) -> None:
    p = provider()
    made = p.create(props(weaviate))
    assert p.read(made.id, made.outs).id == "CustomerSegment"
    weaviate.state.classes.clear()
    assert not p.read(made.id, made.outs).id


def test_check_refuses_bad_names_and_urls(weaviate: FakeWeaviate) -> None:
    result = provider().check({}, props(weaviate, name="customer", url="ftp://x"))
    assert {f.property for f in result.failures} == {"name", "url"}


def test_a_wrong_key_is_a_typed_error_without_the_key(weaviate: FakeWeaviate) -> None:
    with WeaviateClient("wrong-weaviate-key", weaviate.url, retry=FAST_RETRY) as client:
        with pytest.raises(Exception) as caught:
            client.get_collection("CustomerSegment")
    assert "401" in str(caught.value) and "wrong-weaviate-key" not in str(caught.value)


def test_the_fake_refuses_requests_off_the_document(weaviate: FakeWeaviate) -> None:
    with WeaviateClient(VALID_KEY, weaviate.url, retry=FAST_RETRY) as client:
        with pytest.raises(Exception, match="422"):  # Weaviate's answer to an unusable body
            client.create_collection({"class": "X", "properties": "none"})
    assert weaviate.faults.contract_violations
    weaviate.faults.contract_violations.clear()
