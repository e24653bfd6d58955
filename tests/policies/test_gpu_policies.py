"""gpu-placement, gpu-nodes-reserved, capacity and gpu-instance-allowlist over gRPC."""

from __future__ import annotations

from tests.policies.harness import (
    UNKNOWN,
    Pack,
    container,
    deployment,
    fires,
    gpu_container,
    gpu_deployment,
    host,
    hpa,
    instance,
    quiet,
    recreated,
    resource,
)


class TestGpuPlacement:
    def test_a_well_placed_gpu_pod_passes(self, pack: Pack) -> None:
        quiet("gpu-placement", pack.analyze(gpu_deployment()))

    def test_a_pod_without_gpus_is_not_its_business(self, pack: Pack) -> None:
        quiet("gpu-placement", pack.analyze(deployment()))

    def test_missing_runtime_class(self, pack: Pack) -> None:
        d = fires(
            "gpu-placement",
            pack.analyze(gpu_deployment(runtimeClassName=None)),
            "Deployment 'bi'",
            "spec.template.spec.runtimeClassName is unset",
            "runtimeClassName: nvidia",
        )
        assert d.enforcement_level == "mandatory"

    def test_missing_node_selector(self, pack: Pack) -> None:
        fires(
            "gpu-placement",
            pack.analyze(gpu_deployment(nodeSelector=None)),
            "spec.template.spec.nodeSelector selects no GPU node",
            "gpu-type: <type>",
        )

    def test_required_affinity_counts_as_selecting_gpu_nodes(self, pack: Pack) -> None:
        affinity = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "nvidia.com/gpu.product",
                                    "operator": "In",
                                    "values": ["NVIDIA-A10"],
                                }
                            ]
                        }
                    ]
                }
            }
        }
        quiet("gpu-placement", pack.analyze(gpu_deployment(nodeSelector=None, affinity=affinity)))

    def test_missing_toleration(self, pack: Pack) -> None:
        fires(
            "gpu-placement",
            pack.analyze(gpu_deployment(tolerations=[])),
            "tolerations lacks {key: nvidia.com/gpu, operator: Exists}",
        )

    def test_request_without_limit_and_mismatch(self, pack: Pack) -> None:
        c = container()
        c["resources"]["requests"]["nvidia.com/gpu"] = "1"
        fires(
            "gpu-placement",
            pack.analyze(deployment("x", [c])),
            "containers[0].resources.requests asks for 1 nvidia.com/gpu",
            "set limits.nvidia.com/gpu: 1",
        )
        c = gpu_container(2)
        c["resources"]["requests"]["nvidia.com/gpu"] = "1"
        from tests.policies.harness import GPU_POD_EXTRAS

        fires(
            "gpu-placement",
            pack.analyze(deployment("x", [c], **GPU_POD_EXTRAS)),
            "requests 1 nvidia.com/gpu but limits 2",
        )

    def test_cronjob_pod_template_is_found(self, pack: Pack) -> None:
        job = resource(
            "kubernetes:batch/v1:CronJob",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "nightly"},
                "spec": {
                    "schedule": "0 3 * * *",
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {"containers": [gpu_container()], "restartPolicy": "Never"}
                            }
                        }
                    },
                },
            },
        )
        fires(
            "gpu-placement",
            pack.analyze(job),
            "CronJob 'nightly'",
            "spec.jobTemplate.spec.template.spec.runtimeClassName",
        )


class TestGpuNodesReserved:
    def test_non_gpu_pod_on_gpu_nodes_is_advisory(self, pack: Pack) -> None:
        d = fires(
            "gpu-nodes-reserved",
            pack.analyze(deployment(nodeSelector={"gpu-type": "a10"})),
            "pins a pod without GPUs to GPU nodes",
        )
        assert d.enforcement_level == "advisory"

    def test_gpu_pod_and_plain_pod_are_fine(self, pack: Pack) -> None:
        quiet("gpu-nodes-reserved", pack.analyze(gpu_deployment()))
        quiet("gpu-nodes-reserved", pack.analyze(deployment(nodeSelector={"disk": "ssd"})))


