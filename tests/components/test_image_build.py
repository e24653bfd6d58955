"""A service with a build context: pulumi_docker builds and pushes, pods run the digest."""

from __future__ import annotations

from pathlib import Path

from sophia.offline.runner import run_spec
from sophia.spec import load_spec
from tests.components.conftest import canary_config

SPEC = """\
apiVersion: sophia.ai/v1
kind: Platform
metadata: {name: builder}
budget: {monthlyUsd: 10}
cluster: {type: existing}
services:
  - name: web
    image: ghcr.io/acme/web:3.2.1
    build: {context: ./web, args: {VERSION: 3.2.1}}
    ports: [{name: http, port: 8080}]
"""


def test_build_context_becomes_a_docker_image(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    spec_path = tmp_path / "sophia.yaml"
    spec_path.write_text(SPEC, encoding="utf-8")
    resources, _ = run_spec(load_spec(spec_path), "dev", canary_config)
    (image,) = [r for r in resources if r.type == "docker:index/image:Image"]
    assert image.properties["imageName"] == "ghcr.io/acme/web:3.2.1"
    assert image.properties["build"]["context"] == str(tmp_path / "web")
    assert image.properties["build"]["args"] == {"VERSION": "3.2.1"}
    assert image.parent.endswith("::web")
    (deployment,) = [r for r in resources if r.type == "kubernetes:apps/v1:Deployment"]
    container = deployment.properties["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/acme/web:3.2.1@sha256:" + "0" * 64
