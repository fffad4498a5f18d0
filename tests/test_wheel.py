"""The wheel on its own: built by pip, unpacked away from the checkout, it serves the page and the
shipped model with no path set, as `pip install rthdr` then `rthdr serve` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

import rthdr
from rthdr.api.settings import Settings
from rthdr.bench.server import serving
from rthdr.core.inference import FLOAT_MODEL, MODELS_DIR, network_name
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.slow
SOURCE = Path(rthdr.__file__).parent


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel .` builds, unpacked as pip would install it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            out,
            ROOT,
        ],
        check=True,
        timeout=300,
        cwd=out,
    )
    (wheel,) = out.glob("rthdr-*.whl")
    site = out / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def run_python(site: Path, code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("RTHDR_MODEL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=site, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_wheel_holds_the_served_models_and_the_page_but_no_training_weights(unpacked: Path) -> None:
    package = unpacked / "rthdr"
    # every model file the service's settings default to, its card and explainer graph where it has
    # them, and the float reference the releases start from
    defaults = [f.default for f in Settings.model_fields.values() if isinstance(f.default, Path)]
    served = [path for path in defaults if path.parent == MODELS_DIR]
    assert len(served) >= 6, served
    beside = [
        p.with_name(f"{network_name(p)}.{kind}") for p in served for kind in ("card.json", "explainer.onnx")
    ]
    for path in [*served, *(b for b in beside if b.is_file()), FLOAT_MODEL]:
        assert (package / "models" / path.name).is_file(), path.name
    assert not list(package.glob("models/*.pt"))
    assert (package / "api" / "static" / "index.html").is_file() and (package / "py.typed").is_file()
    shipped_runtime = sorted(p.name for p in (SOURCE / "api" / "static" / "vendor" / "ort").glob("*"))
    packed_runtime = sorted(p.name for p in (package / "api" / "static" / "vendor" / "ort").glob("*"))
    assert packed_runtime == shipped_runtime  # ONNX Runtime Web, where npm ci put it in the checkout


def test_defaults_point_into_the_installed_package(unpacked: Path) -> None:
    found = json.loads(
        run_python(
            unpacked,
            "import json, rthdr; from rthdr.core.inference import DEFAULT_MODEL, Classifier\n"
            "print(json.dumps([rthdr.__file__, str(DEFAULT_MODEL), Classifier().name]))",
        )
    )
    assert all(path.startswith(str(unpacked)) for path in found[:2]) and found[2] == "digitnet.int8"


def test_the_unpacked_wheel_serves_the_page_and_reads_a_digit(unpacked: Path) -> None:
    model = run_python(unpacked, "from rthdr.core.inference import DEFAULT_MODEL; print(DEFAULT_MODEL)")
    photo = (ROOT / "tests" / "fixtures" / "golden" / "inputs" / "photo-2-shadow.jpg").read_bytes()
    with serving(Path(model), env={"PYTHONPATH": str(unpacked)}) as server:
        with urllib.request.urlopen(f"{server.url}/", timeout=10) as page:
            assert page.status == 200 and b"<canvas" in page.read()
        request = urllib.request.Request(
            f"{server.url}/api/v1/predict", data=photo, headers={"Content-Type": "image/jpeg"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["digit"] == 2
