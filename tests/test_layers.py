"""The import contract: each layer imports only the layers below it, and serving needs no torch.

core, data  <  training  <  evaluation  <  bench  <  cli
core        <  review    <  api                   <  cli
core, data  <  batch                              <  cli
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rthdr
from tests.helpers.python import run_without_torch

PACKAGE = Path(rthdr.__file__).parent
MAY_IMPORT = {
    "core": {"core"},
    "data": {"core", "data"},  # the corpus goes through the serving preprocessing
    "training": {"core", "data", "training"},
    "evaluation": {"core", "data", "training", "evaluation"},
    "bench": {"core", "data", "training", "evaluation", "bench"},
    "api": {"core", "review", "api"},
    "batch": {"core", "data", "review", "batch"},
    "review": {"core", "review"},
    "cli": {"core", "data", "training", "evaluation", "bench", "api", "batch", "review", "cli"},
}


def rthdr_imports(path: Path) -> set[str]:
    """The rthdr layers a module imports, at its top or inside functions."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else []
        )
        layers |= {name.split(".")[1] for name in names if name.startswith("rthdr.")}
    return layers


@pytest.mark.parametrize("layer", sorted(MAY_IMPORT))
def test_layers_import_only_those_below(layer: str) -> None:
    modules = sorted((PACKAGE / layer).rglob("*.py"))
    assert modules, f"no modules in rthdr/{layer}"
    wrong = {str(m.relative_to(PACKAGE)): rthdr_imports(m) - MAY_IMPORT[layer] for m in modules}
    assert not {module: layers for module, layers in wrong.items() if layers}


def test_every_module_belongs_to_a_layer() -> None:
    top = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert top - {f"{layer}" for layer in MAY_IMPORT} == {"__init__.py"}


def test_core_and_api_run_without_torch() -> None:
    """The serving image has no torch, nor do batch jobs: importing every core, review, batch and API
    module, and building the app, must work with torch unimportable."""
    modules = sorted(
        ".".join(("rthdr", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        for layer in ("core", "review", "batch", "api")
        for p in (PACKAGE / layer).rglob("*.py")
        if "migrations" not in p.parts  # Alembic's scripts run under Alembic, not on import
    )
    run_without_torch(
        "import importlib\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import rthdr\n"
        "from rthdr.api.main import create_app\n"
        "create_app()\n"
        "assert sys.modules['torch'] is None\n"
    )
