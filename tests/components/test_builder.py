"""The program `pulumi up` runs, under Pulumi's mock monitor, over the committed specs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime.sync_await import _sync_await

from components.microservice import CHECKSUM_ANNOTATION
from sophia.builder import MissingConfigError, build_platform, credential_config_key
from sophia.offline.analyzer import stack_request
from sophia.offline.render import redact
from sophia.offline.runner import is_secret, run_under_mocks, unwrap_secrets
from sophia.spec import load_spec
from tests.components.conftest import CANARY, Run, canary_config, run
from tests.conftest import REPO, SPEC

K8S = "kubernetes:"


def test_resource_inventory_of_sophia_yaml(sophia_run: Run) -> None:
    counts = Counter(r.type for r in sophia_run.resources)
    assert counts == {
        "sophia:index:LambdaGpuHost": 1,
        "pulumi-python:dynamic/lambda:Instance": 1,
        "pulumi-python:dynamic/lambda:FileSystem": 1,  # sophia-models
        "pulumi-python:dynamic/lambda:FirewallRuleset": 1,  # the k3s cluster's
        "sophia:index:NodeDirectoryClaim": 1,  # sophia-models, offered to the pods
        "kubernetes:core/v1:PersistentVolume": 1,
        "kubernetes:core/v1:PersistentVolumeClaim": 1,
        "command:remote:Command": 3,  # bootstrap, kubeconfig, node token
        "pulumi:providers:kubernetes": 1,
        "kubernetes:core/v1:Namespace": 1,
        "sophia:index:EscSecretBundle": 1,
        "pulumi-python:dynamic/sophia:StackSecretKey": 1,  # keys the checksum annotations
        "kubernetes:core/v1:Secret": 5,  # 4 groups, business intelligence's connections
        "sophia:index:SophiaMicroservice": 4,
        "kubernetes:core/v1:ServiceAccount": 4,
        "kubernetes:apps/v1:Deployment": 4,
        "kubernetes:core/v1:Service": 4,
        "kubernetes:policy/v1:PodDisruptionBudget": 1,  # ai-intelligence asks for one
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": 2,
        "kubernetes:networking.k8s.io/v1:NetworkPolicy": 1,  # business-intelligence.allowFrom
        # dataServices: one warehouse, one database with two schemas, one index, one consumer
        "sophia:data:SnowflakeWorkspace": 1,
        "pulumi:providers:snowflake": 2,
        "snowflake:index/warehouse:Warehouse": 1,
        "snowflake:index/database:Database": 1,
        "snowflake:index/schema:Schema": 2,
        "snowflake:index/accountRole:AccountRole": 1,
        "pulumi-python:dynamic/sophia:ServiceKeyPair": 1,
        "snowflake:index/serviceUser:ServiceUser": 1,
        "snowflake:index/grantAccountRole:GrantAccountRole": 1,
        "snowflake:index/grantPrivilegesToAccountRole:GrantPrivilegesToAccountRole": 8,
        "sophia:data:PineconeIndex": 1,
        "pulumi-python:dynamic/pinecone:Index": 1,
    }


def test_children_are_parented_and_named_after_their_component(sophia_run: Run) -> None:
    components = {
        r.urn: r.name
        for r in sophia_run.resources
        if r.type.startswith(("sophia:index:", "sophia:data:"))
    }
    for r in sophia_run.resources:
        if r.parent in components:
            assert r.name.startswith(f"{components[r.parent]}-"), r.name
    children = [r for r in sophia_run.resources if r.parent in components]
    # services' children + host instance/commands, ESC env, file system volume and claim,
    # the connections Secret; Snowflake's 2 providers and 16 objects, the Pinecone index
    assert len(children) == 4 + 4 * 3 + 1 + 2 + 1 + 4 + 1 + 2 + 1 + 2 + 16 + 1


def test_secure_defaults_on_every_deployment(sophia_run: Run) -> None:
    for name, deployment in sophia_run.deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert {"mountPath": "/tmp", "name": "tmp"} in container["volumeMounts"]
        assert {"emptyDir": {"sizeLimit": "1Gi"}, "name": "tmp"} in pod["volumes"]
        resources = container["resources"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[kind]), (name, kind)
    for sa in sophia_run.of_type("kubernetes:core/v1:ServiceAccount"):
        assert sa.properties["automountServiceAccountToken"] is False


def test_gpu_service_is_placed_on_gpu_nodes(sophia_run: Run) -> None:
    deployments = sophia_run.deployments()
    pod = deployments["business-intelligence"]["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "nvidia"
    assert pod["nodeSelector"] == {
        "gpu-type": "a10",
        "sophia.ai/host": "gpu-a10",
        "filesystem.sophia.ai/sophia-models": "mounted",  # its model weights volume
    }
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    for name in ("ai-intelligence", "data-intelligence", "infrastructure"):
        other = deployments[name]["spec"]["template"]["spec"]
        assert "runtimeClassName" not in other
        assert "nvidia.com/gpu" not in other["containers"][0]["resources"]["limits"]
        assert "gpu-type" not in other.get("nodeSelector", {})


def test_no_credential_value_in_plaintext_anywhere(sophia_run: Run) -> None:
    """Credentials reach state only inside secret wrappers, and workloads not even so."""
    for r in sophia_run.resources:
        assert CANARY not in json.dumps(redact(r.properties)), r.urn
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Secret":
            assert CANARY not in json.dumps(r.properties), r.urn


def test_secret_data_is_wrapped_as_secret(sophia_run: Run) -> None:
    for r in sophia_run.of_type("kubernetes:core/v1:Secret"):
        assert is_secret(r.properties["stringData"]), r.name
    bundle = sophia_run.stack.bundle
    assert bundle is not None
    for secret in bundle.secrets.values():
        assert _sync_await(secret.string_data.is_secret())
    assert not _sync_await(bundle.checksums["ai_intelligence"].is_secret())


def test_credentials_reach_pods_only_by_reference(sophia_run: Run) -> None:
    pod = sophia_run.deployments()["business-intelligence"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    # Its own Snowflake user and the index's host; the credentials it needs by reference.
    assert container["envFrom"] == [
        {"secretRef": {"name": "credentials-business-intelligence-connections"}}
    ]
    refs = [e for e in container["env"] if "valueFrom" in e]
    assert refs == [
        {
            "name": key,
            "valueFrom": {"secretKeyRef": {"name": f"credentials-{group}", "key": key}},
        }
        for key, group in (
            ("OPENROUTER_API_KEY", "ai-intelligence"),
            ("SNOWFLAKE_ACCOUNT", "business-intelligence"),
            ("PINECONE_API_KEY", "business-intelligence"),
        )
    ]
    template = sophia_run.deployments()["business-intelligence"]["spec"]["template"]
    assert len(template["metadata"]["annotations"][CHECKSUM_ANNOTATION]) == 64


def test_a_rotated_credential_rolls_only_the_pods_that_use_it() -> None:
    def rotated(key: str) -> pulumi.Output[str]:
        suffix = "-rotated" if key == credential_config_key("TAVILY_API_KEY") else ""
        return pulumi.Output.secret(f"{CANARY}-{key}{suffix}")

    def checksums(config: object) -> dict[str, str]:
        resources, _ = run_under_mocks(
            lambda: build_platform(load_spec(SPEC, "prod"), config)  # type: ignore[arg-type]
        )
        return {
            r.properties["metadata"]["name"]: r.properties["spec"]["template"]["metadata"][
                "annotations"
            ][CHECKSUM_ANNOTATION]
            for r in resources
            if r.type == "kubernetes:apps/v1:Deployment"
        }

    before, after = checksums(canary_config), checksums(rotated)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"data-intelligence"}


def test_stack_outputs(sophia_run: Run) -> None:
    outputs = sophia_run.stack.outputs
    endpoints = {k: _sync_await(v.future()) for k, v in outputs["endpoints"].items()}
    assert endpoints == {
        "ai-intelligence": "ai-intelligence.sophia.svc.cluster.local:8080",
        "data-intelligence": "data-intelligence.sophia.svc.cluster.local:8080",
        "business-intelligence": "business-intelligence.sophia.svc.cluster.local:8000",
        "infrastructure": "infrastructure.sophia.svc.cluster.local:9000",
    }
    # the A10 host 547.50, the warehouse 185.54, the index 18.45
    assert outputs["estimatedMonthlyUsd"] == pytest.approx(751.49)
    assert outputs["gpuInventory"] == {
        "hosts": {"gpu-a10": {"gpuType": "a10", "gpus": 1}},
        "requested": {"business-intelligence": {"gpuType": "a10", "perPod": 1, "maxPods": 1}},
    }


def test_components_register_their_outputs_as_the_engine_receives_them(sophia_run: Run) -> None:
    (api,) = [
        r
        for r in sophia_run.of_type("sophia:index:SophiaMicroservice")
        if r.name == "ai-intelligence"
    ]
    assert api.outputs is not None
    sent = json_format.MessageToDict(api.outputs)
    assert sent["serviceDnsName"] == "ai-intelligence.sophia.svc.cluster.local"
    assert sent["deploymentName"] == "ai-intelligence"
    assert all(r.outputs is None for r in sophia_run.resources if r.custom)


def test_property_dependencies_are_recorded_and_described_to_analyze_stack(
    sophia_run: Run,
) -> None:
    """The engine tells AnalyzeStack which resources each property was made from; the offline
    engine records them as the program sends them and describes them the same way."""
    (namespace,) = [r.urn for r in sophia_run.of_type("kubernetes:core/v1:Namespace")]
    (deployment,) = [r for r in sophia_run.resources if r.name == "ai-intelligence-deployment"]
    assert deployment.property_dependencies["metadata"] == (namespace,)
    assert any("credentials-ai-intelligence" in u for u in deployment.property_dependencies["spec"])
    assert set(deployment.dependencies) == {
        u for urns in deployment.property_dependencies.values() for u in urns
    }
    (described,) = [
        r for r in stack_request(sophia_run.resources).resources if r.urn == deployment.urn
    ]
    assert list(described.propertyDependencies["metadata"].urns) == [namespace]
    assert "replicas" not in described.propertyDependencies  # none listed where none exist
    (service,) = [r for r in sophia_run.resources if r.name == "ai-intelligence"]
    assert not service.property_dependencies


def test_staging_stack_gets_its_overrides() -> None:
    staging = run(SPEC, "staging")
    data = staging.deployments()["data-intelligence"]
    assert data["spec"]["replicas"] == 1
    hpa = staging.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "data-intelligence-hpa")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 2)
    labels = data["metadata"]["labels"]
    assert labels["sophia.ai/environment"] == "staging"


def test_examples_build(example_run: Run) -> None:
    assert example_run.deployments()
    for r in example_run.resources:
        if r.type.startswith(K8S) and r.type != "kubernetes:core/v1:Secret":
            assert CANARY not in json.dumps(r.properties)


def test_missing_credentials_are_named_without_values() -> None:
    def no_credentials(key: str) -> pulumi.Output[str] | None:
        return pulumi.Output.secret(key) if key in ("kubeconfig", "sshPrivateKey") else None

    with pytest.raises(MissingConfigError) as raised:
        run_under_mocks(lambda: build_platform(load_spec(SPEC, "prod"), no_credentials))
    message = str(raised.value)
    assert message.startswith("19 credential(s) missing from stack config: arizeApiKey, ")
    assert "sophia-ai/production" in message


def test_missing_ssh_key_is_a_clear_error() -> None:
    with pytest.raises(MissingConfigError, match="stack config 'sshPrivateKey' is not set"):
        run_under_mocks(lambda: build_platform(load_spec(SPEC, "prod"), lambda key: None))


def test_missing_kubeconfig_of_an_existing_cluster_is_a_clear_error() -> None:
    minimal = REPO / "specs" / "examples" / "minimal.yaml"
    with pytest.raises(MissingConfigError, match="stack config 'kubeconfig' is not set"):
        run_under_mocks(lambda: build_platform(load_spec(minimal), lambda key: None))


def test_credential_config_keys_match_esc_pulumi_config_names() -> None:
    assert credential_config_key("OPENROUTER_API_KEY") == "openrouterApiKey"
    assert credential_config_key("HUGGINGFACE_API_TOKEN") == "huggingfaceApiToken"
    assert credential_config_key("ARIZE_SPACE_ID") == "arizeSpaceId"


def test_a_worker_without_ports_gets_no_service() -> None:
    """The API server refuses a Service without ports (found by the e2e suite)."""
    from sophia.offline.runner import run_spec
    from sophia.spec import load_spec
    from tests.conftest import REPO

    spec = load_spec(REPO / "specs" / "examples" / "minimal.yaml", None)
    worker = spec.platform.services[0].model_copy(update={"ports": [], "health": None})
    platform = spec.platform.model_copy(update={"services": [worker]})
    resources, _ = run_spec(type(spec)(spec.path, spec.document, platform, None), "prod")
    types = {r.type for r in resources}
    assert "kubernetes:apps/v1:Deployment" in types
    assert "kubernetes:core/v1:Service" not in types


def test_a_private_registry_gets_a_pull_secret_from_the_bundle() -> None:
    """imagePullSecret: a dockerconfigjson Secret built from two bundle credentials, values
    secret on the wire, referenced by the pod; the credentials never appear in plain text."""
    from sophia.offline.runner import is_secret, run_spec
    from sophia.spec import load_spec
    from tests.components.conftest import canary_config
    from tests.conftest import SPEC

    text = SPEC.read_text(encoding="utf-8").replace(
        "    host: gpu-a10\n    health: {path: /health",
        "    host: gpu-a10\n    imagePullSecret: {server: registry-1.docker.io, usernameKey: "
        "DOCKER_HUB_USERNAME, passwordKey: DOCKER_HUB_ACCESS_TOKEN}\n    health: {path: /health",
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sophia.yaml"
        path.write_text(text, encoding="utf-8")
        resources, _ = run_spec(load_spec(path, "prod"), "prod", canary_config)
    registry = next(r for r in resources if r.name == "credentials-registry-registry-1-docker-io")
    assert registry.properties["type"] == "kubernetes.io/dockerconfigjson"
    data = registry.properties["stringData"]
    assert is_secret(data) or is_secret(data[".dockerconfigjson"])  # secret on the wire
    assert "CANARY" not in str({k: v for k, v in registry.properties.items() if k != "stringData"})
    bi = next(r for r in resources if r.name == "business-intelligence-deployment")
    pod = bi.properties["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "credentials-registry-registry-1-docker-io"}]


def test_a_file_system_is_mounted_by_its_hosts_and_offered_to_their_pods(
    sophia_run: Run,
) -> None:
    (file_system,) = sophia_run.of_type("pulumi-python:dynamic/lambda:FileSystem")
    assert file_system.retain_on_delete  # keepOnDestroy defaults to true
    assert (file_system.properties["name"], file_system.properties["region"]) == (
        "sophia-models",
        "us-west-1",
    )
    (instance,) = sophia_run.of_type("pulumi-python:dynamic/lambda:Instance")
    assert instance.properties["file_system_names"] == ["sophia-models"]
    assert file_system.urn in instance.dependencies  # made before the host that mounts it
    (host,) = sophia_run.of_type("sophia:index:LambdaGpuHost")
    label = "filesystem.sophia.ai/sophia-models"
    assert host.properties["nodeLabels"][label] == "mounted"

    volume = sophia_run.one("kubernetes:core/v1:PersistentVolume", "fs-sophia-models-volume")
    assert volume["metadata"]["name"] == "sophia-lambda-fs-sophia-models"
    assert volume["spec"]["local"] == {"path": "/lambda/nfs/sophia-models"}
    (term,) = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert term["matchExpressions"] == [{"key": label, "operator": "In", "values": ["mounted"]}]
    assert volume["spec"]["claimRef"] == {"name": "lambda-fs-sophia-models", "namespace": "sophia"}
    claim = sophia_run.one("kubernetes:core/v1:PersistentVolumeClaim", "fs-sophia-models-claim")
    assert claim["spec"]["volumeName"] == "sophia-lambda-fs-sophia-models"

    pod = sophia_run.deployments()["business-intelligence"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"][label] == "mounted"
    weights = next(v for v in pod["volumes"] if v["name"] == "model-weights")
    assert weights == {
        "name": "model-weights",
        "persistentVolumeClaim": {"claimName": "lambda-fs-sophia-models"},
    }


def test_the_cluster_gets_one_firewall_ruleset_with_what_k3s_needs(sophia_run: Run) -> None:
    (ruleset,) = sophia_run.of_type("pulumi-python:dynamic/lambda:FirewallRuleset")
    props = ruleset.properties
    assert (props["name"], props["region"]) == ("sophia-ai-prod-k3s", "us-west-1")
    opened = {(r["protocol"], tuple(r["port_range"]), r["source_network"]) for r in props["rules"]}
    assert opened == {
        ("tcp", (22, 22), "0.0.0.0/0"),
        ("tcp", (6443, 6443), "0.0.0.0/0"),
        ("tcp", (30000, 32767), "0.0.0.0/0"),
        ("tcp", (6443, 6443), "10.0.0.0/8"),
        ("udp", (8472, 8472), "10.0.0.0/8"),
        ("tcp", (10250, 10250), "10.0.0.0/8"),
    }
    (instance,) = sophia_run.of_type("pulumi-python:dynamic/lambda:Instance")
    assert ruleset.urn in instance.dependencies


def test_load_balancer_ports_are_opened_and_admin_ports_narrowed(tmp_path: Path) -> None:
    text = SPEC.read_text()
    text = text.replace("adminNetworks: [0.0.0.0/0]", "adminNetworks: [203.0.113.0/24]")
    text = text.replace("type: ClusterIP\n", "type: LoadBalancer\n", 1)
    spec = tmp_path / "sophia.yaml"
    spec.write_text(text)
    (ruleset,) = run(spec).of_type("pulumi-python:dynamic/lambda:FirewallRuleset")
    rules = ruleset.properties["rules"]
    assert {r["source_network"] for r in rules if r["port_range"][0] == 22} == {"203.0.113.0/24"}
    public = [r for r in rules if r["source_network"] == "0.0.0.0/0"]
    assert [(r["protocol"], r["port_range"]) for r in public] == [("tcp", [8080, 8080])]


def test_external_secrets_delivery_syncs_each_group_from_its_own_environment(
    tmp_path: Path,
) -> None:
    """No credential value in any Secret the stack writes but the stores' access token; one
    SecretStore per group on that group's environment; the ExternalSecret keeps the Secret
    name the pods already use."""
    text = SPEC.read_text().replace(
        "  rotation:\n", "  delivery: external-secrets\n  refreshInterval: 15m\n  rotation:\n", 1
    )
    spec = tmp_path / "sophia.yaml"
    spec.write_text(text)
    result = run(spec)
    secrets = {
        s.properties["metadata"]["name"]: s.properties
        for s in result.of_type("kubernetes:core/v1:Secret")
    }
    # The token; and what the stack itself makes for business intelligence (its Snowflake
    # user and key, the index's host), which holds no credential of ESC's.
    assert sorted(secrets) == [
        "credentials-business-intelligence-connections",
        "credentials-esc-token",
    ]
    assert is_secret(secrets["credentials-esc-token"]["stringData"])  # sealed as a secret
    assert CANARY not in json.dumps(
        unwrap_secrets(secrets["credentials-business-intelligence-connections"])
    )
    stores = {
        r.properties["metadata"]["name"]: r.properties["spec"]["provider"]["pulumi"]
        for r in result.of_type("kubernetes:external-secrets.io/v1:SecretStore")
    }
    assert stores["credentials-data-intelligence-esc"]["environment"] == (
        "production-data_intelligence"
    )
    assert stores["credentials-data-intelligence-esc"]["accessToken"] == {
        "secretRef": {"name": "credentials-esc-token", "key": "PULUMI_ACCESS_TOKEN"}
    }
    externals = {
        r.properties["metadata"]["name"]: r.properties["spec"]
        for r in result.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
    }
    tavily = externals["credentials-data-intelligence"]
    assert tavily["refreshInterval"] == "15m"
    assert tavily["target"]["name"] == "credentials-data-intelligence"
    assert {
        "secretKey": "TAVILY_API_KEY",
        "remoteRef": {"key": "environmentVariables.TAVILY_API_KEY"},
    } in tavily["data"]
    pod = result.deployments()["data-intelligence"]["spec"]["template"]["spec"]
    sources = [s["secretRef"]["name"] for s in pod["containers"][0]["envFrom"]]
    assert sources == ["credentials-data-intelligence"]
