"""Entry point the Pulumi CLI (and `sophia preview`) starts: serves the Analyzer over gRPC."""

from sophia_guardrails.pack import build_pack

build_pack()
