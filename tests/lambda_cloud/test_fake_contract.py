"""Schemathesis against the Lambda fake: requests generated from Lambda's OpenAPI document,
answers checked against it (status codes, schemas, content types), for every operation the
fake serves. A fake that drifts from the document hides client bugs; this keeps it honest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud, running_fake
from tests.fakes.openapi_contract import OPENAPI

SERVED = (
    r"^/api/v1/(instances(/\{id\})?|instance-types|instance-operations/(launch|terminate)"
    r"|ssh-keys(/\{id\})?|file-systems|filesystems(/\{id\})?|firewall-rulesets(/\{id\})?)$"
)

schema = schemathesis.openapi.from_path(str(OPENAPI)).include(path_regex=SERVED)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLambdaCloud]:
    with running_fake() as server:
        yield server


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_fake_answers_as_the_document_says(
    case: schemathesis.Case, fake: FakeLambdaCloud
) -> None:
    # Schema-valid is not always acceptable: Lambda, and so the fake, refuses an unknown
    # instance type or SSH key with a documented 400/404; every other check applies.
    case.call_and_validate(
        base_url=fake.origin,
        headers={"Authorization": f"Bearer {VALID_KEY}"},
        excluded_checks=[positive_data_acceptance],
    )
