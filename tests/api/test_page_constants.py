"""The page's constants.js is generated from the Python constants, never edited by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rthdr.api import page_constants
from rthdr.api.page_constants import CONSTANTS_JS, SHARED, render


def test_the_committed_constants_js_is_what_python_renders() -> None:
    assert CONSTANTS_JS.read_text() == render(), (
        "static/constants.js is out of date: run `python -m rthdr.api.page_constants --write`"
    )


def value_of(js: str) -> object:
    """A rendered constant read back: a number, a string, or the characters spread from a string."""
    spread = re.fullmatch(r'\[\.\.\.(".*")\]', js)
    return tuple(json.loads(spread[1])) if spread else json.loads(js)


def test_every_shared_constant_has_the_python_value() -> None:
    exported = dict(re.findall(r"^export const (\w+) = ([^;]+);", render(), re.MULTILINE))
    assert list(exported) == [name for _, name in SHARED]
    for module, name in SHARED:
        assert value_of(exported[name]) == getattr(module, name), name


def test_the_command_prints_or_writes_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page_constants.main([])
    assert capsys.readouterr().out == render()
    target = tmp_path / "constants.js"
    monkeypatch.setattr(page_constants, "CONSTANTS_JS", target)
    page_constants.main(["--write"])
    assert target.read_text() == render()
