"""The policy pack as the Pulumi CLI runs it: a process spoken to over the Analyzer gRPC protocol.

Start `python -m sophia_guardrails` (the pack's package, installed with sophia), read the port
it prints, then GetAnalyzerInfo, Configure, ConfigureStack, Analyze per resource and
AnalyzeStack once, with the stubs that ship in the Pulumi SDK. Policy config follows the
`--policy-pack-config` file format and is completed with each policy's schema defaults, as the
CLI does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from jsonschema import Draft7Validator
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from ..memory import fewer_collections
from ..policy_pack import PACK_MODULE
from .runner import ROOT_STACK_TYPE, RecordedResource, engine_urn

LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
LEVEL_NAMES = {value: name for name, value in LEVELS.items()}
STARTUP_SECONDS = 30.0
ANSWER_SECONDS = 120.0
"""A pack that has not answered one resource in two minutes is stuck, not slow."""


class PolicyPackError(Exception):
    """The pack did not start, or its config is invalid; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    policy_name: str
    policy_pack: str
    enforcement_level: str
    message: str
    urn: str
    description: str

    @classmethod
    def from_proto(cls, d: analyzer_pb2.AnalyzeDiagnostic, default_urn: str = "") -> Diagnostic:
        # pulumi-policy sends "<policy description>\n<violation>"; keep the violation.
        message = d.message.removeprefix(f"{d.description}\n") if d.description else d.message
        return cls(
            policy_name=d.policyName,
            policy_pack=d.policyPackName,
            enforcement_level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
            message=message,
            urn=d.urn or default_urn,
            description=d.description,
        )


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    config_schema: dict[str, Any]
    remediation_steps: str


def _struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(data))
    return message


def policy_infos(info: analyzer_pb2.AnalyzerInfo) -> dict[str, PolicyInfo]:
    """The pack's policies as GetAnalyzerInfo describes them, by name."""
    return {
        p.name: PolicyInfo(
            name=p.name,
            description=p.description,
            enforcement_level=LEVEL_NAMES.get(p.enforcementLevel, "advisory"),
            config_schema=json_format.MessageToDict(p.configSchema),
            remediation_steps=p.remediation_steps,
        )
        for p in info.policies
    }


def configure_request(
    resolved: Mapping[str, Mapping[str, Any]],
) -> analyzer_pb2.ConfigureAnalyzerRequest:
    """Each policy's level and properties (`resolve_config`), as Configure takes them."""
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, entry in resolved.items():
        request.policyConfig[name].CopyFrom(
            analyzer_pb2.PolicyConfig(
                enforcementLevel=LEVELS[entry["enforcementLevel"]],
                properties=_struct(entry["properties"]),
            )
        )
    return request


class PolicyPackProcess:
    """`with PolicyPackProcess() as pack:` — the pack runs for the block's duration."""

    def __init__(
        self, python: str = sys.executable, args: Sequence[str] = ("-m", PACK_MODULE)
    ) -> None:
        self.python = python
        self.args = tuple(args)
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.name = ""
        self.policies: dict[str, PolicyInfo] = {}
        self._stack_urn = ""

    def __enter__(self) -> PolicyPackProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the process; `connect` waits for it (start early, connect late, to overlap)."""
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 — closed by stop()
        self._process = subprocess.Popen(
            [self.python, *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,  # a file, not a pipe: a chatty pack must never block on it
            # pulumi-policy writes the port without flushing; as the CLI does, run unbuffered.
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def connect(self) -> None:
        if self._stub is not None:
            return
        if self._process is None:
            self.launch()
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        # The first call waits for the connection (not channel_ready_future: its polling
        # thread made closing the channel wait 150 ms).
        info = self._stub.GetAnalyzerInfo(
            empty_pb2.Empty(), wait_for_ready=True, timeout=STARTUP_SECONDS
        )
        self.name = info.name
        self.policies = policy_infos(info)

    def _read_port(self) -> int:
        assert self._process is not None and self._process.stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(self._process.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(STARTUP_SECONDS)
        text = line[0].decode().strip() if line else ""
        if not text.isdigit():
            stderr = ""
            if self._stderr is not None:
                self._stderr.seek(0)
                stderr = self._stderr.read().decode(errors="replace")
            self.stop()
            last = stderr.strip().splitlines()[-1:] or ["no output"]
            raise PolicyPackError(f"the policy pack ({PACK_MODULE}) did not start: {last[0]}")
        return int(text)

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise PolicyPackError("the policy pack is not running")
        return self._stub

    # --- configuration ---

    def resolve_config(
        self, file_config: Mapping[str, Any] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each policy's level and properties: schema defaults, then `all`, then per policy."""
        file_config = dict(file_config or {})
        unknown = sorted(set(file_config) - set(self.policies) - {"all"})
        if unknown:
            raise PolicyPackError(f"policy config names unknown policies: {', '.join(unknown)}")
        resolved: dict[str, dict[str, Any]] = {}
        all_level = _level_of(file_config.get("all"), "all")
        for name, policy in self.policies.items():
            props = {
                key: prop["default"]
                for key, prop in policy.config_schema.get("properties", {}).items()
                if "default" in prop
            }
            level = all_level or policy.enforcement_level
            entry = file_config.get(name)
            level = _level_of(entry, name) or level
            if isinstance(entry, Mapping):
                props.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
            schema = {"type": "object", **policy.config_schema}
            problems = [e.message for e in Draft7Validator(schema).iter_errors(props)]
            if problems:
                raise PolicyPackError(f"policy config of '{name}': {'; '.join(problems)}")
            resolved[name] = {"enforcementLevel": level, "properties": props}
        return resolved

    def configure(self, resolved: Mapping[str, Mapping[str, Any]]) -> None:
        self.stub.Configure(configure_request(resolved))

    def configure_stack(self, project: str, stack: str) -> None:
        self._stack_urn = engine_urn(stack, project, "", ROOT_STACK_TYPE, f"{project}-{stack}")
        self.stub.ConfigureStack(
            analyzer_pb2.AnalyzerStackConfigureRequest(project=project, stack=stack, dry_run=True)
        )

    # --- analysis ---

    def analyze(self, resource: RecordedResource) -> list[Diagnostic]:
        return self.analyze_later(resource)()

    def analyze_later(self, resource: RecordedResource) -> Callable[[], list[Diagnostic]]:
        """Send Analyze now; the returned function waits for its answer."""
        answer = self.stub.Analyze.future(analyze_request(resource))
        # As the engine does: a violation without a URN is the analyzed resource's.
        return lambda: [
            Diagnostic.from_proto(d, resource.urn)
            for d in answer.result(timeout=ANSWER_SECONDS).diagnostics
        ]

    def analyze_stack(self, resources: Iterable[RecordedResource]) -> list[Diagnostic]:
        # A stack policy's violation without a URN is reported on the stack, as the engine does.
        diagnostics = self.stub.AnalyzeStack(stack_request(resources)).diagnostics
        return [Diagnostic.from_proto(d, self._stack_urn) for d in diagnostics]


