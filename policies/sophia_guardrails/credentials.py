"""Credentials: never in plain env, ConfigMaps or command lines; in ESC only as fn::secret."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import BasePlugin
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .guard import config, guarded_resource
from .props import label, mapping, pod_spec, sequence

CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ESC_ENVIRONMENT_TYPES = ("pulumi-python:dynamic/esc:Environment", "pulumiservice:index:Environment")
_CREDENTIAL_NAME = re.compile(
    r"(^|_)(API_?KEY|KEY|TOKEN|SECRET|CREDENTIALS?|PRIVATE_KEY|ACCESS_KEY)$|PASSWORD|PASSWD",
)
_INTERPOLATION_ONLY = re.compile(r"^(\$\{[^}]+\}\s*)+$")
_NOT_SECRETS = {"Public IP (ipv4)"}  # an address is not a credential


def looks_like_credential_name(name: str) -> bool:
    return bool(_CREDENTIAL_NAME.search(name.upper().replace("-", "_")))


@cache
def _detectors() -> tuple[BasePlugin, ...]:
    mapping_: Mapping[str, type[BasePlugin]] = get_mapping_from_secret_type_to_class()
    return tuple(cls() for kind, cls in mapping_.items() if kind not in _NOT_SECRETS)


SCAN_CHUNK = 4096
"""Characters detect-secrets sees at once: long lines are scanned in overlapping chunks, so
the work grows linearly with the text (a 10 MB value once took minutes)."""
MAX_ESC_VALUES = 20_000
"""Values of an ESC definition walked at most (aliases can make a small text a huge tree)."""


def _chunks(text: str) -> Iterator[str]:
    for line in text.splitlines() or [text]:
        if len(line) <= SCAN_CHUNK:
            yield line
            continue
        step = SCAN_CHUNK // 2  # overlapping halves: a secret on a boundary is still whole
        for start in range(0, len(line), step):
            yield line[start : start + SCAN_CHUNK]


def detected_secret_types(text: str, name: str = "value") -> list[str]:
    """What detect-secrets' detectors find in `name="text"` (entropy detectors want quotes)."""
    found = {
        s.type
        for chunk in _chunks(text)
        for d in _detectors()
        for s in d.analyze_line(filename="policy", line=f'{name}="{chunk}"', line_number=1)
    }
    return sorted(found)


def _problem(name: str, value: Any, allowed: Sequence[str]) -> str | None:
    if name in allowed or not isinstance(value, str) or not value:
        return None
    if looks_like_credential_name(name):
        return "its name says it is a credential"
    kinds = detected_secret_types(value, name)
    return f"its value looks like a secret ({', '.join(kinds)})" if kinds else None


@guarded_resource
def _check_plaintext(args: ResourceValidationArgs, report: ReportViolation) -> None:
    who = label(args.resource_type, args.name, args.props)
    allowed: list[str] = config(args, "allowedNames", [])
    fix = "move it to a Secret and reference it with secretKeyRef / envFrom"
    if args.resource_type == CONFIG_MAP:
        for key, value in mapping(args.props.get("data"), "data").items():
            problem = _problem(str(key), value, allowed)
            if problem:
                report(f"{who}: data.{key} is plain text but {problem}; {fix}", None)
        for key, value in mapping(args.props.get("binaryData"), "binaryData").items():
            problem = _problem(str(key), _decoded(value), allowed)
            if problem:
                report(f"{who}: binaryData.{key} is plain text but {problem}; {fix}", None)
        return
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for c in pod.containers():
        for i, item in enumerate(sequence(c.spec.get("env"), f"{c.path}.env")):
            env = mapping(item, f"{c.path}.env[{i}]")
            if "value" not in env:
                continue
            problem = _problem(str(env.get("name")), env.get("value"), allowed)
            if problem:
                report(
                    f"{who}: {c.path}.env[{env.get('name')}] has a plain value but {problem}; "
                    f"{fix}",
                    None,
                )
        for field in ("command", "args"):
            for j, part in enumerate(sequence(c.spec.get(field), f"{c.path}.{field}")):
                if not isinstance(part, str):
                    continue
                flag, _, value = part.partition("=")
                kinds = detected_secret_types(value or part, flag.lstrip("-") if value else "arg")
                if value and looks_like_credential_name(flag.lstrip("-")):
                    kinds = kinds or ["credential flag"]
                if kinds:
                    report(
                        f"{who}: {c.path}.{field}[{j}] carries a credential on the command "
                        f"line ({', '.join(kinds)}); {fix} and read it from the environment",
                        None,
                    )


def _definition_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        return str(value["text"])  # an asset on the wire
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else None


def _decoded(value: Any) -> str | None:
    """binaryData as text where it is text (base64 of UTF-8); None for real binary."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


class TooLargeError(Exception):
    """An ESC definition expands beyond MAX_ESC_VALUES values."""


def _plain_leaves(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every literal not under `fn::secret`: iterative, and stopped
    after MAX_ESC_VALUES values (shared anchors are walked once per use, as ESC expands them)."""
    budget = MAX_ESC_VALUES
    stack: list[tuple[Any, str, str]] = [(node, path, "")]
    while stack:
        current, where, key = stack.pop()
        budget -= 1
        if budget < 0:
            raise TooLargeError(f"expands to more than {MAX_ESC_VALUES} values")
        if isinstance(current, Mapping):
            for child_key, child in current.items():
                if child_key != "fn::secret":
                    stack.append((child, f"{where}.{child_key}", str(child_key)))
        elif isinstance(current, list):
            for i, child in enumerate(current):
                stack.append((child, f"{where}[{i}]", key))
        elif where != path:
            yield where, key, current


@guarded_resource
def _check_esc(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in ESC_ENVIRONMENT_TYPES:
        return
    who = f"ESC environment '{args.name}'"
    text = _definition_text(args.props.get("yaml"))
    if text is None:
        return
    try:
        definition = YAML(typ="safe", pure=True).load(text) or {}
    except YAMLError as exc:
        report(f"{who}: its definition is not valid YAML ({type(exc).__name__})", None)
        return
    values = mapping(mapping(definition, "definition").get("values"), "values")
    try:
        leaves = list(_plain_leaves(values, "values"))
    except TooLargeError as exc:
        report(
            f"{who}: its definition {exc} (aliases repeated too often); it cannot be checked", None
        )
        return
    for path, key, value in sorted(leaves):
        if not isinstance(value, str) or _INTERPOLATION_ONLY.match(value):
            continue
        problem = _problem(key, value, config(args, "allowedPlainKeys", []))
        if problem:
            report(f"{who}: {path} is a plain value but {problem}; wrap it in fn::secret", None)


POLICIES = [
    ResourceValidationPolicy(
        name="no-plaintext-secrets",
        description="No credential in a plain container env value, a ConfigMap or a command "
        "line (by name and by detect-secrets' detectors).",
        remediation_steps="Put the credential in the spec's `secrets.groups` (ESC) and give it "
        "to the service through `secrets.groups` or `secrets.keys`; a name that only looks like "
        "a credential goes into allowedNames.",
        validate=_check_plaintext,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "allowedNames": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": [],
                    "description": "Variable names that look like credentials but are not.",
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="esc-values-secret",
        description="Every credential in an ESC environment definition sits under fn::secret.",
        remediation_steps="Wrap the value in `fn::secret` (`sophia secrets export` always "
        "does), or list a key that is not a credential in allowedPlainKeys.",
        validate=_check_esc,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={
                "allowedPlainKeys": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": [],
                    "description": "ESC value keys that look like credentials but are not.",
                }
            }
        ),
    ),
]
