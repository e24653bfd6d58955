"""`python -m sophia_guardrails`: serve the pack from wherever it is installed (sophia preview)."""

from sophia_guardrails.pack import build_pack

build_pack()
