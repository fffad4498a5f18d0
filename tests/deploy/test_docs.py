"""docs/deployment.md: its settings table names every setting the app reads and every variable the
deployment files set, and it gives the two start commands."""

from __future__ import annotations

import re

from tests.helpers.deploy import COMPOSE, DOCS, container, load, resources


def test_docs_describe_every_setting() -> None:
    from rthdr.api.settings import Settings

    text = DOCS.read_text()
    documented = set(re.findall(r"`(RTHDR_[A-Z_]+)`", text))
    names = {f"RTHDR_{name.upper()}" for name in Settings.model_fields}
    names |= set(resources()["ConfigMap"]["data"]) | set(load(COMPOSE)["services"]["rthdr"]["environment"])
    names |= {e["name"] for e in container()["env"]}
    assert not names - documented, (
        f"add to the settings table in docs/deployment.md: {sorted(names - documented)}"
    )
    assert "kubectl apply -k deploy/k8s" in text and "docker compose up --build" in text
