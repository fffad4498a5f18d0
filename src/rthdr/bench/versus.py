"""`rthdr bench --versus REV`: this code and another git revision, served at once and loaded in turns.

The revision comes from the git checkout the command runs in (`git rev-parse --show-toplevel`), not from
where rthdr is installed: an installed package has no history to check out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rthdr.bench.server import serving
from rthdr.bench.wrk import PREDICT, canvas_file, warm_up, wrk


def repository() -> Path:
    """The top folder of the git checkout that the current directory is in."""
    try:
        found = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    except FileNotFoundError as missing:
        raise RuntimeError("comparing with a git revision needs git, which is not installed") from missing
    if found.returncode != 0:
        raise RuntimeError(
            f"comparing with a git revision needs a git checkout of rthdr, and {Path.cwd()} is not in one: "
            f"run it from the checkout ({found.stderr.strip()})"
        )
    return Path(found.stdout.strip())


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """Git revision `ref` of the current checkout in a temporary folder (a git worktree), removed after."""
    git = ["git", "-C", str(repository()), "worktree"]
    folder = Path(tempfile.mkdtemp(prefix="rthdr-versus-"))
    added = subprocess.run([*git, "add", "--detach", str(folder), ref], capture_output=True, text=True)
    if added.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"cannot check out {ref!r}: {added.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run([*git, "remove", "--force", str(folder)], capture_output=True).returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run([*git, "prune"], capture_output=True)


def side_by_side(model: Path, ref: str, workers: int, quick: bool) -> list[dict[str, Any]]:
    """This checkout and git revision `ref` served at the same time (the same model file, default
    settings) and loaded in turns, round after round, at concurrency 1 and 32: whatever the shared
    machine's speed does meanwhile, it does to both. Separate runs minutes apart cannot promise that."""
    rounds, seconds = (1, 1.0) if quick else (4, 6.0)
    with checkout(ref) as other, canvas_file() as body:
        log = {"RTHDR_LOG_JSON": "true"}
        other_code = {"PYTHONPATH": str(other / "src")}
        imported = subprocess.run(
            [sys.executable, "-c", "import rthdr; print(rthdr.__file__)"],
            env={**os.environ, **other_code},
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not imported.startswith(str(other)):  # else both servers would run this checkout's code
            raise RuntimeError(f"{ref}'s code does not load from its checkout (rthdr came from {imported!r})")
        with (
            serving(model, workers, log) as this,
            serving(model, workers, {**log, **other_code}) as before,
        ):
            rows = in_turns({"this checkout": this.url, ref: before.url}, body, rounds, seconds)
    return rows


def in_turns(servers: dict[str, str], body: Path, rounds: int, seconds: float) -> list[dict[str, Any]]:
    """Servers running at once (name -> URL), each warmed up, then loaded one after another with
    POST /api/v1/predict, round after round, at concurrency 1 and 32: a row per wrk run."""
    for url in servers.values():
        warm_up(url, body)
    rows = []
    for _ in range(rounds):
        for concurrency in (1, 32):
            for version, url in servers.items():
                rows.append({"version": version, **wrk(f"{url}{PREDICT}", body, concurrency, seconds)})
    return rows
