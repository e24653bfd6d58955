"""A local fake of the Lambda Cloud API v1 on 127.0.0.1, for the real client to talk to.

It follows shared/reference/lambda-cloud-api.md and checks its own answers (and the client's
requests) against Lambda's OpenAPI document, recording any breach in `contract_violations`.
Instances boot (`booting` → `active` after some polls), terminate (`terminating` →
`terminated` → gone). Switches inject faults: 429 bursts, 500s, a connection dropped after a
launch was accepted, per-region capacity, and any key but the valid one is refused.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from components.catalog import load_catalog
from tests.fakes.loopback import LoopbackServer
from tests.fakes.openapi_contract import documented_statuses, request_errors, response_errors

VALID_KEY = "secret_fake-lambda-key_0123456789abcdef"
# Every PublicRegionCode of the OpenAPI document.
REGION_NAMES = {
    "europe-central-1": "Germany",
    "asia-south-1": "India",
    "australia-east-1": "Australia",
    "me-west-1": "Israel",
    "asia-northeast-1": "Tokyo, Japan",
    "asia-northeast-2": "Seoul, South Korea",
    "us-east-1": "Virginia, USA",
    "us-west-2": "Arizona, USA",
    "us-west-1": "California, USA",
    "us-south-1": "Texas, USA",
    "us-west-3": "Utah, USA",
    "us-midwest-1": "Illinois, USA",
    "us-east-2": "Washington DC, USA",
    "us-south-2": "North Texas, USA",
    "us-south-3": "Central Texas, USA",
    "us-east-3": "Virginia, USA",
    "us-midwest-2": "Ohio, USA",
}
MAX_NAME_LENGTH = 64


class ConnectionDropError(Exception):
    """Close the socket without an answer (the launch was accepted all the same)."""


class UnreadableAnswer(Exception):  # noqa: N818 — a signal to the handler, not an error
    """Answer 200 with a body that is not JSON (the launch was accepted all the same)."""


def _basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


# The OpenAPI document's security schemes: Bearer, and Basic with the key as user name
# (`<key>:` base64-encoded) or as the whole credential.
_ACCEPTED_AUTH = {f"Bearer {VALID_KEY}", _basic(f"{VALID_KEY}:"), f"Basic {VALID_KEY}"}


def _take(state: Any, counter: str) -> bool:
    """Use up one of a fault counter's occurrences; True when there was one."""
    left = getattr(state, counter)
    if left > 0:
        setattr(state, counter, left - 1)
        return True
    return False


