"""The MNIST reader: checksums, gz and raw files, damaged files, and the download command."""

from __future__ import annotations

import gzip
import http.server
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from rthdr.cli.main import main
from rthdr.data.mnist import FILES, DataError, download_mnist, load_mnist, resolve_data_dir

TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def copy_test_split(source: Path, target: Path, raw: bool = False) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for kind in ("images", "labels"):
        name = FILES["test", kind].name
        if raw:
            (target / name).write_bytes(gzip.decompress((source / f"{name}.gz").read_bytes()))
        else:
            shutil.copy(source / f"{name}.gz", target)
    return target


def test_loads_both_splits_with_verified_checksums(mnist_dir: Path) -> None:
    train_images, train_labels = load_mnist("train", mnist_dir)
    test_images, test_labels = load_mnist("test", mnist_dir)
    assert train_images.shape == (60_000, 28, 28) and train_images.dtype == np.uint8
    assert test_images.shape == (10_000, 28, 28)
    assert np.bincount(test_labels).tolist() == TEST_LABEL_COUNTS
    assert train_labels.max() == 9 and test_images.max() == 255


def test_raw_files_read_the_same_as_gzipped(mnist_dir: Path, tmp_path: Path) -> None:
    raw = copy_test_split(mnist_dir, tmp_path / "raw", raw=True)
    images, labels = load_mnist("test", raw)
    expected_images, expected_labels = load_mnist("test", mnist_dir)
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)


def test_data_dir_setting_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RTHDR_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "flag") == tmp_path / "flag"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("RTHDR_DATA_DIR")
    assert resolve_data_dir() == Path("~/.cache/rthdr/mnist").expanduser()


def test_missing_files_name_the_setting_and_the_download_command(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"rthdr data download.*RTHDR_DATA_DIR"):
        load_mnist("test", tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_mnist("test", tmp_path / "nowhere")


def test_truncated_file_is_refused(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path, raw=True)
    labels = folder / FILES["test", "labels"].name
    labels.write_bytes(labels.read_bytes()[:5000])
    with pytest.raises(DataError, match="truncated"):
        load_mnist("test", folder)


def test_truncated_gzip_is_refused(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path)
    images = folder / f"{FILES['test', 'images'].name}.gz"
    images.write_bytes(images.read_bytes()[:100_000])
    with pytest.raises(DataError, match="damaged"):
        load_mnist("test", folder)


def test_wrong_magic_number_is_refused(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path, raw=True)
    images = folder / FILES["test", "images"].name
    data = bytearray(images.read_bytes())
    data[2:4] = b"\x08\x01"  # a labels magic number on an images file
    images.write_bytes(bytes(data))
    with pytest.raises(DataError, match="magic number"):
        load_mnist("test", folder)


def test_changed_byte_fails_the_checksum(mnist_dir: Path, tmp_path: Path) -> None:
    folder = copy_test_split(mnist_dir, tmp_path, raw=True)
    labels = folder / FILES["test", "labels"].name
    data = bytearray(labels.read_bytes())
    data[100] = (data[100] + 1) % 10  # still a valid label, but not MNIST's
    labels.write_bytes(bytes(data))
    with pytest.raises(DataError, match="SHA-256"):
        load_mnist("test", folder)


@pytest.fixture
def mirror(tmp_path: Path, mnist_dir: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a copy of the four .gz files."""
    served = tmp_path / "served"
    served.mkdir()
    for spec in FILES.values():
        shutil.copy(mnist_dir / f"{spec.name}.gz", served)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", served
    server.shutdown()
    server.server_close()


def test_download_fetches_and_verifies(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = mirror
    target = tmp_path / "downloaded"
    assert download_mnist(target, (url,), progress=False) == target
    images, _labels = load_mnist("test", target)
    assert images.shape == (10_000, 28, 28)
    assert not list(target.glob("*.part*"))


def test_download_skips_a_bad_mirror(mirror: tuple[str, Path], tmp_path: Path) -> None:
    url, served = mirror
    broken = served / "broken"
    broken.mkdir()
    for spec in FILES.values():  # same names, damaged contents
        (broken / f"{spec.name}.gz").write_bytes(gzip.compress(b"not mnist"))
    target = tmp_path / "downloaded"
    download_mnist(target, (url + "broken/", url), progress=False)
    load_mnist("train", target)


def test_download_reports_when_every_mirror_fails(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="could not download"):
        download_mnist(tmp_path, ("http://127.0.0.1:9/",), progress=False)


def test_download_and_verify_commands(mirror: tuple[str, Path], tmp_path: Path, capsys) -> None:
    url, _ = mirror
    target = str(tmp_path / "cli")
    assert main(["data", "download", "--mirror", url, "--data-dir", target, "--quiet"]) == 0
    assert main(["data", "verify", "--data-dir", target]) == 0
    assert "complete" in capsys.readouterr().out
    assert main(["data", "verify", "--data-dir", str(tmp_path / "empty")]) == 2
    assert "rthdr data download" in capsys.readouterr().err
