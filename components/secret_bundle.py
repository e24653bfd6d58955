"""`EscSecretBundle`: grouped credentials in Pulumi ESC, projected into Kubernetes Secrets.

The values come in as Pulumi secrets (the stack's ESC environment import provides them as
stack config); each group becomes one Secret, and a per-group checksum lets workloads roll
their pods when a credential changes without the checksum revealing anything usable.
With `esc`, the bundle also owns the stack's ESC environment: it imports the credentials
environment and exports each credential's active slot as `environmentVariables` and
`pulumiConfig` (components/esc/definition.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .esc import EscEnvironment, EscEnvironmentArgs, projection_definition
from .esc.definition import dump
from .microservice import SecretKeyRef
from .secret_key import StackSecretKey

EXTERNAL_SECRETS_API = "external-secrets.io/v1"


@dataclass(frozen=True)
class EscProjection:
    """The ESC environment the bundle manages (`<organization>/<project>/<environment>`)."""

    organization: str
    project: str
    environment: str
    credentials_environment: str
    """`<project>/<name>` of the environment with the values: sophia-ai/production-credentials."""
    config_namespace: str = "sophia-ai"
    access_token: pulumi.Input[str] | None = None
    api_url: str | None = None


@dataclass(frozen=True)
class ExternalSecretsDelivery:
    """The Secrets are synced by the External Secrets Operator (its Pulumi ESC provider)
    instead of written by `pulumi up`: one SecretStore per group, reading only that group's
    environment, and one ExternalSecret per group refreshed every `refresh_interval`."""

    organization: str
    project: str
    environments: Mapping[str, str]
    """Group → the ESC environment exporting its keys as `environmentVariables`."""
    refresh_interval: str = "1h"
    token_key: str = "PULUMI_ACCESS_TOKEN"
    """The bundle credential the stores authenticate with (kept in a Secret of its own)."""
    api_url: str | None = None


@dataclass(frozen=True)
class EscSecretBundleArgs:
    namespace: pulumi.Input[str]
    groups: Mapping[str, Sequence[str]]
    """Group name → credential keys (environment variable names)."""
    values: Mapping[str, pulumi.Input[str]]
    """Credential key → value; every key of every group must have one. Stored as secrets."""
    secret_name_prefix: str = "credentials"
    labels: Mapping[str, str] = field(default_factory=dict)
    esc: EscProjection | None = None
    delivery: ExternalSecretsDelivery | None = None
    """None: the bundle writes the Secrets' values itself."""
    checksum_key: pulumi.Input[str] | None = None
    """Secret key of the checksums (HMAC-SHA256); default: a `StackSecretKey` the bundle makes."""


def kubernetes_secret_name(prefix: str, group: str) -> str:
    return f"{prefix}-{group.replace('_', '-')}"


