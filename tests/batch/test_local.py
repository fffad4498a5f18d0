"""rthdr.batch.local: one worker or a pool of two give the same rows, in input order, as reading each
file directly with rthdr's read_digit."""

from __future__ import annotations

from pathlib import Path

import pytest

from rthdr import Classifier, read_digit
from rthdr.batch.local import available_cpus, chunks, read_local
from rthdr.batch.reader import ReaderConfig
from tests.helpers.batch import golden, write_bad_files


@pytest.fixture
def paths(tmp_path: Path) -> list[str]:
    """Digits of every kind with bad files among them, more than one chunk's worth."""
    bad = write_bad_files(tmp_path)
    digits = golden("canvas") + golden("photo") + golden("stroke") + golden("upload")
    return [str(p) for p in [*digits[:5], bad[0], *digits[5:15], *bad[1:], *digits[15:]]]


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_give_the_rows_read_digit_gives_in_input_order(
    paths: list[str], model_path: Path, classifier: Classifier, workers: int
) -> None:
    rows = [r for part in read_local(paths, ReaderConfig(str(model_path)), workers, chunk=4) for r in part]
    assert [r.path for r in rows] == paths
    for row in rows:
        if row.error is None:
            expected = read_digit(row.path, classifier)
            assert (row.reading, row.uncertain) == (str(expected.digit), expected.uncertain)
            assert row.confidence == round(expected.confidence, 4)
    assert sum(r.error is not None for r in rows) == 3


def test_one_and_two_workers_agree_row_for_row(paths: list[str], model_path: Path) -> None:
    config = ReaderConfig(str(model_path), multi=True)
    one = [r for part in read_local(paths, config, 1, chunk=3) for r in part]
    two = [r for part in read_local(paths, config, 2, chunk=3) for r in part]
    assert one == two


def test_chunks_cover_the_paths_in_order() -> None:
    paths = [str(i) for i in range(10)]
    assert [list(c) for c in chunks(paths, 4)] == [paths[0:4], paths[4:8], paths[8:]]
    assert available_cpus() >= 1
