"""Shared fixtures: the MNIST folder, the font packages, the shipped model, an app client, and generated images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rthdr.bench.server import serving
from rthdr.core.inference import DEFAULT_MODEL, Classifier
from rthdr.data import fonts, hershey
from rthdr.data.mnist import resolve_data_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads MNIST, so `-m "not needs_mnist"` runs without the data."""
    for item in items:
        if "mnist_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_mnist)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """$RTHDR_DATA_DIR (CI: ../shared/data/mnist). Missing data fails in CI and skips elsewhere."""
    directory = resolve_data_dir()
    if (
        not (directory / "t10k-images-idx3-ubyte.gz").exists()
        and not (directory / "t10k-images-idx3-ubyte").exists()
    ):
        message = f"MNIST not found in {directory}: set RTHDR_DATA_DIR or run `rthdr data download`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return directory


@pytest.fixture(scope="session")
def corpus_fonts() -> None:
    """Every package of fonts.PACKAGES and hershey-fonts-data installed, as `make system` does:
    the corpora's sources. Missing fonts fail in CI and skip elsewhere."""
    missing = fonts.missing_packages() + ([] if hershey.installed() else ["hershey-fonts-data"])
    if missing:
        message = f"font packages missing: {', '.join(missing)}; run `make system`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def mnist_test(mnist_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    from rthdr.data.mnist import load_mnist

    return load_mnist("test", mnist_dir)


@pytest.fixture(scope="session")
def model_path() -> Path:
    return Path(os.environ.get("RTHDR_MODEL") or DEFAULT_MODEL)


@pytest.fixture(scope="session")
def classifier(model_path: Path) -> Classifier:
    return Classifier(model_path)


@pytest.fixture(scope="session")
def digit_samples(mnist_test: tuple[np.ndarray, np.ndarray]) -> dict[int, np.ndarray]:
    """One clear MNIST test image per digit (the first of each), uint8 28x28, ink bright."""
    images, labels = mnist_test
    return {d: images[np.flatnonzero(labels == d)[0]] for d in range(10)}


@pytest.fixture(scope="session")
def live_server(model_path: Path) -> Iterator[str]:
    """One real server for the whole session (HTTP and browser tests share it)."""
    with serving(model_path) as server:
        yield server.url


@pytest.fixture
def client(model_path: Path) -> Iterator[object]:
    """The real app, shipped model loaded, through FastAPI's TestClient."""
    from fastapi.testclient import TestClient

    from rthdr.api.main import create_app
    from rthdr.api.settings import Settings

    with TestClient(create_app(Settings(model=model_path)), raise_server_exceptions=False) as test_client:
        yield test_client
