"""sophia-infra: the spec language, the builder and the `sophia` command.

`components` holds the reusable Pulumi components; this package turns a `sophia.yaml`
into them and drives validation, previews and secrets.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """`__version__` on first use: importlib.metadata costs 25 ms that `sophia --help` need
    not pay."""
    if name != "__version__":
        raise AttributeError(f"module 'sophia' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sophia-infra")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"
