"""Validation in layers: YAML → JSON Schema → typed model → cross-references, per stack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..memory import fewer_collections
from .errors import InvalidSpecError, SpecError, did_you_mean, quoted_list
from .model import CLUSTER_TYPES, PATTERN_HINTS, ExistingCluster, Platform
from .schema import offending_fields, schema_errors
from .semantics import semantic_errors
from .source import SpecDocument, read_document
from .stacks import apply_stack


@dataclass(frozen=True)
class LoadedSpec:
    path: Path
    document: SpecDocument
    platform: Platform
    """The platform as the selected stack sees it (the base when no stack was named)."""
    stack: str | None


def load_spec(path: str | Path, stack: str | None = None) -> LoadedSpec:
    """Load and validate a spec; raises `InvalidSpecError` listing every problem found.

    Without `stack`, the base and every stack in `stacks` are checked, so an override that
    breaks staging fails validation even while production is fine.
    """
    path = Path(path)
    with fewer_collections():
        return validate_document(read_document(path), path, stack)


def load_stack(path: str | Path, stack: str | None = None) -> LoadedSpec:
    """The spec as `stack` sees it — or, unnamed, the default stack (`Platform.default_stack`)
    — read and parsed once (what commands that act on one stack need)."""
    path = Path(path)
    with fewer_collections():
        document = read_document(path)
        if stack is None:
            base, errors = _check(document)
            if base is None or errors:
                raise InvalidSpecError(errors)
            return validate_document(document, path, base.default_stack, checked=base)
        return validate_document(document, path, stack)


def validate_document(
    document: SpecDocument,
    path: Path,
    stack: str | None = None,
    *,
    checked: Platform | None = None,
) -> LoadedSpec:
    """The layers after parsing, for a document already in memory (see `load_spec`);
    `checked`: the base platform, where the caller has already validated it."""
    base: Platform | None
    errors: list[SpecError]
    if checked is not None:
        base, errors = checked, []
    else:
        base, errors = _check(document)
    if base is None or errors:
        raise InvalidSpecError(errors)

    if stack is not None and base.stacks and stack not in base.stacks:
        hint = did_you_mean(stack, base.stacks)
        raise InvalidSpecError(
            [
                document.error(
                    ("stacks",),
                    f"no stack '{stack}' here{hint}; stacks: {quoted_list(base.stacks)}",
                )
            ]
        )
    if stack is None:
        variants = list(base.stacks)
    else:
        variants = [stack] if stack in base.stacks else []
    selected = base
    namespaces: dict[str, str] = {}
    for name in variants:
        variant, variant_errors = _check(apply_stack(document, name))
        errors += [_in_stack(e, name) for e in variant_errors]
        if name == stack and variant is not None:
            selected = variant
        if stack is None and variant is not None and isinstance(variant.cluster, ExistingCluster):
            shared = namespaces.setdefault(variant.target_namespace, name)
            if shared != name:
                errors.append(
                    document.error(
                        ("stacks", name),
                        f"stacks '{shared}' and '{name}' would deploy into the same namespace "
                        f"'{variant.target_namespace}' of the existing cluster; set "
                        f"stacks.{name}.namespace",
                    )
                )
    if errors:
        raise InvalidSpecError(errors)
    return LoadedSpec(path, document, selected, stack)


def _check(document: SpecDocument) -> tuple[Platform | None, list[SpecError]]:
    errors = schema_errors(document)
    if errors:
        return None, errors + _beyond_the_schema(document)
    try:
        platform = Platform.model_validate(document.data)
    except ValidationError as exc:
        return None, [
            document.error(_document_path(document.data, e["loc"]), _model_message(e))
            for e in exc.errors(include_url=False)
        ]
    return platform, semantic_errors(platform, document)


def _beyond_the_schema(document: SpecDocument) -> list[SpecError]:
    """Cross-reference problems of the rest of a file the schema refused parts of: the refused
    fields are set aside, so a typo and a wrong reference are reported in the same run."""
    refused, defaulted = offending_fields(document)
    if not refused:
        return []
    rest = document.without(refused)
    if schema_errors(rest):
        return []  # what is left is not a platform either: the schema's errors say enough
    try:
        platform = Platform.model_validate(rest.data)
    except ValidationError:
        return []
    silent = {document.display_path(p) for p in defaulted}
    return [
        e
        for e in semantic_errors(platform, rest)
        if not any(e.path == s or e.path.startswith((f"{s}.", f"{s}[")) for s in silent)
    ]


def _document_path(data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """pydantic's location of an error as a path in the file: a tagged union (`cluster`) puts
    its tag ('k3s') in the location, which the file does not have."""
    path: list[int | str] = []
    for part in loc:
        if isinstance(data, dict) and part in CLUSTER_TYPES and part not in data:
            continue  # the discriminator's value, not a key
        path.append(part)
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            data = None
    return tuple(path)


def _model_message(error: Any) -> str:
    """pydantic's message, with the spec's own sentence for a pattern it names."""
    if error.get("type") == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        if pattern in PATTERN_HINTS:
            return f"{PATTERN_HINTS[pattern]}; got {error.get('input')!r}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _in_stack(error: SpecError, stack: str) -> SpecError:
    return SpecError(
        error.file, error.line, error.column, error.path, f"in stack '{stack}': {error.message}"
    )
