"""Per-stack overrides: `stacks.<name>` deep-merged over the base spec.

Mappings merge key by key; lists and scalars replace. Hosts and services are addressed by
name. Locations follow the values, so an error caused by an override points at the
override's line, not at the base value it replaced.
"""

from __future__ import annotations

import copy
from typing import Any

from .source import FieldPath, SpecDocument

_NAMED_LISTS = ("hosts", "services")


def apply_stack(doc: SpecDocument, stack: str) -> SpecDocument:
    """The document as stack `stack` sees it (without the `stacks` section)."""
    data = copy.deepcopy(doc.data)
    override = data.pop("stacks", {}).get(stack) or {}
    merged = SpecDocument(
        doc.file,
        data,
        {path: loc for path, loc in doc.locations.items() if path[:1] != ("stacks",)},
    )
    source: FieldPath = ("stacks", stack)
    for key, value in override.items():
        if key in _NAMED_LISTS and isinstance(value, dict):
            items = data.get(key, [])
            for name, patch in value.items():
                index = next((i for i, item in enumerate(items) if item.get("name") == name), None)
                if index is not None:
                    _merge(merged, doc, (key, index), (*source, key, name), patch)
        else:
            _merge(merged, doc, (key,), (*source, key), value)
    return merged


def _merge(
    target: SpecDocument, origin: SpecDocument, to: FieldPath, frm: FieldPath, value: Any
) -> None:
    current = target.get(to)
    if isinstance(value, dict) and isinstance(current, dict):
        for key, child in value.items():
            _merge(target, origin, (*to, key), (*frm, key), child)
        return
    parent = target.get(to[:-1])
    parent[to[-1]] = copy.deepcopy(value)
    for path in [p for p in target.locations if p[: len(to)] == to]:
        del target.locations[path]
    for path, loc in origin.locations.items():
        if path[: len(frm)] == frm:
            target.locations[(*to, *path[len(frm) :])] = loc
