"""Another git revision, checked out beside this one and served at the same time."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest

from rthdr.bench.report import render_versus
from rthdr.bench.versus import repository, side_by_side


@pytest.mark.slow
def test_side_by_side_serves_another_revision_beside_this_checkout(model_path: Path) -> None:
    rows = side_by_side(model_path, "HEAD", workers=1, quick=True)
    assert {(r["version"], r["concurrency"]) for r in rows} == {
        (version, concurrency) for version in ("this checkout", "HEAD") for concurrency in (1, 32)
    }
    assert all(r["requests"] > 0 and r["error_count"] == 0 for r in rows)
    table = "\n".join(render_versus(rows))
    assert "| HEAD | 32 |" in table and "| this checkout | 1 |" in table
    worktrees = subprocess.run(["git", "worktree", "list"], capture_output=True, text=True).stdout
    assert "rthdr-versus-" not in worktrees, "the checkout is removed afterwards"


def test_side_by_side_names_a_revision_that_does_not_exist(model_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("rthdr-versus-*"))
    with pytest.raises(RuntimeError, match="no-such-revision"):
        side_by_side(model_path, "no-such-revision", workers=1, quick=True)
    assert set(Path(tempfile.gettempdir()).glob("rthdr-versus-*")) == before, "nothing left behind"


def test_revisions_come_from_the_checkout_the_command_runs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # a folder inside the checkout: its top is found
    assert repository() == Path(__file__).resolve().parents[2]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))  # no checkout above it either
    with pytest.raises(RuntimeError, match="needs a git checkout of rthdr"):
        repository()
