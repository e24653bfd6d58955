"""`LambdaFirewallRuleset`: inbound rules for the instances of one region, attached at launch.

A ruleset, not the account-wide `PUT /firewall-rules`: that call replaces every rule of the
account, so two stacks (or a stack and a person at the console) would undo each other.
Changing the rules patches the ruleset in place; the instances keep running.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from ..rest import RetryPolicy
from ..secret_inputs import secret_input, secret_outputs
from .adopt import create_once
from .client import client_for
from .errors import NotFoundError
from .models import FirewallRule, FirewallRuleset

FIREWALL_RULESET_TYPE = "pulumi-python:dynamic/lambda:FirewallRuleset"
MAX_RULESET_NAME_LENGTH = 64
"""FirewallRulesetCreateRequest.name in Lambda's OpenAPI document."""


def _rules(props: dict[str, Any]) -> list[FirewallRule]:
    return [FirewallRule.from_api(r) for r in props.get("rules") or []]


class LambdaFirewallRulesetProvider(ResourceProvider):
    def __init__(self, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.retry = retry or RetryPolicy()

    def create(self, props: dict[str, Any]) -> CreateResult:
        name, region = props["name"], props["region"]
        with client_for(props, self.retry) as client:

            def find() -> FirewallRuleset | None:
                return next(
                    (
                        r
                        for r in client.list_firewall_rulesets()
                        if r.name == name and r.region == region
                    ),
                    None,
                )

            made = create_once(
                f"firewall ruleset {name}",
                find,
                lambda: client.create_firewall_ruleset(name, region, _rules(props)),
            )
            if list(made.rules) != _rules(props):  # adopted with other rules: make them ours
                made = client.update_firewall_ruleset(made.id, _rules(props))
        return CreateResult(made.id, {**props, "ruleset_id": made.id})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "region") if olds.get(k) != news.get(k)]
        changed = replaces or ([] if _rules(olds) == _rules(news) else ["rules"])
        return DiffResult(changes=bool(changed), replaces=replaces)

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with client_for(news, self.retry) as client:
            client.update_firewall_ruleset(id_, _rules(news))
        return UpdateResult({**news, "ruleset_id": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with client_for(props, self.retry) as client:
            try:
                client.delete_firewall_ruleset(id_)
            except NotFoundError:
                return


class LambdaFirewallRuleset(pulumi.dynamic.Resource, module="lambda", name="FirewallRuleset"):
    ruleset_id: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        name: str,
        region: str,
        rules: Sequence[FirewallRule],
        api_key: pulumi.Input[str] | None = None,
        api_base: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if len(name) > MAX_RULESET_NAME_LENGTH:
            raise ValueError(
                f"firewall ruleset name '{name}' is longer than {MAX_RULESET_NAME_LENGTH}"
            )
        super().__init__(
            LambdaFirewallRulesetProvider(),
            resource_name,
            {
                "name": name,
                "region": region,
                "rules": [r.to_api() for r in rules],
                "api_key": secret_input(api_key),
                "api_base": api_base,
                "ruleset_id": None,
            },
            secret_outputs(opts, "api_key"),
        )
