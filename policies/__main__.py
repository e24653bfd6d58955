"""Entry point the Pulumi CLI (and `sophia preview`) starts: serves the Analyzer over gRPC."""

from guardrails import build_pack

build_pack()
