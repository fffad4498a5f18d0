"""rthdr.batch.reader: the rows say what rthdr's public read_digit and read_number say, and a file
that cannot be read is a row with its error code."""

from __future__ import annotations

from pathlib import Path

import pytest

from rthdr import Classifier, OneDigitCheck, read_digit, read_number
from rthdr.batch.reader import Reader, ReaderConfig
from rthdr.batch.rows import Row
from tests.helpers.batch import BAD_FILES, golden, write_bad_files


def test_digit_rows_are_what_read_digit_says(model_path: Path, classifier: Classifier) -> None:
    paths = [str(p) for p in golden("canvas") + golden("photo") + golden("upload")]
    rows = Reader(ReaderConfig(str(model_path))).read(paths)
    assert [r.path for r in rows] == paths
    for row in rows:
        expected = read_digit(row.path, classifier)
        assert row.reading == str(expected.digit)
        assert row.confidence == pytest.approx(expected.confidence, abs=5e-5)
        assert row.uncertain == expected.uncertain and row.digit_confidences is None
        assert (row.model, row.model_version) == (classifier.name, classifier.version)
        assert row.error is None


def test_number_rows_are_what_read_number_says(model_path: Path, classifier: Classifier) -> None:
    paths = [str(p) for p in golden("number")]
    rows = Reader(ReaderConfig(str(model_path), multi=True)).read(paths)
    for row in rows:
        expected = read_number(row.path, classifier, one_digit=OneDigitCheck())
        assert row.reading == expected.text and row.uncertain == expected.uncertain
        assert row.digit_confidences == [round(p.confidence, 4) for p in expected.predictions]
        assert row.confidence == min(row.digit_confidences)


@pytest.mark.parametrize("multi", [False, True])
def test_bad_files_are_rows_with_their_error(tmp_path: Path, model_path: Path, multi: bool) -> None:
    bad = write_bad_files(tmp_path)
    good = golden("canvas-7")
    paths = [str(p) for p in [bad[0], *good, *bad[1:], tmp_path / "gone.png", tmp_path]]
    rows = Reader(ReaderConfig(str(model_path), multi=multi)).read(paths)
    errors = [r.error for r in rows]
    assert errors == [BAD_FILES["empty.png"], None, *list(BAD_FILES.values())[1:], "not_found", "unreadable"]
    assert rows[1].reading == "7"
    for row in rows[:1] + rows[2:]:
        assert row == Row(row.path, error=row.error, message=row.message) and row.message


def test_a_row_for_every_path_when_none_can_be_read(tmp_path: Path, model_path: Path) -> None:
    rows = Reader(ReaderConfig(str(model_path))).read([str(tmp_path / "a.png"), str(tmp_path / "b.png")])
    assert [r.error for r in rows] == ["not_found", "not_found"]
