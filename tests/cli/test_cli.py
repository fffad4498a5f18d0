"""The `rthdr` command as a user types it: predict on generated images, help, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rthdr.cli.main import build_parser, main
from tests.helpers.images import encode, render


@pytest.fixture
def images(tmp_path: Path, digit_samples) -> dict[str, Path]:
    """Files a person might have: scans and photos unlike MNIST's 28x28 tensors."""
    files = {
        "dark_on_light.png": render(digit_samples[3], dark_on_light=True),
        "light_on_dark.png": render(digit_samples[5], dark_on_light=False),
        "off_centre.png": render(digit_samples[8], size=500, box=(30, 380, 90, 90)),
        "small_28.png": digit_samples[2],
    }
    paths = {}
    for name, array in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(encode(array))
    photo = Image.fromarray(render(digit_samples[6], size=1600)).convert("RGB")
    paths["photo.jpg"] = tmp_path / "photo.jpg"
    photo.save(paths["photo.jpg"], "JPEG", quality=85)
    return paths


EXPECTED = {
    "dark_on_light.png": 3,
    "light_on_dark.png": 5,
    "off_centre.png": 8,
    "small_28.png": 2,
    "photo.jpg": 6,
}


def test_predict_prints_each_digit(images, model_path: Path, capsys) -> None:
    assert main(["predict", *map(str, images.values()), "--model", str(model_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for line, (name, digit) in zip(lines, EXPECTED.items(), strict=True):
        assert line.startswith(str(images[name])) and f": {digit}  confidence" in line


def test_predict_json(images, model_path: Path, capsys) -> None:
    assert main(["predict", "--json", str(images["photo.jpg"]), "--model", str(model_path)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["digit"] == 6 and len(result["probabilities"]) == 10 and result["uncertain"] is False


def test_predict_reads_letters_and_says_not_a_digit(tmp_path: Path, model_path: Path, capsys) -> None:
    from tests.helpers.images import written_text

    letter = tmp_path / "letter.png"
    letter.write_bytes(written_text("H"))
    assert main(["predict", "--charset", "letters", str(letter)]) == 0
    assert capsys.readouterr().out.startswith(f"{letter}: H  confidence")
    assert main(["predict", "--json", str(letter), "--model", str(model_path)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["reason"] == "not_a_digit" and result["looks_like"] == "H" and result["uncertain"] is True
    assert main(["predict", "--character-model", "none", str(letter), "--model", str(model_path)]) == 0
    assert "not a digit" not in capsys.readouterr().out  # no character model: digits unchecked


def test_predict_reads_another_scripts_digits(tmp_path: Path, capsys) -> None:
    from tests.helpers.images import written_text

    seven = tmp_path / "seven.png"
    seven.write_bytes(written_text("\u096d", "Sarai"))  # DEVANAGARI DIGIT SEVEN, a held-out family
    assert main(["predict", "--charset", "devanagari", "--json", str(seven)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["character"] == "\u096d"
    assert main(["predict", "--charset", "devanagari", "--script-model", "none", str(seven)]) == 2
    assert "no script model" in capsys.readouterr().err


def test_predict_says_what_it_cannot_read_instead_of_a_traceback(
    tmp_path: Path, model_path: Path, capsys
) -> None:
    from tests.helpers.images import written_text

    letter = tmp_path / "letter.png"
    letter.write_bytes(written_text("H"))
    assert main(["predict", "--multi", "--charset", "letters", str(letter)]) == 2
    assert "--multi reads numbers of digits" in capsys.readouterr().err
    assert main(["predict", "--charset", "letters", "--character-model", "none", str(letter)]) == 2
    assert "no character model" in capsys.readouterr().err


def test_predict_reports_bad_files_and_keeps_going(images, tmp_path: Path, model_path: Path, capsys) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    blank = tmp_path / "blank.png"
    blank.write_bytes(encode(np.full((64, 64), 255, np.uint8)))
    code = main(
        [
            "predict",
            str(junk),
            str(blank),
            str(tmp_path / "missing.png"),
            str(images["small_28.png"]),
            "--model",
            str(model_path),
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert "error: These bytes are not an image" in out[0] and "No ink found" in out[1]
    assert "cannot read the file" in out[2] and ": 2  confidence" in out[3]


def test_predict_multi_reads_a_number(tmp_path: Path, digit_samples, model_path: Path, capsys) -> None:
    from tests.helpers.images import write_number

    page, _ = write_number(digit_samples, "2024")
    path = tmp_path / "year.png"
    path.write_bytes(encode(page))
    assert main(["predict", "--multi", "--json", str(path), "--model", str(model_path)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["text"] == "2024" and len(result["digits"]) == 4


def test_evaluate_multi_reads_the_lengths_asked_for(
    tmp_path: Path, mnist_dir: Path, model_path: Path
) -> None:
    arguments = ["evaluate", "--multi", "--lengths", "4", "--per-length", "6", "--out", str(tmp_path)]
    assert main([*arguments, "--data-dir", str(mnist_dir), "--model", str(model_path)]) == 0
    (result,) = json.loads((tmp_path / "numbers.json").read_text())
    assert result["length"] == 4 and result["numbers"] == 6


def test_missing_model_says_how_to_fix_it(images, tmp_path: Path, capsys) -> None:
    assert main(["predict", str(images["small_28.png"]), "--model", str(tmp_path / "none.onnx")]) == 2
    assert "RTHDR_MODEL" in capsys.readouterr().err


def test_evaluate_on_a_slice(model_path: Path, mnist_dir: Path, tmp_path: Path, capsys) -> None:
    code = main(
        [
            "evaluate",
            "--limit",
            "300",
            "--data-dir",
            str(mnist_dir),
            "--model",
            str(model_path),
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["test_images"] == 300 and report["accuracy"] > 0.97
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 10_000
    assert "recall %" in capsys.readouterr().out


@pytest.mark.slow
def test_every_command_has_help_with_defaults() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {
        "train",
        "evaluate",
        "predict",
        "serve",
        "bench",
        "compare",
        "robustness",
        "export",
        "release",
        "data",
    } <= set(commands)
    for name in commands:
        result = subprocess.run(
            [sys.executable, "-m", "rthdr.cli", name, "--help"], capture_output=True, text=True
        )
        assert result.returncode == 0 and "usage: rthdr" in result.stdout, name
    train_help = subprocess.run(
        [sys.executable, "-m", "rthdr.cli", "train", "--help"], capture_output=True, text=True
    )
    assert "(default: 30)" in train_help.stdout


def test_the_parser_needs_no_torch() -> None:
    """`rthdr serve` is the serving image's entry point and that image has no torch: every command's
    flags, the train flags made from TrainConfig included, must be built without it."""
    from tests.helpers.python import run_without_torch

    run_without_torch(
        "from rthdr.cli.main import build_parser\n"
        "assert build_parser().parse_args(['serve', '--port', '9']).port == 9\n"
        "assert build_parser().parse_args(['train']).epochs == 30\n"
    )


def test_export_explainer_writes_the_graph_beside_the_weights(tmp_path: Path, capsys, digit_samples) -> None:
    """`rthdr export --explainer`: a network's heatmaps become Guided Grad-CAM once it is beside it."""
    from rthdr.core.inference import SHIPPED_WEIGHTS, Classifier
    from rthdr.training.export import export_onnx
    from rthdr.training.model import load_checkpoint

    weights = tmp_path / "mynet.pt"
    weights.write_bytes(SHIPPED_WEIGHTS.read_bytes())
    export_onnx(load_checkpoint(str(weights))[0], tmp_path / "mynet.onnx")
    assert Classifier(tmp_path / "mynet.onnx").explainer is None
    assert main(["export", "--explainer", "--weights", str(weights)]) == 0
    assert str(tmp_path / "mynet.explainer.onnx") in capsys.readouterr().out
    classifier = Classifier(tmp_path / "mynet.onnx")
    guided = classifier.guided(digit_samples[4].astype(np.float32) / 255, 4)
    assert guided is not None and guided.shape == (28, 28) and guided.max() > 0
