"""The Kubernetes manifests in deploy/k8s: valid for the oldest and newest Kubernetes the schemas know
(kubernetes-validate, strict), and fitting together: the kustomization lists them, the probes, Service,
autoscaler and disruption budget find the pods, the pods run locked down with one worker per CPU, and
shut down within their grace period."""

from __future__ import annotations

import json
import math

import pytest

from tests.helpers.deploy import (
    COMPOSE,
    K8S,
    PORT,
    UID,
    WORKFLOW,
    container,
    container_port,
    env_value,
    final_env,
    load,
    load_all,
    manifest_files,
    pod,
    project,
    quantity,
    require,
    resources,
)

# Oldest Kubernetes minor the manifests must stay valid for, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.28.0", "latest")
UVICORN_GRACEFUL_S = 10  # rthdr.api.server passes timeout_graceful_shutdown=10


def test_every_yaml_file_parses() -> None:
    paths = [COMPOSE, WORKFLOW, *K8S.glob("*.yaml")]
    assert len(paths) >= 8
    for path in paths:
        assert load_all(path), f"{path} is empty"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_match_the_kubernetes_schemas(version: str) -> None:
    validator = require("kubernetes_validate")
    version = validator.latest_version() if version == "latest" else version
    kinds = set()
    for path in manifest_files():
        for doc in load_all(path):
            # strict: unknown fields (a typo'd key that kubectl would drop silently) are errors
            validator.validate(doc, version, strict=True)
            kinds.add(doc["kind"])
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= kinds


def test_schema_validation_catches_a_misspelled_field() -> None:
    validator = require("kubernetes_validate")
    deployment = json.loads(json.dumps(resources()["Deployment"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"port": 8000}}
    with pytest.raises(validator.ValidationError):
        validator.validate(deployment, validator.latest_version(), strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load(K8S / "kustomization.yaml")
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in manifest_files())
    image = container()["image"]
    name, _, tag = image.rpartition(":")
    assert [i["name"] for i in kustomization.get("images", [])] in ([], [name])
    for entry in kustomization.get("images", []):
        assert entry.get("newTag", tag) == tag


def test_image_tags_match_the_package_version() -> None:
    version = project()["version"]
    compose_image = load(COMPOSE)["services"]["rthdr"]["image"]
    assert container()["image"] == compose_image == f"ghcr.io/rthdr/rthdr:{version}", (
        f"bump the image tag in deploy/k8s and compose.yaml to {version}"
    )


def test_probes_hit_the_health_endpoints_on_the_container_port() -> None:
    c = container()
    assert container_port("http") == PORT
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        if probe in c:
            assert container_port(c[probe]["httpGet"]["port"]) == PORT, probe
            assert c[probe]["httpGet"]["path"] in {"/readyz", "/healthz"}
    if "startupProbe" in c:  # the liveness probe only starts after it: a slow start must fit in it
        startup = c["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30


def test_resources_are_requested_and_limited_with_one_worker_per_cpu() -> None:
    res = container()["resources"]
    for kind in ("cpu", "memory"):
        assert quantity(res["requests"][kind]) <= quantity(res["limits"][kind]), kind
    cpu_limit = quantity(res["limits"]["cpu"])
    workers = env_value("RTHDR_WORKERS")
    assert workers is not None, "RTHDR_WORKERS unset: `rthdr serve` would start one worker per NODE core"
    assert int(workers) == max(1, math.floor(cpu_limit)), f"{workers} workers for a {cpu_limit} CPU limit"
    # about 130 MB per worker with the model loaded, plus the supervisor when there are several
    assert quantity(res["limits"]["memory"]) >= int(workers) * 160 * 2**20 + (
        64 * 2**20 if int(workers) > 1 else 0
    )


def test_pods_run_locked_down() -> None:
    spec = pod()["spec"]
    pod_security = spec.get("securityContext", {})
    security = container()["securityContext"]
    assert pod_security.get("runAsNonRoot") or security.get("runAsNonRoot")
    user = security.get("runAsUser", pod_security.get("runAsUser"))
    assert user in (None, UID), "the image's UID"
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert not security.get("privileged", False)
    seccomp = security.get("seccompProfile", pod_security.get("seccompProfile"))
    assert seccomp == {"type": "RuntimeDefault"}
    assert spec.get("automountServiceAccountToken") is False


def test_writable_paths_are_volumes() -> None:
    """Read-only root: /tmp is an emptyDir, and so is PROMETHEUS_MULTIPROC_DIR, which the /tmp volume
    would otherwise hide (prometheus_client then fails every request's metrics and /metrics)."""
    volumes = {v["name"]: v for v in pod()["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container()["volumeMounts"]}
    metrics_dir = final_env()["PROMETHEUS_MULTIPROC_DIR"]
    for path in ("/tmp", metrics_dir):
        assert path in mounts, f"{path} needs a volume"
        assert "emptyDir" in volumes[mounts[path]], path


def test_graceful_shutdown_fits_the_grace_period() -> None:
    pre_stop = container()["lifecycle"]["preStop"]
    if "sleep" in pre_stop:
        sleep_s = int(pre_stop["sleep"]["seconds"])
    else:
        command = pre_stop["exec"]["command"]
        assert command[0] == "sleep", command  # the image has coreutils' sleep
        sleep_s = int(command[1])
    assert sleep_s >= 3, "time for the endpoint removal to reach the load balancers"
    grace = pod()["spec"]["terminationGracePeriodSeconds"]
    assert grace > sleep_s + UVICORN_GRACEFUL_S, (
        f"{grace} s < preStop {sleep_s} s + Uvicorn's {UVICORN_GRACEFUL_S} s"
    )


def test_pods_are_scraped_by_prometheus() -> None:
    annotations = pod()["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert container_port(int(annotations["prometheus.io/port"])) == PORT
    assert annotations["prometheus.io/path"] == "/metrics"


def test_service_selects_the_pods_and_forwards_80_to_8000() -> None:
    service = resources()["Service"]["spec"]
    labels = pod()["metadata"]["labels"]
    assert service["selector"] and service["selector"].items() <= labels.items()
    assert service.get("type", "ClusterIP") == "ClusterIP"
    (port,) = service["ports"]
    assert port["port"] == 80
    assert container_port(port["targetPort"]) == PORT
    assert resources()["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_autoscaler_targets_the_deployment_on_cpu() -> None:
    hpa = resources()["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    deployment = resources()["Deployment"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert target["apiVersion"] == deployment["apiVersion"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"] == ["cpu"]
    assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"
    assert "cpu" in container()["resources"]["requests"], "CPU utilization is measured against the request"


def test_disruption_budget_selects_the_pods() -> None:
    pdb = resources()["PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["minAvailable"] < resources()["HorizontalPodAutoscaler"]["spec"]["minReplicas"], (
        "a budget as large as the minimum replica count blocks every node drain"
    )
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod()["metadata"]["labels"].items()


def test_configmap_feeds_the_container_and_holds_no_secret() -> None:
    config = resources()["ConfigMap"]
    refs = [e["configMapRef"]["name"] for e in container()["envFrom"] if "configMapRef" in e]
    assert config["metadata"]["name"] in refs
    for key, value in config["data"].items():
        assert key.startswith("RTHDR_") and isinstance(value, str), key
    assert "RTHDR_API_KEYS" not in config["data"], "API keys belong in a Secret"
    assert "RTHDR_MODEL" not in config["data"], "the image serves its packaged model"
