"""Outputs are replaced only when safe, and dead writers' leftovers are cleaned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from opsflow.errors import OutputError, OutputExistsError
from opsflow.io import atomic_path, write_multiscale_omezarr
from opsflow.io._atomic import _HOST


def _image() -> np.ndarray:
    return np.arange(2 * 32 * 32, dtype=np.uint16).reshape(2, 32, 32)


def test_a_file_or_foreign_folder_is_never_replaced(tmp_path: Path) -> None:
    file = tmp_path / "a.ome.zarr"
    file.write_text("my notes")
    with pytest.raises(OutputExistsError, match="found a file; remove it"):
        write_multiscale_omezarr(_image(), file, axes="cyx")
    assert file.read_text() == "my notes"
    folder = tmp_path / "b.ome.zarr"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="not a Zarr store"):
        write_multiscale_omezarr(_image(), folder, axes="cyx")
    assert (folder / "notes.txt").read_text() == "keep"
    store = write_multiscale_omezarr(_image(), tmp_path / "c.ome.zarr", axes="cyx")
    write_multiscale_omezarr(_image() + 1, store, axes="cyx")  # an earlier store: replaced


def test_an_output_under_a_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "a.tif").write_bytes(b"")
    with pytest.raises(OutputError, match=r"a\.tif: expected a directory for x\.ome\.zarr"):
        write_multiscale_omezarr(_image(), tmp_path / "a.tif" / "x.ome.zarr", axes="cyx")


def test_leftovers_of_dead_writers_on_this_host_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    final = tmp_path / "x.ome.zarr"
    leftovers = {
        "dead": tmp_path / f".x.ome.zarr.tmp-{_HOST}-{dead.stdout.strip()}-0000abcd",
        "alive": tmp_path / f".x.ome.zarr.tmp-{_HOST}-{os.getpid()}-0000abcd",
        "other host": tmp_path / ".x.ome.zarr.tmp-elsewhere-1-0000abcd",
    }
    for path in leftovers.values():
        path.mkdir()
        (path / "zarr.json").write_text("{}")
    with atomic_path(final) as tmp:
        tmp.write_text("new")
    assert final.read_text() == "new"
    assert not leftovers["dead"].exists()
    assert leftovers["alive"].exists() and leftovers["other host"].exists()
