"""A loopback fake of a JSON REST API, checked against the API's published document.

Subclasses give the routes, the key they accept and their error body; this base serves them,
records every request and answer that breaks the document, and injects the faults a real API
has: 429s with Retry-After, 500s, and a create that is carried out but whose answer is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer
from tests.fakes.openapi_contract import OpenApiContract

Answer = tuple[int, Any]
Route = tuple[str, str, Callable[..., Answer]]


class DropConnection(Exception):  # noqa: N818 — a signal to the handler, not an error
    """Close the socket without an answer (whatever the handler did stays done)."""


@dataclass
class Faults:
    rate_limit_next: int = 0
    retry_after: str | None = None
    """The Retry-After header of those 429s."""
    server_errors_next: int = 0
    drop_after_create_next: int = 0
    """The next creates are carried out, then the connection drops before the answer."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    contract_violations: list[str] = field(default_factory=list)


class JsonApiFake(LoopbackServer):
    base_path = ""
    invalid_status = 400
    """What the API answers a body its document does not allow."""

    def __init__(self, contract: OpenApiContract) -> None:
        self.contract = contract
        self.faults = Faults()
        super().__init__(self._handler_class())

    # --- what a subclass says ---

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def authorized(self, headers: Any) -> bool:
        raise NotImplementedError

    def error(self, status: int, message: str, code: str = "") -> Answer:
        raise NotImplementedError

    # --- serving ---

    def dropped_create(self) -> None:
        """Called by a create handler once it has made the object."""
        if self.faults.drop_after_create_next > 0:
            self.faults.drop_after_create_next -= 1
            raise DropConnection

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Answer:
        with self.lock:
            f = self.faults
            f.requests.append((method, path))
            if not self.authorized(headers):
                return self.error(401, "Invalid API key.", "UNAUTHENTICATED")
            if f.rate_limit_next > 0:
                f.rate_limit_next -= 1
                return self.error(429, "Too many requests.", "RESOURCE_EXHAUSTED")
            if f.server_errors_next > 0:
                f.server_errors_next -= 1
                return self.error(500, "Internal server error", "UNKNOWN")
            for pattern, route_method, handler in self.routes():
                match = re.fullmatch(pattern, path)
                if not match or method != route_method:
                    continue
                template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
                problems = self.contract.request_errors(method, template, body)
                for problem in problems:
                    f.contract_violations.append(f"request {method} {template}: {problem}")
                if problems:
                    message = "; ".join(problems)[:300]
                    return self.error(self.invalid_status, message, "INVALID_ARGUMENT")
                try:
                    status, payload = handler(body, **match.groupdict())
                except (KeyError, TypeError, AttributeError, IndexError) as unusable:
                    # Valid by the document, unusable all the same (a property without a
                    # type): refused as the API refuses it, never a crashed handler.
                    return self.error(self.invalid_status, f"unusable request: {unusable!r}")
                for problem in self.contract.response_errors(method, template, status, payload):
                    f.contract_violations.append(
                        f"response {method} {template} {status}: {problem}"
                    )
                return status, payload
            if self.allowed(path):
                return self.error(405, f"{method} is not allowed on {path}", "UNIMPLEMENTED")
            return self.error(404, f"No route {method} {path}", "NOT_FOUND")

    def allowed(self, path: str) -> list[str]:
        """The methods a path answers (for 405's `Allow` header)."""
        return sorted({m for pattern, m, _ in self.routes() if re.fullmatch(pattern, path)})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                path = self.path.split("?", 1)[0].removeprefix(fake.base_path)
                try:
                    status, payload = fake.handle(method, path, self.headers, body)
                except DropConnection:
                    self.close_connection = True
                    return
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 405:
                    self.send_header("Allow", ", ".join(fake.allowed(path)))
                if status == 429 and fake.faults.retry_after is not None:
                    self.send_header("Retry-After", fake.faults.retry_after)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):
                    return lambda: self._serve(name.removeprefix("do_"))
                raise AttributeError(name)

        return Handler
