"""The `sophia-guardrails` policy pack: one module per rule family, assembled in `pack.py`.

Importing the package costs nothing: `sophia` reads the pack's capacity model and pricing
(`capacity`, `pricing`) without loading pulumi-policy, which only the pack's process needs.
"""
