"""rthdr.batch.rows: each format gives back the rows written to it; --resume finds the paths done and
appends, after a torn last line too; Parquet is finished by a rename."""

from __future__ import annotations

from pathlib import Path

import pytest

from rthdr.batch.inputs import BatchError
from rthdr.batch.rows import COLUMNS, FORMATS, Row, done_paths, open_writer, read_rows

ROWS = [
    Row("scans/7.png", "7", 0.9981, False, None, "digitnet.int8", "7416ca4cd764"),
    Row('scans/odd, name "quoted".png', "1", 0.52, True, None, "digitnet.int8", "7416ca4cd764"),
    Row(
        "forms/90210.jpg",
        "90210",
        0.6125,
        True,
        [0.99, 0.6125, 0.97, 0.9, 0.95],
        "digitnet.int8",
        "7416ca4cd764",
    ),
    Row("scans/bad.png", error="invalid_image", message="These bytes are not an image:\nsend a PNG."),
]


def write(path: Path, rows: list[Row], append: bool = False) -> None:
    writer = open_writer(path, append)
    writer.write(rows)
    writer.close()


@pytest.mark.parametrize("suffix", FORMATS)
def test_each_format_gives_back_the_rows_written(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"results{suffix}"
    write(out, ROWS)
    assert list(read_rows(out)) == ROWS


def test_csv_has_one_header_and_plain_cells(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    write(out, ROWS[:1])
    write(out, ROWS[2:3], append=True)
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert lines[1] == "scans/7.png,7,0.9981,false,,digitnet.int8,7416ca4cd764,,"
    assert (
        lines[2] == "forms/90210.jpg,90210,0.6125,true,0.99 0.6125 0.97 0.9 0.95,digitnet.int8,7416ca4cd764,,"
    )


@pytest.mark.parametrize("suffix", FORMATS)
def test_resume_finds_the_paths_done_and_appends(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"results{suffix}"
    assert done_paths(out) == set(), "no file yet: nothing done"
    write(out, ROWS[:2])
    assert done_paths(out) == {ROWS[0].path, ROWS[1].path}
    write(out, ROWS[2:], append=True)
    assert list(read_rows(out)) == ROWS


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_torn_last_line_is_dropped_and_read_again(tmp_path: Path, suffix: str) -> None:
    """A job killed in the middle of a line: that image counts as not done."""
    out = tmp_path / f"results{suffix}"
    write(out, ROWS[:3])
    text = out.read_bytes()
    out.write_bytes(text[: text.rindex(b"forms/90210") + 20])
    assert done_paths(out) == {ROWS[0].path, ROWS[1].path}
    write(out, ROWS[2:], append=True)
    assert list(read_rows(out)) == ROWS


def test_parquet_is_written_beside_and_renamed_when_done(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    writer = open_writer(out, append=False)
    writer.write(ROWS)
    assert not out.exists() and (tmp_path / "results.parquet.partial").exists()
    writer.close()
    assert out.exists() and not (tmp_path / "results.parquet.partial").exists()


def test_an_unknown_suffix_says_which_are_known(tmp_path: Path) -> None:
    with pytest.raises(BatchError, match=r"\.csv, \.jsonl, \.parquet"):
        open_writer(tmp_path / "results.xlsx", append=False)


def test_a_file_that_is_not_ours_cannot_be_resumed(tmp_path: Path) -> None:
    out = tmp_path / "results.parquet"
    out.write_bytes(b"PAR1 but not really")
    with pytest.raises(BatchError, match="remove it to start again"):
        done_paths(out)
