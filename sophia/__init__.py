"""sophia-infra: the spec language, the builder and the `sophia` command.

`components` holds the reusable Pulumi components; this package turns a `sophia.yaml`
into them and drives validation, previews and secrets.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sophia-infra")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
