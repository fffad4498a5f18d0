"""What the stroke model adds, measured: the fusion weight chosen on validation, then MNIST's test
digits traced, read from the picture alone, from the strokes alone, and from both fused; and the card
(strokenet.card.json) that serving reads the weight from.

The strokes are traced from MNIST's pictures (rthdr.data.trace). The picture fused with them is the
strokes drawn again with a round pen (rthdr.core.strokes.render), as the page's canvas draws them:
that is what the weight is chosen for. MNIST's own picture, fused with the same weight, is given too.

The character stroke model (strokenet-chars) is measured the same way against the character model:
the weight chosen on its training corpus's held-out 1/12, the figures on the corpus of font families
kept out of training and on Hershey's validation fonts, whose glyphs are real pen strokes.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rthdr.core.charsets import CHARSETS, NONE, class_of
from rthdr.core.inference import Classifier, OneDigitCheck, StrokeClassifier, calibrated, fuse
from rthdr.core.pipeline import prepare_stroke_number, read_number
from rthdr.core.preprocess import preprocess_all, to_model_input
from rthdr.core.strokes import features, render
from rthdr.data import corpus as corpora
from rthdr.data.mnist import load_mnist, train_validation_split
from rthdr.evaluation.calibration import expected_calibration_error, fit_temperature
from rthdr.evaluation.timing import percentiles
from rthdr.training.config import StrokeConfig
from rthdr.training.strokes import Drawing, featurize, hershey_glyphs, traced

WEIGHTS = np.round(np.arange(0, 1.0001, 0.05), 2)  # the image model's share of the log-probabilities
STROKE_CHARSETS = ("letters", "alphanumeric")  # what the character stroke model is fused in
# Numbers of traced test digits side by side, gaps between the digits' skeletons in MNIST pixels: with
# a pen 2 pixels wide, "touching" digits' ink meets or overlaps.
GAPS = {"apart": (4.0, 8.0), "touching": (-1.0, 1.0)}
NUMBER_LENGTHS = (3, 4, 5, 6)


def fusion_weight(
    image: np.ndarray, strokes: np.ndarray, labels: np.ndarray, wanted: np.ndarray | None = None
) -> float:
    """The image weight with the best accuracy on these (validation) samples, the likeliest of the
    `wanted` classes (default: all) answering; ties go to the lower log loss."""
    pick = np.ones(len(labels), bool) if wanted is None else np.isin(labels, wanted)
    wanted = np.arange(image.shape[1]) if wanted is None else wanted

    def score(weight: float) -> tuple[float, float]:
        fused = fuse(image[pick], strokes[pick], weight)
        best = wanted[fused[:, wanted].argmax(1)]
        right = labels[pick]
        return float((best == right).mean()), -float(np.log(fused[np.arange(len(right)), right]).mean())

    return float(max(WEIGHTS, key=score))


def rendered_inputs(drawings: list[Drawing]) -> np.ndarray:
    """Each drawing as the image model sees strokes sent alone: drawn, then preprocessed."""
    return np.stack([to_model_input(render(d))[0] for d in drawings])


def accuracies(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    right = probabilities.argmax(1) == labels
    return {
        "accuracy": float(right.mean()),
        "errors": int((~right).sum()),
        "per_digit": {str(d): round(float(right[labels == d].mean()), 4) for d in range(10)},
    }


def charset_accuracies(
    probabilities: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    """Accuracy in each charset the character models read (on the samples of its classes, the
    likeliest of its classes, as rthdr.core.characters answers), and per class in alphanumeric."""
    figures: dict[str, Any] = {}
    for charset in ("alphanumeric", "letters", "digits"):
        wanted = np.array([classes.index(class_of(c)) for c in CHARSETS[charset]])
        pick = np.isin(labels, wanted)
        right = wanted[probabilities[pick][:, wanted].argmax(1)] == labels[pick]
        figures[charset] = {"accuracy": float(right.mean()), "samples": int(pick.sum())}
    wanted = np.array([classes.index(c) for c in classes if c != NONE])
    best = wanted[probabilities[:, wanted].argmax(1)]
    figures["per_class"] = {
        classes[i]: round(float((best[labels == i] == i).mean()), 4) for i in wanted if (labels == i).any()
    }
    return figures


def compose(drawings: list[Drawing], gaps: np.ndarray) -> Drawing:
    """The drawings side by side, left to right, each `gaps[i]` pixels after the last one's right edge."""
    strokes, right = [], 0.0
    for i, drawing in enumerate(drawings):
        points = np.concatenate(drawing)
        shift = (right + (gaps[i - 1] if i else 0.0)) - points[:, 0].min()
        strokes += [s + np.array([shift, 0.0]) for s in drawing]
        right = points[:, 0].max() + shift
    return strokes