@dataclass
class FakeState:
    boot_polls: int = 2
    """GETs of a booting instance before it is active."""
    forget_after_polls: int = 1
    """GETs of a terminated instance before it disappears (404)."""
    capacity: dict[str, set[str]] = field(default_factory=dict)
    """Instance type → regions with capacity; types not listed have capacity in every region."""
    rate_limit_next: int = 0
    retry_after: str | None = None
    """The Retry-After header of those 429s."""
    server_errors_next: int = 0
    drop_after_launch_next: int = 0
    # Launches that are carried out but answered badly (a lying or failing front end):
    accepted_unreadable_next: int = 0
    accepted_rate_limited_next: int = 0
    accepted_server_error_next: int = 0
    malformed_next: int = 0
    """The next GET answers are 200 with a body missing required fields."""
    list_lag: int = 0
    """A new instance stays out of GET /instances for this many list calls (eventual consistency)."""
    unhealthy_next: int = 0
    """The next launched instances boot to `unhealthy` instead of `active`."""
    hidden: dict[str, int] = field(default_factory=dict)
    launches: int = 0
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    ssh_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_systems: dict[str, dict[str, Any]] = field(default_factory=dict)
    firewall_rulesets: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates: int = 0
    """File systems and firewall rulesets created (an exactly-once count)."""
    accepted_create_dropped_next: int = 0
    """The next creates (file system, ruleset) are carried out, then the connection drops."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    contract_violations: list[str] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)

    def regions_with_capacity(self, type_name: str) -> list[str]:
        return sorted(self.capacity.get(type_name, set(REGION_NAMES)))


def _error(status: int, code: str, message: str, suggestion: str | None = None) -> tuple[int, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if suggestion:
        error["suggestion"] = suggestion
    return status, {"error": error}


def _ruleset_not_found() -> tuple[int, Any]:
    return _error(
        404,
        "global/object-does-not-exist",
        "Firewall ruleset does not exist or you do not have permission to access it.",
        "Check your firewall ruleset ID and try again.",
    )


def _rules_problem(rules: list[dict[str, Any]]) -> str | None:
    """What the API documents of a rule beyond its schema: a port range for every protocol but
    icmp (and none for icmp), low ≤ high, a CIDR source network."""
    for rule in rules:
        ports = rule.get("port_range")
        if rule["protocol"] == "icmp" and ports is not None:
            return "icmp rules take no port range"
        if rule["protocol"] != "icmp" and ports is None:
            return f"{rule['protocol']} rules need a port range"
        if ports is not None and ports[0] > ports[1]:
            return f"port range {ports} is reversed"
        try:
            ipaddress.IPv4Network(rule["source_network"])
        except ValueError:
            return f"source network {rule['source_network']!r} is not an IPv4 CIDR"
    return None


class FakeLambdaCloud(LoopbackServer):
    def __init__(self) -> None:
        self.state = FakeState()
        self.state.ssh_keys["key-1"] = {
            "id": "key-1",
            "name": "sophia-deploy",
            "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFake sophia-deploy",
        }
        super().__init__(self._handler_class())

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/v1"

    def live_instances(self) -> list[dict[str, Any]]:
        with self.lock:
            return [i for i in self.state.instances.values() if i["status"] not in ("terminated",)]

    # --- request handling ---

    def handle(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, Any]:
        with self.lock:
            s = self.state
            s.requests.append((method, path))
            if auth not in _ACCEPTED_AUTH:
                return _error(
                    401,
                    "global/invalid-api-key",
                    "API key was invalid, expired, or deleted.",
                    "Check your API key or create a new one, then try again.",
                )
            if s.rate_limit_next > 0:
                s.rate_limit_next -= 1
                return 429, None
            if method == "GET" and s.malformed_next > 0:
                s.malformed_next -= 1
                return 200, {"data": [{"name": "no-id"}] if path == "/instances" else {"x": 1}}
            if s.server_errors_next > 0:
                s.server_errors_next -= 1
                return _error(500, "global/unknown", "An internal error occurred.")
            for pattern, route_method, handler in self._routes():
                match = re.fullmatch(pattern, path)
                if match and method == route_method:
                    template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
                    problems = request_errors(method, template, body)
                    for problem in problems:
                        s.contract_violations.append(f"request {method} {template}: {problem}")
                    if problems:  # a request off the document is refused, as documented
                        if 400 in documented_statuses(method, template):
                            return _error(400, "global/invalid-parameters", "Invalid request data.")
                        return _error(
                            404,
                            "global/object-does-not-exist",
                            "Invalid request data.",
                            "Check the request against the API reference.",
                        )
                    status, payload = handler(body if body is not None else {}, **match.groupdict())
                    for problem in response_errors(method, template, status, payload):
                        s.contract_violations.append(
                            f"response {method} {template} {status}: {problem}"
                        )
                    return status, payload
            if self.allowed(path):
                return 405, {"error": {"code": "http/405", "message": "Method Not Allowed"}}
            return _error(404, "global/object-does-not-exist", f"No route {method} {path}")

    def allowed(self, path: str) -> list[str]:
        """The methods a path answers (for 405's `Allow` header)."""
        return sorted({m for pattern, m, _ in self._routes() if re.fullmatch(pattern, path)})

    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            (r"/instance-types", "GET", self._instance_types),
            (r"/instances", "GET", self._list_instances),
            (r"/instances/(?P<id>[^/]+)", "GET", self._get_instance),
            (r"/instances/(?P<id>[^/]+)", "POST", self._rename_instance),
            (r"/instance-operations/launch", "POST", self._launch),
            (r"/instance-operations/terminate", "POST", self._terminate),
            (r"/ssh-keys", "GET", self._list_keys),
            (r"/ssh-keys", "POST", self._add_key),
            (r"/ssh-keys/(?P<id>[^/]+)", "DELETE", self._delete_key),
            (r"/file-systems", "GET", self._list_file_systems),
            (r"/filesystems", "POST", self._create_file_system),
            (r"/filesystems/(?P<id>[^/]+)", "DELETE", self._delete_file_system),
            (r"/firewall-rulesets", "GET", self._list_rulesets),
            (r"/firewall-rulesets", "POST", self._create_ruleset),
            (r"/firewall-rulesets/(?P<id>[^/]+)", "GET", self._get_ruleset),
            (r"/firewall-rulesets/(?P<id>[^/]+)", "PATCH", self._patch_ruleset),
            (r"/firewall-rulesets/(?P<id>[^/]+)", "DELETE", self._delete_ruleset),
        ]

    def _instance_types(self, _body: Any) -> tuple[int, Any]:
        data = {}
        for t in load_catalog():
            data[t.name] = {
                "instance_type": {
                    "name": t.name,
                    "description": t.description,
                    "gpu_description": t.gpu_description,
                    "price_cents_per_hour": t.price_cents_per_hour,
                    "specs": {
                        "vcpus": t.vcpus,
                        "memory_gib": t.memory_gib,
                        "storage_gib": t.storage_gib,
                        "gpus": t.gpus,
                    },
                },
                "regions_with_capacity_available": [
                    {"name": r, "description": REGION_NAMES.get(r, r)}
                    for r in self.state.regions_with_capacity(t.name)
                ],
            }
        return 200, {"data": data}

    def _advance(self, instance: dict[str, Any]) -> None:
        """One observation of an instance moves its state machine on."""
        s = self.state
        count = s.polls.get(instance["id"], 0) + 1
        s.polls[instance["id"]] = count
        if instance["status"] == "booting" and count >= s.boot_polls and instance.get("doomed"):
            instance["status"] = "unhealthy"
        elif instance["status"] == "booting" and count >= s.boot_polls:
            instance["status"] = "active"
            number = int(instance["id"][:4], 16) % 250 + 1
            instance["ip"] = f"198.51.100.{number}"
            instance["private_ip"] = f"10.19.60.{number}"
            instance["hostname"] = f"10-19-60-{number}"
        elif instance["status"] == "terminating":
            instance["status"] = "terminated"
            s.polls[instance["id"]] = 0
        elif instance["status"] == "terminated" and count >= s.forget_after_polls:
            del s.instances[instance["id"]]

    def _public(self, instance: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in instance.items() if v is not None and k != "doomed"}

    def _list_instances(self, _body: Any) -> tuple[int, Any]:
        s = self.state
        for instance in list(s.instances.values()):
            self._advance(instance)
        for instance_id in list(s.hidden):
            s.hidden[instance_id] -= 1
            if s.hidden[instance_id] < 0:
                del s.hidden[instance_id]
        visible = [i for i in s.instances.values() if i["id"] not in s.hidden]
        return 200, {"data": [self._public(i) for i in visible]}

    def _get_instance(self, _body: Any, **params: str) -> tuple[int, Any]:
        instance_id = params["id"]
        instance = self.state.instances.get(instance_id)
        if instance is None:
            return _error(404, "global/object-does-not-exist", "Specified instance does not exist.")
        self._advance(instance)
        if instance_id not in self.state.instances:
            return _error(404, "global/object-does-not-exist", "Specified instance does not exist.")
        return 200, {"data": self._public(instance)}

    def _rename_instance(self, body: Any, **params: str) -> tuple[int, Any]:
        instance_id = params["id"]
        instance = self.state.instances.get(instance_id)
        if instance is None:
            return _error(404, "global/object-does-not-exist", "Specified instance does not exist.")
        instance["name"] = body.get("name")
        return 200, {"data": self._public(instance)}

    def _launch(self, body: Any) -> tuple[int, Any]:
        s = self.state
        catalog = load_catalog()
        itype = catalog.get(str(body.get("instance_type_name")))
        region = body.get("region_name")
        keys = body.get("ssh_key_names") or []
        known_keys = {k["name"] for k in s.ssh_keys.values()}
        if itype is None or region not in REGION_NAMES:
            return _error(400, "global/invalid-parameters", "Invalid instance type or region.")
        if len(str(body.get("name") or "")) > MAX_NAME_LENGTH:
            return _error(400, "global/invalid-parameters", "Name must be 64 characters or fewer.")
        if len(keys) != 1:
            return _error(400, "global/invalid-parameters", "Exactly one SSH key name is required.")
        if keys[0] not in known_keys:
            return _error(
                404,
                "global/object-does-not-exist",
                f"SSH key {keys[0]} not found.",
                "Check the SSH key name (`GET /ssh-keys` lists them).",
            )
        file_systems = {f["name"]: f for f in s.file_systems.values()}
        for fs_name in body.get("file_system_names") or []:
            if fs_name not in file_systems:
                return _error(
                    404,
                    "global/object-does-not-exist",
                    f"File system {fs_name} not found.",
                    "Check the file system name (`GET /file-systems` lists them).",
                )
            if file_systems[fs_name]["region"]["name"] != region:
                return _error(
                    400,
                    "instance-operations/launch/file-system-in-wrong-region",
                    f"File system {fs_name} is not in {region}.",
                )
        for entry in body.get("firewall_rulesets") or []:
            ruleset = s.firewall_rulesets.get(entry["id"])
            if ruleset is None or ruleset["region"]["name"] != region:
                return _error(
                    404,
                    "global/object-does-not-exist",
                    f"Firewall ruleset {entry['id']} not found in {region}.",
                    "Firewall rulesets must exist in the instance's region.",
                )
        if region not in s.regions_with_capacity(itype.name):
            return _error(
                400,
                "instance-operations/launch/insufficient-capacity",
                "Not enough capacity to fulfill launch request.",
                "Choose an instance type with more availability, or try again later.",
            )
        instance_id = uuid.uuid4().hex
        s.launches += 1
        s.instances[instance_id] = {
            "id": instance_id,
            "name": body.get("name"),
            "ip": None,
            "private_ip": None,
            "status": "booting",
            "hostname": None,
            "ssh_key_names": keys,
            "file_system_names": body.get("file_system_names", []),
            "firewall_rulesets": body.get("firewall_rulesets", []),
            "region": {"name": region, "description": REGION_NAMES[region]},
            "instance_type": {
                "name": itype.name,
                "description": itype.description,
                "gpu_description": itype.gpu_description,
                "price_cents_per_hour": itype.price_cents_per_hour,
                "specs": {
                    "vcpus": itype.vcpus,
                    "memory_gib": itype.memory_gib,
                    "storage_gib": itype.storage_gib,
                    "gpus": itype.gpus,
                },
            },
            "actions": {
                a: {"available": True}
                for a in ("migrate", "rebuild", "restart", "cold_reboot", "terminate")
            },
            "tags": body.get("tags", []),
            "is_reserved": False,
            "doomed": _take(s, "unhealthy_next"),
        }
        if s.list_lag:
            s.hidden[instance_id] = s.list_lag
        if _take(s, "drop_after_launch_next"):
            raise ConnectionDropError
        if _take(s, "accepted_unreadable_next"):
            raise UnreadableAnswer
        if _take(s, "accepted_rate_limited_next"):
            return 429, None
        if _take(s, "accepted_server_error_next"):
            return _error(500, "global/unknown", "An internal error occurred.")
        return 200, {"data": {"instance_ids": [instance_id]}}

    def _terminate(self, body: Any) -> tuple[int, Any]:
        ids = body.get("instance_ids") or []
        missing = [i for i in ids if i not in self.state.instances]
        if missing:
            return _error(404, "global/object-does-not-exist", "Specified instance does not exist.")
        terminated = []
        for instance_id in ids:
            instance = self.state.instances[instance_id]
            if instance["status"] not in ("terminating", "terminated"):
                instance["status"] = "terminating"
            terminated.append(self._public(instance))
        return 200, {"data": {"terminated_instances": terminated}}

    def _list_keys(self, _body: Any) -> tuple[int, Any]:
        return 200, {"data": list(self.state.ssh_keys.values())}

    def _add_key(self, body: Any) -> tuple[int, Any]:
        if any(k["name"] == body.get("name") for k in self.state.ssh_keys.values()):
            return _error(400, "global/invalid-parameters", "An SSH key with that name exists.")
        key_id = uuid.uuid4().hex
        generated = not body.get("public_key")
        key = {
            "id": key_id,
            "name": body["name"],
            # Without a public key the API generates a pair and returns the private key once.
            "public_key": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5{key_id} generated"
            if generated
            else body["public_key"],
        }
        self.state.ssh_keys[key_id] = key
        if generated:
            private = f"-----BEGIN OPENSSH PRIVATE KEY-----\nfake-{key_id}\n-----END OPENSSH PRIVATE KEY-----\n"
            return 200, {"data": {**key, "private_key": private}}
        return 200, {"data": key}

    def _delete_key(self, _body: Any, **params: str) -> tuple[int, Any]:
        key_id = params["id"]
        if self.state.ssh_keys.pop(key_id, None) is None:
            # The document lists no 404 here: an unknown id is a bad parameter.
            return _error(400, "global/invalid-parameters", "Specified SSH key does not exist.")
        return 200, {"data": {}}

    # --- persistent file systems ---

    def _in_use(self, file_system: dict[str, Any]) -> bool:
        return any(
            file_system["name"] in (i.get("file_system_names") or [])
            for i in self.state.instances.values()
            if i["status"] not in ("terminating", "terminated")
        )

    def _file_system_view(self, file_system: dict[str, Any]) -> dict[str, Any]:
        return {**file_system, "is_in_use": self._in_use(file_system)}

    def _list_file_systems(self, _body: Any) -> tuple[int, Any]:
        return 200, {"data": [self._file_system_view(f) for f in self.state.file_systems.values()]}

    def _create_file_system(self, body: Any) -> tuple[int, Any]:
        s = self.state
        if any(f["name"] == body["name"] for f in s.file_systems.values()):
            return _error(400, "global/duplicate", f"A file system named {body['name']} exists.")
        fs_id = uuid.uuid4().hex
        s.file_systems[fs_id] = {
            "id": fs_id,
            "name": body["name"],
            "mount_point": f"/lambda/nfs/{body['name']}",
            "created": "2026-11-25T00:00:00+00:00",
            "created_by": {"id": "user-1", "email": "platform@example.com", "status": "active"},
            "is_in_use": False,
            "region": {"name": body["region"], "description": REGION_NAMES[body["region"]]},
            "bytes_used": 0,
        }
        s.creates += 1
        if _take(s, "accepted_create_dropped_next"):
            raise ConnectionDropError
        return 200, {"data": self._file_system_view(s.file_systems[fs_id])}

    def _delete_file_system(self, _body: Any, **params: str) -> tuple[int, Any]:
        file_system = self.state.file_systems.get(params["id"])
        if file_system is None:
            return _error(404, "global/object-does-not-exist", "Filesystem was not found.")
        if self._in_use(file_system):
            return _error(
                400,
                "filesystems/filesystem-in-use",
                "Filesystem is mounted to a running instance.",
                "Terminate the instances that mount it first.",
            )
        del self.state.file_systems[params["id"]]
        return 200, {"data": {"deleted_ids": [params["id"]]}}

    # --- firewall rulesets ---

    def _ruleset_view(self, ruleset: dict[str, Any]) -> dict[str, Any]:
        attached = [
            i["id"]
            for i in self.state.instances.values()
            if i["status"] not in ("terminating", "terminated")
            and {"id": ruleset["id"]} in (i.get("firewall_rulesets") or [])
        ]
        return {**ruleset, "instance_ids": attached}

    def _list_rulesets(self, _body: Any) -> tuple[int, Any]:
        return 200, {"data": [self._ruleset_view(r) for r in self.state.firewall_rulesets.values()]}

    def _create_ruleset(self, body: Any) -> tuple[int, Any]:
        s = self.state
        problem = _rules_problem(body["rules"])
        if problem:
            return _error(400, "global/invalid-parameters", problem)
        ruleset_id = uuid.uuid4().hex
        s.firewall_rulesets[ruleset_id] = {
            "id": ruleset_id,
            "name": body["name"],
            "region": {"name": body["region"], "description": REGION_NAMES[body["region"]]},
            "rules": body["rules"],
            "created": "2026-11-25T00:00:00+00:00",
            "instance_ids": [],
        }
        s.creates += 1
        if _take(s, "accepted_create_dropped_next"):
            raise ConnectionDropError
        return 200, {"data": self._ruleset_view(s.firewall_rulesets[ruleset_id])}

    def _get_ruleset(self, _body: Any, **params: str) -> tuple[int, Any]:
        ruleset = self.state.firewall_rulesets.get(params["id"])
        if ruleset is None:
            return _ruleset_not_found()
        return 200, {"data": self._ruleset_view(ruleset)}

    def _patch_ruleset(self, body: Any, **params: str) -> tuple[int, Any]:
        ruleset = self.state.firewall_rulesets.get(params["id"])
        if ruleset is None:
            return _ruleset_not_found()
        if "rules" in body:
            ruleset["rules"] = body["rules"]
        if "name" in body:
            ruleset["name"] = body["name"]
        return 200, {"data": self._ruleset_view(ruleset)}

    def _delete_ruleset(self, _body: Any, **params: str) -> tuple[int, Any]:
        ruleset = self.state.firewall_rulesets.get(params["id"])
        if ruleset is None:
            return _ruleset_not_found()
        if self._ruleset_view(ruleset)["instance_ids"]:
            return _error(
                400,
                "firewall-rulesets/firewall-ruleset-in-use",
                "Firewall ruleset is in use by one or more instances.",
                "Terminate all instances that are using the ruleset before deleting it.",
            )
        del self.state.firewall_rulesets[params["id"]]
        return 200, {"data": {}}

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
                path = self.path.split("?", 1)[0].removeprefix("/api/v1")
                try:
                    status, payload = fake.handle(
                        method, path, self.headers.get("Authorization"), body
                    )
                except ConnectionDropError:
                    self.close_connection = True
                    return
                except UnreadableAnswer:
                    status, payload = 200, None
                    data = b'{"data": {"instance_ids": ["'  # cut off mid-answer
                else:
                    data = (
                        json.dumps(payload).encode()
                        if payload is not None
                        else b"Too Many Requests"
                    )
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/json" if payload is not None else "text/plain"
                )
                if status == 405:
                    self.send_header("Allow", ", ".join(fake.allowed(path)))
                if status == 429 and fake.state.retry_after is not None:
                    self.send_header("Retry-After", fake.state.retry_after)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def do_DELETE(self) -> None:
                self._serve("DELETE")

            def __getattr__(self, name: str) -> Any:
                # Any other method (PUT, TRACE, QUERY, …) on a known path: 405 with `Allow`.
                if name.startswith("do_"):
                    return lambda: self._serve(name.removeprefix("do_"))
                raise AttributeError(name)

        return Handler


def running_fake() -> FakeLambdaCloud:
    """`with running_fake() as fake:` serves on loopback for the block."""
    return FakeLambdaCloud()
