"""The JSON Schema of `sophia.yaml`: generated from the models, checked with jsonschema.

The schema is what editors (yaml-language-server) and the first validation layer share;
this module also turns jsonschema's errors into sentences a platform engineer can act on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from .base import SpecModel
from .docstrings import attribute_docstrings
from .errors import SpecError, did_you_mean, quoted_list
from .model import API_VERSION, PATTERN_HINTS, Platform
from .source import FieldPath, SpecDocument

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

SCHEMA_ID = "https://sophia.ai/schemas/platform-v1.json"
DRAFT = "https://json-schema.org/draft/2020-12/schema"


class _SpecSchemaGenerator(GenerateJsonSchema):
    """Optional fields are omitted in YAML, never written as null: keep `null` out of the schema.
    Every field is described by the docstring under it."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        result = super().model_schema(schema)
        properties = result.get("properties", {})
        fields = schema["cls"].model_fields
        for name, text in attribute_docstrings(schema["cls"], SpecModel).items():
            field = fields.get(name)
            written = properties.get(field.alias or name) if field is not None else None
            if written is not None:
                written.setdefault("description", text)
        return result

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # pydantic writes constrained keys as patternProperties, which lets other keys through;
        # propertyNames + additionalProperties rejects them with a message about the key.
        result = super().dict_schema(schema)
        patterns = result.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            result["propertyNames"] = {**result.get("propertyNames", {}), "pattern": pattern}
            result["additionalProperties"] = values
        return result

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        result = super().default_schema(schema)
        if result.get("default", ...) is None:
            result.pop("default")
        return result


@cache
def platform_schema() -> dict[str, Any]:
    body = Platform.model_json_schema(by_alias=True, schema_generator=_SpecSchemaGenerator)
    _drop_field_titles(body)
    return {"$schema": DRAFT, "$id": SCHEMA_ID, **body}


def _drop_field_titles(node: Any) -> None:
    """pydantic titles every field ('Monthlyusd'); editors show descriptions, so drop them."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict) and node.get("type") == "object":
            for prop in properties.values():
                if isinstance(prop, dict):
                    prop.pop("title", None)
        for child in node.values():
            _drop_field_titles(child)
    elif isinstance(node, list):
        for child in node:
            _drop_field_titles(child)


def schema_text() -> str:
    """The schema as committed in `specs/sophia.schema.json`."""
    return json.dumps(platform_schema(), indent=2, ensure_ascii=False) + "\n"


@cache
def _validator() -> Draft202012Validator:
    """jsonschema, for its located errors: only a document the compiled check refuses pays
    for its import (a fifth of `sophia validate` on a valid spec)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(platform_schema())


def schema_errors(document: SpecDocument) -> list[SpecError]:
    """Every document is first checked by the schema compiled to Python (fastjsonschema),
    ten times faster than jsonschema at 1000 services; only its "valid" is trusted — a
    document it refuses goes through jsonschema, whose errors are the ones reported."""
    if _compiled_check_passes(document.data):
        return []
    errors: list[SpecError] = []
    for error in _validator().iter_errors(document.data):
        errors.extend(_explain(error, document))
    return errors


def _compiled_check_passes(data: Any) -> bool:
    from fastjsonschema import JsonSchemaException  # type: ignore[import-untyped]

    try:
        _compiled_validator()(data)
    except JsonSchemaException:
        return False
    return True


