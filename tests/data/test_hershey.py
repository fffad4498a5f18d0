"""The Hershey .jhf reader and the pen that draws its strokes."""

from __future__ import annotations

import numpy as np
import pytest

from rthdr.data import hershey

# futural.jhf's "4" (ASCII 52): two strokes, the pen lifted once between them.
FOUR = "12345  7H\\UFKTZT RUFU["


def test_parse_record_reads_margins_strokes_and_pen_ups() -> None:
    glyph = hershey.parse_record(FOUR)
    assert (glyph.left, glyph.right) == (-10, 10)
    assert [len(s) for s in glyph.strokes] == [3, 2]
    np.testing.assert_array_equal(glyph.strokes[1], [[3, -12], [3, 9]])


def test_parse_joins_a_record_wrapped_over_two_lines() -> None:
    (wrapped,) = hershey.parse(f"{FOUR[:14]}\n{FOUR[14:]}\n")
    whole = hershey.parse_record(FOUR)
    assert (wrapped.left, wrapped.right) == (whole.left, whole.right)
    assert [s.tolist() for s in wrapped.strokes] == [s.tolist() for s in whole.strokes]


def test_parse_rejects_a_short_record() -> None:
    with pytest.raises(ValueError, match="vertices"):
        hershey.parse_record(FOUR[:-2])


def test_draw_strokes_is_white_on_black_and_the_pen_sets_the_width() -> None:
    rng = np.random.default_rng(0)
    strokes = hershey.parse_record(FOUR).strokes
    thin, thick = (hershey.draw_strokes(strokes, 64, w, rng) for w in (1, 6))
    assert thin.shape == (64, 64) and thin.dtype == np.float32
    assert thin[0, 0] == 0 and thin.max() > 0.5  # paper black, ink bright
    assert thick.sum() > 3 * thin.sum()


def test_installed_fonts_have_digits_and_letters(corpus_fonts: None) -> None:
    for name in hershey.FONTS:
        font = hershey.load(name)
        assert set("0123456789AZaz") <= set(font), name
    assert len(hershey.load("futural")["4"].strokes) == 2
