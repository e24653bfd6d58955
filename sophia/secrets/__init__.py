"""The spec's credentials in Pulumi ESC: where they live (`layout`), export and rotation
(`sync`), their ages (`ages`), who read them (`audit`) and the `sophia secrets` command (`cli`).

Nothing here returns a value for display: plans, states and reports carry names only.
"""