def number_figures(
    digits: Classifier, strokes: StrokeClassifier, weight: float, drawings: list[Drawing], labels: np.ndarray,
    per_kind: int = 300,
) -> dict[str, Any]:  # fmt: skip
    """Whole-number accuracy on numbers composed from traced test digits, apart and touching: read from
    the picture (cut by number reading, with the one-digit check, as /recognize reads an image) and
    from the strokes (grouped by drawing order, each group's picture and strokes fused)."""
    rng = np.random.default_rng(0)
    one_digit = OneDigitCheck.if_present()
    figures: dict[str, Any] = {}
    for kind, (low, high) in GAPS.items():
        right = {"image": 0, "strokes": 0}
        for _ in range(per_kind):
            picks = rng.choice(len(drawings), int(rng.choice(NUMBER_LENGTHS)))
            number = compose([drawings[i] for i in picks], rng.uniform(low, high, len(picks)))
            text = "".join(str(labels[i]) for i in picks)
            page = 255 - render(number, size=1400)
            right["image"] += read_number(page, digits, one_digit=one_digit).text == text
            prepared, groups = prepare_stroke_number(number)
            image_p = digits.probabilities(np.stack([d.model_input for d in prepared.digits]))
            stroke_p = strokes(np.stack([features([number[i] for i in g.strokes]) for g in groups]))
            read = "".join(str(d) for d in fuse(image_p, stroke_p, weight).argmax(1))
            right["strokes"] += read == text
        figures[kind] = {source: count / per_kind for source, count in right.items()} | {"numbers": per_kind}
    return figures


