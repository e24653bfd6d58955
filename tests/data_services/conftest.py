from __future__ import annotations

from components.rest import RetryPolicy

FAST_RETRY = RetryPolicy(attempts=6, initial_seconds=0.01, max_seconds=0.05, jitter_seconds=0.01)
