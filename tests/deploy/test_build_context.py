"""The build context: what `docker build .` sends, as docker-py builds the archive from
.dockerignore. It must hold every file the Dockerfile copies and stay small: no checkout-only files
(virtual environment, git, tests, caches, training weights src/rthdr/models/*.pt). That it holds no
model the wheel would not ship is checked by tests/deploy/test_entrypoint.py, which installs it."""

from __future__ import annotations

from rthdr.core.inference import DEFAULT_MODEL
from tests.helpers.deploy import ROOT, build_context, build_context_archive, copies, stages

# The served models and their explainer graphs are about 4.9 MB of it (2026-12-02); a leaked
# virtual environment or checkout would be hundreds.
MAX_BYTES = 8 * 1024 * 1024


def test_build_context_holds_every_copied_file() -> None:
    context = build_context()
    for stage in stages():
        for sources, _, flags in copies(stage):
            if any(flag.startswith("--from=") for flag in flags):
                continue
            for source in sources:
                if any(c in source for c in "*?["):
                    continue  # optional files (README.md*): a wildcard may match nothing
                source = source.rstrip("/")
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
                inside = [p for p in context if p == source or p.startswith(source + "/")]
                assert inside, f"COPY {source}: excluded from the build context by .dockerignore"
    assert "src/rthdr/api/static/index.html" in context, "the page must reach the image"


def test_build_context_is_small_and_leaves_the_checkout_out() -> None:
    weights = sorted((ROOT / "src" / "rthdr" / "models").glob("*.pt"))
    assert weights, "the checkout's training weights, which the context must leave out"
    context = build_context()
    leaked = [
        p
        for p in context
        if p.startswith((".venv/", ".git/", "runs/", "reports/", "tests/", "docs/", "node_modules/"))
        or "/__pycache__/" in p
        or ".egg-info/" in p
        or p.endswith((".pt", ".pyc"))
    ]
    assert not leaked, f"checkout-only files in the build context: {leaked[:10]}"
    assert f"src/rthdr/models/{DEFAULT_MODEL.name}" in context, "the served model must reach the image"
    size = len(build_context_archive())
    assert size < MAX_BYTES, f"build context {size / 1e6:.1f} MB: check .dockerignore"