def stroke_latency_ms(model: StrokeClassifier, runs: int = 2000) -> dict[str, float]:
    one = np.zeros((1, 5, 64), np.float32)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        model(one)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def measure(
    stroke_model: Path, digits: Classifier, data_dir: str | Path | None, training: dict[str, Any], limit: int | None = None
) -> dict[str, Any]:  # fmt: skip
    """The card: the fusion weight (on the traced validation split) and the traced test figures."""
    strokes = StrokeClassifier(stroke_model)
    images, labels = load_mnist("train", data_dir)
    _, val_idx = train_validation_split(len(images), limit=limit)
    val_drawings, kept = traced(images[val_idx], progress=False)
    val_labels = labels[val_idx][kept]
    drawn_p = digits.predict_all(rendered_inputs(val_drawings))
    stroke_p = strokes(np.stack([features(d) for d in val_drawings]))
    weight = fusion_weight(drawn_p, stroke_p, val_labels)
    temperature = fit_temperature(fuse(drawn_p, stroke_p, weight), val_labels)

    test_images, test_labels = load_mnist("test", data_dir)
    if limit:
        test_images, test_labels = test_images[:limit], test_labels[:limit]
    test_drawings, kept = traced(test_images, progress=False)
    untraceable = len(test_labels) - len(kept)
    test_images, test_labels = test_images[kept], test_labels[kept]
    image_t = digits.predict_all(preprocess_all(test_images, progress=False))
    stroke_t = strokes(np.stack([features(d) for d in test_drawings]))
    rendered_t = digits.predict_all(rendered_inputs(test_drawings))
    return {
        "name": strokes.path.stem,
        "released": datetime.now(UTC).strftime("%Y-%m-%d"),
        "task": "classify one handwritten digit from its pen strokes (points in drawing order)",
        "classes": [str(d) for d in range(10)],
        "training": training,
        "fusion": {
            "image_weight": weight,
            "temperature": temperature,
            "chosen_on": f"{len(val_labels):,} traced MNIST validation digits (the training split's 1/12): their strokes, and the strokes drawn as a picture",
            "test_ece": fused_ece(rendered_t, stroke_t, test_labels, weight, temperature),
            "validation_accuracy": {
                "drawn_picture": float((drawn_p.argmax(1) == val_labels).mean()),
                "strokes": float((stroke_p.argmax(1) == val_labels).mean()),
                "fused": float((fuse(drawn_p, stroke_p, weight).argmax(1) == val_labels).mean()),
            },
        },
        "traced_test": {
            "digits": len(test_labels),
            "untraceable": untraceable,
            "image": accuracies(rendered_t, test_labels),
            "strokes": accuracies(stroke_t, test_labels),
            "fused": accuracies(fuse(rendered_t, stroke_t, weight), test_labels),
            "mnist_picture": accuracies(image_t, test_labels),
            "mnist_picture_fused": accuracies(fuse(image_t, stroke_t, weight), test_labels),
        },
        "numbers": number_figures(digits, strokes, weight, test_drawings, test_labels),
        "single_drawing_latency_ms": stroke_latency_ms(strokes),
    }  # fmt: skip


def fused_ece(
    image: np.ndarray, strokes: np.ndarray, labels: np.ndarray, weight: float, temperature: float
) -> dict[str, float]:
    """The fused probabilities' expected calibration error, as fused and with their temperature."""
    fused = fuse(image, strokes, weight)
    return {
        "fused": round(expected_calibration_error(fused, labels), 4),
        "calibrated": round(expected_calibration_error(calibrated(fused, temperature), labels), 4),
    }


def fused_accuracies(
    image: np.ndarray,
    strokes: np.ndarray,
    labels: np.ndarray,
    classes: tuple[str, ...],
    weights: dict[str, float],
) -> dict[str, Any]:
    """charset_accuracies of the two fused, each charset with its own weight (per class: alphanumeric's)."""
    figures = {c: charset_accuracies(fuse(image, strokes, w), labels, classes) for c, w in weights.items()}
    return {**figures["alphanumeric"], **{c: f[c] for c, f in figures.items()}}


def read_set(
    characters: Classifier,
    strokes: StrokeClassifier,
    drawings: list[Drawing],
    labels: np.ndarray,
    weights: dict[str, float],
    pictures: np.ndarray | None = None,
) -> dict[str, Any]:
    """One set's figures: read from the drawings drawn as pictures, from their strokes, both fused,
    and, where the set has them, from its own pictures (alone and fused)."""
    classes = characters.classes
    picture, stroke_p = characters.predict_all(rendered_inputs(drawings)), strokes(featurize(drawings))
    figures = {
        "samples": len(labels),
        "image": charset_accuracies(picture, labels, classes),
        "strokes": charset_accuracies(stroke_p, labels, classes),
        "fused": fused_accuracies(picture, stroke_p, labels, classes, weights),
    }
    if pictures is not None:
        own = characters.predict_all(pictures)
        figures["font_picture"] = charset_accuracies(own, labels, classes)
        figures["font_picture_fused"] = fused_accuracies(own, stroke_p, labels, classes, weights)
    return figures


