"""The pack's Analyzer server: pulumi-policy's, reading each request once.

pulumi-policy's servicer decodes a request's properties again for every policy (and, for
AnalyzeStack, every resource again for every stack policy); that decoding was nearly all of the
pack's time. `GuardedServicer` keeps pulumi-policy's protocol, levels, config, not-applicable
and unknown-value handling, and changes two things: each request is decoded once (decode.py)
and every policy gets the same read-only view; a resource that cannot be decoded at all is
answered with one `readable-resources` violation (readable.py) instead of a failed call.

pulumi-policy builds its servicer inside `PolicyPack(...)` and offers no hook before it
decodes a request, so the pack installs this subclass of that servicer (a private class of
pulumi-policy 1.21.0, pinned: Analyze and AnalyzeStack below follow its own, step for step;
tests/policies/test_servicer.py holds the verdicts equal to pulumi-policy's on every resource
of the repository's specs) and then lets `PolicyPack` serve exactly as it always does.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any

from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as pulumi_policy_internals
from pulumi_policy.policy import (
    EnforcementLevel,
    Policy,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .decode import MAX_DEPTH, MAX_VALUES, UnreadableError, read_properties
from .readable import POLICY_NAME

_Base: Any = pulumi_policy_internals._PolicyAnalyzerServicer
_NotApplicable: Any = pulumi_policy_internals._NotApplicableError


class GuardedServicer(_Base):  # type: ignore[misc]
    @property
    def _pack(self) -> tuple[str, str]:
        return (
            self._PolicyAnalyzerServicer__policy_pack_name,
            self._PolicyAnalyzerServicer__policy_pack_version,
        )

    def _policies(self, kind: type[Policy]) -> list[tuple[Any, EnforcementLevel]]:
        """The policies of one kind that run, each at its level (remediate reports mandatory)."""
        chosen = []
        for policy in self._PolicyAnalyzerServicer__policies:
            level = self._get_enforcement_level(policy)
            if level == EnforcementLevel.DISABLED or not isinstance(policy, kind):
                continue
            if level == EnforcementLevel.REMEDIATE:
                level = EnforcementLevel.MANDATORY
            chosen.append((policy, level))
        return chosen

    def _read(self, request: Any) -> Any:
        """The properties as every policy sees them (UnreadableError: the pack cannot)."""
        config = self._get_policy_config(POLICY_NAME) or {}
        limits = int(config.get("maxDepth", MAX_DEPTH)), int(config.get("maxValues", MAX_VALUES))
        return read_properties(request.properties, *limits)

    def _refusal(self, problem: UnreadableError, urn: str, name: str) -> Any:
        pack, version = self._pack
        return analyzer_pb2.AnalyzeDiagnostic(
            policyName=POLICY_NAME,
            policyPackName=pack,
            policyPackVersion=version,
            message=f"resource '{name}' cannot be checked: {problem}"[:2000],
            urn=urn,
            description="The pack can read every resource.",
            enforcementLevel=analyzer_pb2.MANDATORY,
        )

    def _run(self, policy: Any, level: EnforcementLevel, response: Any, args: Any) -> None:
        """One policy, reporting into `response` as pulumi-policy does."""
        report = self._create_report_violation(
            response, policy.name, policy.description, level, policy.severity
        )
        try:
            result = policy.validate(args, report)
            if isawaitable(result):
                loop = asyncio.new_event_loop()
                try:
                    loop.run_until_complete(result)
                finally:
                    loop.close()
        except UnknownValueError as exc:
            pack, version = self._pack
            response.diagnostics.append(
                analyzer_pb2.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=pack,
                    policyPackVersion=version,
                    message=f"can't run policy '{policy.name}' from policy pack "
                    f"'{pack}@v{version}' during preview: {exc.message}",
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
                )
            )
        except _NotApplicable as exc:
            response.not_applicable.append(
                analyzer_pb2.PolicyNotApplicable(policy_name=policy.name, reason=exc.reason or "")
            )

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        try:
            props = self._read(request)
        except UnreadableError as problem:
            return analyzer_pb2.AnalyzeResponse(
                diagnostics=[self._refusal(problem, request.urn, request.name)]
            )
        self._configure_runtime_settings()
        response = analyzer_pb2.AnalyzeResponse()
        opts = self._get_resource_options(request)
        provider = self._get_provider_resource(request)
        tags = self._PolicyAnalyzerServicer__stack_tags
        for policy, level in self._policies(ResourceValidationPolicy):
            if not policy.has_validation():
                response.not_applicable.append(
                    analyzer_pb2.PolicyNotApplicable(
                        policy_name=policy.name, reason="Policy does not implement validate"
                    )
                )
                continue
            args = ResourceValidationArgs(
                request.type,
                props,
                request.urn,
                request.name,
                opts,
                provider,
                self._get_policy_config(policy.name),
                tags,
            )
            self._run(policy, level, response, args)
        return response

    def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802
        with _collector_paused():
            return self._analyze_stack(request)

    def _analyze_stack(self, request: Any) -> Any:
        refused = []
        resources: list[PolicyResource] = []
        links = []
        for r in request.resources:
            try:
                props = self._read(r)
            except UnreadableError as problem:
                refused.append(self._refusal(problem, r.urn, r.name))
                continue
            resource = PolicyResource(
                r.type,
                props,
                r.urn,
                r.name,
                self._get_resource_options(r),
                self._get_provider_resource(r),
                None,
                [],
                {},
            )
            resources.append(resource)
            links.append((resource, r))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, r in links:
            resource.parent = by_urn.get(r.parent) if r.parent else None
            resource.dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
            resource.property_dependencies = {
                key: [by_urn[d] for d in deps.urns if d in by_urn]
                for key, deps in r.propertyDependencies.items()
            }

        self._configure_runtime_settings()
        response = analyzer_pb2.AnalyzeResponse()
        tags = self._PolicyAnalyzerServicer__stack_tags
        for policy, level in self._policies(StackValidationPolicy):
            args = StackValidationArgs(resources, self._get_policy_config(policy.name), tags)
            self._run(policy, level, response, args)
        response.diagnostics.extend(refused)
        return response


@contextmanager
def _collector_paused() -> Iterator[None]:
    """AnalyzeStack holds the whole stack decoded at once, and with the collector's default
    thresholds it rescanned all of it again and again while it was being built: at 3000
    services a fifth of the call (92 against 74 µs per resource; 72 against 71 at 300). Its
    garbage is collected when it returns. (The pack does not import sophia's
    `fewer_collections`: it runs from its own environment and reads resources, not the spec.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def install() -> None:
    """Make `PolicyPack` serve through `GuardedServicer`, and exit when the parent does."""
    pulumi_policy_internals._PolicyAnalyzerServicer = GuardedServicer  # type: ignore[misc]
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()


def _exit_with_parent(parent: int, every_seconds: float = 0.5) -> None:
    """pulumi-policy serves until killed; a killed engine or `sophia` never kills it, and it
    listened forever. When the parent is gone (we are re-parented), the pack goes too."""
    while os.getppid() == parent:
        time.sleep(every_seconds)
    os._exit(0)
