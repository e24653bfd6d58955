"""monthly-budget, no-plaintext-secrets, esc-values-secret, pinned-images, resource-limits."""

from __future__ import annotations

from tests.policies.harness import (
    Pack,
    config_map,
    container,
    deployment,
    esc_environment,
    fires,
    instance,
    quiet,
    secret,
)


class TestMonthlyBudget:
    def test_one_a10_fits_the_default_budget(self, pack: Pack) -> None:
        quiet("monthly-budget", pack.analyze_stack([instance()]))

    def test_over_budget_message_is_itemised(self, pack: Pack) -> None:
        stack = [instance("gpu_1x_a10", "a"), instance("gpu_1x_a100_sxm4", "b")]
        d = fires(
            "monthly-budget",
            pack.analyze_stack(stack),
            "estimated 1,489.20 USD/month exceeds the monthly budget of 1,000.00 USD",
            "sophia-prod-a (gpu_1x_a10) 0.75 USD/h × 730 h = 547.50",
            "sophia-prod-b (gpu_1x_a100_sxm4) 1.29 USD/h × 730 h = 941.70",
        )
        assert d.enforcement_level == "mandatory"

    def test_budget_and_hours_come_from_config(self, pack: Pack) -> None:
        stack = [instance("gpu_1x_a10", "a"), instance("gpu_1x_a100_sxm4", "b")]
        quiet(
            "monthly-budget",
            pack.analyze_stack(stack, {"monthly-budget": {"monthlyBudgetUsd": 1500}}),
        )
        fires(
            "monthly-budget",
            pack.analyze_stack(
                [instance()], {"monthly-budget": {"monthlyBudgetUsd": 100, "hoursPerMonth": 200}}
            ),
            "0.75 USD/h × 200 h = 150.00",
        )

    def test_exactly_on_budget_passes(self, pack: Pack) -> None:
        quiet(
            "monthly-budget",
            pack.analyze_stack([instance()], {"monthly-budget": {"monthlyBudgetUsd": 547.5}}),
        )

    def test_no_hosts_costs_nothing(self, pack: Pack) -> None:
        quiet("monthly-budget", pack.analyze_stack([deployment()]))


class TestNoPlaintextSecrets:
    def test_references_and_plain_settings_pass(self, pack: Pack) -> None:
        c = container(
            env=[
                {"name": "LOG_LEVEL", "value": "info"},
                {
                    "name": "OPENROUTER_API_KEY",
                    "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}},
                },
            ],
            envFrom=[{"secretRef": {"name": "credentials-ai"}}],
        )
        quiet("no-plaintext-secrets", pack.analyze(deployment("api", [c])))

    def test_credential_by_name(self, pack: Pack) -> None:
        c = container(env=[{"name": "TAVILY_API_KEY", "value": "abc"}])
        d = fires(
            "no-plaintext-secrets",
            pack.analyze(deployment("api", [c])),
            "Deployment 'api'",
            "containers[0].env[TAVILY_API_KEY] has a plain value",
            "its name says it is a credential",
            "secretKeyRef",
        )
        assert d.enforcement_level == "mandatory"

    def test_password_anywhere_in_the_name(self, pack: Pack) -> None:
        c = container(env=[{"name": "SNOWFLAKE_PASSWORD_V2", "value": "x"}])
        fires("no-plaintext-secrets", pack.analyze(deployment("api", [c])), "SNOWFLAKE_PASSWORD_V2")

    def test_credential_by_content(self, pack: Pack) -> None:
        c = container(env=[{"name": "GH", "value": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}])
        fires(
            "no-plaintext-secrets",
            pack.analyze(deployment("api", [c])),
            "its value looks like a secret",
            "GitHub Token",
        )

    def test_command_line(self, pack: Pack) -> None:
        c = container(args=["--log-level=info", "--api-token=tvly-AbCdEf0123456789GhIjKlMnOpQr"])
        fires(
            "no-plaintext-secrets",
            pack.analyze(deployment("api", [c])),
            "containers[0].args[1] carries a credential on the command line",
        )
        quiet(
            "no-plaintext-secrets",
            pack.analyze(deployment("api", [container(args=["--port=8080"])])),
        )

    def test_config_map(self, pack: Pack) -> None:
        fires(
            "no-plaintext-secrets",
            pack.analyze(config_map({"PINECONE_API_KEY": "pc-123"})),
            "ConfigMap 'settings': data.PINECONE_API_KEY is plain text",
        )
        quiet("no-plaintext-secrets", pack.analyze(config_map({"REGION": "us-west-1"})))

    def test_allowed_names(self, pack: Pack) -> None:
        c = container(env=[{"name": "TOKEN_URL_KEY", "value": "https://auth.example.com"}])
        quiet(
            "no-plaintext-secrets",
            pack.analyze(
                deployment("api", [c]),
                {"no-plaintext-secrets": {"allowedNames": ["TOKEN_URL_KEY"]}},
            ),
        )


