"""compose.yaml: valid by the Compose Specification's schema (check-jsonschema), building the
Dockerfile and serving port 8000 as locked down as the Kubernetes pods."""

from __future__ import annotations

import math
import subprocess
import sys

from tests.helpers.deploy import COMPOSE, DOCKERFILE, PORT, ROOT, UID, final_env, load, require


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
    assert {"/tmp", final_env()["PROMETHEUS_MULTIPROC_DIR"]} <= set(service["tmpfs"])
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
