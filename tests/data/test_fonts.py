"""The font families: the fixed list, the Makefile that installs it, and glyph rendering."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rthdr.data import fonts

MAKEFILE = Path(__file__).parents[2] / "Makefile"


def test_every_family_is_installed_by_make_system() -> None:
    system = re.search(r"^system:.*?(?=^\S)", MAKEFILE.read_text(), re.S | re.M)
    assert system, "no system target"
    assert set(fonts.PACKAGES) <= set(re.findall(r"[\w.+-]+", system.group(0)))


def test_validation_families_are_listed_families() -> None:
    names = {f.name for f in fonts.FAMILIES}
    assert names > fonts.VALIDATION
    assert len(names) == len(fonts.FAMILIES)  # a name is a family, once
    # both kinds are held out, and both stay in training
    kinds = {f.handwriting for f in fonts.FAMILIES if f.name in fonts.VALIDATION}
    assert kinds == {True, False}


def test_every_family_has_its_files(corpus_fonts: None) -> None:
    for family in fonts.FAMILIES:
        assert len(fonts.installed_files(family)) == len(family.files), family.name


def test_render_is_white_on_black_centred_and_never_cut_off(corpus_fonts: None) -> None:
    path = fonts.installed_files(fonts.FAMILIES[0])[0]
    glyph = fonts.render(path, "7", 40, 64)
    assert glyph.shape == (64, 64) and glyph.dtype == np.float32
    assert glyph.min() == 0 and glyph.max() > 0.9  # ink bright, paper black: MNIST's polarity
    assert glyph[0].max() == glyph[-1].max() == glyph[:, 0].max() == glyph[:, -1].max() == 0
    ys, xs = np.nonzero(glyph > 0.5)
    assert abs(ys.mean() - 32) < 8 and abs(xs.mean() - 32) < 8
    huge = fonts.render(path, "W", 200, 64)  # larger than the canvas: shrunk, its edges kept
    assert huge[0].max() == huge[-1].max() == huge[:, 0].max() == huge[:, -1].max() == 0
    assert huge.max() > 0.9


def test_has_glyph_tells_a_drawn_character_from_a_missing_one(corpus_fonts: None) -> None:
    path = fonts.installed_files(fonts.FAMILIES[0])[0]
    assert fonts.has_glyph(path, "A")
    assert not fonts.has_glyph(path, "\u0915")  # Devanagari KA: not in Comic Neue
