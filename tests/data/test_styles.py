"""The pen-drawn digit styles and the negatives."""

from __future__ import annotations

import numpy as np
import pytest

from rthdr.data import styles


@pytest.mark.parametrize("digit", sorted(styles.TEMPLATES))
def test_every_template_draws_ink(digit: str) -> None:
    for seed in range(len(styles.TEMPLATES[digit]) * 3):
        image = styles.draw_template(digit, np.random.default_rng(seed), 64)
        assert image.shape == (64, 64) and image.max() > 0.5 and image[0, 0] == 0


def test_the_styles_mnist_lacks_are_covered() -> None:
    assert set(styles.TEMPLATES) == {"0", "1", "4", "7", "9"}
    # the 1 with a foot and the 7 with a bar are two strokes
    assert len(styles.TEMPLATES["1"][0]) == 2 and len(styles.TEMPLATES["7"][0]) == 2


@pytest.mark.parametrize("negative", [styles.scribble, styles.smudge])
def test_negatives_have_ink(negative: styles.Negative) -> None:
    for seed in range(5):
        assert negative(np.random.default_rng(seed), 64).max() > 0.1


def test_partial_keeps_a_small_part_of_the_glyph() -> None:
    glyph = styles.draw_template("0", np.random.default_rng(0), 64)
    part = styles.partial(glyph, np.random.default_rng(0))
    assert 0 < part.sum() < 0.6 * glyph.sum()


def test_negatives_are_never_one_straight_stroke() -> None:
    # a straight stroke is a 1 (or an I): labelled `none`, it would teach the model to reject 1s
    bar = np.zeros((64, 64), np.float32)
    bar[10:54, 30:33] = 1.0
    assert styles.line_like(bar)
    for seed in range(10):
        assert not styles.line_like(styles.scribble(np.random.default_rng(seed), 64))
