"""A real, local environment for the end-to-end tests, everything on 127.0.0.1.

- etcd, kube-apiserver, kube-controller-manager and kube-scheduler (built by
  `toolchain/build.sh` from Kubernetes' Go modules), a token kubeconfig, and kwok, which turns
  Node objects the tests create into Ready nodes and runs the pods the real scheduler binds;
- Debian's openssh-server as a plain process with its own host key, port and authorized key;
- a `file://` Pulumi backend with a passphrase and automatic plugin downloads off.

Each piece starts, waits until it answers, and is stopped (and its files removed) by the
fixture that made it; processes die with the test run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import REPO

STARTUP_SECONDS = 90.0


class EnvironmentStartError(Exception):
    """A piece of the environment did not start; the message says which and why."""


def toolchain_bin() -> Path:
    """The directory `toolchain/build.sh` builds into (`make e2e` builds it first)."""
    out = subprocess.run(
        ["bash", str(REPO / "toolchain" / "build.sh"), "--print"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def tool(name: str) -> str:
    """A binary from the built toolchain, else from PATH; a clear error when neither has it."""
    built = toolchain_bin() / name
    if built.is_file():
        return str(built)
    found = shutil.which(name)
    if found is None:
        raise EnvironmentStartError(
            f"{name} is neither in {built.parent} nor on PATH: run `make e2e`, which builds "
            "the pinned toolchain (toolchain/build.sh)"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def start(
    name: str, args: list[str], workdir: Path, env: Mapping[str, str] | None = None
) -> Process:
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        popen = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    return Process(name, popen, log)


def wait_until(
    what: str, ready: Callable[[], object], process: Process, timeout: float = STARTUP_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise EnvironmentStartError(
                f"{what} exited ({process.popen.returncode}):\n{process.tail()}"
            )
        with suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    raise EnvironmentStartError(
        f"{what} did not become ready in {timeout:.0f} s:\n{process.tail()}"
    )


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@dataclass
class ControlPlane:
    """etcd + kube-apiserver + kube-controller-manager + kube-scheduler (+ kwok) on loopback."""

    workdir: Path
    processes: list[Process] = field(default_factory=list)
    api_port: int = 0
    token: str = ""

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.workdir / "kubeconfig.yaml"

    def kubeconfig(self) -> str:
        return self.kubeconfig_path.read_text(encoding="utf-8")

    def kubectl(
        self, *args: str, input_text: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [tool("kubectl"), "--kubeconfig", str(self.kubeconfig_path), *args],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def start(self, with_kwok: bool = True) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        etcd_port, peer_port = free_port(), free_port()
        self.api_port = free_port()
        self.token = secrets.token_hex(16)
        pki = self.workdir / "pki"
        pki.mkdir(exist_ok=True)
        _openssl("genrsa", "-out", str(pki / "sa.key"), "2048")
        _openssl("rsa", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))
        (pki / "tokens.csv").write_text(f"{self.token},admin,admin,system:masters\n")

        etcd = start(
            "etcd",
            [
                tool("etcd"),
                "--name=e2e",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=e2e=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            self.workdir,
        )
        self.processes.append(etcd)
        wait_until(
            "etcd",
            lambda: httpx.get(f"http://127.0.0.1:{etcd_port}/health", timeout=2).status_code == 200,
            etcd,
        )

        api = start(
            "kube-apiserver",
            [
                tool("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--cert-dir={pki}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--allow-privileged=false",
                "--v=0",
            ],
            self.workdir,
        )
        self.processes.append(api)
        self._write_kubeconfig()
        wait_until("kube-apiserver", self._ready, api)

        for name, extra in (
            (
                "kube-controller-manager",
                [
                    f"--service-account-private-key-file={pki / 'sa.key'}",
                    "--use-service-account-credentials=false",
                    "--controllers=*,-nodeipam,-route,-service,-cloud-node-lifecycle",
                ],
            ),
            ("kube-scheduler", []),
        ):
            process = start(
                name,
                [
                    tool(name),
                    f"--kubeconfig={self.kubeconfig_path}",
                    f"--authentication-kubeconfig={self.kubeconfig_path}",
                    f"--authorization-kubeconfig={self.kubeconfig_path}",
                    "--leader-elect=false",
                    "--bind-address=127.0.0.1",
                    f"--secure-port={free_port()}",
                    *extra,
                ],
                self.workdir,
            )
            self.processes.append(process)
        if with_kwok:
            kwok = start(
                "kwok",
                [
                    tool("kwok"),
                    f"--kubeconfig={self.kubeconfig_path}",
                    "--manage-all-nodes=false",
                    "--manage-nodes-with-label-selector=type=kwok",
                    "--cidr=10.244.0.1/16",
                    "--node-ip=127.0.0.1",
                    f"--server-address=127.0.0.1:{free_port()}",
                ],
                self.workdir,
            )
            self.processes.append(kwok)
        # The service-account controller creates `default` in each namespace once it runs.
        wait_until(
            "kube-controller-manager",
            lambda: (
                self.kubectl(
                    "get", "serviceaccount", "default", "-n", "default", check=False
                ).returncode
                == 0
            ),
            self.processes[2],
        )

    def _write_kubeconfig(self) -> None:
        self.kubeconfig_path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: e2e\n  cluster:\n    server: {self.server}\n"
            "    insecure-skip-tls-verify: true\n"
            "users:\n- name: admin\n  user:\n"
            f"    token: {self.token}\n"
            "contexts:\n- name: e2e\n  context: {cluster: e2e, user: admin}\n"
            "current-context: e2e\n",
            encoding="utf-8",
        )

    def _ready(self) -> bool:
        answer = httpx.get(
            f"{self.server}/readyz",
            headers={"Authorization": f"Bearer {self.token}"},
            verify=False,
            timeout=2,
        )
        return answer.status_code == 200

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


@contextmanager
def control_plane(workdir: Path, with_kwok: bool = True) -> Iterator[ControlPlane]:
    plane = ControlPlane(workdir)
    try:
        plane.start(with_kwok)
        yield plane
    finally:
        plane.stop()


@dataclass
class SshHost:
    """A real sshd on a free loopback port that trusts one generated key."""

    workdir: Path
    port: int = 0
    process: Process | None = None

    @property
    def private_key_path(self) -> Path:
        return self.workdir / "client_key"

    def private_key(self) -> str:
        return self.private_key_path.read_text(encoding="utf-8")

    def start(self, remote_path: str, environment: Mapping[str, str] | None = None) -> None:
        """`remote_path` comes first on PATH in every session (where the stub tools live)."""
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        if not Path(sshd).exists():
            raise EnvironmentStartError("sshd is not installed: `make e2e` installs openssh-server")
        self.workdir.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
        host_key = self.workdir / "host_key"
        for key in (host_key, self.private_key_path):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                check=True,
                capture_output=True,
            )
        env = {
            "PATH": f"{remote_path}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        }
        env.update(environment or {})
        options = ",".join(f'environment="{k}={v}"' for k, v in env.items())
        authorized = self.workdir / "authorized_keys"
        public = (self.workdir / "client_key.pub").read_text(encoding="utf-8").strip()
        authorized.write_text(f"{options} {public}\n", encoding="utf-8")
        authorized.chmod(0o600)
        self.port = free_port()
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress 127.0.0.1:{self.port}",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "PermitUserEnvironment yes",
                    "StrictModes no",
                    "UsePAM no",
                    "LogLevel VERBOSE",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        self.process = start("sshd", [sshd, "-D", "-e", "-f", str(config)], self.workdir)
        wait_until(
            "sshd",
            lambda: socket.create_connection(("127.0.0.1", self.port), 1).close() is None,
            self.process,
        )

    def run(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run a command on the host with the OpenSSH client, as the bootstrap is run."""
        return subprocess.run(
            [
                "ssh",
                "-i",
                str(self.private_key_path),
                "-p",
                str(self.port),
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                f"UserKnownHostsFile={self.workdir / 'known_hosts'}",
                "-o",
                "BatchMode=yes",
                "root@127.0.0.1",
                command,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def pulumi_environment(state_dir: Path, passphrase: str) -> dict[str, str]:
    """Environment for the Pulumi CLI: a file backend, no update checks, no plugin downloads."""
    state_dir.mkdir(parents=True, exist_ok=True)
    bin_dir = toolchain_bin()
    return {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "PULUMI_BACKEND_URL": f"file://{state_dir}",
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_HOME": str(state_dir.parent / "pulumi-home"),
    }
