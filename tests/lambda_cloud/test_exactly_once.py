"""Exactly one instance per resource, whatever the API answers: seeded fault injection.

Every fault the fake can play, alone and in pairs: a launch carried out but answered with an
unreadable 200, a 429 (with Retry-After) or a 500, a connection dropped after the launch, a
list that lags behind, a refused first attempt, an instance that boots unhealthy, a malformed
list. A failed `create` is run again, as a second `pulumi up` would. Afterwards exactly one
live instance has the resource's name (two launches only where the first booted unhealthy and
was terminated), and no instance is left that nobody owns.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from components.lambda_cloud import (
    LambdaApiError,
    LambdaCloudClient,
    LambdaConnectionError,
    RetryPolicy,
)
from components.lambda_cloud.errors import MalformedResponseError, RateLimitedError
from components.lambda_cloud.resources import LambdaInstanceProvider
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud, running_fake
from tests.lambda_cloud.conftest import FAST_LAUNCH, FAST_RETRY
from tests.lambda_cloud.test_instance_provider import props

RUNS = 300
FAULTS = [
    "accepted_unreadable_next",
    "accepted_rate_limited_next",
    "accepted_server_error_next",
    "drop_after_launch_next",
    "rate_limit_next",
    "server_errors_next",
    "list_lag",
    "unhealthy_next",
    "malformed_next",
]


@pytest.fixture
def fake() -> Iterator[FakeLambdaCloud]:
    with running_fake() as server:
        server.state.boot_polls = 1
        yield server
        assert server.state.contract_violations == []


def _instances_named(fake: FakeLambdaCloud, name: str) -> list[dict[str, object]]:
    with fake.lock:
        return [dict(i) for i in fake.state.instances.values() if i["name"] == name]


def test_every_fault_ends_in_exactly_one_instance(fake: FakeLambdaCloud) -> None:
    rng = random.Random(20261125)
    provider = LambdaInstanceProvider(retry=FAST_RETRY, launch=FAST_LAUNCH)
    tally: Counter[str] = Counter()
    for run in range(RUNS):
        faults = rng.sample(FAULTS, rng.choice([1, 1, 2]))
        state = fake.state
        for fault in faults:
            setattr(state, fault, rng.choice([2, 4, 8]) if fault == "list_lag" else 1)
        state.retry_after = rng.choice([None, "0"])  # waiting as asked: tested below
        name = f"exactly-once-{run}"
        created = None
        for _attempt in range(3):  # `pulumi up`, and again after a failure
            try:
                created = provider.create(props(fake, name=name))
                break
            except (LambdaApiError, LambdaConnectionError, RuntimeError) as error:
                assert str(error)  # typed, with a message
                tally[f"failed once: {type(error).__name__}"] += 1
        assert created is not None, (run, faults)
        for fault in FAULTS:  # calm again before the check
            setattr(state, fault, 0)
        launched = _instances_named(fake, name)
        live = [i for i in launched if i["status"] not in ("terminating", "terminated")]
        assert [i["id"] for i in live] == [created.id], (run, faults, launched)
        expected = 2 if "unhealthy_next" in faults else 1
        assert len(launched) == expected, (run, faults, launched)
        tally["runs"] += 1
        tally["launches"] += len(launched)
        tally["orphans"] += len(live) - 1
        provider.delete(created.id, created.outs or {})
    assert tally["runs"] == RUNS and tally["orphans"] == 0
    print(dict(tally))  # the counts the closing note reports


def test_retry_after_is_honoured(fake: FakeLambdaCloud) -> None:
    """The backoff alone would wait 0.01 s; the API asks for 1 s, and gets it."""
    fake.state.rate_limit_next = 1
    fake.state.retry_after = "1"
    policy = RetryPolicy(attempts=3, initial_seconds=0.01, max_seconds=5, jitter_seconds=0)
    with LambdaCloudClient(VALID_KEY, base_url=fake.base_url, retry=policy) as client:
        started = time.monotonic()
        client.list_instances()
        assert time.monotonic() - started >= 0.95


def test_a_lasting_429_is_a_typed_error_with_the_wait_asked_for(fake: FakeLambdaCloud) -> None:
    fake.state.rate_limit_next = 100
    fake.state.retry_after = "0"
    with LambdaCloudClient(VALID_KEY, base_url=fake.base_url, retry=FAST_RETRY) as client:
        with pytest.raises(RateLimitedError) as caught:
            client.list_instances()
    assert caught.value.retry_after == 0.0


@pytest.mark.parametrize("path", ["list_instances", "instance_types", "list_ssh_keys"])
def test_malformed_answers_are_typed_errors(fake: FakeLambdaCloud, path: str) -> None:
    fake.state.malformed_next = 100
    with LambdaCloudClient(VALID_KEY, base_url=fake.base_url, retry=FAST_RETRY) as client:
        with pytest.raises(MalformedResponseError) as caught:
            getattr(client, path)()
    assert "cannot be read" in str(caught.value) or "without a readable" in str(caught.value)


@pytest.mark.parametrize(
    "auth",
    ["basic-with-colon", "basic-plain"],
)
def test_basic_auth_as_documented(fake: FakeLambdaCloud, auth: str) -> None:
    import base64

    import httpx

    value = (
        "Basic " + base64.b64encode(f"{VALID_KEY}:".encode()).decode()
        if auth == "basic-with-colon"
        else f"Basic {VALID_KEY}"
    )
    answer = httpx.get(f"{fake.base_url}/instances", headers={"Authorization": value})
    assert answer.status_code == 200


def test_key_generation_and_unknown_keys_as_documented(fake: FakeLambdaCloud) -> None:
    import httpx

    headers = {"Authorization": f"Bearer {VALID_KEY}"}
    generated = httpx.post(f"{fake.base_url}/ssh-keys", json={"name": "gen"}, headers=headers)
    assert generated.status_code == 200 and "private_key" in generated.json()["data"]
    missing = httpx.delete(f"{fake.base_url}/ssh-keys/nope", headers=headers)
    assert missing.status_code == 400  # the document lists no 404 for this operation
    unknown = httpx.post(
        f"{fake.base_url}/instance-operations/launch",
        json={
            "name": "x",
            "instance_type_name": "gpu_1x_a10",
            "region_name": "us-south-3",  # any documented region
            "ssh_key_names": ["no-such-key"],
        },
        headers=headers,
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "global/object-does-not-exist"
    too_long = httpx.post(
        f"{fake.base_url}/instance-operations/launch",
        json={
            "name": "x" * 65,
            "instance_type_name": "gpu_1x_a10",
            "region_name": "us-west-1",
            "ssh_key_names": ["sophia-deploy"],
        },
        headers=headers,
    )
    assert too_long.status_code == 400
    # The contract check caught that request (a client bug it would have reported):
    assert fake.state.contract_violations == [
        "request POST /instance-operations/launch: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is too long"
    ]
    fake.state.contract_violations.clear()
