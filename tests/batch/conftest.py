"""A real Ray cluster on this machine, shared by the Ray tests: started once (about 10 s), shut down
after the last of them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.deploy import require


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    ray = require("ray")  # in the batch extra; missing: fails in CI, skips elsewhere
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        yield ray
    finally:
        ray.shutdown()
