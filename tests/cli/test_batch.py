"""`rthdr batch` as a user types it: a folder in, a results file out, a summary printed; mistakes
exit with 2 and say what to do; a stopped job keeps its rows and --resume finishes it."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rthdr.batch.rows import read_rows
from rthdr.cli.main import main
from tests.helpers.batch import copy_scans, golden, write_bad_files


@pytest.fixture
def scans(tmp_path: Path) -> Path:
    copy_scans(tmp_path / "scans" / "canvas", "canvas")
    copy_scans(tmp_path / "scans" / "photos", "photo")
    write_bad_files(tmp_path / "scans" / "bad")
    return tmp_path / "scans"


def test_a_folder_becomes_a_results_file_and_a_summary(scans: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results.jsonl"
    assert main(["batch", str(scans), "--out", str(out), "--workers", "2", "--no-progress"]) == 0
    rows = list(read_rows(out))
    assert len(rows) == 12 + 5 + 3 and [r.path for r in rows] == sorted(r.path for r in rows)
    assert {
        r.reading for r in rows if "canvas-" in r.path and "hidpi" not in r.path and "small" not in r.path
    } == set("0123456789")
    printed = capsys.readouterr().out
    assert "read 20 images in" in printed and "3 could not be read" in printed and str(out) in printed


def test_resume_carries_on_where_the_output_stops(scans: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "results.csv"
    assert main(["batch", str(scans / "canvas"), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert main(["batch", str(scans), "--out", str(out), "--resume", "--workers", "1", "--no-progress"]) == 0
    assert "12 skipped (already in" in capsys.readouterr().out
    assert len({r.path for r in read_rows(out)}) == len(list(read_rows(out))) == 20


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nowhere/"], "nowhere/: no such file or folder"),
        (["{scans}", "--out", "{tmp}/results.xlsx"], "must end in .csv, .jsonl, .parquet"),
        (["{scans}", "--out", "{tmp}/existing.csv"], "exists: pass --resume"),
        (["{scans}", "--workers", "0"], "--workers 0: give 1 or more"),
        (["{scans}", "--model", "{tmp}/missing.onnx"], "pass --model or set RTHDR_MODEL"),
    ],
)
def test_mistakes_exit_2_and_say_what_to_do(
    scans: Path, tmp_path: Path, capsys, arguments: list[str], message: str
) -> None:
    (tmp_path / "existing.csv").write_text("path\n")
    words = [a.format(scans=scans, tmp=tmp_path) for a in arguments]
    if "--out" not in words:
        words += ["--out", str(tmp_path / "results.csv")]
    assert main(["batch", *words, "--no-progress"]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_stopped_job_keeps_its_rows_and_resume_finishes_it(tmp_path: Path, suffix: str) -> None:
    """SIGTERM, as Kubernetes stops a pod: the rows so far are in the file (Parquet's footer
    written), the exit code is 130, and --resume reads only the rest."""
    (number,) = golden("number-976641")
    for i in range(100):
        shutil.copy(number, tmp_path / f"{i:04}.jpg")
    out = tmp_path / f"results{suffix}"
    command = [
        sys.executable,
        "-m",
        "rthdr.cli",
        "batch",
        str(tmp_path),
        "--multi",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    job = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    started = [out, out.with_name(out.name + ".partial")]  # Parquet writes to .partial until closed
    deadline = time.monotonic() + 60  # the first rows: not a fixed sleep, which a busy CI machine outruns
    while not any(p.exists() for p in started) and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    job.send_signal(signal.SIGTERM)
    _, err = job.communicate(timeout=60)
    assert job.returncode == 130, err
    assert "add --resume to carry on" in err
    done = len(list(read_rows(out)))
    assert 0 < done < 100
    finish = subprocess.run(
        [*command, "--resume", "--no-progress"], capture_output=True, text=True, timeout=120
    )
    assert finish.returncode == 0, finish.stderr
    assert f"{done} skipped" in finish.stdout
    rows = list(read_rows(out))
    assert [r.path for r in rows] == [str(tmp_path / f"{i:04}.jpg") for i in range(100)]
    assert {r.reading for r in rows} == {rows[0].reading}


def test_the_ray_address_comes_from_the_flag_or_ray_address(monkeypatch: pytest.MonkeyPatch) -> None:
    from rthdr.cli.main import build_parser

    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert build_parser().parse_args(["batch", "x", "--out", "r.csv"]).ray_address == "ray://head:10001"
    args = build_parser().parse_args(["batch", "x", "--out", "r.csv", "--ray-address", "auto"])
    assert (args.ray_address, args.engine, args.workers) == ("auto", "local", None)


def test_batch_reads_letters_with_the_character_model(tmp_path: Path, capsys) -> None:
    from rthdr.core.inference import DEFAULT_CHARACTER_MODEL, Classifier
    from tests.helpers.images import written_text

    scans = tmp_path / "letters"
    scans.mkdir()
    for letter in "HKR":
        (scans / f"{letter}.png").write_bytes(written_text(letter))
    out = tmp_path / "letters.csv"
    assert main(["batch", str(scans), "--charset", "letters", "--out", str(out), "--no-progress"]) == 0
    rows = {Path(r.path).stem: r for r in read_rows(out)}
    assert {name: row.reading for name, row in rows.items()} == {"H": "H", "K": "K", "R": "R"}
    charnet = Classifier(DEFAULT_CHARACTER_MODEL)
    assert all((r.model, r.model_version) == (charnet.name, charnet.version) for r in rows.values())


def test_batch_says_what_a_charset_cannot_do_before_it_starts(tmp_path: Path, capsys) -> None:
    scans = copy_scans(tmp_path / "scans", "canvas")
    out = tmp_path / "out.csv"
    assert main(["batch", str(scans[0]), "--charset", "letters", "--multi", "--out", str(out)]) == 2
    assert "--multi reads numbers of digits" in capsys.readouterr().err
    code = main(
        ["batch", str(scans[0]), "--charset", "devanagari", "--script-model", "none", "--out", str(out)]
    )
    assert code == 2 and "no script model" in capsys.readouterr().err
    assert not out.exists()
