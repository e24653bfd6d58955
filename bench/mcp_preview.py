"""Warm `preview` through the MCP server (stdio, the official client), as Cursor calls it:
the first call pays the imports and the policy pack's start, the later ones reuse both.
Run by `make bench`; figures in README.md."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

REPO = Path(__file__).resolve().parent.parent
CALLS = 6


async def main() -> None:
    spec = Path(tempfile.mkdtemp()) / "sophia.yaml"
    shutil.copy(REPO / "specs" / "sophia.yaml", spec)
    sophia = str(Path(sys.executable).with_name("sophia"))
    params = StdioServerParameters(
        command=sophia, args=["mcp", "--spec", str(spec)], env={"PATH": "/usr/bin:/bin"}
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        seconds = []
        for _ in range(CALLS):
            start = time.perf_counter()
            result = await session.call_tool("preview", {})
            seconds.append(time.perf_counter() - start)
            assert not result.is_error, result.content
    warm = statistics.median(seconds[1:])
    print("| first preview | warm preview (median of 5) | goal |")
    print("|---:|---:|---:|")
    print(f"| {seconds[0] * 1000:.0f} ms | {warm * 1000:.0f} ms | 500 ms |")


if __name__ == "__main__":
    asyncio.run(main())
