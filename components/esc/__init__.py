"""Pulumi ESC: definitions for two-slot credentials, the REST gateway and the dynamic resource."""

from .definition import (
    CredentialState,
    camel_config_key,
    credential_states,
    credentials_environment_name,
    projection_definition,
)
from .errors import EscConflictError, EscError, EscNotFoundError
from .gateway import EnvironmentRef, EscGateway, Snapshot
from .resource import ENVIRONMENT_TYPE, EscEnvironment, EscEnvironmentArgs, EscEnvironmentProvider

__all__ = [
    "ENVIRONMENT_TYPE",
    "CredentialState",
    "EnvironmentRef",
    "EscConflictError",
    "EscEnvironment",
    "EscEnvironmentArgs",
    "EscEnvironmentProvider",
    "EscError",
    "EscGateway",
    "EscNotFoundError",
    "Snapshot",
    "camel_config_key",
    "credential_states",
    "credentials_environment_name",
    "projection_definition",
]