def measure_characters(
    stroke_model: Path, characters: Classifier, cfg: StrokeConfig, held_out: Path, training: dict[str, Any]
) -> dict[str, Any]:
    """The character stroke model's card: the fusion weight on its corpus's held-out 1/12 (split as
    training split it), then the held-out font families traced and Hershey's validation fonts, read
    from the picture (the strokes drawn), the strokes and both fused, in each charset."""
    assert cfg.corpus is not None
    strokes = StrokeClassifier(stroke_model)
    corpus = corpora.load(Path(cfg.corpus))
    if characters.classes != corpus.classes:  # the stroke model has learnt the corpus's
        raise ValueError(f"{characters.path} and {cfg.corpus} must have the same classes")
    _, held = corpora.split_indices(corpus, cfg.seed, 1 / 12, cfg.limit)
    drawings, kept = traced(np.round(corpus.images[held] * 255).astype(np.uint8), progress=False)
    labels = corpus.labels[held][kept]
    drawn_p, stroke_p = characters.predict_all(rendered_inputs(drawings)), strokes(featurize(drawings))
    weights = {
        charset: fusion_weight(drawn_p, stroke_p, labels, np.array([corpus.classes.index(class_of(c)) for c in CHARSETS[charset]]))
        for charset in STROKE_CHARSETS
    }  # fmt: skip
    temperatures = {c: fit_temperature(fuse(drawn_p, stroke_p, w), labels) for c, w in weights.items()}
    sets = {}
    families = corpora.load(held_out)
    drawings, kept = traced(np.round(families.images * 255).astype(np.uint8), progress=False)
    sets["held_out_fonts"] = (drawings, families.labels[kept].astype(np.int64), families.images[kept])
    pen, pen_labels = hershey_glyphs(corpus.classes, validation=True)
    sets["hershey_validation"] = (pen, pen_labels, None)
    figures = {
        name: read_set(characters, strokes, drawn, truth, weights, pictures)
        for name, (drawn, truth, pictures) in sets.items()
    }
    return {
        "name": strokes.path.stem,
        "released": datetime.now(UTC).strftime("%Y-%m-%d"),
        "task": "classify one handwritten digit or letter (or none) from its pen strokes, for charsets letters and alphanumeric",
        "classes": list(corpus.classes),
        "training": training,
        "fusion": {
            "charsets": {c: {"image_weight": w, "temperature": temperatures[c]} for c, w in weights.items()},
            "image_model": characters.name,
            "chosen_on": f"{len(labels):,} traced samples of the training corpus's held-out 1/12: their strokes, and the strokes drawn as a picture",
        },
        "held_out": figures,
        "held_out_families": list(families.family_names),
        "single_drawing_latency_ms": stroke_latency_ms(strokes),
    }  # fmt: skip


def write_character_card(card: dict[str, Any], path: Path) -> None:
    """strokenet-chars.card.json, and .card.md for people."""
    path.write_text(json.dumps(card, indent=2) + "\n")
    sources = (
        ("the picture alone: the strokes drawn with a round pen", "image"),
        ("the strokes alone", "strokes"),
        ("both, fused (picture weights below)", "fused"),
        ("the font's own picture alone", "font_picture"),
        ("the font's own picture fused with the strokes", "font_picture_fused"),
    )

    def table(figures: dict[str, Any]) -> str:
        rows = [
            f"| {name} | " + " | ".join(f"{100 * figures[key][c]['accuracy']:.2f} %" for c in ("alphanumeric", "letters", "digits")) + " |"
            for name, key in sources
            if key in figures
        ]  # fmt: skip
        return "| read from | alphanumeric | letters | digits |\n|---|---|---|---|\n" + "\n".join(rows)

    fonts, pen = card["held_out"]["held_out_fonts"], card["held_out"]["hershey_validation"]
    per_class = fonts["fused"]["per_class"]
    weakest = ", ".join(
        f"{c} {100 * a:.0f} %" for c, a in sorted(per_class.items(), key=lambda kv: kv[1])[:8]
    )
    latency = card["single_drawing_latency_ms"]
    path.with_suffix(".md").write_text(f"""# Model card: {card["name"]}

{card["task"]}. Released {card["released"]}. Fused with {card["fusion"]["image_model"]}, the character model.

**Trained on** {card["training"]["data"]}. Reproduce: `{card["training"]["command"]}`.

**Traced and pen-font strokes, not handwriting.** No handwritten letter set with pen strokes is available
here: the strokes are traced from rendered font glyphs (and MNIST digits) or are Hershey's centre lines.

## Font families kept out of training, traced ({fonts["samples"]:,} samples: {", ".join(card["held_out_families"])})

{table(fonts)}

Weakest classes, fused: {weakest}.

## Hershey's validation fonts ({pen["samples"]} glyphs: their own pen paths, not traced; thick lines drawn two or three times)

{table(pen)}

The picture's fusion weight, chosen for each charset on {card["fusion"]["chosen_on"]}: {", ".join(f"{c} {f['image_weight']}" for c, f in card["fusion"]["charsets"].items())}; the fused probabilities' temperature, fitted there too: {", ".join(f"{c} {f['temperature']}" for c, f in card["fusion"]["charsets"].items())}.
One drawing: p50 {latency["p50"]} ms, p99 {latency["p99"]} ms (ONNX Runtime, one thread).
""")


