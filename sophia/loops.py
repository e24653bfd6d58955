"""The asyncio loop Pulumi's runtime runs on: made when missing, closed explicitly.

Kept free of heavy imports: every `sophia` command closes the loop at exit.
"""

from __future__ import annotations

import asyncio


def ensure_event_loop() -> None:
    """Pulumi's runtime reads the thread's current loop; `asyncio.run` elsewhere unsets it."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


def close_event_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what Pulumi's runtime left pending, then close: done explicitly, because the
    garbage collector may close a loop after its self-pipe is gone and print a traceback."""
    if loop.is_closed() or loop.is_running():
        return
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
