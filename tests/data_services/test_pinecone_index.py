"""The Pinecone index provider against the loopback fake of the control plane (2026-04):
made exactly once whatever the API does, replaced on immutable fields, kept while protected."""

from __future__ import annotations

import logging
import time
from itertools import product
from typing import Any

import pytest

from components.data_services.pinecone import (
    PineconeIndexArgs,
    PineconeIndexProvider,
    ReadyWait,
)
from components.data_services.pinecone_client import PineconeClient
from components.rest import DeletionProtectedError, RateLimitedError, RetryPolicy
from tests.data_services.conftest import FAST_RETRY
from tests.fakes.pinecone import VALID_KEY, FakePinecone

FAST_WAIT = ReadyWait(poll_seconds=0.01, timeout_seconds=5)


def props(fake: FakePinecone, **changes: Any) -> dict[str, Any]:
    args = PineconeIndexArgs(name="customer-segments", dimension=1536, owner="bi")
    base = {
        "name": args.name,
        "dimension": args.dimension,
        "metric": args.metric,
        "vector_type": "dense",
        "spec": args.spec(),
        "deletion_protection": "enabled",
        "tags": {"owner": "bi"},
        "owner": "bi",
        "api_key": VALID_KEY,
        "api_base": fake.base_url,
    }
    return {**base, **changes}


def provider() -> PineconeIndexProvider:
    return PineconeIndexProvider(FAST_RETRY, FAST_WAIT)


def test_create_waits_until_ready_and_returns_the_host(pinecone: FakePinecone) -> None:
    pinecone.state.ready_after_polls = 3
    made = provider().create(props(pinecone))
    assert made.id == "customer-segments"
    assert made.outs["host"].startswith("customer-segments-")
    assert made.outs["state"] == "Ready"
    assert pinecone.state.polls["customer-segments"] >= 3
    index = pinecone.state.indexes["customer-segments"]
    assert index["spec"]["serverless"]["region"] == "us-east-1"
    assert index["tags"] == {"owner": "bi"} and index["deletion_protection"] == "enabled"


FAULTS = ["drop_after_create_next", "server_errors_next", "rate_limit_next"]


@pytest.mark.parametrize(("first", "second"), list(product(FAULTS, FAULTS)))
def test_created_exactly_once_under_every_fault_pair(
    pinecone: FakePinecone, first: str, second: str
) -> None:
    pinecone.faults.retry_after = "0"
    for fault in (first, second):
        setattr(pinecone.faults, fault, getattr(pinecone.faults, fault) + 1)
    made = provider().create(props(pinecone))
    assert pinecone.state.creates == 1
    assert list(pinecone.state.indexes) == [made.id]


def test_an_existing_index_of_the_same_shape_is_adopted(pinecone: FakePinecone) -> None:
    provider().create(props(pinecone))
    again = provider().create(props(pinecone))
    assert pinecone.state.creates == 1 and again.id == "customer-segments"


def test_an_existing_index_of_another_shape_is_refused_by_name(pinecone: FakePinecone) -> None:
    provider().create(props(pinecone))
    with pytest.raises(RuntimeError, match=r"exists with dimension 1536 \(asked: 768\)"):
        provider().create(props(pinecone, dimension=768))


@pytest.mark.parametrize(
    ("change", "replaced"),
    [
        ({"dimension": 768}, ["dimension"]),
        ({"metric": "dotproduct"}, ["metric"]),
        ({"spec": {"serverless": {"cloud": "gcp", "region": "us-central1"}}}, ["spec"]),
        ({"name": "other"}, ["name"]),
    ],
)
def test_immutable_fields_replace(
    pinecone: FakePinecone, change: dict[str, Any], replaced: list[str]
) -> None:
    diff = provider().diff("customer-segments", props(pinecone), props(pinecone, **change))
    assert diff.changes and diff.replaces == replaced and diff.delete_before_replace


def test_protection_and_tags_change_in_place(pinecone: FakePinecone) -> None:
    p = provider()
    old = p.create(props(pinecone)).outs
    new = props(pinecone, deletion_protection="disabled", tags={"owner": "ai"}, owner="ai")
    diff = p.diff("customer-segments", old, new)
    assert diff.changes and not diff.replaces
    p.update("customer-segments", old, new)
    index = pinecone.state.indexes["customer-segments"]
    assert index["deletion_protection"] == "disabled" and index["tags"] == {"owner": "ai"}