class TestCapacity:
    """Every pod at peak (replicas or HPA max, plus rollout surge) on the hosts' nodes."""

    def test_fits(self, pack: Pack) -> None:
        quiet("capacity", pack.analyze_stack([instance(), gpu_deployment()]))
        quiet("capacity", pack.analyze_stack([host(), gpu_deployment()]))

    def test_replicas_exceed_the_hosts(self, pack: Pack) -> None:
        d = fires(
            "capacity",
            pack.analyze_stack([host(), gpu_deployment(replicas=2)]),
            "1 of 2 pod(s) at peak",
            "Deployment 'bi' #2: short of nvidia.com/gpu (1 asked, 0 free) on gpu-a10",
        )
        assert d.enforcement_level == "mandatory"

    def test_autoscaling_max_counts(self, pack: Pack) -> None:
        fires(
            "capacity",
            pack.analyze_stack([host(), gpu_deployment(), hpa("bi", 3)]),
            "2 of 3 pod(s) at peak",
        )

    def test_a_rolling_update_needs_room_for_its_surge(self, pack: Pack) -> None:
        """The default RollingUpdate of a one-GPU pod on a one-GPU host never finishes."""
        rolling = {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        }
        fires(
            "capacity",
            pack.analyze_stack([host(), gpu_deployment(strategy=rolling)]),
            "Deployment 'bi' #2 (rollout surge): short of nvidia.com/gpu",
        )
        no_surge = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
        quiet("capacity", pack.analyze_stack([host(), gpu_deployment(strategy=no_surge)]))

    def test_per_gpu_type(self, pack: Pack) -> None:
        stack = [
            host("a", "gpu_1x_a10"),
            host("b", "gpu_1x_a100_sxm4"),
            gpu_deployment("x", gpu_type="a10"),
            gpu_deployment("y", gpu_type="a100"),
        ]
        quiet("capacity", pack.analyze_stack(stack))
        stack.append(gpu_deployment("z", gpu_type="h100"))
        fires(
            "capacity",
            pack.analyze_stack(stack),
            "Deployment 'z' #1: no node matches its node selector, affinity and tolerations",
        )

    def test_cpu_and_memory_count_with_the_system_reserve(self, pack: Pack) -> None:
        """gpu_1x_a10: 30 vCPUs and 200 GiB, less 1 vCPU and 2 GiB kept for the system."""
        big = container()
        big["resources"] = {
            "requests": {"cpu": "29", "memory": "198Gi"},
            "limits": {"cpu": "29", "memory": "198Gi"},
        }
        quiet("capacity", pack.analyze_stack([host(), recreated(deployment("big", [big]))]))
        too_big = container()
        too_big["resources"] = {
            "requests": {"cpu": "29001m", "memory": "1Gi"},
            "limits": {"cpu": "30", "memory": "1Gi"},
        }
        fires(
            "capacity",
            pack.analyze_stack([host(), recreated(deployment("big", [too_big]))]),
            "short of CPU (29001m asked, 29000m free)",
        )
        heavy = container()
        heavy["resources"] = {
            "requests": {"cpu": "1", "memory": "199Gi"},
            "limits": {"cpu": "1", "memory": "199Gi"},
        }
        fires(
            "capacity",
            pack.analyze_stack([host(), recreated(deployment("heavy", [heavy]))]),
            "short of memory (199.00Gi asked, 198.00Gi free)",
        )
        fires(
            "capacity",
            pack.analyze_stack(
                [host(), recreated(deployment("big", [big]))],
                {"capacity": {"systemReserve": {"cpu": "2", "memory": "2Gi"}}},
            ),
            "short of CPU",
        )

    def test_selectors_and_taints(self, pack: Pack) -> None:
        pinned = deployment("api", nodeSelector={"sophia.ai/host": "gpu-b"})
        fires("capacity", pack.analyze_stack([host("gpu-a"), pinned]), "no node matches")
        quiet("capacity", pack.analyze_stack([host("gpu-a"), host("gpu-b"), pinned]))
        tainted = host(
            "gpu-a", taints=[{"key": "dedicated", "value": "ml", "effect": "NoSchedule"}]
        )
        fires("capacity", pack.analyze_stack([tainted, deployment("api")]), "no node matches")
        tolerant = deployment(
            "api",
            tolerations=[
                {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
            ],
        )
        quiet("capacity", pack.analyze_stack([tainted, tolerant]))

    def test_no_lambda_hosts_means_nodes_are_not_this_stacks(self, pack: Pack) -> None:
        quiet("capacity", pack.analyze_stack([gpu_deployment(replicas=5)]))


class TestGpuInstanceAllowlist:
    def test_default_allows_single_gpu_types(self, pack: Pack) -> None:
        quiet("gpu-instance-allowlist", pack.analyze(instance("gpu_1x_a10")))

    def test_eight_gpu_box_is_refused_by_default(self, pack: Pack) -> None:
        d = fires(
            "gpu-instance-allowlist",
            pack.analyze(instance("gpu_8x_h100_sxm5")),
            "instance_type_name gpu_8x_h100_sxm5 is not on the allow-list",
            "has 8 GPUs, above maxGpusPerHost 1",
        )
        assert d.enforcement_level == "mandatory"

    def test_configured_allowlist(self, pack: Pack) -> None:
        config = {
            "gpu-instance-allowlist": {"allowedInstanceTypes": ["gpu_8x_v100"], "maxGpusPerHost": 8}
        }
        quiet("gpu-instance-allowlist", pack.analyze(instance("gpu_8x_v100"), config))
        fires(
            "gpu-instance-allowlist",
            pack.analyze(instance("gpu_1x_a10"), config),
            "not on the allow-list (gpu_8x_v100)",
        )

    def test_unknown_type_during_preview_is_said_not_passed(self, pack: Pack) -> None:
        d = fires(
            "gpu-instance-allowlist",
            pack.analyze(instance(UNKNOWN)),
            "can't run policy 'gpu-instance-allowlist'",
            "during preview",
        )
        assert d.enforcement_level == "advisory"
