"""A local fake of the Pulumi ESC REST API on 127.0.0.1, for the real `pulumi_esc_sdk` client.

Also the organisation's audit log (`GET /api/orgs/{org}/auditlogs`, Pulumi Cloud REST API:
`startTime` returns older entries, newest first, pages joined by `continuationToken`), which
records what the service records of environments: created, updated, opened, deleted — by the
user whose token made the call (`users`).

Follows shared/reference/pulumi-esc.md and the SDK's own request/response models: create,
get (YAML with an ETag), update (409 on a stale If-Match), delete, list, open and read
(evaluating imports, `fn::secret` and `${…}` interpolation), revisions. Secrets are stored as
ciphertext, as the service does, so a GET never returns a plaintext value.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from components.esc.definition import dump
from tests.fakes.loopback import LoopbackServer

VALID_TOKEN = "pul-fake0123456789abcdef0123456789abcdef01"
AUDIT_PAGE = 50
_INTERPOLATION = re.compile(r"\$\{([^}]+)\}")
_PREFIX = b"fake-kms:"


def encrypt(value: str) -> dict[str, Any]:
    return {"fn::secret": {"ciphertext": base64.b64encode(_PREFIX + value.encode()).decode()}}


def _decrypt(ciphertext: str) -> str:
    return base64.b64decode(ciphertext)[len(_PREFIX) :].decode()


def _seal(node: Any) -> Any:
    """Plaintext `fn::secret` values become ciphertext, as the service stores them."""
    if isinstance(node, dict):
        if set(node) == {"fn::secret"} and isinstance(node["fn::secret"], str | int | float | bool):
            return encrypt(str(node["fn::secret"]))
        return {k: _seal(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_seal(v) for v in node]
    return node


@dataclass
class StoredEnvironment:
    project: str
    name: str
    definition: dict[str, Any] = field(default_factory=dict)
    revision: int = 1
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    modified: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    history: list[int] = field(default_factory=lambda: [1])
    raw: str | None = None
    """Text stored as it was given (`seed_yaml`: an outside edit this tool must survive)."""

    @property
    def etag(self) -> str:
        return f'"rev-{self.revision}"'


@dataclass
class FakeEscState:
    environments: dict[tuple[str, str, str], StoredEnvironment] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    server_errors_next: int = 0
    concurrent_edit_next: int = 0
    """Before the next N updates, someone else edits the environment (a stale ETag)."""
    bodies: list[str] = field(default_factory=list)
    """Every request body received, for leak checks."""
    users: dict[str, str] = field(default_factory=lambda: {VALID_TOKEN: "platform-ci"})
    """Access token → the login of its user."""
    audit: list[dict[str, Any]] = field(default_factory=list)
    clock: float | None = None
    """Unix time of the next event (None: now); tests move it to make ages and order."""


class _Evaluator:
    def __init__(self, state: FakeEscState, org: str) -> None:
        self.state = state
        self.org = org

    def merged_values(
        self, project: str, name: str, seen: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        env = self.state.environments.get((self.org, project, name))
        if env is None or f"{project}/{name}" in seen:
            return {}
        merged: dict[str, Any] = {}
        for imported in env.definition.get("imports") or []:
            imp_project, _, imp_name = str(imported).partition("/")
            _deep_merge(
                merged, self.merged_values(imp_project, imp_name, seen | {f"{project}/{name}"})
            )
        _deep_merge(merged, json.loads(json.dumps(env.definition.get("values") or {})))
        return merged

    def evaluate(self, project: str, name: str) -> dict[str, Any]:
        root = self.merged_values(project, name)
        return {k: self._value(v, root, 0) for k, v in root.items()}

    def _value(self, node: Any, root: dict[str, Any], depth: int) -> dict[str, Any]:
        return {**self._evaluate(node, root, depth), "trace": {}}

    def _evaluate(self, node: Any, root: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > 32:
            return {"value": None, "unknown": True}
        if isinstance(node, dict) and set(node) == {"fn::secret"}:
            inner = node["fn::secret"]
            plain = _decrypt(inner["ciphertext"]) if isinstance(inner, dict) else str(inner)
            return {"value": plain, "secret": True}
        if isinstance(node, dict):
            return {"value": {k: self._value(v, root, depth + 1) for k, v in node.items()}}
        if isinstance(node, list):
            return {"value": [self._value(v, root, depth + 1) for v in node]}
        if isinstance(node, str) and _INTERPOLATION.search(node):
            whole = _INTERPOLATION.fullmatch(node)
            if whole:
                return self._value(self._lookup(root, whole.group(1)), root, depth + 1)
            secret = False
            parts: list[str] = []
            last = 0
            for match in _INTERPOLATION.finditer(node):
                parts.append(node[last : match.start()])
                resolved = self._value(self._lookup(root, match.group(1)), root, depth + 1)
                secret = secret or bool(resolved.get("secret"))
                parts.append(str(resolved.get("value")))
                last = match.end()
            parts.append(node[last:])
            return (
                {"value": "".join(parts), "secret": secret} if secret else {"value": "".join(parts)}
            )
        return {"value": node}

    @staticmethod
    def _lookup(root: dict[str, Any], path: str) -> Any:
        node: Any = root
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node


def _deep_merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and "fn::secret" not in value
        ):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _error(status: int, message: str) -> tuple[int, Any, dict[str, str]]:
    return status, {"code": status, "message": message}, {}


class FakeEsc(LoopbackServer):
    def __init__(self) -> None:
        self.state = FakeEscState()
        super().__init__(self._handler_class())

    @property
    def url(self) -> str:
        return self.origin

    def seed(self, org: str, project: str, name: str, definition: dict[str, Any]) -> None:
        with self.lock:
            self.state.environments[(org, project, name)] = StoredEnvironment(
                project, name, _seal(definition)
            )

    def seed_yaml(self, org: str, project: str, name: str, text: str) -> None:
        """Store a definition's text as it is, readable or not (an edit made elsewhere)."""
        try:
            definition = YAML(typ="safe", pure=True).load(text)
        except YAMLError:
            definition = None
        with self.lock:
            stored = StoredEnvironment(
                project, name, definition if isinstance(definition, dict) else {}
            )
            stored.raw = text
            self.state.environments[(org, project, name)] = stored

    def stored_yaml(self, org: str, project: str, name: str) -> str:
        return dump(self.state.environments[(org, project, name)].definition)

    def open(self, org: str, project: str, name: str) -> dict[str, Any]:
        """Evaluated plain values (what `esc open` prints), for assertions."""
        with self.lock:
            evaluated = _Evaluator(self.state, org).evaluate(project, name)
        return _unwrap(evaluated)

    def record(self, user: str, event: str, description: str) -> None:
        s = self.state
        stamp = int(s.clock if s.clock is not None else datetime.now(UTC).timestamp())
        s.audit.append(
            {
                "timestamp": stamp,
                "sourceIP": "127.0.0.1",
                "event": event,
                "description": description,
                "user": {"name": user, "githubLogin": user, "avatarUrl": ""},
            }
        )

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes, query: str = ""
    ) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            s = self.state
            s.requests.append((method, path))
            s.bodies.append(body.decode(errors="replace"))
            token = headers.get("authorization", "").removeprefix("token ")
            user = s.users.get(token)
            if user is None:
                return _error(401, "Unauthorized: No credentials provided or are invalid.")
            audit = re.fullmatch(r"/api/orgs/([^/]+)/auditlogs", path)
            if audit and method == "GET":
                return self._audit_log(parse_qs(query))
            self._user = user
            if s.server_errors_next > 0:
                s.server_errors_next -= 1
                return _error(500, "internal server error")
            parts = [p for p in path.removeprefix("/api/esc/environments/").split("/") if p != ""]
            if len(parts) == 1:
                return self._org(method, parts[0], body)
            if len(parts) == 3:
                return self._environment(method, tuple(parts), headers, body)  # type: ignore[arg-type]
            if len(parts) == 4 and parts[3] == "open" and method == "POST":
                key = tuple(parts[:3])
                if key not in s.environments:
                    return _error(404, "environment not found")
                session = uuid.uuid4().hex
                s.sessions[session] = _Evaluator(s, parts[0]).evaluate(parts[1], parts[2])
                self.record(user, "Environment Opened", f"Opened environment {parts[1]}/{parts[2]}")
                return 200, {"id": session}, {}
            if len(parts) == 5 and parts[3] == "open" and method == "GET":
                if parts[4] not in s.sessions:
                    return _error(404, "open session not found")
                return 200, {"properties": s.sessions[parts[4]]}, {}
            if len(parts) == 4 and parts[3] == "versions" and method == "GET":
                env = s.environments.get(tuple(parts[:3]))  # type: ignore[arg-type]
                if env is None:
                    return _error(404, "environment not found")
                return (
                    200,
                    [
                        {"number": n, "created": env.modified, "creatorLogin": "fake"}
                        for n in reversed(env.history)
                    ],
                    {},
                )
            return _error(404, f"no route {method} {path}")

    def _audit_log(self, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Entries older than `startTime` (or the continuation token), newest first."""
        token = (query.get("continuationToken") or [None])[0]
        bound = token or (query.get("startTime") or [None])[0]
        if bound is None:
            return _error(400, "either continuationToken or startTime is required")
        try:
            before, _, skip = bound.partition(".")
            start, offset = int(before), int(skip or 0)
        except ValueError:
            return _error(400, f"invalid timestamp or token {bound!r}")
        older = sorted(
            (e for e in self.state.audit if e["timestamp"] < start),
            key=lambda e: -int(e["timestamp"]),
        )  # stable: same-second events keep their order, so pages never skip one
        page = older[offset : offset + AUDIT_PAGE]
        payload: dict[str, Any] = {"auditLogEvents": page}
        if len(older) > offset + AUDIT_PAGE:
            payload["continuationToken"] = f"{start}.{offset + AUDIT_PAGE}"  # opaque to clients
        return 200, payload, {}

    def _org(self, method: str, org: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        s = self.state
        if method == "GET":
            envs = [
                {
                    "organization": o,
                    "project": e.project,
                    "name": e.name,
                    "created": e.created,
                    "modified": e.modified,
                }
                for (o, _, _), e in s.environments.items()
                if o == org
            ]
            return 200, {"environments": envs, "nextToken": ""}, {}
        if method == "POST":
            request = json.loads(body or b"{}")
            key = (org, str(request.get("project")), str(request.get("name")))
            if key in s.environments:
                return _error(409, f"environment {key[1]}/{key[2]} already exists")
            s.environments[key] = StoredEnvironment(key[1], key[2])
            self.record(self._user, "Environment Created", f"Created environment {key[1]}/{key[2]}")
            return 204, None, {}
        return _error(405, "method not allowed")

    def _environment(
        self, method: str, key: tuple[str, str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        s = self.state
        env = s.environments.get(key)
        if env is None:
            return _error(404, f"environment {key[1]}/{key[2]} not found")
        if method == "GET":
            return (
                200,
                env.raw if env.raw is not None else dump(env.definition),
                {"ETag": env.etag, "Content-Type": "application/x-yaml"},
            )
        if method == "DELETE":
            del s.environments[key]
            self.record(self._user, "Environment Deleted", f"Deleted environment {key[1]}/{key[2]}")
            return 204, None, {}
        if method == "PATCH":
            if s.concurrent_edit_next > 0:
                s.concurrent_edit_next -= 1
                env.revision += 1
                env.history.append(env.revision)
            match = headers.get("if-match")
            if match is not None and match != env.etag:
                return _error(
                    409, "the environment has changed since it was read; re-read it and try again"
                )
            try:
                definition = YAML(typ="safe", pure=True).load(body.decode()) or {}
            except YAMLError as exc:
                return (
                    400,
                    {"diagnostics": [{"summary": f"invalid YAML: {type(exc).__name__}"}]},
                    {},
                )
            if not isinstance(definition, dict):
                return 400, {"diagnostics": [{"summary": "the definition must be a mapping"}]}, {}
            env.definition = _seal(definition)
            env.raw = None
            env.revision += 1
            env.history.append(env.revision)
            env.modified = datetime.now(UTC).isoformat()
            self.record(self._user, "Environment Updated", f"Updated environment {key[1]}/{key[2]}")
            return 200, {}, {"ETag": env.etag}
        return _error(405, "method not allowed")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                path, _, query = self.path.partition("?")
                status, payload, extra = fake.handle(self.command, path, headers, body, query)
                if isinstance(payload, str):
                    data = payload.encode()
                    content_type = extra.pop("Content-Type", "application/x-yaml")
                else:
                    data = json.dumps(payload).encode() if payload is not None else b""
                    content_type = "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815

        return Handler


def _unwrap(node: Any) -> Any:
    if isinstance(node, dict) and "value" in node:
        return _unwrap(node["value"])
    if isinstance(node, dict):
        return {k: _unwrap(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unwrap(v) for v in node]
    return node


def running_fake_esc() -> FakeEsc:
    """`with running_fake_esc() as fake:` serves on loopback for the block."""
    return FakeEsc()
