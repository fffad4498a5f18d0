"""The corpus tests' fixture: the Debian font packages. Missing fonts fail in CI, skip elsewhere."""

from __future__ import annotations

import os

import pytest

from rthdr.data import fonts, hershey


@pytest.fixture(scope="session")
def corpus_fonts() -> None:
    """Every package of fonts.PACKAGES and hershey-fonts-data installed, as `make system` does."""
    missing = fonts.missing_packages() + ([] if hershey.installed() else ["hershey-fonts-data"])
    if missing:
        message = f"font packages missing: {', '.join(missing)}; run `make system`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
