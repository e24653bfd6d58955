"""The docstring written under each field of the spec's models: its description in the schema.

pydantic can collect these itself (`use_attribute_docstrings`), but it re-reads and re-parses
the source at every class definition — a tenth of `sophia validate`, for descriptions only
the JSON Schema shows. Here each module is parsed once, when the schema is generated.
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache


def attribute_docstrings(cls: type, base: type) -> dict[str, str]:
    """Field name → the string literal right under its annotated assignment, for `cls` and the
    classes it inherits from down to `base` (the nearest one wins). Classes above `base`
    (pydantic's own) are not read: parsing pydantic's source cost 19 ms for nothing."""
    found: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if issubclass(klass, base):
            found.update(_module_docstrings(klass.__module__).get(klass.__qualname__, {}))
    return found


@cache
def _module_docstrings(module_name: str) -> dict[str, dict[str, str]]:
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):  # a built-in or a module without source: no descriptions
        return {}
    classes: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            classes[node.name] = _class_docstrings(node)
    return classes


def _class_docstrings(node: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    for previous, statement in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            docs[previous.target.id] = inspect.cleandoc(statement.value.value)
    return docs
