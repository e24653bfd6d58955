"""The dynamic provider's create/read/diff/update/delete against the fake, with faults."""

from __future__ import annotations

import base64
from typing import Any

import dill
import pulumi
import pytest

from components.lambda_cloud import (
    InsufficientCapacityError,
    InvalidApiKeyError,
    LambdaConnectionError,
)
from components.lambda_cloud.resources import (
    LambdaInstance,
    LambdaInstanceArgs,
    LambdaInstanceProvider,
    LambdaSshKeyProvider,
)
from sophia.offline.runner import run_under_mocks, unwrap_secrets
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud
from tests.lambda_cloud.conftest import FAST_LAUNCH, FAST_RETRY


def props(fake: FakeLambdaCloud, **changes: Any) -> dict[str, Any]:
    return {
        "name": "sophia-prod-gpu-a10",
        "instance_type_name": "gpu_1x_a10",
        "region_name": "us-west-1",
        "ssh_key_names": ["sophia-deploy"],
        "file_system_names": [],
        "api_key": VALID_KEY,
        "api_base": fake.base_url,
        "boot_timeout_seconds": 5,
        "poll_interval_seconds": 0.01,
        **changes,
    }


@pytest.fixture
def provider() -> LambdaInstanceProvider:
    return LambdaInstanceProvider(retry=FAST_RETRY, launch=FAST_LAUNCH)


def test_full_lifecycle(provider: LambdaInstanceProvider, fake: FakeLambdaCloud) -> None:
    inputs = props(fake)
    assert provider.check({}, inputs).failures == []
    created = provider.create(inputs)
    outs = created.outs or {}
    assert outs["status"] == "active"
    assert outs["ip"].startswith("198.51.100.")
    assert (outs["gpu_count"], outs["price_cents_per_hour"]) == (1, 75)
    assert outs["instance_id"] == created.id

    read = provider.read(created.id, outs)
    assert read.id == created.id and (read.outs or {})["ip"] == outs["ip"]

    renamed = props(fake, name="sophia-prod-gpu-a10-renamed")
    diff = provider.diff(created.id, outs, renamed)
    assert diff.changes and diff.replaces == []
    updated = provider.update(created.id, outs, renamed)
    assert fake.state.instances[created.id]["name"] == "sophia-prod-gpu-a10-renamed"
    assert (updated.outs or {})["instance_id"] == created.id

    for field, value in [
        ("instance_type_name", "gpu_1x_a100_sxm4"),
        ("region_name", "us-east-1"),
        ("ssh_key_names", ["other"]),
    ]:
        assert provider.diff(created.id, outs, props(fake, **{field: value})).replaces == [field]
    assert not provider.diff(created.id, outs, props(fake)).changes

    provider.delete(created.id, outs)
    assert fake.state.instances[created.id]["status"] == "terminating"
    provider.delete(created.id, outs)  # terminating again is fine
    provider.read(created.id, outs)  # → terminated
    assert provider.read(created.id, outs).id is None  # gone
    provider.delete(created.id, outs)  # not found is success
    assert fake.state.launches == 1


