"""Persistent file systems and firewall rulesets against the fake: made exactly once by name
whatever the API answers, attached to instances at launch, refused where Lambda refuses."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from components.lambda_cloud import LambdaApiError, LambdaCloudClient
from components.lambda_cloud.errors import AmbiguousCreateError
from components.lambda_cloud.firewall import LambdaFirewallRulesetProvider
from components.lambda_cloud.models import FirewallRule
from components.lambda_cloud.resources import LambdaInstanceProvider
from components.lambda_cloud.storage import LambdaFileSystemProvider
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud
from tests.lambda_cloud.conftest import FAST_LAUNCH, FAST_RETRY

SSH = FirewallRule("tcp", "203.0.113.0/24", "SSH", (22, 22))
VXLAN = FirewallRule("udp", "10.0.0.0/8", "flannel VXLAN", (8472, 8472))
FAULTS = (
    "rate_limit_next",
    "server_errors_next",
    "accepted_create_dropped_next",
    "malformed_next",
)


def common(fake: FakeLambdaCloud) -> dict[str, Any]:
    return {"api_key": VALID_KEY, "api_base": fake.base_url}


def file_system(fake: FakeLambdaCloud, **changes: Any) -> dict[str, Any]:
    return {"name": "model-weights", "region": "us-east-1", **common(fake), **changes}


def ruleset(fake: FakeLambdaCloud, *rules: FirewallRule, **changes: Any) -> dict[str, Any]:
    return {
        "name": "sophia-prod-k3s",
        "region": "us-east-1",
        "rules": [r.to_api() for r in rules],
        **common(fake),
        **changes,
    }


def instance(fake: FakeLambdaCloud, **changes: Any) -> dict[str, Any]:
    return {
        "name": "sophia-prod-gpu",
        "instance_type_name": "gpu_1x_a10",
        "region_name": "us-east-1",
        "ssh_key_names": ["sophia-deploy"],
        **common(fake),
        "boot_timeout_seconds": 5,
        "poll_interval_seconds": 0.01,
        **changes,
    }


def test_a_file_system_is_made_once_and_adopted_by_name(fake: FakeLambdaCloud) -> None:
    provider = LambdaFileSystemProvider(retry=FAST_RETRY)
    created = provider.create(file_system(fake))
    assert (created.outs or {})["mount_point"] == "/lambda/nfs/model-weights"
    assert provider.create(file_system(fake)).id == created.id
    assert fake.state.creates == 1
    with pytest.raises(RuntimeError, match="exists in us-east-1, not us-west-1"):
        provider.create(file_system(fake, region="us-west-1"))
    diff = provider.diff(created.id, file_system(fake), file_system(fake, name="weights-2"))
    assert diff.replaces == ["name"] and diff.delete_before_replace


@pytest.mark.parametrize(
    "name", ["9weights", "model_weights", "x" * 61, "", "weights/../etc", "wéights"]
)
def test_a_name_lambda_refuses_is_refused_at_check(fake: FakeLambdaCloud, name: str) -> None:
    failures = LambdaFileSystemProvider().check({}, file_system(fake, name=name)).failures
    assert [f.property for f in failures] == ["name"]


@pytest.mark.parametrize("faults", [*((f,) for f in FAULTS), *itertools.combinations(FAULTS, 2)])
def test_creates_stay_exactly_once_under_faults(
    fake: FakeLambdaCloud, faults: tuple[str, ...]
) -> None:
    for fault in faults:
        setattr(fake.state, fault, 1)
    LambdaFileSystemProvider(retry=FAST_RETRY).create(file_system(fake))
    for fault in faults:
        setattr(fake.state, fault, 1)
    LambdaFirewallRulesetProvider(retry=FAST_RETRY).create(ruleset(fake, SSH))
    assert fake.state.creates == 2
    assert len(fake.state.file_systems) == len(fake.state.firewall_rulesets) == 1


def test_a_create_that_never_settles_says_so_and_makes_nothing_twice(
    fake: FakeLambdaCloud,
) -> None:
    fake.state.rate_limit_next = 100  # every request throttled: the outcome stays unknown
    with pytest.raises((AmbiguousCreateError, LambdaApiError)):
        LambdaFileSystemProvider(retry=FAST_RETRY).create(file_system(fake))
    fake.state.rate_limit_next = 0
    LambdaFileSystemProvider(retry=FAST_RETRY).create(file_system(fake))
    assert fake.state.creates == 1


def test_instances_mount_file_systems_of_their_region_only(fake: FakeLambdaCloud) -> None:
    storage = LambdaFileSystemProvider(retry=FAST_RETRY)
    made = storage.create(file_system(fake))
    instances = LambdaInstanceProvider(retry=FAST_RETRY, launch=FAST_LAUNCH)
    with pytest.raises(LambdaApiError, match="file-system-in-wrong-region"):
        instances.create(
            instance(fake, region_name="us-west-1", file_system_names=["model-weights"])
        )
    launched = instances.create(instance(fake, file_system_names=["model-weights"]))
    with pytest.raises(LambdaApiError, match="filesystem-in-use"):
        storage.delete(made.id, file_system(fake))  # mounted: Lambda keeps the data
    instances.delete(launched.id, launched.outs or {})
    storage.delete(made.id, file_system(fake))
    storage.delete(made.id, file_system(fake))  # already gone: nothing to do
    assert fake.state.file_systems == {}


def test_a_ruleset_is_patched_in_place_and_outlived_by_nothing(fake: FakeLambdaCloud) -> None:
    provider = LambdaFirewallRulesetProvider(retry=FAST_RETRY)
    olds = ruleset(fake, SSH)
    created = provider.create(olds)
    news = ruleset(fake, SSH, VXLAN)
    diff = provider.diff(created.id, olds, news)
    assert diff.changes and diff.replaces == []
    assert not provider.diff(created.id, olds, ruleset(fake, SSH)).changes
    assert provider.diff(created.id, olds, ruleset(fake, SSH, region="us-west-1")).replaces == [
        "region"
    ]
    provider.update(created.id, olds, news)
    with LambdaCloudClient(VALID_KEY, base_url=fake.base_url, retry=FAST_RETRY) as client:
        (stored,) = client.list_firewall_rulesets()
    assert list(stored.rules) == [SSH, VXLAN]

    instances = LambdaInstanceProvider(retry=FAST_RETRY, launch=FAST_LAUNCH)
    launched = instances.create(instance(fake, firewall_ruleset_ids=[created.id]))
    with pytest.raises(LambdaApiError, match="firewall-ruleset-in-use"):
        provider.delete(created.id, news)
    instances.delete(launched.id, launched.outs or {})
    provider.delete(created.id, news)
    assert fake.state.firewall_rulesets == {}


def test_an_adopted_ruleset_gets_the_declared_rules(fake: FakeLambdaCloud) -> None:
    provider = LambdaFirewallRulesetProvider(retry=FAST_RETRY)
    first = provider.create(ruleset(fake, SSH))
    again = provider.create(ruleset(fake, VXLAN))  # e.g. after a lost answer, rules edited
    assert again.id == first.id and fake.state.creates == 1
    (stored,) = fake.state.firewall_rulesets.values()
    assert stored["rules"] == [VXLAN.to_api()]


def test_a_ruleset_of_another_region_cannot_be_attached(fake: FakeLambdaCloud) -> None:
    created = LambdaFirewallRulesetProvider(retry=FAST_RETRY).create(
        ruleset(fake, SSH, region="us-west-1")
    )
    with pytest.raises(LambdaApiError, match="not found in us-east-1"):
        LambdaInstanceProvider(retry=FAST_RETRY, launch=FAST_LAUNCH).create(
            instance(fake, firewall_ruleset_ids=[created.id])
        )
    assert fake.live_instances() == []
