"""The real pulumi_esc_sdk client against the loopback fake, and the EscEnvironment provider."""

from __future__ import annotations

import base64
import json

import pulumi
import pytest

from components.esc import (
    EscConflictError,
    EscEnvironment,
    EscEnvironmentArgs,
    EscEnvironmentProvider,
    EscError,
    EscGateway,
    EscNotFoundError,
)
from components.esc.resource import content_hash
from sophia.offline.render import redact
from sophia.offline.runner import run_under_mocks, unwrap_secrets
from tests.esc.conftest import CREDENTIALS, PROJECTION
from tests.fakes.esc import VALID_TOKEN, FakeEsc

DEFINITION = "values:\n  greeting: hello\n  key:\n    fn::secret: s3cr3t-value\n"


def test_create_read_write_open_list_revisions_delete(gateway: EscGateway, esc: FakeEsc) -> None:
    gateway.create(CREDENTIALS)
    first = gateway.read(CREDENTIALS)
    gateway.write(CREDENTIALS, DEFINITION, first.etag)
    stored = gateway.read(CREDENTIALS)
    assert stored.etag != first.etag
    assert "s3cr3t-value" not in stored.yaml and "ciphertext" in stored.yaml  # stored encrypted
    assert gateway.open_values(CREDENTIALS) == {"greeting": "hello", "key": "s3cr3t-value"}
    assert gateway.revisions(CREDENTIALS) == [2, 1]
    gateway.delete(CREDENTIALS)
    with pytest.raises(EscNotFoundError):
        gateway.read(CREDENTIALS)


def test_stale_etag_is_a_conflict_and_nothing_is_lost(gateway: EscGateway, esc: FakeEsc) -> None:
    gateway.create(CREDENTIALS)
    start = gateway.read(CREDENTIALS)
    other = EscGateway(VALID_TOKEN, esc.url)
    other.write(CREDENTIALS, "values:\n  winner: first\n", start.etag)
    with pytest.raises(EscConflictError) as raised:
        gateway.write(CREDENTIALS, "values:\n  winner: second\n", start.etag)
    assert raised.value.status == 409
    assert "changed since it was read" in str(raised.value)
    assert gateway.open_values(CREDENTIALS) == {"winner": "first"}
    gateway.write(CREDENTIALS, "values:\n  winner: second\n", gateway.read(CREDENTIALS).etag)
    assert gateway.open_values(CREDENTIALS) == {"winner": "second"}


def test_bad_token_and_unreachable_api(esc: FakeEsc) -> None:
    with pytest.raises(EscError) as raised:
        EscGateway("pul-wrong-token-zzz", esc.url).read(CREDENTIALS)
    assert raised.value.status == 401 and "pul-wrong-token-zzz" not in str(raised.value)
    with pytest.raises(EscError, match="unreachable"):
        EscGateway(VALID_TOKEN, "http://127.0.0.1:9").read(CREDENTIALS)


def test_no_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)
    with pytest.raises(EscError, match="set PULUMI_ACCESS_TOKEN"):
        EscGateway()


def _props(esc: FakeEsc, yaml_text: str = DEFINITION) -> dict[str, object]:
    return {
        "organization": "sophia-ai",
        "project": "sophia-ai",
        "environment": "production",
        "yaml": yaml_text,
        "access_token": VALID_TOKEN,
        "api_url": esc.url,
    }


def test_provider_lifecycle(esc: FakeEsc, gateway: EscGateway) -> None:
    provider = EscEnvironmentProvider()
    created = provider.create(_props(esc))
    outs = dict(created.outs or {})
    assert created.id == "sophia-ai/sophia-ai/production"
    assert outs["content_hash"] == content_hash(DEFINITION)
    assert gateway.open_values(PROJECTION)["greeting"] == "hello"

    assert not provider.diff(created.id, outs, _props(esc)).changes
    changed = _props(esc, DEFINITION.replace("hello", "hi"))
    diff = provider.diff(created.id, outs, changed)
    assert diff.changes and diff.replaces == []
    assert provider.diff(created.id, outs, {**changed, "environment": "staging"}).replaces == [
        "environment"
    ]

    updated = provider.update(created.id, outs, changed)
    assert gateway.open_values(PROJECTION)["greeting"] == "hi"
    outs = dict(updated.outs or {})
    assert provider.read(created.id, outs).id == created.id

    provider.delete(created.id, outs)
    provider.delete(created.id, outs)  # already gone is fine
    assert provider.read(created.id, outs).id is None


def test_create_adopts_an_identical_environment_and_refuses_another(esc: FakeEsc) -> None:
    provider = EscEnvironmentProvider()
    esc.seed("sophia-ai", "sophia-ai", "production", {"values": {"greeting": "hello"}})
    plain = "values:\n  greeting: hello\n"
    assert provider.create(_props(esc, plain)).id == "sophia-ai/sophia-ai/production"
    with pytest.raises(EscConflictError, match="already exists with another definition"):
        provider.create(_props(esc, "values:\n  greeting: different\n"))
    assert esc.open("sophia-ai", "sophia-ai", "production") == {"greeting": "hello"}


def test_update_refuses_to_overwrite_an_outside_edit(esc: FakeEsc, gateway: EscGateway) -> None:
    provider = EscEnvironmentProvider()
    outs = dict(provider.create(_props(esc)).outs or {})
    gateway.write(
        PROJECTION, "values:\n  greeting: edited by hand\n", gateway.read(PROJECTION).etag
    )
    with pytest.raises(EscConflictError, match="changed outside this stack"):
        provider.update("id", outs, _props(esc, DEFINITION.replace("hello", "hi")))
    assert gateway.open_values(PROJECTION) == {"greeting": "edited by hand"}


def test_a_concurrent_edit_between_read_and_write_is_caught(
    esc: FakeEsc, gateway: EscGateway
) -> None:
    provider = EscEnvironmentProvider()
    outs = dict(provider.create(_props(esc)).outs or {})
    esc.state.concurrent_edit_next = 1  # someone writes right after our read
    with pytest.raises(EscConflictError):
        provider.update("id", outs, _props(esc, DEFINITION.replace("hello", "hi")))
    assert gateway.open_values(PROJECTION)["greeting"] == "hello"


def test_the_token_is_never_in_the_pickled_provider_or_plain_state() -> None:
    canary = "pul-CANARY-5e1f0000000000000000000000000000"

    def program() -> EscEnvironment:
        return EscEnvironment(
            "env",
            EscEnvironmentArgs(
                organization="sophia-ai",
                project="sophia-ai",
                environment="production",
                yaml="values: {}\n",
                access_token=pulumi.Output.secret(canary),
            ),
        )

    (resource,), _ = run_under_mocks(program)
    assert resource.type == "pulumi-python:dynamic/esc:Environment"
    pickled = base64.b64decode(unwrap_secrets(resource.properties)["__provider"])
    assert canary.encode() not in pickled
    assert canary not in json.dumps(redact(resource.properties))


def test_list_environments_through_the_sdk(gateway: EscGateway, esc: FakeEsc) -> None:
    import pulumi_esc_sdk

    gateway.create(CREDENTIALS)
    gateway.create(PROJECTION)
    client = pulumi_esc_sdk.EscClient(
        pulumi_esc_sdk.Configuration(host=esc.url, access_token=VALID_TOKEN)
    )
    listed = client.list_environments("sophia-ai")
    assert sorted(e.name for e in listed.environments or []) == [
        "production",
        "production-credentials",
    ]