def test_check_rejects_unknown_type_region_and_key_count(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    failures = provider.check(
        {},
        props(
            fake, instance_type_name="gpu_1x_a11", region_name="mars-1", ssh_key_names=["a", "b"]
        ),
    ).failures
    assert [(f.property, f.reason) for f in failures] == [
        ("instance_type_name", "unknown Lambda instance type 'gpu_1x_a11'"),
        ("region_name", "unknown Lambda region 'mars-1'"),
        ("ssh_key_names", "Lambda takes exactly one SSH key name at launch"),
    ]


def test_a_retried_create_adopts_the_existing_instance(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    first = provider.create(props(fake))
    second = provider.create(props(fake))
    assert second.id == first.id
    assert fake.state.launches == 1


def test_connection_dropped_after_launch_accepted(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    fake.state.drop_after_launch_next = 1
    created = provider.create(props(fake))
    assert fake.state.launches == 1
    assert [i["id"] for i in fake.live_instances()] == [created.id]


def test_rate_limits_and_server_errors_during_create(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    fake.state.rate_limit_next = 4
    created = provider.create(props(fake))
    fake.state.server_errors_next = 3
    assert provider.read(created.id, created.outs or {}).id == created.id
    assert fake.state.launches == 1 and len(fake.live_instances()) == 1


def test_500_on_launch_that_did_launch_is_adopted(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    original = fake._launch

    def launch_then_fail(body: Any) -> tuple[int, Any]:
        original(body)
        return 500, {"error": {"code": "global/unknown", "message": "An internal error occurred."}}

    fake._launch = launch_then_fail  # type: ignore[method-assign]
    created = provider.create(props(fake))
    assert fake.state.launches == 1
    assert [i["id"] for i in fake.live_instances()] == [created.id]


def test_insufficient_capacity_names_regions_and_launches_nothing(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    fake.state.capacity["gpu_1x_a10"] = {"us-east-1", "us-south-1"}
    with pytest.raises(InsufficientCapacityError) as raised:
        provider.create(props(fake))
    assert "no capacity for gpu_1x_a10 in us-west-1" in str(raised.value)
    assert "regions with capacity: us-east-1, us-south-1" in str(raised.value)
    assert raised.value.regions_with_capacity == ["us-east-1", "us-south-1"]
    assert fake.state.launches == 0


def test_invalid_key_fails_cleanly(provider: LambdaInstanceProvider, fake: FakeLambdaCloud) -> None:
    with pytest.raises(InvalidApiKeyError) as raised:
        provider.create(props(fake, api_key="not-the-key-42"))
    assert "not-the-key-42" not in str(raised.value)
    assert fake.state.launches == 0


def test_boot_timeout_is_reported_with_what_to_do(
    provider: LambdaInstanceProvider, fake: FakeLambdaCloud
) -> None:
    fake.state.boot_polls = 10_000
    with pytest.raises(TimeoutError, match="still booting after 0.2 s; it is billed"):
        provider.create(props(fake, boot_timeout_seconds=0.2))
    assert fake.state.launches == 1


def test_unreachable_api_on_create(provider: LambdaInstanceProvider, fake: FakeLambdaCloud) -> None:
    with pytest.raises(LambdaConnectionError):
        provider.create(props(fake, api_base="http://127.0.0.1:9/api/v1"))
    assert fake.state.launches == 0


def test_ssh_key_provider(fake: FakeLambdaCloud) -> None:
    provider = LambdaSshKeyProvider(retry=FAST_RETRY)
    inputs = {
        "name": "ci",
        "public_key": "ssh-ed25519 AAAA ci",
        "api_key": VALID_KEY,
        "api_base": fake.base_url,
    }
    created = provider.create(inputs)
    assert provider.create(inputs).id == created.id  # adopts the identical key
    with pytest.raises(RuntimeError, match="another public key"):
        provider.create({**inputs, "public_key": "ssh-ed25519 BBBB other"})
    assert provider.diff(created.id, inputs, {**inputs, "name": "ci2"}).replaces == ["name"]
    provider.delete(created.id, inputs)
    provider.delete(created.id, inputs)
    assert {k["name"] for k in fake.state.ssh_keys.values()} == {"sophia-deploy"}


def test_the_pickled_provider_never_holds_the_key() -> None:
    def program() -> LambdaInstance:
        return LambdaInstance(
            "gpu",
            LambdaInstanceArgs(
                name="sophia-prod-gpu-a10",
                instance_type_name="gpu_1x_a10",
                region_name="us-west-1",
                ssh_key_names=["sophia-deploy"],
                api_key=pulumi.Output.secret(VALID_KEY),
            ),
        )

    resources, _ = run_under_mocks(program)
    (instance,) = resources
    assert instance.type == "pulumi-python:dynamic/lambda:Instance"
    wire = instance.properties
    assert wire["api_key"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    pickled = base64.b64decode(unwrap_secrets(wire)["__provider"])
    assert VALID_KEY.encode() not in pickled
    assert isinstance(dill.loads(pickled), LambdaInstanceProvider)  # what the engine will run
