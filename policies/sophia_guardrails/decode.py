"""A resource's properties decoded once per request, for every policy that reads them.

pulumi-policy decodes a request's properties (protobuf → JSON → Python values → an unknown-
checking proxy) again for each policy it runs: with 20 resource policies that was nearly all
of the pack's time (0.9 of 1.0 ms per resource at 1000 services). The servicer (server.py)
decodes each request once, here, in the same walk that decides whether the pack can read it
at all (`readable.py`'s rule), and gives every policy the same read-only view.

`decode` returns exactly what pulumi-policy's `deserialize_properties(MessageToDict(...))`
returns for a readable resource (tests/policies/test_decode.py holds the two equal on every
resource the repository's specs make and on generated trees), and the view is pulumi-policy's
own unknown-checking proxy whenever a value is unknown, so the policies cannot tell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2
from pulumi_policy import proxy
from pulumi_policy.deserialize import _deserialize_property
from pulumi_policy.proxy import unknown_checking_proxy

MAX_DEPTH = 64
MAX_VALUES = 200_000
MAX_BYTES = 16 * 1024 * 1024
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_VALUES = frozenset(
    {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
)
"""The engine's placeholders for values a preview does not know yet."""


class UnreadableError(Exception):
    """Why the pack cannot read a resource: the first problem met and where it is."""

    def __init__(self, problem: str, *, located: bool = True) -> None:
        super().__init__(problem)
        self.problem = problem
        self.located = located
        self.where = ""

    def at(self, key: str | int) -> UnreadableError:
        """The same problem one level up (the path is built only when something is wrong)."""
        step = f"[{key}]" if isinstance(key, int) else key
        joint = "." if self.where and not self.where.startswith("[") else ""
        self.where = f"{step}{joint}{self.where}"
        return self

    def __str__(self) -> str:
        if not self.located:
            return self.problem
        return f"{self.where or 'its properties'} {self.problem}"


class _Reader:
    """One walk over a request's properties: values left to read (a resource holding more is
    refused, not decoded), the nesting allowed, and whether any value is still unknown."""

    __slots__ = ("left", "limit", "max_depth", "unknown")

    def __init__(self, max_depth: int, max_values: int) -> None:
        self.max_depth = max_depth
        self.left = max_values
        self.limit = max_values
        self.unknown = False

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            problem = f"its properties hold more than {self.limit} values"
            raise UnreadableError(problem, located=False)

    def struct(self, node: struct_pb2.Struct, depth: int) -> Any:
        fields = node.fields
        self.spend(len(fields) + 1)
        result: dict[str, Any] = {}
        for key in fields:  # faster than .items() on protobuf's map
            try:
                result[key] = self.value(fields[key], depth + 1)
            except UnreadableError as problem:
                raise problem.at(key) from None
        if SIG_KEY in result:
            return _special(result, fields)
        return result

    def list(self, node: struct_pb2.ListValue, depth: int) -> list[Any]:
        values = node.values
        self.spend(len(values) + 1)
        result = []
        for index, value in enumerate(values):
            try:
                result.append(self.value(value, depth + 1))
            except UnreadableError as problem:
                raise problem.at(index) from None
        return result

    def value(self, node: struct_pb2.Value, depth: int) -> Any:
        if depth > self.max_depth:
            raise UnreadableError(f"are nested deeper than {self.max_depth} levels")
        kind = node.WhichOneof("kind")
        if kind == "string_value":
            text = node.string_value
            if text in UNKNOWN_VALUES:
                self.unknown = True
            return text
        if kind == "number_value":
            number = node.number_value
            if not math.isfinite(number):
                raise UnreadableError(f"is {number}, not a finite number")
            return number
        if kind == "bool_value":
            return node.bool_value
        if kind == "struct_value":
            return self.struct(node.struct_value, depth)
        if kind == "list_value":
            return self.list(node.list_value, depth)
        return None


def decode(
    properties: struct_pb2.Struct, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES
) -> tuple[dict[str, Any], bool]:
    """(the properties as plain Python values, whether any of them is unknown yet): secrets
    unwrapped, assets and archives as pulumi's classes. Raises UnreadableError for a NaN or infinite
    number, a secret without its value, an unknown signature, nesting deeper than `max_depth`,
    more than `max_values` values or more than `MAX_BYTES` bytes."""
    size = properties.ByteSize()
    if size > MAX_BYTES:
        raise UnreadableError(
            f"its properties are {size / 1024 / 1024:.1f} MiB; the pack reads at most 16 MiB",
            located=False,
        )
    reader = _Reader(max_depth, max_values)
    decoded: dict[str, Any] = reader.struct(properties, 0)
    return decoded, reader.unknown


def read_properties(
    properties: struct_pb2.Struct, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES
) -> Mapping[str, Any]:
    """What every policy reads of a resource: the decoded properties, behind pulumi-policy's
    unknown-checking proxy when a value is not known yet (a policy reading it during a preview
    is reported as unable to run), as they are otherwise (the proxy would never fire, and
    building it cost a third of the decoding)."""
    decoded, unknown = decode(properties, max_depth, max_values)
    return unknown_checking_proxy(decoded) if unknown else decoded


def _special(decoded: dict[str, Any], fields: Any) -> Any:
    """A secret (its value), an asset or an archive, as pulumi-policy reads them."""
    if decoded[SIG_KEY] == SECRET_SIG:
        if "value" not in fields:
            raise UnreadableError("is a secret without a value")
        return decoded["value"]
    try:
        return _deserialize_property(decoded)
    except AssertionError:  # pulumi-policy's word for a signature or asset it cannot read
        raise UnreadableError(f"has an unknown signature {decoded[SIG_KEY]!r}"[:200]) from None
