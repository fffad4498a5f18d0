"""The tuned constants of number reading (rthdr.core.segment), as one frozen object with the tuned
values as its defaults: one place to read them, and another SegmentParams to try other values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentParams:
    """The tuned constants of number reading, with the values tuned on validation numbers (lengths
    are in digit heights, the typical digit height measured on each image). Frozen: pass another
    one to `segment` to try other values."""

    speck_area: float = 0.02  # components under this share of the median digit's area are noise
    line_length: float = 1.8  # straight runs longer than this many digit heights are rules, not strokes
    wide: float = 0.8  # a group wider than this many digit heights may hold touching digits ...
    narrow: float = 0.5  # ... and so may a narrower one (down to this) ...
    doubt: float = 0.5  # ... that the one-digit check gives P(one digit) under this
    max_width: float = 1.6  # a part cut from a group is at most this many digit heights wide
    edge: float = 0.15  # cuts start no nearer the group's sides than this share of its width
    thin_columns: int = 5  # straight cuts go through this many of the columns with the least ink ...
    slopes: tuple[float, ...] = (-0.25, 0.0, 0.25)  # ... leaning like handwriting, in columns per row
    column_spacing: float = 0.1  # ... at least this share of the group's width apart
    step_cost: float = 0.3  # a least-ink cut path pays this per column it moves sideways (1 per ink pixel)
    crossing_cost: float = 0.25  # log-confidence a split loses for each extra stroke its cut goes through
    same_cut: float = 0.03  # cuts whose left parts differ by less than this share of the ink are one cut ...
    max_cuts: int = 8  # ... and only this many of the cheapest are tried
    # Width / digit height of single digits by class, measured on numbers of validation digits: a
    # "4" twice as wide as usual is more likely two digits. The spreads are twice those measured,
    # and the shape weighs prior_weight of the classifier's log-confidence.
    width_mean: tuple[float, ...] = (0.89, 0.46, 0.92, 0.81, 0.80, 0.88, 0.77, 0.78, 0.78, 0.69)
    width_sd: tuple[float, ...] = (0.32, 0.4, 0.32, 0.36, 0.34, 0.36, 0.32, 0.34, 0.34, 0.28)
    height_sd: float = 0.34  # digit heights vary half as much around the typical height (measured likewise)
    prior_weight: float = 0.16
    digit_cost: float = 0.125  # score a reading loses per digit it finds
    short: float = 0.8  # a piece shorter than this many digit heights may be part of its neighbour
    fragment: float = 0.55  # components shorter than this many digit heights are parts of a digit
    near: float = 0.4  # a fragment further than this from every digit is a stray mark
    gap: float = 0.15  # fragments less than this far apart in columns may be one digit's strokes
    max_digits: int = 16  # more marks than this that look like digits are refused, not read
    check_weight: float = 0.3  # weight of the one-digit check against the classifier
    # Lines of characters (charset letters or alphanumeric), set by eye on lines rendered from held-out
    # fonts, not tuned: no widths are measured per letter, so every character has one broad prior ...
    character_width: float = 0.8
    character_width_sd: float = 0.5
    # ... and a gap is a word gap (a space in the text) when it is this many character heights wide
    # and this many times the line's median gap.
    word_gap: float = 0.35
    word_gap_ratio: float = 2.0
    # Arabic-Indic and Persian write zero as a dot: in those charsets a fragment is a part of a
    # character only below this many character heights, so the dot stays a character of its own
    # (set on numbers rendered from the held-out fonts: at 0.3 and above, "٢٠٢٦" read "٢٢٦").
    dot_fragment: float = 0.15


DEFAULTS = SegmentParams()
