"""Editing `sophia.yaml` in place, safely: comments and key order kept, or nothing written.

An edit is applied to a ruamel round-trip tree, the new text is validated and previewed
through the offline engine, and the file is replaced (atomically) only when the spec stays
valid and no mandatory policy fails. Otherwise the file is left byte for byte as it was.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from .offline.analyzer import PolicyPackError
from .offline.preview import PreviewResult, default_stack, preview_spec
from .spec import InvalidSpecError, validate_document
from .spec.source import parse_document

Mutation = Callable[[Any], None]


class EditError(Exception):
    """The edit itself makes no sense (an unknown service, say)."""


@dataclass(frozen=True)
class EditOutcome:
    applied: bool
    message: str
    problems: list[str] = field(default_factory=list)
    preview: PreviewResult | None = None


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def service_node(tree: Any, name: str) -> Any:
    for node in tree.get("services") or []:
        if node.get("name") == name:
            return node
    known = ", ".join(str(n.get("name")) for n in tree.get("services") or [])
    raise EditError(f"no service '{name}' in the spec (services: {known})")


def edit_spec(path: Path, mutate: Mutation, describe: str, stack: str | None = None) -> EditOutcome:
    original = path.read_text(encoding="utf-8")
    yaml = _round_trip()
    tree = yaml.load(original)
    try:
        mutate(tree)
    except EditError as problem:
        return EditOutcome(False, f"not applied: {problem}")
    buffer = io.StringIO()
    yaml.dump(tree, buffer)
    text = buffer.getvalue()
    stack = stack or default_stack(path)
    try:
        spec = validate_document(parse_document(text, str(path)), path, stack)
        result = preview_spec(spec, stack)
    except InvalidSpecError as invalid:
        return EditOutcome(
            False,
            f"not applied: {describe} makes the spec invalid",
            [str(e) for e in invalid.errors],
        )
    except PolicyPackError as problem:
        return EditOutcome(False, f"not applied: {problem}")
    if result.mandatory:
        return EditOutcome(
            False,
            f"not applied: {describe} breaks mandatory policies",
            [f"{d.policy_name}: {d.message}" for d in result.mandatory],
            result,
        )
    _replace(path, text)
    return EditOutcome(True, f"applied: {describe}", preview=result)


def _replace(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)


def scale(path: Path, service: str, replicas: int, stack: str | None = None) -> EditOutcome:
    def mutate(tree: Any) -> None:
        service_node(tree, service)["replicas"] = replicas

    return edit_spec(path, mutate, f"{service} replicas → {replicas}", stack)


def set_image(path: Path, service: str, image: str, stack: str | None = None) -> EditOutcome:
    def mutate(tree: Any) -> None:
        service_node(tree, service)["image"] = image

    return edit_spec(path, mutate, f"{service} image → {image}", stack)