def _digest(pairs: Sequence[tuple[str, str]]) -> str:
    text = "".join(f"{key}={value}\n" for key, value in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()


def keyed_digest(key: str, pairs: Sequence[tuple[str, str]]) -> str:
    """HMAC-SHA256 of the pairs: without the key, no dictionary recovers a value from it."""
    text = "".join(f"{k}={v}\n" for k, v in sorted(pairs))
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


class EscSecretBundle(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: EscSecretBundleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sophia:index:EscSecretBundle", name, None, opts)
        missing = [k for keys in args.groups.values() for k in keys if k not in args.values]
        if missing:
            raise ValueError(f"{name}: no value for credential(s) {', '.join(sorted(missing))}")
        self._group_of = {key: group for group, keys in args.groups.items() for key in keys}
        self._name = name
        self._values = args.values
        self._prefix = args.secret_name_prefix
        self._namespace = args.namespace
        self._labels = dict(args.labels)
        self._registries: dict[str, pulumi.Output[str]] = {}
        self.secrets: dict[str, k8s.core.v1.Secret] = {}
        self.secret_names: dict[str, pulumi.Output[str]] = {}
        self.checksums: dict[str, pulumi.Output[str]] = {}
        self._combined: dict[tuple[str, ...], pulumi.Output[str]] = {}
        checksum_key = args.checksum_key
        if checksum_key is None:
            checksum_key = StackSecretKey(
                f"{name}-checksum-key", opts=pulumi.ResourceOptions(parent=self)
            ).value
        self._checksum_key = checksum_key
        token_secret = self._token_secret(args) if args.delivery else None
        for group, keys in args.groups.items():
            secret_name = kubernetes_secret_name(args.secret_name_prefix, group)
            values = {key: pulumi.Output.secret(args.values[key]) for key in keys}
            if args.delivery is not None and token_secret is not None:
                self.secret_names[group] = self._external_secret(
                    args, args.delivery, group, keys, secret_name, token_secret
                )
            else:
                self._static_secret(args, group, secret_name, values)
            self.checksums[group] = self._checksum(values)
        self.environment: EscEnvironment | None = None
        if args.esc is not None:
            self._projection(name, args, args.esc)
        self.register_outputs({"secretNames": self.secret_names, "checksums": self.checksums})

    def _checksum(self, values: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[str]:
        """Keyed: reveals nothing without the stack's key, so it may stay readable in diffs."""
        digest = pulumi.Output.all(self._checksum_key, pulumi.Output.all(**values)).apply(
            lambda kv: keyed_digest(kv[0], list(kv[1].items()))
        )
        return pulumi.Output.unsecret(digest)

    def connection_secret(
        self, consumer: str, values: Mapping[str, pulumi.Input[str]]
    ) -> tuple[pulumi.Output[str], str]:
        """A Secret of one service's own connection details (its data-service user, index
        hosts, …). Returns its name and the checksum entry (`checksum_of`) that rolls the
        service's pods when the details change, as a credential group's does."""
        entry = f"connections:{consumer}"
        sealed = {key: pulumi.Output.secret(value) for key, value in values.items()}
        secret = self._secret(
            f"{self._name}-{consumer}-connections",
            f"{self._prefix}-{consumer}-connections",
            sealed,
            labels={"sophia.ai/connections-of": consumer},
        )
        self.checksums[entry] = self._checksum(sealed)
        return secret.metadata.name, entry

    def _static_secret(
        self,
        args: EscSecretBundleArgs,
        group: str,
        secret_name: str,
        values: Mapping[str, pulumi.Output[str]],
    ) -> None:
        secret = self._secret(
            f"{self._name}-{group.replace('_', '-')}",
            secret_name,
            values,
            labels={"sophia.ai/secret-group": group},
        )
        self.secrets[group] = secret
        self.secret_names[group] = secret.metadata.name

    def _secret(
        self,
        resource_name: str,
        secret_name: str,
        data: Mapping[str, pulumi.Input[str]],
        kind: str = "Opaque",
        labels: Mapping[str, str] | None = None,
    ) -> k8s.core.v1.Secret:
        """A Secret of the bundle's namespace, labelled as the bundle's."""
        return k8s.core.v1.Secret(
            resource_name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=secret_name,
                namespace=self._namespace,
                labels={
                    **self._labels,
                    "app.kubernetes.io/managed-by": "pulumi",
                    **(labels or {}),
                },
            ),
            type=kind,
            string_data=data,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _token_secret(self, args: EscSecretBundleArgs) -> k8s.core.v1.Secret:
        """The access token the SecretStores read ESC with: the one value still written."""
        assert args.delivery is not None
        key = args.delivery.token_key
        if key not in args.values:
            raise ValueError(f"external-secrets delivery needs the credential {key}")
        return self._secret(
            f"{self._name}-esc-token",
            f"{self._prefix}-esc-token",
            {key: pulumi.Output.secret(args.values[key])},
        )

    def _external_secret(
        self,
        args: EscSecretBundleArgs,
        delivery: ExternalSecretsDelivery,
        group: str,
        keys: Sequence[str],
        secret_name: str,
        token: k8s.core.v1.Secret,
    ) -> pulumi.Output[str]:
        """A SecretStore on the group's environment only, and the ExternalSecret that keeps
        the group's Secret (same name as the static one) in step with it."""
        store_name = f"{secret_name}-esc"
        labels = {**args.labels, "sophia.ai/secret-group": group}
        provider: dict[str, Any] = {
            "organization": delivery.organization,
            "project": delivery.project,
            "environment": delivery.environments[group],
            "accessToken": {"secretRef": {"name": token.metadata.name, "key": delivery.token_key}},
        }
        if delivery.api_url:
            provider["apiUrl"] = delivery.api_url
        store = k8s.apiextensions.CustomResource(
            f"{self._name}-{group.replace('_', '-')}-store",
            api_version=EXTERNAL_SECRETS_API,
            kind="SecretStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=store_name, namespace=args.namespace, labels=labels
            ),
            spec={"provider": {"pulumi": provider}},
            opts=pulumi.ResourceOptions(parent=self),
        )
        external = k8s.apiextensions.CustomResource(
            f"{self._name}-{group.replace('_', '-')}",
            api_version=EXTERNAL_SECRETS_API,
            kind="ExternalSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=secret_name, namespace=args.namespace, labels=labels
            ),
            spec={
                "refreshInterval": delivery.refresh_interval,
                "secretStoreRef": {
                    "kind": "SecretStore",
                    "name": store.id.apply(lambda _: store_name),  # after the store
                },
                "target": {
                    "name": secret_name,
                    "creationPolicy": "Owner",
                    "template": {"metadata": {"labels": labels}},
                },
                "data": [
                    {"secretKey": key, "remoteRef": {"key": f"environmentVariables.{key}"}}
                    for key in keys
                ],
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The name, once the ExternalSecret exists: workloads that use it come after.
        return external.id.apply(lambda _: secret_name)

    def _projection(self, name: str, args: EscSecretBundleArgs, esc: EscProjection) -> None:
        definition = projection_definition(
            esc.credentials_environment, args.groups, esc.config_namespace
        )
        self.environment = EscEnvironment(
            f"{name}-esc",
            EscEnvironmentArgs(
                organization=esc.organization,
                project=esc.project,
                environment=esc.environment,
                yaml=dump(definition),
                access_token=esc.access_token,
                api_url=esc.api_url,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def registry_secret(
        self, name: str, server: str, username_key: str, password_key: str
    ) -> pulumi.Output[str]:
        """A `kubernetes.io/dockerconfigjson` Secret for a private registry, from two of the
        bundle's credentials (made once per registry); returns its name for imagePullSecrets."""
        made = self._registries.get(name)
        if made is not None:
            return made
        for key in (username_key, password_key):
            if key not in self._values:
                raise ValueError(f"the bundle holds no credential {key} for registry {server}")
        pair: pulumi.Output[list[str]] = pulumi.Output.all(
            self._values[username_key], self._values[password_key]
        )
        config: pulumi.Output[str] = pair.apply(
            lambda pair: json.dumps(
                {
                    "auths": {
                        server: {
                            "username": pair[0],
                            "password": pair[1],
                            "auth": base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode(),
                        }
                    }
                }
            )
        )
        sealed: pulumi.Output[str] = pulumi.Output.secret(config)
        secret = self._secret(
            f"{self._name}-registry-{name}",
            f"{self._prefix}-registry-{name}",
            {".dockerconfigjson": sealed},
            kind="kubernetes.io/dockerconfigjson",
        )
        self._registries[name] = secret.metadata.name
        return self._registries[name]

    def group_of(self, key: str) -> str:
        return self._group_of[key]

    def key_ref(self, key: str) -> SecretKeyRef:
        """An env var of the same name, read from the Secret that holds `key`."""
        return SecretKeyRef(
            env_name=key, secret_name=self.secret_names[self.group_of(key)], key=key
        )

    def checksum_of(self, groups: Iterable[str]) -> pulumi.Output[str]:
        """One checksum over several groups: what a service that uses them should roll on.
        Services that use the same groups share one Output (a platform has few combinations
        and many services)."""
        chosen = tuple(sorted(set(groups)))
        combined = self._combined.get(chosen)
        if combined is None:
            parts = pulumi.Output.all(*[self.checksums[g] for g in chosen])
            combined = parts.apply(lambda sums: _digest(list(zip(chosen, sums, strict=True))))
            self._combined[chosen] = combined
        return combined
