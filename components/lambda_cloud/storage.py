"""`LambdaFileSystem`: a Lambda persistent file system (NFS in one region), made once by name.

Instances mount it at launch (`LambdaInstanceArgs.file_system_names`) under
`/lambda/nfs/<name>`; it outlives them, which is the point: model weights downloaded once.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, ResourceProvider

from ..rest import RetryPolicy
from ..secret_inputs import secret_input, secret_outputs
from .adopt import create_once
from .client import client_for
from .errors import NotFoundError
from .models import FileSystem

FILE_SYSTEM_TYPE = "pulumi-python:dynamic/lambda:FileSystem"
FILE_SYSTEM_NAME = r"^[a-zA-Z][0-9a-zA-Z-]{0,59}$"
"""FilesystemCreateRequest.name in Lambda's OpenAPI document (at most 60 characters)."""
MOUNT_ROOT = "/lambda/nfs"


def mount_point(name: str) -> str:
    """Where Lambda mounts a file system launched by name (its documented default)."""
    return f"{MOUNT_ROOT}/{name}"


class LambdaFileSystemProvider(ResourceProvider):
    def __init__(self, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.retry = retry or RetryPolicy()

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        name = news.get("name")
        failures = []
        if isinstance(name, str) and not re.fullmatch(FILE_SYSTEM_NAME, name):
            failures.append(
                CheckFailure(
                    "name",
                    f"'{name}' is not a Lambda file system name (a letter, then letters, digits "
                    "and '-', at most 60 characters)",
                )
            )
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, region = props["name"], props["region"]
        with client_for(props, self.retry) as client:

            def find() -> FileSystem | None:
                same = next((f for f in client.list_file_systems() if f.name == name), None)
                if same is not None and same.region != region:
                    raise RuntimeError(
                        f"a Lambda file system named '{name}' exists in {same.region}, not "
                        f"{region}: file system names are unique in an account"
                    )
                return same

            made = create_once(
                f"file system {name}", find, lambda: client.create_file_system(name, region)
            )
        return CreateResult(made.id, {**props, "mount_point": made.mount_point})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "region") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Deletes the data. Lambda refuses while an instance mounts it (the instances are
        deleted first: they depend on it)."""
        with client_for(props, self.retry) as client:
            try:
                client.delete_file_system(id_)
            except NotFoundError:
                return


class LambdaFileSystem(pulumi.dynamic.Resource, module="lambda", name="FileSystem"):
    """Keep its data across `pulumi destroy` with `ResourceOptions(retain_on_delete=True)`."""

    name: pulumi.Output[str]
    mount_point: pulumi.Output[str]
    file_system_name: str
    """The name, known before the file system exists (node labels are made of it)."""

    def __init__(
        self,
        resource_name: str,
        name: str,
        region: str,
        api_key: pulumi.Input[str] | None = None,
        api_base: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.file_system_name = name
        super().__init__(
            LambdaFileSystemProvider(),
            resource_name,
            {
                "name": name,
                "region": region,
                "api_key": secret_input(api_key),
                "api_base": api_base,
                "mount_point": None,
            },
            secret_outputs(opts, "api_key"),
        )
