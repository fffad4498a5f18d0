"""rthdr.batch.inputs: files, folders, globs and manifests -> paths, in a stable order; typos stop the
job before it starts, a manifest's missing file does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rthdr.batch.inputs import BatchError, find_images, image_suffixes


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """scans/ with images in nested folders, a hidden file and folder, and files that are not images."""
    for name in [
        "b.png",
        "a.jpg",
        "sub/c.webp",
        "sub/deeper/d.JPEG",
        "a2/e.gif",
        ".hidden.png",
        ".cache/f.png",
        "notes.txt",
        "sub/readme.md",
    ]:
        path = tmp_path / "scans" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path / "scans"


def names(paths: list[str], root: Path) -> list[str]:
    return [Path(p).relative_to(root).as_posix() for p in paths]


def test_a_folder_is_searched_recursively_in_sorted_order(tree: Path) -> None:
    found = find_images([str(tree)])
    assert names(found, tree) == ["a.jpg", "a2/e.gif", "b.png", "sub/c.webp", "sub/deeper/d.JPEG"]
    assert found == find_images([str(tree)]), "the same tree gives the same order"


def test_the_folder_search_takes_every_format_the_decoder_reads() -> None:
    assert {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"} <= image_suffixes()
    assert not {".txt", ".svg", ".pdf", ".tif"} & image_suffixes()


def test_files_keep_the_order_given_and_appear_once(tree: Path) -> None:
    b, a = str(tree / "b.png"), str(tree / "a.jpg")
    assert find_images([b, a, b, str(tree / "." / "a.jpg")]) == [b, a]


def test_a_file_named_on_the_command_line_is_read_whatever_its_suffix(tree: Path) -> None:
    """The user chose it: a .md is read (and gives an error row), not skipped in silence."""
    readme = str(tree / "sub" / "readme.md")
    assert find_images([readme]) == [readme]


def test_globs_are_expanded_sorted_and_recursive_with_double_star(tree: Path) -> None:
    assert names(find_images([f"{tree}/*.png"]), tree) == ["b.png"]
    assert names(find_images([f"{tree}/**/*.png"]), tree) == ["b.png"]  # hidden files: not matched
    assert names(find_images([f"{tree}/sub/**/*"]), tree) == [
        "sub/c.webp",
        "sub/deeper/d.JPEG",
        "sub/readme.md",
    ]


def test_a_manifest_lists_paths_relative_to_itself(tree: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.txt"
    absolute = tree / "a.jpg"
    manifest.write_text(f"# today's scans\nscans/b.png\n\n  scans/sub/c.webp  \n{absolute}\nscans/gone.png\n")
    found = find_images([str(manifest)])
    assert found == [
        str(tmp_path / "scans" / "b.png"),
        str(tmp_path / "scans" / "sub" / "c.webp"),
        str(absolute),
        str(tmp_path / "scans" / "gone.png"),  # missing: kept, it becomes an error row
    ]


def test_relative_arguments_stay_relative(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree.parent)
    assert find_images(["scans/sub"]) == [
        os.path.join("scans", "sub", "c.webp"),
        os.path.join("scans", "sub", "deeper", "d.JPEG"),
    ]


@pytest.mark.parametrize(
    ("argument", "message"),
    [("missing.png", "no such file or folder"), ("nowhere/*.png", "matches no files")],
)
def test_a_mistyped_argument_stops_the_job(tmp_path: Path, argument: str, message: str) -> None:
    with pytest.raises(BatchError, match=message):
        find_images([str(tmp_path / argument)])


def test_no_images_at_all_says_what_was_searched_for(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x")
    with pytest.raises(BatchError, match=r"no images in .*\.png"):
        find_images([str(tmp_path)])
    with pytest.raises(BatchError, match="no inputs"):
        find_images([])


def test_an_unreadable_manifest_is_an_error(tmp_path: Path) -> None:
    manifest = tmp_path / "list.txt"
    manifest.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(BatchError, match="cannot read the manifest"):
        find_images([str(manifest)])
