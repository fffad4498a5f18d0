"""The character sets a caller can ask for, and the class names of the character models.

The classes follow EMNIST "balanced": digits, capitals, and the lower-case letters whose handwritten
shape differs from their capital (a b d e f g h n q r t); the others (c, i, j, k, l, m, o, p, s, u,
v, w, x, y, z) share their capital's class, so "o" is read as "O". `none` is the class of everything
that is none of them (scribbles, smudges, symbols, fragments).

The digits of other scripts have a model of their own (scriptnet), trained on fonts only: their
shapes collide with Latin ones (Arabic-Indic one is a Latin 1, Devanagari zero a Latin 0), which
would blur the character model's digit check. Persian writes 0-3 and 7-9 with the Arabic-Indic
shapes under other code points, so those share one class each (`SHAPE_CLASS`).
"""

from __future__ import annotations

import string

from rthdr.core.errors import InputError

DIGITS: tuple[str, ...] = tuple(string.digits)
LOWER_KEPT: tuple[str, ...] = tuple("abdefghnqrt")
LETTERS: tuple[str, ...] = tuple(string.ascii_uppercase) + LOWER_KEPT
NONE = "none"
DEVANAGARI: tuple[str, ...] = tuple("०१२३४५६७८९")
ARABIC_INDIC: tuple[str, ...] = tuple("٠١٢٣٤٥٦٧٨٩")
PERSIAN: tuple[str, ...] = tuple("۰۱۲۳۴۵۶۷۸۹")
PERSIAN_OWN = tuple("۴۵۶")  # the Persian digits whose shapes differ from Arabic-Indic's
SHAPE_CLASS: dict[str, str] = {
    p: a for p, a in zip(PERSIAN, ARABIC_INDIC, strict=True) if p not in PERSIAN_OWN
}
SCRIPT_DIGITS: tuple[str, ...] = DEVANAGARI + ARABIC_INDIC + PERSIAN_OWN  # scriptnet's classes, before none
CHARSETS: dict[str, tuple[str, ...]] = {
    "digits": DIGITS,
    "letters": LETTERS,
    "alphanumeric": DIGITS + LETTERS,
    "devanagari": DEVANAGARI,
    "arabic-indic": ARABIC_INDIC,
    "persian": PERSIAN,
}
SCRIPT_CHARSETS = frozenset({"devanagari", "arabic-indic", "persian"})  # read by the script model
DOT_ZERO_CHARSETS = frozenset({"arabic-indic", "persian"})  # their zero is a dot, not a ring
DEFAULT_CHARSET = "digits"  # today's behaviour: the digit model answers, `digit` stays in the answer


def charset_characters(charset: str) -> tuple[str, ...]:
    """The characters of a charset; an unknown name is the caller's error (422), naming the choices."""
    if charset not in CHARSETS:
        raise InputError("unknown_charset", f"Unknown charset {charset!r}: use one of {', '.join(CHARSETS)}.")
    return CHARSETS[charset]


def class_of(character: str) -> str:
    """The model class that reads a character: its own, or the shape it shares (Persian 0-3, 7-9)."""
    return SHAPE_CLASS.get(character, character)
