"""The pack's servicer reads each request once and answers exactly as pulumi-policy's does.

`GuardedServicer` (server.py) decodes a request once for all policies (decode.py) instead of
once per policy; these tests hold it to pulumi-policy's own servicer, side by side in one
process, on every resource the repository's spec makes and on variations of them: the same
diagnostics, the same not-applicable answers, the same "can't run during preview" notes for
unknown values — under the default config and under levels changed by config.
"""

from __future__ import annotations

import copy
import gc
import math
import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy import policy as pulumi_policy_internals
from pulumi_policy.deserialize import deserialize_properties
from sophia_guardrails import server
from sophia_guardrails.decode import SECRET_SIG, SIG_KEY, UNKNOWN_VALUES, UnreadableError, decode
from sophia_guardrails.pack import PACK_NAME, POLICIES

from sophia.offline.analyzer import (
    PolicyPackProcess,
    analyze_request,
    configure_request,
    policy_infos,
    stack_request,
)
from sophia.offline.runner import RecordedResource, run_spec
from sophia.spec import load_stack

ROOT = Path(__file__).resolve().parents[2]
Servicer = Any


def _configured(cls: type, file_config: Mapping[str, Any]) -> Servicer:
    """A servicer configured as the offline engine configures the pack's process."""
    servicer = cls(PACK_NAME, "0.0.1", POLICIES, EnforcementLevel.ADVISORY)
    resolver = PolicyPackProcess()
    resolver.policies = policy_infos(servicer.GetAnalyzerInfo(empty_pb2.Empty(), None))
    servicer.Configure(configure_request(resolver.resolve_config(file_config)), None)
    return servicer


CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "levels changed": {
        "all": "mandatory",
        "pinned-images": "disabled",
        "monthly-budget": {"enforcementLevel": "remediate", "monthlyBudgetUsd": 10},
    },
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def servicers(request: pytest.FixtureRequest) -> tuple[Servicer, Servicer]:
    config = CONFIGS[request.param]
    return (
        _configured(pulumi_policy_internals._PolicyAnalyzerServicer, config),
        _configured(server.GuardedServicer, config),
    )


@pytest.fixture(scope="module")
def platform() -> list[RecordedResource]:
    """Every resource `specs/sophia.yaml` makes (prod): hosts, services, data, credentials."""
    spec = load_stack(ROOT / "specs" / "sophia.yaml")
    assert spec.stack is not None
    resources, _ = run_spec(spec, spec.stack)
    assert len(resources) > 50
    return resources


def _analyze_request(r: RecordedResource, struct: struct_pb2.Struct) -> Any:
    request = analyze_request(r)
    request.properties.CopyFrom(struct)
    return request


def _answer(response: Any) -> tuple[list[str], list[str]]:
    diagnostics = sorted(json_format.MessageToJson(d, sort_keys=True) for d in response.diagnostics)
    not_applicable = sorted(f"{n.policy_name}: {n.reason}" for n in response.not_applicable)
    return diagnostics, not_applicable


def _same_analysis(servicers: tuple[Servicer, Servicer], r: RecordedResource, struct: Any) -> Any:
    theirs, ours = (s.Analyze(_analyze_request(r, struct), None) for s in servicers)
    assert _answer(ours) == _answer(theirs), r.urn
    return ours


def test_every_resource_of_the_spec_gets_pulumi_policys_verdicts(
    servicers: tuple[Servicer, Servicer], platform: list[RecordedResource]
) -> None:
    fired = 0
    for r in platform:
        fired += len(_same_analysis(servicers, r, r.struct).diagnostics)
    theirs, ours = (s.AnalyzeStack(stack_request(platform), None) for s in servicers)
    assert _answer(ours) == _answer(theirs)
    assert fired + len(ours.diagnostics) > 0  # the comparison covered verdicts, not silence


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _leaves(child, (*path, index))
    else:
        yield path


