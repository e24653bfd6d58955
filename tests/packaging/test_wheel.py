"""A wheel of the project runs `sophia preview` in a fresh virtualenv outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import REPO, SPEC


def _run(*args: str | Path, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_wheel_installs_and_previews_outside_the_repository(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a clean copy: the build must not depend on local leftovers
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", "venv", ".git", "*.egg-info", "build", "__pycache__", ".*_cache", "bench"
        ),
    )
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist", ".", cwd=source
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("sophia_infra-*.whl"))

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    installed = _run(
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        wheel,
        cwd=tmp_path,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]

    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(SPEC, work / "sophia.yaml")
    preview = _run(env_dir / "bin" / "sophia", "preview", "sophia.yaml", cwd=work)
    assert preview.returncode == 0, preview.stdout[-2000:] + preview.stderr[-2000:]
    assert "PASSED" in preview.stdout
    shown = _run(
        python,
        "-c",
        "import sophia_guardrails, sophia; print(sophia_guardrails.__file__)",
        cwd=work,
    )
    assert str(env_dir) in shown.stdout  # the pack came from the wheel, not the checkout
