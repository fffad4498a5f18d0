"""The CI workflow (.github/workflows/ci.yml): valid by GitHub's schema (check-jsonschema); runs
`make test` with Chromium and a cached MNIST; keys its caches on files that exist; builds the image
after the tests and pushes it only for v* tags; actions pinned."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

from tests.helpers.deploy import ROOT, WORKFLOW, load, require


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


def test_cache_keys_hash_files_that_exist() -> None:
    """hashFiles() of a path that matches nothing gives '' without a word: a key that never changes."""
    patterns = re.findall(r"hashFiles\(([^)]*)\)", WORKFLOW.read_text())
    assert patterns, "the caches are keyed on file hashes"
    for arguments in patterns:
        for pattern in re.findall(r"'([^']+)'", arguments):
            assert list(ROOT.glob(pattern)), f"hashFiles('{pattern}') in {WORKFLOW.name} matches no file"