def test_pod_scaling_changes_in_place(pinecone: FakePinecone) -> None:
    pod = {"pod": {"environment": "us-east-1-aws", "pod_type": "p1.x1", "replicas": 1}}
    scaled = {"pod": {"environment": "us-east-1-aws", "pod_type": "p1.x2", "replicas": 2}}
    p = provider()
    old = p.create(props(pinecone, spec=pod)).outs
    diff = p.diff("customer-segments", old, props(pinecone, spec=scaled))
    assert diff.changes and not diff.replaces
    p.update("customer-segments", old, props(pinecone, spec=scaled))
    assert pinecone.state.indexes["customer-segments"]["spec"]["pod"]["pod_type"] == "p1.x2"


def test_a_protected_index_is_never_deleted(pinecone: FakePinecone) -> None:
    p = provider()
    made = p.create(props(pinecone))
    requests_before = len(pinecone.faults.requests)
    with pytest.raises(DeletionProtectedError, match="deletionProtection: false"):
        p.delete(made.id, made.outs)
    assert len(pinecone.faults.requests) == requests_before  # refused before asking
    assert "customer-segments" in pinecone.state.indexes


def test_protection_turned_on_outside_is_honoured_by_the_api(pinecone: FakePinecone) -> None:
    p = provider()
    made = p.create(props(pinecone, deletion_protection="disabled"))
    pinecone.state.indexes["customer-segments"]["deletion_protection"] = "enabled"
    with pytest.raises(DeletionProtectedError, match="Deletion protection is enabled"):
        p.delete(made.id, made.outs)
    assert "customer-segments" in pinecone.state.indexes


def test_delete_of_an_unprotected_index_and_of_one_gone(pinecone: FakePinecone) -> None:
    p = provider()
    made = p.create(props(pinecone, deletion_protection="disabled"))
    p.delete(made.id, made.outs)
    assert pinecone.state.indexes == {}
    p.delete(made.id, made.outs)  # gone already: no error


def test_read_reports_a_vanished_index(pinecone: FakePinecone) -> None:
    p = provider()
    made = p.create(props(pinecone))
    assert p.read(made.id, made.outs).id == "customer-segments"
    del pinecone.state.indexes["customer-segments"]
    assert not p.read(made.id, made.outs).id


def test_check_refuses_names_and_dimensions_pinecone_refuses(pinecone: FakePinecone) -> None:
    result = provider().check({}, props(pinecone, name="Bad_Name", dimension=0))
    assert {f.property for f in result.failures} == {"name", "dimension"}


def test_retry_after_is_honoured(pinecone: FakePinecone) -> None:
    pinecone.faults.rate_limit_next = 1
    pinecone.faults.retry_after = "1"
    policy = RetryPolicy(attempts=3, initial_seconds=0.01, max_seconds=5, jitter_seconds=0)
    with PineconeClient(VALID_KEY, pinecone.base_url, retry=policy) as client:
        started = time.monotonic()
        client.list_indexes()
        assert time.monotonic() - started >= 0.95


def test_a_lasting_429_is_a_typed_error(pinecone: FakePinecone) -> None:
    pinecone.faults.rate_limit_next = 100
    pinecone.faults.retry_after = "0"
    with PineconeClient(VALID_KEY, pinecone.base_url, retry=FAST_RETRY) as client:
        with pytest.raises(RateLimitedError) as caught:
            client.list_indexes()
    assert caught.value.retry_after == 0.0 and caught.value.code == "RESOURCE_EXHAUSTED"


def test_the_key_never_shows_in_logs_errors_or_reprs(
    pinecone: FakePinecone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pinecone.faults.server_errors_next = 2
    client = PineconeClient(VALID_KEY, pinecone.base_url, retry=FAST_RETRY)
    client.list_indexes()
    wrong = PineconeClient("pcsk_wrong_key", pinecone.base_url, retry=FAST_RETRY)
    with pytest.raises(Exception) as caught:
        wrong.list_indexes()
    shown = caplog.text + str(caught.value) + repr(client) + repr(wrong)
    assert VALID_KEY not in shown and "pcsk_wrong_key" not in shown
    assert "401" in str(caught.value)


def test_the_fake_refuses_requests_off_the_document(pinecone: FakePinecone) -> None:
    """The contract check has teeth: a body the document does not allow is caught."""
    with PineconeClient(VALID_KEY, pinecone.base_url, retry=FAST_RETRY) as client:
        with pytest.raises(Exception, match="400"):
            client.create_index({"name": "x", "dimension": "many", "spec": {}})
    assert pinecone.faults.contract_violations
    pinecone.faults.contract_violations.clear()
