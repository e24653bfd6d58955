"""Reading what the real engine reports: its event stream, and its files on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pulumi.automation import EngineEvent


@dataclass
class EventLog:
    """Pass as `on_event=`: keeps the planned steps and the policy violations."""

    steps: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(op, urn, type, parent) of every resource step the engine planned."""
    policy: list[tuple[str, str, str]] = field(default_factory=list)
    """(policy name, enforcement level, resource urn) of every violation."""

    def __call__(self, event: EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None:
            meta = pre.metadata
            state = meta.new or meta.old
            parent = state.parent if state is not None else ""
            self.steps.append((str(meta.op.value), meta.urn, meta.type, parent or ""))
        violation = event.policy_event
        if violation is not None:
            level = str(getattr(violation.enforcement_level, "value", violation.enforcement_level))
            self.policy.append((violation.policy_name, level, violation.resource_urn or ""))

    def planned(self) -> set[tuple[str, str, str]]:
        """(urn, type, parent) of the program's resources (not the stack, not providers)."""
        return {
            (urn, type_, parent)
            for _, urn, type_, parent in self.steps
            if type_ != "pulumi:pulumi:Stack" and not type_.startswith("pulumi:providers:")
        }

    def operations(self) -> dict[str, set[str]]:
        """urn → the steps the engine plans for it, for each program resource not unchanged."""
        ops: dict[str, set[str]] = {}
        for op, urn, type_, parent in self.steps:
            if op != "same" and (urn, type_, parent) in self.planned():
                ops.setdefault(urn, set()).add(op)
        return ops

    def violations(self) -> list[tuple[str, str, str]]:
        return sorted(self.policy)


def scan_for(needle: str, root: Path) -> list[Path]:
    """Files under `root` whose bytes contain `needle`."""
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]