def _set(tree: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        tree = tree[step]
    tree[path[-1]] = value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


@settings(max_examples=60, deadline=None)
@given(
    st.randoms(use_true_random=False),
    st.sampled_from(["unknown", "number", "replicas", "drop", "secret"]),
)
def test_variations_of_those_resources_get_the_same_verdicts(
    servicers: tuple[Servicer, Servicer],
    platform: list[RecordedResource],
    rng: random.Random,
    change: str,
) -> None:
    """A value unknown in a preview, a changed number, more replicas, a field removed or made
    secret: whatever the policies then say, both servicers say it."""
    r = rng.choice([r for r in platform if r.custom and len(r.struct.fields)])
    props = json_format.MessageToDict(r.struct)
    # Not a secret's signature itself: pulumi-policy fails on that, the pack refuses it (below).
    paths = [path for path in _leaves(props) if path and SIG_KEY not in path]
    for path in rng.sample(paths, k=min(3, len(paths))):
        if change == "unknown":
            _set(props, path, rng.choice(sorted(UNKNOWN_VALUES)))
        elif change == "number":
            _set(props, path, rng.choice([0, -1, 2.5, 10**6]))
        elif change == "replicas":
            _set(props, path, rng.choice(["3", 7, True, None]))
        elif change == "drop":
            _set(props, path, None)
        else:
            _set(props, path, {SIG_KEY: SECRET_SIG, "value": "plain-looking"})
    _same_analysis(servicers, r, _struct(props))


def test_unreadable_resources_are_refused_by_the_pack_not_failed(
    servicers: tuple[Servicer, Servicer], platform: list[RecordedResource]
) -> None:
    _, ours = servicers
    r = next(r for r in platform if r.type == "kubernetes:apps/v1:Deployment")
    props = json_format.MessageToDict(r.struct)
    props["spec"]["template"]["spec"]["containers"][0]["env"] = [{SIG_KEY: "not-a-signature"}]
    response = ours.Analyze(_analyze_request(r, _struct(props)), None)
    assert [d.policyName for d in response.diagnostics] == ["readable-resources"]
    assert "spec.template.spec.containers[0].env[0] has an unknown signature" in (
        response.diagnostics[0].message
    )


def test_no_policy_changes_what_the_others_read(
    servicers: tuple[Servicer, Servicer],
    platform: list[RecordedResource],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every policy gets the same decoded properties; none may write to them."""
    read: list[tuple[Mapping[str, Any], dict[str, Any]]] = []
    original = server.read_properties

    def keep(properties: struct_pb2.Struct, *limits: int) -> Mapping[str, Any]:
        view = original(properties, *limits)
        read.append((view, copy.deepcopy(decode(properties, *limits)[0])))
        return view

    monkeypatch.setattr(server, "read_properties", keep)
    _, ours = servicers
    for r in platform:
        ours.Analyze(_analyze_request(r, r.struct), None)
    ours.AnalyzeStack(stack_request(platform), None)
    assert read and all(view == before for view, before in read if isinstance(view, dict))


# --- decoding --------------------------------------------------------------------------


def _pulumi_policy_reading(struct: struct_pb2.Struct) -> Any:
    return deserialize_properties(json_format.MessageToDict(struct))


def test_decoding_is_pulumi_policys_on_every_resource_of_the_spec(
    platform: list[RecordedResource],
) -> None:
    for r in platform:
        decoded, unknown = decode(r.struct)
        assert decoded == _pulumi_policy_reading(r.struct), r.urn
        assert not unknown


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(sorted(UNKNOWN_VALUES)),
)
_trees = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
        children.map(lambda value: {SIG_KEY: SECRET_SIG, "value": value}),
        st.sampled_from(["t.txt", "a/b"]).map(
            lambda path: {SIG_KEY: "c44067f5952c0a294b673a41bacd8c17", "path": path}
        ),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _trees, max_size=5))
def test_decoding_is_pulumi_policys_on_generated_trees(props: dict[str, Any]) -> None:
    struct = _struct(props)
    decoded, unknown = decode(struct)
    expected = _pulumi_policy_reading(struct)
    assert _comparable(decoded) == _comparable(expected)
    assert unknown == any(
        isinstance(leaf, str) and leaf in UNKNOWN_VALUES
        for leaf in _values(json_format.MessageToDict(struct))
    )


def _comparable(node: Any) -> Any:
    """Assets compare by identity; compare them by kind and path."""
    if isinstance(node, dict):
        return {key: _comparable(child) for key, child in node.items()}
    if isinstance(node, list):
        return [_comparable(child) for child in node]
    if isinstance(node, pulumi.Asset):
        return (type(node).__name__, getattr(node, "path", None))
    return node


def _values(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for child in node.values():
            yield from _values(child)
    elif isinstance(node, list):
        for child in node:
            yield from _values(child)
    else:
        yield node


@pytest.mark.parametrize(
    ("props", "problem"),
    [
        ({"spec": {"replicas": math.nan}}, "spec.replicas is nan, not a finite number"),
        ({"a": [{"b": [1, -math.inf]}]}, "a[0].b[1] is -inf, not a finite number"),
        ({"data": {"K": {SIG_KEY: SECRET_SIG}}}, "data.K is a secret without a value"),
        ({"x": {SIG_KEY: "0" * 32}}, "x has an unknown signature '00000000"),
        ({"a": {"b": {"c": {"d": {"e": 1}}}}}, "a.b.c.d.e are nested deeper than 4 levels"),
        ({"a": list(range(30))}, "its properties hold more than 20 values"),
    ],
)
def test_unreadable_properties_say_what_and_where(props: dict[str, Any], problem: str) -> None:
    with pytest.raises(UnreadableError) as raised:
        decode(_struct(props), max_depth=4, max_values=20)
    assert str(raised.value).startswith(problem)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stack_verdicts_do_not_depend_on_the_order_resources_arrive_in(
    servicers: tuple[Servicer, Servicer], platform: list[RecordedResource], seed: int
) -> None:
    """The engine sends resources in the order the program's coroutines finish; the same stack
    must get the same messages (budget items, placements) whatever that order was."""
    _, ours = servicers
    shuffled = list(platform)
    random.Random(seed).shuffle(shuffled)
    first = ours.AnalyzeStack(stack_request(platform), None)
    again = ours.AnalyzeStack(stack_request(shuffled), None)
    assert _answer(again) == _answer(first)


def test_stack_analysis_pauses_the_collector_and_restores_it(
    platform: list[RecordedResource],
) -> None:
    """AnalyzeStack holds the whole stack decoded at once; collecting while it is built made
    the call grow faster than the stack. The collector waits until the call returns."""
    seen: list[bool] = []
    probe = StackValidationPolicy(
        name="collector-probe",
        description="Records whether the collector runs while stack policies do.",
        validate=lambda args, report_violation: seen.append(gc.isenabled()),
    )
    servicer = server.GuardedServicer(PACK_NAME, "0.0.1", [probe], EnforcementLevel.ADVISORY)
    assert gc.isenabled()
    servicer.AnalyzeStack(stack_request(platform), None)
    assert seen == [False]
    assert gc.isenabled()
