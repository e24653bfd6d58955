"""Spec edits never lose or corrupt anything: concurrency, file attributes, every stack."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from sophia.spec_edit import scale
from tests.conftest import REPO, SPEC

SOPHIA = str(Path(sys.executable).with_name("sophia"))


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    copy = tmp_path / "sophia.yaml"
    copy.write_bytes(SPEC.read_bytes())
    return copy


def _replicas(path: Path) -> dict[str, int]:
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return {s["name"]: s["replicas"] for s in data["services"]}


def test_concurrent_edits_all_land(spec: Path) -> None:
    """Two processes and two threads edit different services at once: no edit is lost."""
    processes = [
        subprocess.Popen(
            [SOPHIA, "scale", "infrastructure", "2", "--spec", str(spec)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
        subprocess.Popen(
            [SOPHIA, "scale", "data-intelligence", "3", "--spec", str(spec)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ),
    ]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(
            pool.map(
                lambda edit: scale(spec, *edit),
                [("ai-intelligence", 3), ("business-intelligence", 1)],
            )
        )
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert all(o.applied for o in outcomes), [o.message for o in outcomes]
    replicas = _replicas(spec)
    assert replicas["infrastructure"] == 2
    assert replicas["data-intelligence"] == 3
    assert replicas["ai-intelligence"] == 3


def test_mode_owner_symlink_and_crlf_are_kept(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "sophia.yaml"
    target.write_bytes(SPEC.read_bytes().replace(b"\n", b"\r\n"))
    target.chmod(0o640)
    link = tmp_path / "sophia.yaml"
    link.symlink_to(target)
    owner = target.stat().st_uid, target.stat().st_gid

    assert scale(link, "infrastructure", 2).applied
    assert link.is_symlink() and link.resolve() == target  # the link still points there
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert (target.stat().st_uid, target.stat().st_gid) == owner
    data = target.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")  # every line ending is still CRLF
    assert b"# The Sophia AI platform" in data  # comments kept
    assert _replicas(target)["infrastructure"] == 2
    assert not [
        p
        for p in real_dir.iterdir()
        if p.name.startswith(".sophia.yaml.") and not p.name.endswith(".lock")
    ]


def test_an_edit_that_breaks_another_stack_is_refused(spec: Path) -> None:
    """Scaling prod's base replicas is fine for prod; staging's smaller budget or overrides
    must hold too. A GPU scale beyond the host breaks every stack: refused, file untouched."""
    before = spec.read_bytes()
    outcome = scale(spec, "business-intelligence", 2, stack="prod")
    assert not outcome.applied
    assert any(p.startswith("stack staging: capacity") for p in outcome.problems), outcome.problems
    assert spec.read_bytes() == before


def test_the_policy_pack_dies_with_its_parent(tmp_path: Path) -> None:
    """A killed `sophia` (or engine) leaves no pack process listening."""
    pid_file = tmp_path / "pack.pid"
    parent = textwrap.dedent(
        f"""
        import os, signal
        from sophia.offline.analyzer import PolicyPackProcess
        pack = PolicyPackProcess()
        pack.start()
        open({str(pid_file)!r}, "w").write(str(pack._process.pid))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    subprocess.run([sys.executable, "-c", parent], cwd=REPO, check=False, timeout=120)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as handle:  # a zombie has exited already
            if handle.read().split(")")[-1].split()[0] == "Z":
                return
        time.sleep(0.2)
    os.kill(pid, 9)
    pytest.fail("the policy pack outlived its parent by 10 s")


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    mode=st.sampled_from([0o600, 0o640, 0o644, 0o664, 0o444 | 0o200]),
    crlf=st.booleans(),
    bom=st.booleans(),
    through_link=st.booleans(),
    replicas=st.integers(1, 3),
)
def test_any_file_keeps_its_attributes(
    tmp_path_factory: pytest.TempPathFactory,
    mode: int,
    crlf: bool,
    bom: bool,
    through_link: bool,
    replicas: int,
) -> None:
    folder = tmp_path_factory.mktemp("attributes")
    target = folder / "real.yaml"
    data = SPEC.read_bytes()
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    if bom:
        data = b"\xef\xbb\xbf" + data
    target.write_bytes(data)
    target.chmod(mode)
    path = folder / "sophia.yaml"
    if through_link:
        path.symlink_to(target)
    else:
        path = target
    assert scale(path, "infrastructure", replicas).applied
    written = target.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert written.startswith(b"\xef\xbb\xbf") is bom
    if crlf:
        assert written.count(b"\r\n") == written.count(b"\n")
    else:
        assert b"\r\n" not in written
    assert path.is_symlink() is through_link
    assert _replicas(target)["infrastructure"] == replicas