class Analysis:
    """What the CLI does with a policy pack during a preview: configure it, Analyze each
    resource, AnalyzeStack once.

        with Analysis(pack, config, project, stack) as analysis:
            resources, _ = run_spec(...)
            diagnostics = analysis.finish(resources)

    A worker thread waits for the pack's start and configures it while the program runs; the
    resources go when the program is done, `WINDOW` requests in flight at a time (the answers
    keep their order; the pack never waits on a round trip). Sending each resource as the
    program registers it, as the engine does, was measured and dropped: on two cores the pack's
    work then competes with the program's, and the 1000-service run took 16.8 s against
    10.2 + 3.4 s one after the other (bench/README.md).
    """

    WINDOW = 16

    def __init__(
        self, pack: PolicyPackProcess, config: Mapping[str, Any], project: str, stack: str
    ) -> None:
        self._pack = pack
        self._config = config
        self._project = project
        self._stack = stack
        self._failure: BaseException | None = None
        self._worker = threading.Thread(target=self._prepare, name="sophia-pack", daemon=True)

    def __enter__(self) -> Analysis:
        self._worker.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._worker.join()

    @fewer_collections()  # the program's heap is alive: full collections cost 3 s at 1000 svc
    def finish(self, resources: Sequence[RecordedResource]) -> list[Diagnostic]:
        """Every resource's Analyze answers in order, then AnalyzeStack's. Raises what the
        preparation met (a pack that did not start, a policy config it refuses)."""
        self._worker.join()
        if self._failure is not None:
            raise self._failure
        diagnostics: list[Diagnostic] = []
        pending: deque[Callable[[], list[Diagnostic]]] = deque()
        for resource in resources:
            pending.append(self._pack.analyze_later(resource))
            if len(pending) > self.WINDOW:
                diagnostics += pending.popleft()()
        while pending:
            diagnostics += pending.popleft()()
        return diagnostics + self._pack.analyze_stack(resources)

    def _prepare(self) -> None:
        try:
            self._pack.connect()
            self._pack.configure(self._pack.resolve_config(self._config))
            self._pack.configure_stack(self._project, self._stack)
        except BaseException as failure:  # raised again by finish(), in the caller's thread
            self._failure = failure


def analyze_request(resource: RecordedResource) -> analyzer_pb2.AnalyzeRequest:
    """A resource as the engine describes it to Analyze."""
    return analyzer_pb2.AnalyzeRequest(
        type=resource.type,
        properties=resource.struct,
        urn=resource.urn,
        name=resource.name,
        provider=_provider_request(resource),
        options=_options(resource),
    )


def stack_request(resources: Iterable[RecordedResource]) -> analyzer_pb2.AnalyzeStackRequest:
    """The stack's resources as the engine describes them to AnalyzeStack (pulumi's
    `plugin/analyzer_plugin.go`: property dependencies only for properties that have some)."""
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=r.struct,
                urn=r.urn,
                name=r.name,
                parent=r.parent,
                dependencies=list(r.dependencies),
                propertyDependencies={
                    key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                    for key, urns in r.property_dependencies.items()
                },
                provider=_provider_request(r),
                options=_options(r),
            )
            for r in resources
        ]
    )


def _options(resource: RecordedResource) -> analyzer_pb2.AnalyzerResourceOptions:
    """The options the engine reports with a resource (those a policy here reads)."""
    return analyzer_pb2.AnalyzerResourceOptions(protect=resource.protect)


def _provider_request(resource: RecordedResource) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The provider reference `URN::ID` as the engine describes it to analyzers."""
    if not resource.provider:
        return None
    urn, _, _ = resource.provider.rpartition("::")
    parts = urn.split("::")
    return analyzer_pb2.AnalyzerProviderResource(
        type=parts[2] if len(parts) > 2 else "", urn=urn, name=parts[-1]
    )


def _level_of(entry: Any, where: str) -> str | None:
    level = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
    if level is None:
        return None
    if level not in LEVELS:
        raise PolicyPackError(
            f"policy config '{where}': enforcement level '{level}' is not one of "
            f"{', '.join(LEVELS)}"
        )
    return str(level)


def load_policy_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyPackError(f"{path}: policy config file not found") from None
    except ValueError as exc:
        raise PolicyPackError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PolicyPackError(f"{path}: policy config must be a JSON object")
    return data
