"""The pack's Analyzer server: pulumi-policy's, with `readable.py`'s check in front of it.

pulumi-policy builds its servicer inside `PolicyPack(...)` and offers no hook before it
decodes a request, so the pack installs a subclass of that servicer (a private class of
pulumi-policy: there is no public way to see a request first) and then lets `PolicyPack`
serve exactly as it always does.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as pulumi_policy_internals

from .readable import MAX_DEPTH, MAX_VALUES, POLICY_NAME, unreadable

_Base: Any = pulumi_policy_internals._PolicyAnalyzerServicer


class GuardedServicer(_Base):  # type: ignore[misc]
    def _limits(self) -> tuple[int, int]:
        config = self._get_policy_config(POLICY_NAME) or {}
        return int(config.get("maxDepth", MAX_DEPTH)), int(config.get("maxValues", MAX_VALUES))

    def _refusal(self, problem: str, urn: str, name: str) -> analyzer_pb2.AnalyzeDiagnostic:
        return analyzer_pb2.AnalyzeDiagnostic(
            policyName=POLICY_NAME,
            policyPackName=self._PolicyAnalyzerServicer__policy_pack_name,
            policyPackVersion=self._PolicyAnalyzerServicer__policy_pack_version,
            message=f"resource '{name}' cannot be checked: {problem}"[:2000],
            urn=urn,
            description="The pack can read every resource.",
            enforcementLevel=analyzer_pb2.MANDATORY,
        )

    def Analyze(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
        problem = unreadable(request.properties, *self._limits())
        if problem is not None:
            return analyzer_pb2.AnalyzeResponse(
                diagnostics=[self._refusal(problem, request.urn, request.name)]
            )
        return super().Analyze(request, context)

    def AnalyzeStack(self, request: Any, context: Any) -> Any:  # noqa: N802
        refused = []
        readable = []
        limits = self._limits()
        for resource in request.resources:
            problem = unreadable(resource.properties, *limits)
            if problem is None:
                readable.append(resource)
            else:
                refused.append(self._refusal(problem, resource.urn, resource.name))
        if not refused:
            return super().AnalyzeStack(request, context)
        trimmed = analyzer_pb2.AnalyzeStackRequest()
        trimmed.CopyFrom(request)
        del trimmed.resources[:]
        trimmed.resources.extend(readable)
        response = super().AnalyzeStack(trimmed, context)
        response.diagnostics.extend(refused)
        return response


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
