"""Hershey's single-stroke vector fonts (Debian's `hershey-fonts-data`), read and drawn with a pen.

A font file renders a glyph's filled outline; a pen draws its centre line. These glyphs are centre
lines, so drawing them with a random pen (hairline to marker, round caps, a little tremor) gives
the corpus a second, pen-like source of digits and letters beside the fonts.

The .jhf format: one glyph per record, in ASCII order from the space; each record is a 5-column
number, a 3-column vertex count, then that many pairs of letters: the first pair the left and right
margins, the others x, y coordinates as offsets from 'R' (so 'R' is 0, y grows downwards), with
" R" meaning pen up. A record longer than a line carries on to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

HERSHEY_DIR = Path("/usr/share/hershey-fonts")

# The Roman, script and Times faces (the others are Greek, Cyrillic, Gothic, Japanese, symbols).
FONTS: tuple[str, ...] = (
    "futural", "futuram", "rowmans", "rowmand", "rowmant", "timesr", "timesrb", "timesi",
    "timesib", "cursive", "scripts", "scriptc",
)  # fmt: skip
# Held out of training for validation: one script, one Times italic, one Roman.
VALIDATION: frozenset[str] = frozenset({"scriptc", "timesib", "rowmand"})

Stroke = np.ndarray  # float32 (n, 2): x, y points of one pen-down path, in font units


@dataclass(frozen=True)
class Glyph:
    left: int  # the margins, in font units from the centre line x = 0
    right: int
    strokes: tuple[Stroke, ...]


def parse_record(record: str) -> Glyph:
    """One .jhf record (the number and count columns included) as its margins and strokes."""
    count = int(record[5:8])
    pairs = record[8 : 8 + 2 * count]
    if len(pairs) != 2 * count:
        raise ValueError(f"record has {len(pairs) // 2} of its {count} vertices")
    left, right = ord(pairs[0]) - ord("R"), ord(pairs[1]) - ord("R")
    strokes: list[Stroke] = []
    points: list[tuple[int, int]] = []
    for i in range(2, len(pairs), 2):
        if pairs[i : i + 2] == " R":  # pen up
            if points:
                strokes.append(np.array(points, np.float32))
            points = []
        else:
            points.append((ord(pairs[i]) - ord("R"), ord(pairs[i + 1]) - ord("R")))
    if points:
        strokes.append(np.array(points, np.float32))
    return Glyph(left, right, tuple(strokes))


def parse(text: str) -> list[Glyph]:
    """Every glyph of a .jhf file, in file order (ASCII order from the space for these fonts)."""
    glyphs = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        record = lines[i]
        i += 1
        if not record.strip():
            continue
        needed = 8 + 2 * int(record[5:8])
        while len(record) < needed and i < len(lines):  # a long record wraps onto the next lines
            record += lines[i]
            i += 1
        glyphs.append(parse_record(record))
    return glyphs


@cache
def load(name: str) -> dict[str, Glyph]:
    """A font's glyphs by character (printable ASCII), from HERSHEY_DIR/<name>.jhf."""
    glyphs = parse((HERSHEY_DIR / f"{name}.jhf").read_text(encoding="ascii"))
    return {chr(32 + i): g for i, g in enumerate(glyphs[:95]) if g.strokes}


def installed() -> bool:
    return all((HERSHEY_DIR / f"{name}.jhf").is_file() for name in FONTS)


def draw_strokes(
    strokes: tuple[Stroke, ...] | list[Stroke],
    canvas: int,
    width: float,
    rng: np.random.Generator,
    tremor: float = 0.0,
) -> np.ndarray:
    """Strokes drawn with a round pen `width` pixels wide (1 = hairline), scaled to fill about
    60 % of a square canvas and centred: white on black, float32 in [0, 1]. `tremor` (a share of
    the glyph's size) jitters each point, as a hand does. Drawn at 4x and shrunk, for smooth edges."""
    everything = np.concatenate(strokes)
    low, high = everything.min(axis=0), everything.max(axis=0)
    extent = float(max(high - low)) or 1.0
    scale = 0.6 * canvas / extent
    centre = (low + high) / 2
    shift = 4  # fixed-point bits: OpenCV draws at sub-pixel positions
    factor = 4 * scale * (1 << shift)
    image = np.zeros((canvas * 4, canvas * 4), np.uint8)
    thickness = max(1, round(4 * width))
    for stroke in strokes:
        points = stroke + rng.normal(0, tremor * extent, stroke.shape) if tremor else stroke
        pixels = ((points - centre) * factor + 2 * canvas * (1 << shift)).round().astype(np.int32)
        cv2.polylines(image, [pixels], False, 255, thickness, cv2.LINE_AA, shift)
        if len(stroke) == 1:  # a dot: a polyline of one point draws nothing
            cv2.circle(image, tuple(pixels[0]), max(1, thickness // 2) << shift, 255, -1, cv2.LINE_AA, shift)
    small = cv2.resize(image, (canvas, canvas), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255
