"""The bootstrap script, run for real over SSH by a real sshd, as the component runs it.

Stub executables stand first on the remote PATH so nothing is downloaded: `curl` serves a
stand-in k3s installer, which installs a `k3s` whose `k3s kubectl` is the real kubectl
against the local API server. Everything else — bash, the script, sshd — is real.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.bootstrap import NodeSettings, render_script
from components.gpu_host import KUBECONFIG_PATH, NODE_TOKEN_PATH, kubeconfig_for
from tests.e2e.environment import ControlPlane, SshHost, tool

K3S_VERSION = "v1.30.6+k3s1"
NODE_TOKEN = "K10e2e::server:0123456789abcdef"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


def _stubs(stub_dir: Path, cluster: ControlPlane, record: Path) -> None:
    stub_dir.mkdir(parents=True)
    _write(stub_dir / "sudo", '#!/bin/sh\nexec "$@"\n')
    for name in ("nvidia-ctk", "nvidia-container-runtime"):
        _write(stub_dir / name, "#!/bin/sh\necho stub\n")
    installer = f"""#!/bin/sh
set -eu
echo "install $INSTALL_K3S_VERSION role=${{K3S_URL:+agent}} url=${{K3S_URL:-}} args=$*" >> {record}
cat > {stub_dir}/k3s <<'K3S'
#!/bin/sh
if [ "$1" = "--version" ]; then echo "k3s version $INSTALL_K3S_VERSION (e2e)"; exit 0; fi
if [ "$1" = "kubectl" ]; then shift; exec {tool("kubectl")} --kubeconfig {cluster.kubeconfig_path} "$@"; fi
echo "k3s stub: $*" >&2; exit 1
K3S
sed -i "s/\\$INSTALL_K3S_VERSION/$INSTALL_K3S_VERSION/" {stub_dir}/k3s
chmod 755 {stub_dir}/k3s
mkdir -p {Path(KUBECONFIG_PATH).parent} {Path(NODE_TOKEN_PATH).parent}
sed "s#{cluster.server}#https://127.0.0.1:{cluster.api_port}#" {cluster.kubeconfig_path} > {KUBECONFIG_PATH}
echo {NODE_TOKEN} > {NODE_TOKEN_PATH}
"""
    _write(stub_dir / "k3s-installer.sh", installer)
    _write(
        stub_dir / "curl",
        f'#!/bin/sh\nfor a in "$@"; do case "$a" in https://get.k3s.io) exec cat {stub_dir}/k3s-installer.sh;; esac; done\n'
        'echo "curl stub: no network here ($*)" >&2; exit 7\n',
    )


@pytest.fixture
def host(tmp_path: Path, cluster: ControlPlane) -> Iterator[tuple[SshHost, Path]]:
    for path in (KUBECONFIG_PATH, NODE_TOKEN_PATH):
        if Path(path).exists():
            pytest.fail(f"{path} exists: this machine runs k3s; the e2e host would overwrite it")
    record = tmp_path / "installs.log"
    stub_dir = tmp_path / "stubs"
    _stubs(stub_dir, cluster, record)
    ssh = SshHost(tmp_path / "sshd")
    ssh.start(remote_path=str(stub_dir))
    try:
        yield ssh, record
    finally:
        ssh.stop()
        for path in (KUBECONFIG_PATH, NODE_TOKEN_PATH):
            Path(path).unlink(missing_ok=True)
        shutil.rmtree("/etc/rancher/k3s", ignore_errors=True)


def test_server_bootstrap_is_real_and_idempotent(
    host: tuple[SshHost, Path], cluster: ControlPlane
) -> None:
    ssh, record = host
    script = render_script(
        NodeSettings(
            role="server",
            host_name="gpu-a10",
            gpu_type="a10",
            k3s_version=K3S_VERSION,
            public_ip="127.0.0.1",
            private_ip="127.0.0.1",
            labels={"sophia.ai/pool": "gpu"},
        )
    )
    first = ssh.run(script)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "installing k3s v1.30.6+k3s1 (server)" in first.stdout
    installs = record.read_text(encoding="utf-8").splitlines()
    assert len(installs) == 1
    assert f"install {K3S_VERSION} role= url= args=server --tls-san 127.0.0.1" in installs[0]
    for label in (
        "gpu-type=a10",
        "nvidia.com/gpu.present=true",
        "sophia.ai/host=gpu-a10",
        "sophia.ai/pool=gpu",
    ):
        assert f"--node-label {label}" in installs[0]
    plugin = json.loads(
        cluster.kubectl(
            "get", "daemonset", "nvidia-device-plugin", "-n", "kube-system", "-o", "json"
        ).stdout
    )
    assert plugin["spec"]["template"]["spec"]["runtimeClassName"] == "nvidia"

    second = ssh.run(script)  # a second run changes nothing
    assert second.returncode == 0, second.stderr
    assert f"k3s {K3S_VERSION} already installed" in second.stdout
    assert len(record.read_text(encoding="utf-8").splitlines()) == 1

    # What the component reads back: the kubeconfig (pointed at the host) and the join token.
    raw = ssh.run(f"sudo cat {shlex.quote(KUBECONFIG_PATH)}")
    assert raw.returncode == 0
    kubeconfig = Path(ssh.workdir / "read-back.yaml")
    kubeconfig.write_text(kubeconfig_for(raw.stdout, "127.0.0.1"), encoding="utf-8")
    answered = subprocess.run(
        [tool("kubectl"), "--kubeconfig", str(kubeconfig), "get", "namespaces"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "kube-system" in answered.stdout, answered.stderr
    token = ssh.run(f"sudo cat {shlex.quote(NODE_TOKEN_PATH)}")
    assert token.stdout.strip() == NODE_TOKEN


def test_agent_joins_with_the_servers_url_and_token(host: tuple[SshHost, Path]) -> None:
    ssh, record = host
    script = render_script(
        NodeSettings(
            role="agent",
            host_name="gpu-h100",
            gpu_type="h100",
            k3s_version=K3S_VERSION,
            public_ip="127.0.0.1",
            private_ip="127.0.0.1",
            server_url="https://10.0.0.1:6443",
            node_token=NODE_TOKEN,
        )
    )
    result = ssh.run(script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert NODE_TOKEN not in result.stdout + result.stderr  # the join token is never printed
    install = record.read_text(encoding="utf-8")
    assert "role=agent url=https://10.0.0.1:6443 args=agent" in install
    assert "--node-label gpu-type=h100" in install