class TestEscValuesSecret:
    GOOD = """
values:
  ai_intelligence:
    OPENROUTER_API_KEY:
      a: {fn::secret: sk-or-v1-aaaa}
      b: {fn::secret: {ciphertext: ZXNjeAAAAA}}
      active: a
      rotatedAt: "2026-11-20T02:00:00Z"
  environmentVariables:
    OPENROUTER_API_KEY: ${ai_intelligence.OPENROUTER_API_KEY.a}
  pulumiConfig:
    sophia-ai:openrouterApiKey: ${ai_intelligence.OPENROUTER_API_KEY.a}
"""

    def test_secrets_and_interpolations_pass(self, pack: Pack) -> None:
        quiet("esc-values-secret", pack.analyze(esc_environment(self.GOOD)))

    def test_plain_credential_fails(self, pack: Pack) -> None:
        bad = self.GOOD.replace(
            "b: {fn::secret: {ciphertext: ZXNjeAAAAA}}",
            "b: ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        )
        d = fires(
            "esc-values-secret",
            pack.analyze(esc_environment(bad)),
            "values.ai_intelligence.OPENROUTER_API_KEY.b is a plain value",
            "wrap it in fn::secret",
        )
        assert d.enforcement_level == "mandatory"

    def test_plain_value_under_a_credential_name(self, pack: Pack) -> None:
        fires(
            "esc-values-secret",
            pack.analyze(esc_environment("values:\n  TAVILY_API_KEY: tvly-1\n")),
            "values.TAVILY_API_KEY",
        )

    def test_pulumiservice_environment_and_secret_yaml(self, pack: Pack) -> None:
        from tests.policies.harness import resource

        bad = resource(
            "pulumiservice:index:Environment",
            {
                "organization": "o",
                "project": "p",
                "name": "e",
                "yaml": secret("values:\n  SNOWFLAKE_PASSWORD: hunter2\n"),
            },
            "env",
        )
        fires("esc-values-secret", pack.analyze(bad), "values.SNOWFLAKE_PASSWORD")

    def test_broken_yaml_is_reported(self, pack: Pack) -> None:
        fires(
            "esc-values-secret",
            pack.analyze(esc_environment("values: [unclosed\n")),
            "not valid YAML",
        )


class TestHygiene:
    def test_pinned_images(self, pack: Pack) -> None:
        quiet("pinned-images", pack.analyze(deployment()))
        digest = "ghcr.io/acme/app@sha256:" + "a" * 64
        quiet("pinned-images", pack.analyze(deployment("d", [container(image=digest)])))
        d = fires(
            "pinned-images",
            pack.analyze(deployment("l", [container(image="nginx:latest")])),
            "containers[0].image nginx:latest uses :latest",
        )
        assert d.enforcement_level == "advisory"
        fires(
            "pinned-images",
            pack.analyze(deployment("n", [container(image="registry:5000/nginx")])),
            "has no tag",
        )

    def test_resource_limits(self, pack: Pack) -> None:
        quiet("resource-limits", pack.analyze(deployment()))
        d = fires(
            "resource-limits",
            pack.analyze(deployment("x", [container(resources={})])),
            "lacks requests.cpu, requests.memory, limits.cpu, limits.memory",
        )
        assert d.enforcement_level == "advisory"
        init = container(name="init", resources={"limits": {"cpu": "1", "memory": "1Gi"}})
        fires(
            "resource-limits",
            pack.analyze(deployment("y", [container()], initContainers=[init])),
            "initContainers[0].resources lacks requests.cpu, requests.memory",
        )
