"""Each augmentation step, on a drawn glyph, keeps a valid sample: the canvas, [0, 1], ink."""

from __future__ import annotations

import numpy as np
import pytest

from rthdr.core.preprocess import to_model_input
from rthdr.data import augment
from rthdr.data.styles import draw_template


@pytest.fixture
def glyph() -> np.ndarray:
    return draw_template("4", np.random.default_rng(0), 64)


@pytest.mark.parametrize("step", [s for s, _ in augment.STEPS], ids=lambda s: s.__name__)
def test_each_step_keeps_a_valid_sample(step: augment.Step, glyph: np.ndarray) -> None:
    for seed in range(5):
        out = np.clip(step(glyph, np.random.default_rng(seed)), 0, 1)
        assert out.shape == glyph.shape
        assert out.max() > 0.5  # still some ink
        model_input = to_model_input(np.round(out * 255).astype(np.uint8), dark_ink=False)[0]
        assert model_input.shape == (28, 28) and model_input.max() > 0.5


@pytest.mark.parametrize("step", [s for s, _ in augment.STEPS], ids=lambda s: s.__name__)
def test_each_step_changes_the_glyph(step: augment.Step, glyph: np.ndarray) -> None:
    changed = [not np.array_equal(step(glyph, np.random.default_rng(s)), glyph) for s in range(5)]
    assert any(changed)


def test_hairlines_are_thickened_and_thick_strokes_left_alone() -> None:
    hairline, bar = np.zeros((64, 64), np.float32), np.zeros((64, 64), np.float32)
    hairline[10:54, 32] = 0.6  # one dim pixel wide, as Ecolier's cursive
    bar[10:54, 28:34] = 1.0
    assert augment.width(augment.at_least_hairline(hairline)) >= 2.5
    np.testing.assert_array_equal(augment.at_least_hairline(bar), bar)


def test_augment_is_seeded_and_in_range(glyph: np.ndarray) -> None:
    first, again = (augment.augment(glyph, np.random.default_rng(3)) for _ in range(2))
    np.testing.assert_array_equal(first, again)
    assert first.min() >= 0 and first.max() <= 1
