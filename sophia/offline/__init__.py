"""The offline engine: the Pulumi program under Pulumi's own mock monitor, no CLI, no cloud."""
