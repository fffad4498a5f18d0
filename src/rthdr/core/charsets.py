"""The character sets a caller can ask for, and the class names of the character model.

The classes follow EMNIST "balanced": digits, capitals, and the lower-case letters whose handwritten
shape differs from their capital (a b d e f g h n q r t); the others (c, i, j, k, l, m, o, p, s, u,
v, w, x, y, z) share their capital's class, so "o" is read as "O". `none` is the class of everything
that is none of them (scribbles, smudges, symbols, fragments).
"""

from __future__ import annotations

import string

from rthdr.core.errors import InputError

DIGITS: tuple[str, ...] = tuple(string.digits)
LOWER_KEPT: tuple[str, ...] = tuple("abdefghnqrt")
LETTERS: tuple[str, ...] = tuple(string.ascii_uppercase) + LOWER_KEPT
NONE = "none"
CHARSETS: dict[str, tuple[str, ...]] = {
    "digits": DIGITS,
    "letters": LETTERS,
    "alphanumeric": DIGITS + LETTERS,
}
DEFAULT_CHARSET = "digits"  # today's behaviour: the digit model answers, `digit` stays in the answer


def charset_characters(charset: str) -> tuple[str, ...]:
    """The characters of a charset; an unknown name is the caller's error (422), naming the choices."""
    if charset not in CHARSETS:
        raise InputError("unknown_charset", f"Unknown charset {charset!r}: use one of {', '.join(CHARSETS)}.")
    return CHARSETS[charset]