@cache
def _compiled_validator() -> Callable[[Any], Any]:
    """The schema as Python code, generated once into the user's cache (compiling takes
    0.2 s) and imported from there afterwards. The file is named after what the schema is made
    from — this package's source and the versions of pydantic and fastjsonschema — so that
    finding it does not need the schema itself (generating it is a tenth of `sophia validate`)."""
    import fastjsonschema
    import pydantic

    made_from = hashlib.sha256(f"{pydantic.VERSION} {fastjsonschema.VERSION}".encode())
    for source_file in sorted(Path(__file__).parent.glob("*.py")):
        made_from.update(source_file.read_bytes())
    digest = made_from.hexdigest()[:16]
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sophia-infra"
    path = folder / "schema" / f"platform_{digest}.py"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(fastjsonschema.compile_to_code(_entry_schema()), encoding="utf-8")
            partial.replace(path)
        spec = importlib.util.spec_from_file_location(f"_sophia_schema_{digest}", path)
        if spec is None or spec.loader is None:
            raise ImportError(path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        validate: Callable[[Any], Any] = module.validate
        return validate
    except (OSError, ImportError, SyntaxError):  # no writable cache: compile in memory
        compiled: Callable[[Any], Any] = fastjsonschema.compile(_entry_schema())
        return compiled


def _entry_schema() -> dict[str, Any]:
    """The schema to compile: without its $id, fastjsonschema names the entry point `validate`."""
    return {key: value for key, value in platform_schema().items() if key != "$id"}


def offending_fields(document: SpecDocument) -> tuple[list[FieldPath], list[FieldPath]]:
    """The mapping fields the schema refuses (an unknown key, a value of the wrong shape) —
    what to set aside so the later layers can still check the rest of the file — and the
    fields whose value is then only a default (the refused ones, and the field a misspelt key
    meant): nothing is to be said about those. Empty when nothing can be set aside safely."""
    refused: list[FieldPath] = []
    defaulted: list[FieldPath] = []
    for error in _validator().iter_errors(document.data):
        path: FieldPath = tuple(error.absolute_path)
        rule, _, schema = _parts(error)
        if "propertyNames" in error.schema_path:
            return [], []  # a refused name: setting it aside would make its references unknown
        if rule == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    refused.append((*path, key))
                    meant = did_you_mean(key, allowed)
                    if meant:
                        defaulted.append((*path, meant.split("'")[1]))
        elif path and isinstance(path[-1], str):
            refused.append(path)
        else:
            return [], []  # a list item or the whole file: nothing sensible to set aside
    return refused, [*refused, *defaulted]


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def _kind_of(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (a boolean)"
    if isinstance(value, int | float):
        return f"{value} (a number)"
    if isinstance(value, str):
        return f"'{_clip(value)}' (a string)"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _expected(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(t, t) for t in names)


def _parts(error: ValidationError) -> tuple[str, Any, dict[str, Any]]:
    """The failed keyword, its argument and the schema it sits in (typed for mypy)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    return str(error.validator), error.validator_value, schema


def _explain(error: ValidationError, doc: SpecDocument) -> Iterator[SpecError]:
    path: FieldPath = tuple(error.absolute_path)
    rule, bound, schema = _parts(error)
    value = error.instance
    if "propertyNames" in error.schema_path and isinstance(value, str):
        hint = PATTERN_HINTS.get(str(bound), error.message)
        yield doc.error((*path, value), f"key '{value}' {hint}")
    elif rule in ("oneOf", "anyOf"):
        yield from _explain_alternatives(error, doc, path)
    elif rule == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        for key in value:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"; allowed here: {quoted_list(allowed)}"
                yield doc.error((*path, key), f"unknown field '{key}'{hint}")
    elif rule == "required" and isinstance(value, dict):
        for name in bound:
            if name not in value:
                yield doc.error(path, f"missing required field '{name}'")
    elif rule == "type":
        yield doc.error(path, f"expected {_expected(bound)}, got {_kind_of(value)}")
    elif rule == "const":
        yield doc.error(path, f"must be '{bound}', got {_kind_of(value)}")
    elif rule == "enum":
        options = [str(o) for o in bound]
        hint = did_you_mean(str(value), options) if isinstance(value, str) else ""
        choices = f"; choose one of {quoted_list(options, limit=20)}"
        yield doc.error(path, f"{_kind_of(value)} is not allowed{hint or choices}")
    elif rule == "pattern":
        hint = PATTERN_HINTS.get(str(bound), f"must match {bound}")
        yield doc.error(path, f"{hint}; got {_kind_of(value)}")
    else:
        yield doc.error(path, _bound_message(rule, bound, value, error.message))


def _bound_message(rule: str, bound: Any, value: Any, fallback: str) -> str:
    if rule == "minimum":
        return f"must be at least {bound}, got {value}"
    if rule == "maximum":
        return f"must be at most {bound}, got {value}"
    if rule == "exclusiveMinimum":
        return f"must be greater than {bound}, got {value}"
    if rule == "exclusiveMaximum":
        return f"must be less than {bound}, got {value}"
    if rule == "minItems":
        return "must not be empty" if bound == 1 else f"needs at least {bound} items"
    if rule == "maxItems":
        return f"takes at most {bound} item{'s' if bound != 1 else ''}, got {len(value)}"
    if rule == "minLength":
        return "must not be empty" if bound == 1 else f"needs at least {bound} characters"
    if rule == "maxLength":
        return f"is longer than {bound} characters"
    return fallback


def _explain_alternatives(
    error: ValidationError, doc: SpecDocument, path: FieldPath
) -> Iterator[SpecError]:
    """Report the errors of the alternative the author meant, not of every alternative."""
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        by_branch.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    _, branches, schema = _parts(error)
    value = error.instance

    discriminator = schema.get("discriminator")
    if discriminator and isinstance(value, dict):
        key = discriminator["propertyName"]
        mapping: dict[str, str] = discriminator["mapping"]
        chosen = value.get(key)
        if not isinstance(chosen, str) or chosen not in mapping:
            if key not in value:
                yield doc.error(
                    path, f"missing required field '{key}'; choose one of {quoted_list(mapping)}"
                )
            else:
                hint = did_you_mean(chosen, mapping) if isinstance(chosen, str) else ""
                choices = f"; choose one of {quoted_list(mapping)}"
                yield doc.error((*path, key), f"{_kind_of(chosen)} is not allowed{hint or choices}")
            return
        index = next(i for i, b in enumerate(branches) if b.get("$ref") == mapping[chosen])
        for sub in by_branch.get(index, []):
            yield from _explain(sub, doc)
        return

    # A branch whose errors are all deeper than its own type check is the one that was meant.
    meant = [
        i
        for i in range(len(branches))
        if not any(s.validator == "type" and not s.relative_path for s in by_branch.get(i, []))
    ]
    if len(meant) == 1:
        for sub in by_branch.get(meant[0], []):
            yield from _explain(sub, doc)
        return
    expected: list[Any] = [
        _parts(s)[1]
        for subs in by_branch.values()
        for s in subs
        if s.validator == "type" and not s.relative_path
    ]
    if expected:
        flat = sorted({t for e in expected for t in ([e] if isinstance(e, str) else e)})
        yield doc.error(path, f"expected {_expected(flat)}, got {_kind_of(value)}")
    else:
        yield doc.error(path, error.message)


__all__ = ["API_VERSION", "platform_schema", "schema_errors", "schema_text"]
