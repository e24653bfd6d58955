"""Component provider entry point: the CLI runs this directory to serve the components."""

from pulumi.provider.experimental import component_provider_host
from sophia_provider import EscSecretBundle, LambdaGpuHost, SophiaMicroservice

if __name__ == "__main__":
    component_provider_host(
        name="sophia",
        components=[SophiaMicroservice, EscSecretBundle, LambdaGpuHost],
        version="0.1.0",
    )
