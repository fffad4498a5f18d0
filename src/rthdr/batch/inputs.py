"""`rthdr batch`'s INPUT arguments -> the image paths to read, in a stable order.

An argument is an image file, a folder (searched recursively for image files), a glob
(`scans/**/*.jpg`), or a manifest: a `.txt` file listing one path per line. The order is the
arguments' order, each folder's files sorted by path and each glob's matches sorted, a manifest's
lines as written; so two runs over the same tree give the same rows in the same order, and
`--resume` can tell which are done.

A mistyped argument (a path that does not exist, a glob that matches nothing) stops the job before
it starts: that is the user's typo. A manifest line naming a missing file does not: it becomes an
error row, as a bad file does, because one missing scan must not stop a million-image job.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from PIL import Image

from rthdr.core.decode import SUPPORTED_FORMATS

MANIFEST_SUFFIXES = (".txt",)
GLOB_CHARACTERS = set("*?[")


class BatchError(ValueError):
    """What the user can fix before the job runs (inputs, output file): `rthdr batch` prints it and
    exits with 2."""


def image_suffixes() -> frozenset[str]:
    """The file name endings a folder is searched for: every one Pillow knows for a format the
    decoder reads (.png, .jpg, .jpeg, .webp, .gif, .bmp, ...), taken from Pillow, not listed here."""
    Image.init()
    return frozenset(s for s, f in Image.registered_extensions().items() if f in SUPPORTED_FORMATS)


def _folder_images(folder: Path, suffixes: frozenset[str]) -> Iterator[str]:
    """Image files below a folder, sorted by their path relative to it, hidden files skipped."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [
            Path(root, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in suffixes
        ]
    yield from (str(p) for p in sorted(found, key=lambda p: p.relative_to(folder).parts))


def read_manifest(manifest: Path) -> Iterator[str]:
    """A manifest's paths: one per line, relative ones to the manifest's folder; blank lines and
    lines starting with # skipped."""
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"cannot read the manifest {manifest}: {exc}") from exc
    for line in lines:
        entry = line.strip()
        if entry and not entry.startswith("#"):
            yield str(manifest.parent / entry) if not Path(entry).is_absolute() else entry


def _expand(argument: str, suffixes: frozenset[str]) -> Iterator[str]:
    path = Path(argument)
    if path.is_dir():
        yield from _folder_images(path, suffixes)
    elif path.is_file():
        yield from read_manifest(path) if path.suffix.lower() in MANIFEST_SUFFIXES else [argument]
    elif GLOB_CHARACTERS & set(argument):
        matches = sorted(m for m in glob.glob(argument, recursive=True) if Path(m).is_file())
        if not matches:
            raise BatchError(f"{argument} matches no files: check the pattern (quote it for `**`)")
        yield from matches
    else:
        raise BatchError(f"{argument}: no such file or folder")


def find_images(arguments: Sequence[str]) -> list[str]:
    """The image paths the arguments name, in order, each once (the first time it appears)."""
    if not arguments:
        raise BatchError("no inputs: name image files, folders, globs or a .txt manifest")
    suffixes = image_suffixes()
    paths = list(_unique(os.path.normpath(p) for a in arguments for p in _expand(a, suffixes)))
    if not paths:
        raise BatchError(f"no images in {' '.join(arguments)}: folders are searched for {_listed(suffixes)}")
    return paths


def _unique(paths: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for path in paths:
        if path not in seen:
            seen.add(path)
            yield path


def _listed(suffixes: Iterable[str]) -> str:
    return ", ".join(sorted(suffixes))
