"""The character corpus: its classes, the family split, seeded generation, the file and the CLI."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage.morphology import skeletonize

from rthdr.cli.main import main
from rthdr.core.charsets import SCRIPT_DIGITS
from rthdr.core.preprocess import to_model_input
from rthdr.data import corpus, fonts


def test_the_classes_are_emnist_balanced_plus_none() -> None:
    names = corpus.classes("alphanumeric")
    assert len(names) == 47 + 1 and names[-1] == corpus.NONE
    assert len(set(names)) == len(names)
    assert corpus.classes("digits") == (*"0123456789", "none")
    assert len(corpus.classes("letters")) == 37 + 1
    merged = set("cijklmopsuvwxyz")
    assert not merged & set(names)  # drawn in their capital's class ...
    assert corpus.glyphs("C") == ("C", "c") and corpus.glyphs("O") == ("O", "o")
    assert corpus.glyphs("A") == ("A",) and corpus.glyphs("a") == ("a",)  # ... unlike a and A
    with pytest.raises(ValueError, match="unknown corpus charset"):
        corpus.classes("klingon")


def test_the_family_split_is_disjoint_and_covers_both_kinds() -> None:
    split = corpus.split_families()
    assert not split["train"] & split["validation"]
    assert any(f.startswith("Hershey") for f in split["validation"])
    assert len(split["train"]) > 3 * len(split["validation"])


@pytest.fixture(scope="module")
def small(corpus_fonts: None) -> corpus.Corpus:
    return corpus.generate(2, "alphanumeric", "train", seed=0, progress=False)


def test_samples_are_model_inputs_with_ink(small: corpus.Corpus) -> None:
    assert small.images.shape == (2 * 48, 28, 28) and small.images.dtype == np.float32
    assert small.images.min() >= 0 and small.images.max() <= 1
    assert (small.images.reshape(len(small.images), -1).max(axis=1) > 0.5).all()
    # fitted into 20x20 like MNIST: the border rows stay almost black
    assert small.images[:, :2].mean() < 0.02
    assert np.bincount(small.labels).tolist() == [2] * 48


def test_same_seed_same_bytes_other_seed_other_images(small: corpus.Corpus) -> None:
    again = corpus.generate(2, "alphanumeric", "train", seed=0, progress=False)
    assert again.images.tobytes() == small.images.tobytes()
    assert again.families.tobytes() == small.families.tobytes()
    other = corpus.generate(2, "alphanumeric", "train", seed=1, progress=False)
    assert other.images.tobytes() != small.images.tobytes()


def _width_spread(image: np.ndarray) -> float:
    """How much the stroke width varies along the glyph: the spread of the ink's distance to the
    paper on its centre line, a share of its mean."""
    ink = image > 0.5
    depth = cv2.distanceTransform(ink.astype(np.uint8), cv2.DIST_L2, 5)[skeletonize(ink)]
    return float(depth.std() / depth.mean())


def test_a_redrawn_glyph_is_the_same_shape_drawn_with_an_even_pen(corpus_fonts: None) -> None:
    serif = next(f for f in fonts.FAMILIES if f.name == "Liberation Serif")
    glyph = fonts.render(fonts.installed_files(serif)[1], "R", 40, corpus.CANVAS)  # bold: thick and thin
    shape = to_model_input(np.round(glyph * 255).astype(np.uint8), dark_ink=False)[0].ravel()
    for seed in range(5):
        pen = corpus.redrawn(glyph, np.random.default_rng(seed))
        assert pen.shape == glyph.shape and pen.dtype == np.float32 and pen.max() > 0.9
        assert _width_spread(pen) < 0.75 * _width_spread(glyph)  # a round pen, not the font's contrast
        drawn = to_model_input(np.round(pen * 255).astype(np.uint8), dark_ink=False)[0].ravel()
        assert np.corrcoef(shape, drawn)[0, 1] > 0.5  # still the R, where the preprocessing puts it
    again = corpus.redrawn(glyph, np.random.default_rng(0))
    assert np.array_equal(again, corpus.redrawn(glyph, np.random.default_rng(0)))
    blank = np.zeros_like(glyph)
    assert corpus.redrawn(blank, np.random.default_rng(0)) is blank  # nothing to trace: kept


def test_validation_draws_only_held_out_families(corpus_fonts: None) -> None:
    validation = corpus.generate(3, "digits", "validation", seed=0, progress=False)
    held_out = corpus.split_families()["validation"]
    negatives = {"pen scribbles", "smudges"}  # generated, not a family: both splits, other seeds
    assert set(validation.family_names) - negatives <= held_out


def test_the_cli_writes_a_file_a_training_can_read(tmp_path: Path, corpus_fonts: None) -> None:
    out = tmp_path / "corpus.npz"
    sheet = tmp_path / "sheet.png"
    args = ["data", "corpus", "--out", str(out), "--per-class", "2", "--charset", "digits"]
    assert main([*args, "--seed", "7", "--quiet", "--sheet", str(sheet)]) == 0
    loaded = corpus.load(out)
    assert loaded.images.shape == (22, 28, 28) and loaded.classes == corpus.classes("digits")
    assert (loaded.seed, loaded.split, loaded.charset) == (7, "train", "digits")
    with np.load(out) as data:
        assert data["images"].dtype == np.uint8 and data["labels"].dtype == np.int16
        assert str(data["command"]).endswith("--per-class 2 --seed 7 --split train --charset digits")
        assert len(data["families"]) == 22
    # what a training step needs: a float batch and integer targets in range
    assert loaded.labels.max() < len(loaded.classes) and loaded.images.max() <= 1
    assert sheet.stat().st_size > 0


# --- the scripts corpus: other scripts' digits, for the script model ------------------------------


def test_the_scripts_corpus_has_the_script_models_classes_and_no_latin() -> None:
    assert corpus.classes("scripts") == (*SCRIPT_DIGITS, corpus.NONE)
    assert corpus.glyphs("٣") == ("٣", "۳")  # a shape Persian shares: drawn under both code points
    assert corpus.glyphs("۴") == ("۴",) and corpus.glyphs("७") == ("७",)
    with pytest.raises(ValueError, match="unknown corpus charset"):
        corpus.classes("devanagari")  # the charsets the script model reads come from one corpus
    split = corpus.split_families("scripts")
    assert not split["train"] & split["validation"] and split["validation"] >= fonts.SCRIPT_VALIDATION
    assert not any(f.startswith("Hershey") for f in split["train"] | split["validation"])


@pytest.mark.parametrize("split", corpus.SPLITS)
def test_each_split_has_every_script_class_from_its_own_families(split: str, corpus_fonts: None) -> None:
    sources = corpus.sources(split, "scripts")
    drawn = set().union(*(s.chars for s in sources))
    assert set(SCRIPT_DIGITS) <= drawn, set(SCRIPT_DIGITS) - drawn
    assert {s.family for s in sources} <= corpus.split_families("scripts")[split]
    generated = corpus.generate(1, "scripts", split, seed=0, progress=False)
    assert generated.images.shape == (24, 28, 28) and generated.charset == "scripts"
    assert generated.images.reshape(24, -1).max(axis=1).min() > 0.5


def test_only_latin_glyphs_are_drawn_again_with_a_pen(
    corpus_fonts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trained on redrawn glyphs, scriptnet read the held-out scripts worse: the scripts corpus keeps
    its fonts' own pictures (and so scriptnet's card holds), the Latin one redraws some of them."""
    redrawn: list[np.ndarray] = []
    monkeypatch.setattr(corpus, "redrawn", lambda image, rng: redrawn.append(image) or image)
    corpus.generate(4, "scripts", seed=0, progress=False)
    assert not redrawn
    latin = corpus.generate(4, "digits", seed=0, progress=False)
    assert 0 < len(redrawn) < len(latin.labels)


def test_the_latin_corpus_is_unchanged_by_the_scripts(small: corpus.Corpus) -> None:
    """No script family is drawn for letters and digits: the shipped charnet's corpus stays the same."""
    latin = {s.family for s in corpus.sources("train") + corpus.sources("validation")}
    assert not latin & {f.name for f in fonts.SCRIPT_FAMILIES}


def test_a_capitals_only_family_draws_no_lower_case_class(corpus_fonts: None) -> None:
    """Tomson Talks draws 'b' as a capital B: under the label 'b' it would teach a wrong shape."""
    family = next(f for f in fonts.FAMILIES if f.name in fonts.CAPITALS_ONLY)
    source = corpus._font_source(family, corpus.LATIN_GLYPHS, corpus.PEN_SHARE["train"])
    assert source is not None and {"B", "Q", "7"} <= source.chars
    assert not source.chars & {"a", "b", "d", "q", "r", "t"}
    assert {"c", "o", "s"} <= source.chars  # merged with their capitals: a capital's shape is right
