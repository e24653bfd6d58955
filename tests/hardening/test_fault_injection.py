"""The Lambda and ESC clients under sustained, seeded fault injection against the fakes.

Bounded loops on loopback only. Every operation ends in success or a clear, typed error;
afterwards nothing is orphaned (no instance nobody can find, no second instance of a name)
and nothing written is lost.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from components.esc import EscError, EscGateway
from components.lambda_cloud import LambdaApiError, LambdaConnectionError
from components.lambda_cloud.resources import LambdaInstanceProvider
from sophia.secrets import sync as secret_ops
from sophia.spec import load_spec
from tests.conftest import SPEC
from tests.fakes.esc import VALID_TOKEN as ESC_TOKEN
from tests.fakes.esc import FakeEsc, running_fake_esc
from tests.fakes.lambda_cloud import FakeLambdaCloud, running_fake
from tests.lambda_cloud.conftest import FAST_LAUNCH, FAST_RETRY
from tests.lambda_cloud.test_instance_provider import props

ROUNDS = 40


@pytest.fixture
def lambda_fake() -> Iterator[FakeLambdaCloud]:
    with running_fake() as fake:
        fake.state.boot_polls = 1
        yield fake


def test_lambda_instances_survive_sustained_faults(lambda_fake: FakeLambdaCloud) -> None:
    rng = random.Random(20261125)
    provider = LambdaInstanceProvider(retry=FAST_RETRY, launch=FAST_LAUNCH)
    names = [f"sophia-fuzz-{i}" for i in range(6)]
    outcomes: Counter[str] = Counter()
    created: dict[str, str] = {}
    for _ in range(ROUNDS):
        state = lambda_fake.state
        state.rate_limit_next = rng.choice([0, 0, 1, 3])
        state.server_errors_next = rng.choice([0, 0, 1, 2])
        state.drop_after_launch_next = rng.choice([0, 0, 1])
        state.capacity["gpu_1x_a10"] = rng.choice(
            [set(), {"us-west-1"}, {"us-west-1", "us-east-1"}]
        )
        name = rng.choice(names)
        try:
            if name in created and rng.random() < 0.4:
                provider.delete(created.pop(name), props(lambda_fake, name=name))
            else:
                result = provider.create(props(lambda_fake, name=name))
                assert created.get(name, result.id) == result.id  # a name keeps its instance
                created[name] = result.id
            outcomes["ok"] += 1
        except (LambdaApiError, LambdaConnectionError) as error:
            assert str(error)  # typed, with a message
            outcomes[type(error).__name__] += 1
    assert outcomes["ok"] > ROUNDS // 4 and len(outcomes) > 1  # both paths were exercised

    # Calm again: every instance is findable by its name and deletable; none is left behind.
    lambda_fake.state.__init__()  # type: ignore[misc]
    live = [i for i in lambda_fake.live_instances() if i["status"] != "terminating"]
    per_name = Counter(i["name"] for i in live)
    assert all(count == 1 for count in per_name.values()), per_name  # never a second machine
    for name in per_name:
        adopted = provider.create(props(lambda_fake, name=name))
        provider.delete(adopted.id, adopted.outs or {})
    assert [i for i in lambda_fake.live_instances() if i["status"] not in ("terminating",)] == []


def test_esc_writes_survive_concurrent_edits_and_errors() -> None:
    rng = random.Random(7)
    platform = load_spec(SPEC).platform
    keys = ["OPENROUTER_API_KEY", "TAVILY_API_KEY", "PINECONE_API_KEY"]
    groups = {k: secret_ops.group_of(platform, k) for k in keys}
    with running_fake_esc() as esc:
        gateway = EscGateway(ESC_TOKEN, esc.url)
        values = {k: f"v0-{k}" for k in keys}
        secret_ops.export(gateway, platform, values, datetime.now(UTC))
        outcomes: Counter[str] = Counter()
        for round_ in range(ROUNDS):
            esc.state.concurrent_edit_next = rng.choice([0, 0, 0, 1])
            esc.state.server_errors_next = rng.choice([0, 0, 0, 1])
            key = rng.choice(keys)
            new = f"v{round_ + 1}-{key}"
            try:
                secret_ops.rotate(gateway, platform, str(groups[key]), key, new, datetime.now(UTC))
                values[key] = new
                outcomes["ok"] += 1
            except EscError as error:
                assert str(error) and new not in str(error)
                outcomes[type(error).__name__] += 1
        assert outcomes["ok"] > ROUNDS // 4 and outcomes["EscConflictError"] > 0
        esc.state.concurrent_edit_next = esc.state.server_errors_next = 0
        opened = _credentials(esc)
        for key in keys:  # every successful rotation is there; no failed one is
            assert opened[str(groups[key])][key]["current"] == values[key]


def _credentials(esc: FakeEsc) -> dict[str, Any]:
    return esc.open("sophia-ai", "sophia-ai", "production-credentials")
