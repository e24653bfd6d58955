"""The `sophia.yaml` spec: its model, its JSON Schema and the layered loader."""

from .errors import InvalidSpecError, SpecError
from .loader import LoadedSpec, load_spec, load_stack, validate_document
from .model import Platform
from .schema import platform_schema, schema_text

__all__ = [
    "InvalidSpecError",
    "LoadedSpec",
    "Platform",
    "SpecError",
    "load_spec",
    "load_stack",
    "platform_schema",
    "schema_text",
    "validate_document",
]
