"""The bootstrap script: valid bash, shellcheck-clean, pinned and labelled for every GPU type."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.bootstrap import NodeSettings, render_script
from components.catalog import load_catalog

SHELLCHECK = shutil.which("shellcheck") or str(Path(sys.executable).with_name("shellcheck"))
GPU_TYPES = sorted(load_catalog().gpu_types())


def _settings(role: str, gpu_type: str) -> NodeSettings:
    agent = role == "agent"
    return NodeSettings(
        role=role,  # type: ignore[arg-type]
        host_name=f"gpu-{gpu_type}",
        gpu_type=gpu_type,
        k3s_version="v1.30.6+k3s1",
        public_ip="198.51.100.7",
        private_ip="10.19.60.7",
        server_url="https://10.19.60.1:6443" if agent else "",
        node_token="K10token::server:abc" if agent else "",
        labels={"sophia.ai/pool": "gpu"},
    )


@pytest.mark.parametrize("role", ["server", "agent"])
@pytest.mark.parametrize("gpu_type", GPU_TYPES)
def test_rendered_script_is_valid_and_clean(tmp_path: Path, role: str, gpu_type: str) -> None:
    script = render_script(_settings(role, gpu_type))
    path = tmp_path / "bootstrap.sh"
    path.write_text(script, encoding="utf-8")
    subprocess.run(["bash", "-n", str(path)], check=True)
    result = subprocess.run(
        [SHELLCHECK, "--severity=style", str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert "K3S_VERSION=v1.30.6+k3s1" in script
    assert f"gpu-type={gpu_type}" in script
    assert "nvidia.com/gpu.present=true" in script
    assert f"sophia.ai/host=gpu-{gpu_type}" in script
    assert "sophia.ai/pool=gpu" in script
    assert ('K3S_URL="$SERVER_URL"' in script) and (f"ROLE={role}" in script)


def test_shellcheck_catches_a_broken_script(tmp_path: Path) -> None:
    path = tmp_path / "broken.sh"
    path.write_text("#!/usr/bin/env bash\nrm -rf $UNQUOTED/*\n", encoding="utf-8")
    assert subprocess.run([SHELLCHECK, str(path)], capture_output=True).returncode != 0


def test_agent_needs_server_and_token() -> None:
    with pytest.raises(ValueError, match="server URL and the node token"):
        render_script(
            _settings("agent", "a10").__class__(
                role="agent",
                host_name="x",
                gpu_type="a10",
                k3s_version="v1.30.6+k3s1",
                public_ip="198.51.100.7",
            )
        )


def test_values_are_shell_quoted() -> None:
    script = render_script(
        NodeSettings(
            role="server",
            host_name="h",
            gpu_type="a10",
            k3s_version="v1.30.6+k3s1",
            public_ip="198.51.100.7",
            labels={"team": "a b;$(reboot)"},
        )
    )
    assert (
        "NODE_LABELS='gpu-type=a10 nvidia.com/gpu.present=true sophia.ai/host=h team=a b;$(reboot)'"
        in script
    )


def test_script_runs_idempotently_against_stub_commands(tmp_path: Path) -> None:
    """Run the real script twice with k3s/curl/sudo stubbed: the second run installs nothing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    state = tmp_path / "installed"
    stubs = {
        "nvidia-container-runtime": "exit 0",
        "nvidia-ctk": "exit 0",
        "sudo": '"$@"',
        "k3s": f'if [ "$1" = "--version" ]; then [ -f {state} ] && echo "k3s version v1.30.6+k3s1 (abc)"; exit 0; fi\necho "k3s $*" >> {log}',
        "curl": f'echo "curl $*" >> {log}; echo "touch {state}"',
        "sh": "exec bash",
        "seq": "echo 1",
        "sleep": "exit 0",
    }
    for name, body in stubs.items():
        stub = bin_dir / name
        stub.write_text(f"#!/usr/bin/env bash\n{body}\n", encoding="utf-8")
        stub.chmod(0o755)
    script = tmp_path / "bootstrap.sh"
    script.write_text(render_script(_settings("server", "a10")), encoding="utf-8")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "installing k3s v1.30.6+k3s1 (server)" in first.stdout
    second = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "k3s v1.30.6+k3s1 already installed" in second.stdout
    assert log.read_text(encoding="utf-8").count("curl -sfL https://get.k3s.io") == 1
