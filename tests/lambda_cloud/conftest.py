from __future__ import annotations

from collections.abc import Iterator

import pytest

from components.lambda_cloud import LambdaCloudClient, RetryPolicy
from components.lambda_cloud.launch import LaunchPolicy
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud, running_fake

FAST_RETRY = RetryPolicy(attempts=6, initial_seconds=0.01, max_seconds=0.05, jitter_seconds=0.01)
FAST_LAUNCH = LaunchPolicy(
    attempts=3, settle_seconds=0.5, poll_seconds=0.01, backoff_seconds=0.01, boot_timeout_seconds=5
)
"""The launch rules as in production, on a loopback clock: a list lag of a few calls settles."""


@pytest.fixture
def fake() -> Iterator[FakeLambdaCloud]:
    with running_fake() as server:
        yield server
        assert server.state.contract_violations == []


@pytest.fixture
def client(fake: FakeLambdaCloud) -> Iterator[LambdaCloudClient]:
    with LambdaCloudClient(VALID_KEY, base_url=fake.base_url, retry=FAST_RETRY) as c:
        yield c
