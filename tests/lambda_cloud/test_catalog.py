"""The catalog: its data file, `sophia catalog refresh` against the fake API, and the spec's regions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

from components.catalog import gpu_type_of, load_catalog
from sophia.spec.model import Region
from tests.conftest import REPO
from tests.fakes.lambda_cloud import VALID_KEY, FakeLambdaCloud

SOPHIA = str(Path(sys.executable).with_name("sophia"))


def test_committed_catalog_is_dated_and_complete() -> None:
    catalog = load_catalog()
    datetime.strptime(catalog.taken_at, "%Y-%m-%d")
    a10 = catalog.get("gpu_1x_a10")
    assert a10 is not None
    assert (a10.gpus, a10.gpu_type, a10.vcpus, a10.memory_gib, a10.price_cents_per_hour) == (
        1,
        "a10",
        30,
        200,
        75,
    )
    assert a10.monthly_usd() == 547.5


def test_gpu_types_from_instance_names() -> None:
    assert gpu_type_of("gpu_1x_a10") == "a10"
    assert gpu_type_of("gpu_1x_h100_sxm5") == "h100"
    assert gpu_type_of("gpu_8x_a100_80gb_sxm4") == "a100-80gb"
    assert gpu_type_of("gpu_1x_gh200") == "gh200"


def test_spec_regions_match_the_catalog() -> None:
    assert sorted(get_args(Region)) == sorted(load_catalog().regions)


def test_refresh_rebuilds_the_catalog_from_the_api(fake: FakeLambdaCloud, tmp_path: Path) -> None:
    out = tmp_path / "catalog.json"
    env = {**os.environ, "LAMBDA_API_KEY": VALID_KEY, "LAMBDA_API_BASE": fake.base_url}
    result = subprocess.run(
        [SOPHIA, "catalog", "refresh", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    refreshed = load_catalog(out)
    assert refreshed.taken_at == datetime.now(UTC).date().isoformat()
    assert refreshed.source == "Lambda Cloud API GET /instance-types"
    assert set(refreshed.instance_types) == set(load_catalog().instance_types)
    assert refreshed.get("gpu_8x_h100_sxm5").gpus == 8  # type: ignore[union-attr]
    assert json.loads(out.read_text())["regions"] == list(load_catalog().regions)
    assert ("GET", "/instance-types") in fake.state.requests


def test_refresh_with_a_bad_key_says_so(fake: FakeLambdaCloud, tmp_path: Path) -> None:
    env = {**os.environ, "LAMBDA_API_KEY": "nope-nope", "LAMBDA_API_BASE": fake.base_url}
    result = subprocess.run(
        [SOPHIA, "catalog", "refresh", "--out", str(tmp_path / "c.json")],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 1
    assert "global/invalid-api-key" in result.stderr
    assert "Traceback" not in result.stderr and "nope-nope" not in result.stderr
