"""The Lambda Cloud client over real HTTP against the loopback fake."""

from __future__ import annotations

import logging
import pickle

import pytest

from components.lambda_cloud import (
    ApiKey,
    InsufficientCapacityError,
    InvalidApiKeyError,
    LambdaCloudClient,
    LambdaConfigError,
    LambdaConnectionError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud
from tests.lambda_cloud.conftest import FAST_RETRY

LAUNCH = {
    "name": "sophia-prod-gpu-a10",
    "instance_type_name": "gpu_1x_a10",
    "region_name": "us-west-1",
    "ssh_key_names": ["sophia-deploy"],
}


def test_instance_types_with_capacity(client: LambdaCloudClient, fake: FakeLambdaCloud) -> None:
    fake.state.capacity["gpu_1x_a10"] = {"us-east-1"}
    offers = client.instance_types()
    a10 = offers["gpu_1x_a10"]
    assert (a10.instance_type.gpus, a10.instance_type.price_cents_per_hour) == (1, 75)
    assert a10.regions_with_capacity == ("us-east-1",)


def test_launch_boot_list_rename_terminate(
    client: LambdaCloudClient, fake: FakeLambdaCloud
) -> None:
    instance_id = client.launch(**LAUNCH)
    assert client.get_instance(instance_id).status == "booting"
    active = client.get_instance(instance_id)
    assert (active.status, active.gpus, active.region) == ("active", 1, "us-west-1")
    assert active.ip and active.ip.startswith("198.51.100.")
    assert [i.id for i in client.list_instances()] == [instance_id]
    assert client.rename_instance(instance_id, "renamed").name == "renamed"
    (terminated,) = client.terminate([instance_id])
    assert terminated.status == "terminating"
    assert client.get_instance(instance_id).status == "terminated"
    with pytest.raises(NotFoundError) as raised:
        client.get_instance(instance_id)
    assert raised.value.code == "global/object-does-not-exist"


def test_ssh_keys(client: LambdaCloudClient) -> None:
    key = client.add_ssh_key("ci", "ssh-ed25519 AAAAC3Nza ci")
    assert {k.name for k in client.list_ssh_keys()} == {"sophia-deploy", "ci"}
    client.delete_ssh_key(key.id)
    client.delete_ssh_key(key.id)  # already gone: no error (the API itself answers 400)
    assert {k.name for k in client.list_ssh_keys()} == {"sophia-deploy"}


def test_errors_carry_code_message_and_suggestion(
    client: LambdaCloudClient, fake: FakeLambdaCloud
) -> None:
    fake.state.capacity["gpu_1x_a10"] = set()
    with pytest.raises(InsufficientCapacityError) as raised:
        client.launch(**LAUNCH)
    error = raised.value
    assert error.status == 400
    assert error.code == "instance-operations/launch/insufficient-capacity"
    assert error.message == "Not enough capacity to fulfill launch request."
    assert error.suggestion == "Choose an instance type with more availability, or try again later."


def test_retries_429_and_500_then_succeeds(
    client: LambdaCloudClient, fake: FakeLambdaCloud
) -> None:
    fake.state.rate_limit_next = 3
    fake.state.server_errors_next = 2
    assert "gpu_1x_a10" in client.instance_types()
    assert len(fake.state.requests) == 6


def test_gives_up_after_the_retry_budget(client: LambdaCloudClient, fake: FakeLambdaCloud) -> None:
    fake.state.rate_limit_next = 100
    with pytest.raises(RateLimitedError):
        client.list_instances()
    assert len(fake.state.requests) == FAST_RETRY.attempts


def test_launch_is_not_repeated_after_a_500(
    client: LambdaCloudClient, fake: FakeLambdaCloud
) -> None:
    fake.state.server_errors_next = 1
    with pytest.raises(ServerError):
        client.launch(**LAUNCH)
    assert len(fake.state.requests) == 1


def test_dropped_launch_is_reported_not_repeated(
    client: LambdaCloudClient, fake: FakeLambdaCloud
) -> None:
    fake.state.drop_after_launch_next = 1
    with pytest.raises(LambdaConnectionError) as raised:
        client.launch(**LAUNCH)
    assert raised.value.sent
    assert fake.state.launches == 1  # accepted once, never sent again


def test_unreachable_api_is_retried_then_reported() -> None:
    with LambdaCloudClient(VALID_KEY, base_url="http://127.0.0.1:9/api/v1", retry=FAST_RETRY) as c:
        with pytest.raises(LambdaConnectionError) as raised:
            c.list_instances()
    assert not raised.value.sent
    assert "ConnectError" in str(raised.value)


def test_invalid_key(fake: FakeLambdaCloud) -> None:
    with LambdaCloudClient("wrong-key-123", base_url=fake.base_url, retry=FAST_RETRY) as c:
        with pytest.raises(InvalidApiKeyError) as raised:
            c.list_instances()
    assert raised.value.status == 401
    assert "wrong-key-123" not in str(raised.value)


def test_key_from_environment_and_base_from_environment(
    fake: FakeLambdaCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_API_KEY", VALID_KEY)
    monkeypatch.setenv("LAMBDA_API_BASE", fake.base_url)
    with LambdaCloudClient(retry=FAST_RETRY) as c:
        assert c.list_instances() == []


def test_no_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDA_API_KEY", raising=False)
    with pytest.raises(LambdaConfigError, match="set LAMBDA_API_KEY"):
        LambdaCloudClient()


def test_the_key_never_shows(
    client: LambdaCloudClient, fake: FakeLambdaCloud, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.state.rate_limit_next = 2
    client.list_instances()
    fake.state.server_errors_next = 100
    with pytest.raises(ServerError) as raised:
        client.list_instances()
    visible = [repr(client), str(client), str(raised.value), repr(raised.value), caplog.text]
    assert all(VALID_KEY not in text for text in visible)
    assert "retrying after" in caplog.text
    assert repr(ApiKey(VALID_KEY)) == "ApiKey('****')"
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(ApiKey(VALID_KEY))
