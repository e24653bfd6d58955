"""Lambda Cloud: the API client, its errors, and the dynamic resources built on it."""

from ..rest import ApiKey, RetryPolicy
from .client import DEFAULT_BASE_URL, LambdaCloudClient, LambdaConfigError, LambdaConnectionError
from .errors import (
    InsufficientCapacityError,
    InvalidApiKeyError,
    LambdaApiError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from .models import Instance, InstanceTypeOffer, SshKey

__all__ = [
    "DEFAULT_BASE_URL",
    "ApiKey",
    "Instance",
    "InstanceTypeOffer",
    "InsufficientCapacityError",
    "InvalidApiKeyError",
    "LambdaApiError",
    "LambdaCloudClient",
    "LambdaConfigError",
    "LambdaConnectionError",
    "NotFoundError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "SshKey",
]