def write_card(card: dict[str, Any], path: Path) -> None:
    """strokenet.card.json, and .card.md for people."""
    path.write_text(json.dumps(card, indent=2) + "\n")
    test, fusion = card["traced_test"], card["fusion"]

    def row(name: str, key: str) -> str:
        figures = test[key]
        digits = " | ".join(f"{100 * figures['per_digit'][str(d)]:.1f}" for d in range(10))
        return f"| {name} | **{100 * figures['accuracy']:.2f} %** ({figures['errors']}) | {digits} |"

    rows = "\n".join(
        row(*pair)
        for pair in (
            ("the picture alone: the strokes drawn with a round pen, as the page draws them", "image"),
            ("the strokes alone", "strokes"),
            (f"both, fused (picture weight {fusion['image_weight']})", "fused"),
            ("MNIST's own picture alone", "mnist_picture"),
            ("MNIST's own picture fused with the strokes (the same weight)", "mnist_picture_fused"),
        )
    )
    latency = card["single_drawing_latency_ms"]
    path.with_suffix(".md").write_text(f"""# Model card: {card["name"]}

{card["task"]}. Released {card["released"]}.

**Trained on** {card["training"]["data"]}. Reproduce: `{card["training"]["command"]}`.

**Traced, not written.** MNIST holds pictures: its strokes here are traced from them (skeleton, then
walked top to bottom as people write), so the stroke order is a plausible one, not the writer's.

## Traced MNIST test digits ({test["digits"]:,}; {test["untraceable"]} could not be traced)

| read from | accuracy (errors) | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 |
|---|---|---|---|---|---|---|---|---|---|---|---|
{rows}

The fusion weight was chosen on {fusion["chosen_on"]}, and the fused probabilities' temperature
({fusion["temperature"]}) fitted there: on the traced test digits their expected calibration error
goes from {100 * fusion["test_ece"]["fused"]:.2f} % to {100 * fusion["test_ece"]["calibrated"]:.2f} %.

## Whole numbers of traced test digits ({card["numbers"]["apart"]["numbers"]} of each kind, 3 to 6 digits)

| digits | read from the picture (cut by number reading) | grouped by the strokes, fused |
|---|---|---|
| apart | {100 * card["numbers"]["apart"]["image"]:.1f} % | {100 * card["numbers"]["apart"]["strokes"]:.1f} % |
| touching | {100 * card["numbers"]["touching"]["image"]:.1f} % | {100 * card["numbers"]["touching"]["strokes"]:.1f} % |

One drawing: p50 {latency["p50"]} ms, p99 {latency["p99"]} ms (ONNX Runtime, one thread).
""")
