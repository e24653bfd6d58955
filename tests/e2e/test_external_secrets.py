"""External Secrets delivery on the real API server: the operator's own CRDs (pinned in
toolchain/versions.env, copied by toolchain/build.sh) installed, the rendered SecretStores and
ExternalSecrets accepted by the API server's validation of them — and a malformed one refused,
so the acceptance means something. (The operator itself is not run: it would call Pulumi Cloud.)"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from ruamel.yaml import YAML

from sophia.spec import load_spec
from tests.conftest import SPEC
from tests.e2e.environment import ControlPlane
from tests.e2e.test_cluster import _render


def _crds() -> Path:
    apiserver = shutil.which("kube-apiserver")
    assert apiserver is not None, "the toolchain's bin directory is not on PATH (make e2e)"
    crds = Path(apiserver).parent.parent / "crds"
    assert (crds / "external-secrets.io_externalsecrets.yaml").exists(), crds
    return crds


def _wait_established(cluster: ControlPlane, *plurals: str, seconds: float = 60) -> None:
    """Until the API server serves the CRDs (`kubectl wait` fails before status exists)."""
    deadline = time.monotonic() + seconds
    for plural in plurals:
        while True:
            found = cluster.kubectl(
                "get", f"crd/{plural}.external-secrets.io", "-o", "json", check=False
            )
            status = json.loads(found.stdout or "{}").get("status") or {}
            conditions = status.get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                break
            assert time.monotonic() < deadline, f"{plural} not established: {conditions}"
            time.sleep(0.5)


def test_external_secrets_objects_pass_the_operators_crds(
    cluster: ControlPlane, tmp_path: Path
) -> None:
    text = (
        SPEC.read_text()
        .replace("  rotation:\n", "  delivery: external-secrets\n  rotation:\n", 1)
        .replace("namespace: sophia\n", "namespace: sophia-eso\n", 1)
    )
    spec = tmp_path / "sophia.yaml"
    spec.write_text(text)
    namespace = load_spec(spec).platform.target_namespace
    assert namespace == "sophia-eso"
    for crd in sorted(_crds().glob("*.yaml")):
        cluster.kubectl("apply", "--server-side", "-f", str(crd))
    _wait_established(cluster, "secretstores", "externalsecrets")

    out = tmp_path / "manifests"
    _render(spec, out)
    listing = (out / "SECRETS.txt").read_text(encoding="utf-8").splitlines()[1:]
    # The stores' token, and business intelligence's connection details (its own Snowflake
    # user and key, the index's host: made by the stack, in no ESC environment).
    assert sorted(line.split(":")[0] for line in listing) == [
        f"{namespace}/credentials-business-intelligence-connections",
        f"{namespace}/credentials-esc-token",
    ]
    cluster.kubectl("apply", "-f", str(out / f"namespace-{namespace}.yaml"))
    applied = cluster.kubectl("apply", "--server-side", "--field-manager=e2e", "-f", str(out))
    assert applied.returncode == 0, applied.stderr

    stores = json.loads(
        cluster.kubectl("get", "secretstores", "-n", namespace, "-o", "json").stdout
    )
    externals = json.loads(
        cluster.kubectl("get", "externalsecrets", "-n", namespace, "-o", "json").stdout
    )
    groups = len(load_spec(spec).platform.secrets.groups)  # type: ignore[union-attr]
    assert len(stores["items"]) == len(externals["items"]) == groups
    environments = {s["spec"]["provider"]["pulumi"]["environment"] for s in stores["items"]}
    assert environments == {
        "production-ai_intelligence",
        "production-data_intelligence",
        "production-infrastructure",
        "production-business_intelligence",
    }

    store_file = out / "secretstore-credentials-infrastructure-esc.yaml"
    broken = YAML(typ="safe").load(store_file.read_text())
    del broken["spec"]["provider"]["pulumi"]["environment"]
    broken["metadata"]["name"] = "broken"
    refused = cluster.kubectl(
        "apply", "--server-side", "-f", "-", input_text=json.dumps(broken), check=False
    )
    assert refused.returncode != 0 and "environment" in refused.stderr, refused.stderr
