"""Reading a spec file into plain data while remembering where every value came from.

The node tree (which keeps line and column of every node) is composed by libyaml, through
PyYAML's C parser, with ruamel.yaml's YAML 1.2 resolver deciding every implicit tag and
ruamel's constructor building every scalar — YAML 1.2 semantics, at C speed (ruamel's
pure-Python scanner took 1.2 s of a 1000-service spec's 1.6 s load). A document libyaml
refuses is composed again by ruamel, whose message and position are the ones reported. This
module walks the tree itself so that it can refuse what a spec never needs and a hostile file
uses: duplicate keys, custom tags, alias bombs, absurd nesting and size.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml as libyaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from .errors import ROOT_PATH, InvalidSpecError, SpecError

MAX_BYTES = 1024 * 1024
"""A platform spec is a few kilobytes; a megabyte is a mistake or an attack."""
MAX_VALUES = 100_000
"""Values after alias expansion; a 'billion laughs' document stops here."""
MAX_DEPTH = 64
"""Nesting depth; a spec needs about eight."""

PathKey = str | int
FieldPath = tuple[PathKey, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True, slots=True)
class Location:
    line: int
    column: int


@dataclass
class SpecDocument:
    """Plain data (dicts, lists, scalars) of one spec file and the location of every value."""

    file: str
    data: Any
    locations: dict[FieldPath, Location] = field(default_factory=dict)

    def locate(self, path: FieldPath) -> Location:
        """Where `path` is written, or its nearest written ancestor (for a missing field)."""
        for end in range(len(path), 0, -1):
            found = self.locations.get(tuple(path[:end]))
            if found is not None:
                return found
        return self.locations.get((), Location(1, 1))

    def display_path(self, path: FieldPath) -> str:
        """`services[ai-intelligence].limits.cpu`: list items shown by name when they have one."""
        if not path:
            return ROOT_PATH
        text = ""
        node: Any = self.data
        for key in path:
            if isinstance(key, int):
                item = node[key] if isinstance(node, list) and key < len(node) else None
                name = item.get("name") if isinstance(item, dict) else None
                text += f"[{name}]" if isinstance(name, str) and name else f"[{key}]"
                node = item
            else:
                text += f".{key}" if text else key
                node = node.get(key) if isinstance(node, dict) else None
        return text

    def error(self, path: FieldPath, message: str) -> SpecError:
        where = self.locate(path)
        return SpecError(self.file, where.line, where.column, self.display_path(path), message)

    def without(self, paths: Iterable[FieldPath]) -> SpecDocument:
        """A copy with the mapping fields at `paths` removed (locations of the rest kept)."""
        data = copy.deepcopy(self.data)
        removed = list(paths)
        for path in removed:
            parent = SpecDocument(self.file, data).get(path[:-1])
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
        locations = {
            where: loc
            for where, loc in self.locations.items()
            if not any(where[: len(r)] == r for r in removed)
        }
        return SpecDocument(self.file, data, locations)

    def get(self, path: FieldPath) -> Any:
        node = self.data
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def read_document(path: Path, display_name: str | None = None) -> SpecDocument:
    """Read and parse a spec file; every problem raises `InvalidSpecError` with one clear line."""
    name = display_name or str(path)

    def fail(message: str) -> InvalidSpecError:
        return InvalidSpecError([SpecError(name, 1, 1, ROOT_PATH, message)])

    try:
        if path.is_dir():
            raise fail("is a directory, not a spec file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise fail(f"file is {size / 1024 / 1024:.1f} MiB; a spec may be at most 1 MiB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise fail("file not found") from None
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None
    return parse_document(raw, name)


def parse_document(raw: bytes | str, file: str) -> SpecDocument:
    def fail(message: str, line: int = 1, column: int = 1) -> InvalidSpecError:
        return InvalidSpecError([SpecError(file, line, column, ROOT_PATH, message)])

    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise fail(f"file is {len(raw) / 1024 / 1024:.1f} MiB; a spec may be at most 1 MiB")
        if b"\x00" in raw:
            raise fail("is a binary file, not YAML text")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise fail(f"is not UTF-8 text (bad byte at offset {exc.start})") from None
    else:
        text = raw
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise fail("the file is empty; a spec starts with 'apiVersion: sophia.ai/v1'")

    yaml = YAML(typ="safe", pure=True)
    try:
        documents = list(_compose_all(yaml, text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if mark is None:
            raise fail(f"invalid YAML: {problem}") from None
        raise fail(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
    except RecursionError:
        raise fail(f"nesting is deeper than {MAX_DEPTH} levels") from None
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise fail(
            f"invalid YAML: character {exc.character!r} is not allowed", line, column
        ) from None
    except YAMLError as exc:
        raise fail(f"invalid YAML: {' '.join(str(exc).split())}") from None
    except (ValueError, ArithmeticError, LookupError) as exc:
        # ruamel's scanner lets a few malformed escapes through as plain Python errors
        # ("\UFFFFFFFF" is beyond Unicode): report them where the reader stopped.
        bad = _beyond_unicode(text)
        offset = bad.start() if bad else 0
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        what = f"escape {bad.group(0)} is beyond Unicode" if bad else _clip(str(exc))
        raise fail(f"invalid YAML: {what}", line, column) from None
    if len(documents) != 1:
        raise fail(f"holds {len(documents)} YAML documents; a spec is exactly one")
    root = documents[0]
    if not isinstance(root, _MAPPINGS):
        found = "a list" if isinstance(root, _SEQUENCES) else "a single value"
        raise fail(
            f"the top level is {found}; a spec is a mapping that starts with "
            "'apiVersion: sophia.ai/v1'",
            root.start_mark.line + 1,
            root.start_mark.column + 1,
        )
    walker = _Walker(file, yaml)
    data = walker.convert(root, (), 0)
    if walker.errors:
        raise InvalidSpecError(walker.errors)
    return SpecDocument(file, data, walker.locations)


_LONG_ESCAPE = re.compile(r"\\U([0-9A-Fa-f]{8})")


def _beyond_unicode(text: str) -> re.Match[str] | None:
    """The first `\\U` escape above U+10FFFF (ruamel's scanner fails on it with a bare
    OverflowError, without a position)."""
    return next((m for m in _LONG_ESCAPE.finditer(text) if int(m.group(1), 16) > 0x10FFFF), None)


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


def unencodable(text: str) -> str | None:
    """Why no later layer could carry this string (Kubernetes, gRPC, UTF-8 files), or None."""
    found = _UNENCODABLE.search(text)
    if found is None:
        return None
    if "\x00" in text:
        return "contains a NUL character"
    return f"contains a lone surrogate ({found.group()!r}), which is not valid Unicode text"


def _compose_all(yaml: YAML, text: str) -> Iterator[AnyNode]:
    """libyaml's tree when it reads the text, else ruamel's (and ruamel's error)."""
    nodes: list[AnyNode]
    try:
        nodes = list(libyaml.compose_all(text, Loader=_LibyamlLoader))
    except Exception:
        nodes = list(yaml.compose_all(text))
    yield from nodes


_IMPLICIT_1_2: dict[str, list[tuple[str, re.Pattern[str]]]] = VersionedResolver(
    version=(1, 2)
).versioned_resolver
"""ruamel's YAML 1.2 table of implicit tags: first character → (tag, pattern), in order."""
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_DEFAULT_TAGS = {
    libyaml.ScalarNode: _STR,
    libyaml.SequenceNode: "tag:yaml.org,2002:seq",
    libyaml.MappingNode: "tag:yaml.org,2002:map",
}


class _LibyamlLoader(libyaml.CSafeLoader):
    """libyaml's parser and composer; implicit tags decided by ruamel's YAML 1.2 table, as
    ruamel's own resolver decides them (its lookup, without its per-call version check)."""

    def resolve(self, kind: type[Any], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is libyaml.ScalarNode and implicit[0]:
            for tag, pattern in _IMPLICIT_1_2.get(value[:1], ()):
                if pattern.match(value):
                    return tag
        return _DEFAULT_TAGS[kind]


AnyNode = Node | libyaml.Node
"""A node of ruamel's tree or of libyaml's: the walker reads both alike."""
_MAPPINGS = (MappingNode, libyaml.MappingNode)
_SEQUENCES = (SequenceNode, libyaml.SequenceNode)
_SCALARS = (ScalarNode, libyaml.ScalarNode)


class _Walker:
    """Turns composed nodes into plain data, recording locations and collecting problems."""

    def __init__(self, file: str, yaml: YAML) -> None:
        self.file = file
        self.yaml = yaml
        self.locations: dict[FieldPath, Location] = {(): Location(1, 1)}
        self.errors: list[SpecError] = []
        self.values = 0
        self.merging: set[int] = set()
        """Mappings being merged (`<<`) right now: one seen again is a merge into itself."""

    def at(self, node: AnyNode, path: FieldPath, message: str) -> SpecError:
        shown = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        shown = shown.lstrip(".") or ROOT_PATH
        return SpecError(
            self.file, node.start_mark.line + 1, node.start_mark.column + 1, shown, message
        )

    def problem(self, node: AnyNode, path: FieldPath, message: str) -> None:
        self.errors.append(self.at(node, path, message))

    def convert(self, node: AnyNode, path: FieldPath, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise InvalidSpecError(
                [
                    *self.errors,
                    self.at(
                        node,
                        (),
                        f"the document expands to more "
                        f"than {MAX_VALUES} values (aliases repeated "
                        "too often)",
                    ),
                ]
            )
        if depth > MAX_DEPTH:
            raise InvalidSpecError(
                [self.at(node, (), f"nesting is deeper than {MAX_DEPTH} levels")]
            )
        if isinstance(node, _MAPPINGS):
            return self.mapping(node, path, depth)
        if isinstance(node, _SEQUENCES):
            return [
                self.item(child, (*path, index), depth) for index, child in enumerate(node.value)
            ]
        return self.scalar(node, path)

    def item(self, node: AnyNode, path: FieldPath, depth: int) -> Any:
        self.locations[path] = Location(node.start_mark.line + 1, node.start_mark.column + 1)
        return self.convert(node, path, depth + 1)

    def mapping(self, node: Any, path: FieldPath, depth: int) -> dict[str, Any]:
        # `<<` merges come first so that the mapping's own keys (and their locations) win.
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            sources = value_node.value if isinstance(value_node, _SEQUENCES) else [value_node]
            for source in sources:
                if not isinstance(source, _MAPPINGS):
                    self.problem(source, path, "'<<' merges mappings only")
                elif id(source) in self.merging or source is node:
                    self.problem(source, path, "'<<' merges a mapping into itself")
                elif depth + 1 > MAX_DEPTH:
                    raise InvalidSpecError(
                        [self.at(source, (), f"nesting is deeper than {MAX_DEPTH} levels")]
                    )
                else:
                    self.merging.add(id(node))
                    try:
                        result.update(self.mapping(source, path, depth + 1))
                    finally:
                        self.merging.discard(id(node))
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, _SCALARS):
                self.problem(key_node, path, "a key must be a plain value, not a list or mapping")
                continue
            key = str(key_node.value)
            bad_key = unencodable(key)
            if bad_key:
                self.problem(key_node, path, f"a key {bad_key}")
                continue
            if key in first_seen:
                self.problem(
                    key_node,
                    (*path, key),
                    f"duplicate key '{key}' (first set on line {first_seen[key]})",
                )
                continue
            first_seen[key] = key_node.start_mark.line + 1
            self.locations[(*path, key)] = Location(
                key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
            result[key] = self.convert(value_node, (*path, key), depth + 1)
        return result

    def scalar(self, node: AnyNode, path: FieldPath) -> Any:
        if node.tag == _TIMESTAMP_TAG:
            return str(node.value)
        if node.tag not in _PLAIN_TAGS:
            self.problem(node, path, f"unsupported YAML tag '{node.tag}'")
            return None
        if node.tag == _STR:  # most values: the text itself, as ruamel's constructor returns
            value = node.value
            problem = unencodable(value)
            if problem:
                self.problem(node, path, problem)
                return None
            return value
        if node.tag == _NULL:
            return None
        if isinstance(node, libyaml.ScalarNode):  # ruamel's constructor takes its own nodes
            node = ScalarNode(node.tag, node.value, node.start_mark, node.end_mark, node.style)
        try:
            value = self.yaml.constructor.construct_object(node, deep=True)
        except (ValueError, ArithmeticError, LookupError, TypeError, YAMLError):
            # e.g. `!!int abc`, or an integer of more digits than Python converts
            tag = str(node.tag).rsplit(":", 1)[-1]
            text = str(node.value)
            shown = f"a value of {len(text)} characters" if len(text) > 40 else repr(text)
            self.problem(node, path, f"{shown} is not a valid {tag}")
            return None
        if isinstance(value, str):
            problem = unencodable(value)
            if problem:
                self.problem(node, path, problem)
                return None
        return value
