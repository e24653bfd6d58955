"""`make bench`, part 2: reading and validating a spec, and the commands a platform engineer
runs on every edit — side by side with what they cost before.

1. Parse (YAML → data with every location) and parse + validate (`load_spec`) at 10 to 5000
   services, now against before on the same file in one run: before = ruamel's pure-Python
   composer, jsonschema for every check, the collector at its defaults (`as_before`).
2. `sophia --help`, `sophia validate` and `sophia preview` of specs/sophia.yaml: wall time.

Prints a table and writes bench/results/spec_load.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sophia.spec import load_spec, loader, schema, source
from sophia.spec.source import MAX_BYTES, read_document

sys.path.insert(0, str(Path(__file__).parent))
from run import write_spec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SIZES = (10, 100, 1000, 3000, 5000)
REPEATS = 3


def best_of(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@contextmanager
def as_before() -> Iterator[None]:
    """The reader as it was: ruamel's pure-Python composer for every document, every schema
    check by jsonschema, the collector at its default thresholds."""
    compose = source.libyaml.compose_all
    compiled = schema._compiled_check_passes
    pause = loader.fewer_collections

    def refuse(*_args: object, **_kwargs: object) -> Any:
        raise source.libyaml.YAMLError("bench: compose with ruamel")

    source.libyaml.compose_all = refuse
    schema._compiled_check_passes = lambda _data: False
    loader.fewer_collections = nullcontext  # type: ignore[assignment]
    try:
        yield
    finally:
        source.libyaml.compose_all = compose
        schema._compiled_check_passes = compiled
        loader.fewer_collections = pause


def parse_only(path: Path) -> None:
    with loader.fewer_collections():
        read_document(path)


def command_wall(*args: str) -> float:
    sophia = str(Path(sys.executable).with_name("sophia"))

    def run() -> None:
        subprocess.run([sophia, *args], cwd=ROOT, capture_output=True, check=False)

    run()  # warm the file cache and bytecode
    return best_of(run)


def main() -> None:
    console = Console(width=140)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            path = write_spec(Path(tmp) / f"spec-{size}.yaml", size)
            assert path.stat().st_size <= MAX_BYTES, f"{size} services exceed the 1 MiB limit"
            load_spec(path)  # accepted at every size reported
            parse = best_of(lambda p=path: parse_only(p))
            load = best_of(lambda p=path: load_spec(p))
            with as_before():
                parse_before = best_of(lambda p=path: parse_only(p))
                load_before = best_of(lambda p=path: load_spec(p))
            rows[size] = {
                "services": size,
                "bytes": path.stat().st_size,
                "parse_s": parse,
                "parse_before_s": parse_before,
                "load_s": load,
                "load_before_s": load_before,
            }
    commands = {
        "sophia --help": command_wall("--help"),
        "sophia validate specs/sophia.yaml": command_wall("validate", "specs/sophia.yaml"),
        "sophia preview specs/sophia.yaml": command_wall("preview", "specs/sophia.yaml"),
    }
    goals = {"sophia --help": 0.15, "sophia validate specs/sophia.yaml": 0.25,
             "sophia preview specs/sophia.yaml": 1.0}  # fmt: skip

    table = Table(title="Spec reading (best of 3, same file)", title_justify="left")
    for column in ("services", "KiB", "parse before", "parse now", "×", "parse+validate before",
                   "parse+validate now", "×", "µs/service now"):  # fmt: skip
        table.add_column(column, justify="right")
    for r in rows.values():
        table.add_row(
            str(r["services"]),
            f"{r['bytes'] / 1024:.0f}",
            f"{r['parse_before_s'] * 1000:.0f} ms",
            f"{r['parse_s'] * 1000:.0f} ms",
            f"{r['parse_before_s'] / r['parse_s']:.1f}",
            f"{r['load_before_s'] * 1000:.0f} ms",
            f"{r['load_s'] * 1000:.0f} ms",
            f"{r['load_before_s'] / r['load_s']:.1f}",
            f"{r['load_s'] / r['services'] * 1e6:.0f}",
        )
    console.print(table)
    commands_table = Table(title="Commands (wall, best of 3, warm)", title_justify="left")
    for column in ("command", "wall", "goal", "× of goal"):
        commands_table.add_column(column, justify="right" if column != "command" else "left")
    for name, wall in commands.items():
        goal = goals[name]
        commands_table.add_row(name, f"{wall:.2f} s", f"{goal:.2f} s", f"{wall / goal:.2f}")
    console.print(commands_table)
    (RESULTS / "spec_load.json").write_text(
        json.dumps({"sizes": rows, "commands": commands}, indent=2), encoding="utf-8"
    )
    console.print(f"wrote {RESULTS / 'spec_load.json'}")


if __name__ == "__main__":
    main()
