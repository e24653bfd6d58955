"""The pack stands on its own: published packages only, its own catalog data, any directory."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from sophia.policy_pack import pack_catalog_file, pack_catalog_text
from tests.conftest import REPO

PACK = REPO / "policies"
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==[0-9][^\s]*$")
# what each pinned requirement is imported as
IMPORT_NAMES = {
    "pulumi-policy": "pulumi_policy",
    "pulumi": "pulumi",
    "detect-secrets": "detect_secrets",
    "ruamel.yaml": "ruamel",
}
# what pulumi and pulumi-policy bring along, imported by the pack's server
TRANSITIVE = {"google"}


def _requirements() -> list[str]:
    lines = (PACK / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_requirements_are_published_packages_pinned_exactly() -> None:
    requirements = _requirements()
    assert requirements, "the pack lists no requirements"
    for line in requirements:
        match = REQUIREMENT.match(line)
        assert match, f"not an exact pin of a published package: {line!r}"
        assert match.group(1) in IMPORT_NAMES, f"unexpected requirement {line!r}"


def _top_level_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_pack_imports_only_the_stdlib_its_requirements_and_itself() -> None:
    allowed = (
        set(sys.stdlib_module_names)
        | set(IMPORT_NAMES.values())
        | TRANSITIVE
        | {"sophia_guardrails"}
    )
    for path in sorted(PACK.rglob("*.py")):
        if "venv" in path.parts:
            continue
        foreign = _top_level_imports(path) - allowed
        assert not foreign, f"{path.relative_to(REPO)} imports {sorted(foreign)}"


def test_the_packs_catalog_is_the_projects_catalog() -> None:
    assert pack_catalog_file() == PACK / "sophia_guardrails" / "catalog.json"
    assert pack_catalog_file().read_text(encoding="utf-8") == pack_catalog_text(), (
        "the pack's catalog drifted from components/catalog: run `sophia catalog sync`"
    )


def test_publish_layout() -> None:
    """What `pulumi policy publish` packs: the project file, the entry point, requirements."""
    for name in ("PulumiPolicy.yaml", "__main__.py", "requirements.txt"):
        assert (PACK / name).is_file(), name
    policy_yaml = (PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    assert "virtualenv: venv" in policy_yaml  # its own environment, inside the pack
    assert "../" not in policy_yaml.split("runtime:")[1]  # nothing outside the pack


def test_the_hashed_lock_installs_the_pinned_requirements() -> None:
    """`make policy-venv` installs policies/requirements-lock.txt with --require-hashes: it
    must pin exactly what requirements.txt pins, each with hashes."""
    lock = (PACK / "requirements-lock.txt").read_text(encoding="utf-8")
    for line in _requirements():
        name, _, version = line.partition("==")
        normal = "[-_.]".join(map(re.escape, re.split(r"[-_.]+", name)))  # PEP 503 names
        pinned = re.search(rf"^{normal}=={re.escape(version)} \\$", lock, re.M | re.I)
        assert pinned, f"{line} is not pinned in requirements-lock.txt (make lock)"
    blocks = [b for b in lock.split("\n") if re.match(r"^[A-Za-z0-9_.-]+==", b)]
    assert blocks and all(b.endswith("\\") for b in blocks)  # every pin carries hashes
