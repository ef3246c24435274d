"""TIFF -> OME-Zarr export, reading back, channel colour patching, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from opsflow.errors import InputFileError, InputFileNotFoundError, OpsflowError
from opsflow.io import (
    ExportOptions,
    ensure_omero_channel_colors,
    export_tiff_to_omezarr,
    image_info,
    read_image,
    validate_store,
    write_tiff,
)

CHUNK_64 = ExportOptions(chunk_shape=(1, 64, 64))


def stack(shape, seed=0, dtype=np.uint16):
    return np.random.default_rng(seed).integers(0, 4000, shape).astype(dtype)


@pytest.mark.parametrize(
    ("shape", "axes", "to_ngff"),
    [
        ((120, 90), "cyx", lambda a: a[None]),
        ((3, 120, 90), "cyx", lambda a: a),
        ((120, 90, 3), "cyx", lambda a: np.moveaxis(a, -1, 0)),
        ((4, 5, 120, 90), "tcyx", lambda a: a),
    ],
    ids=["yx", "cyx", "yxc", "tcyx"],
)
@pytest.mark.parametrize("compressed", [False, True], ids=["raw", "zlib"])
def test_axes_are_normalised(tmp_path: Path, shape, axes, to_ngff, compressed) -> None:
    data = stack(shape)
    tif = tmp_path / "in.tif"
    photometric = "rgb" if shape[-1] == 3 else "minisblack"
    tifffile.imwrite(tif, data, compression="zlib" if compressed else None, photometric=photometric)
    store = export_tiff_to_omezarr(tif, tmp_path / "out.ome.zarr", options=CHUNK_64)
    info = image_info(store)
    assert info.axes == axes
    np.testing.assert_array_equal(read_image(store), to_ngff(data))
    assert validate_store(store) == []


def test_channel_labels_pixel_size_and_chunks(tmp_path: Path) -> None:
    data = stack((9, 5, 300, 200))
    tif = tmp_path / "P-1_W-A1_T-0__aligned.tiff"
    write_tiff(tif, data)
    store = export_tiff_to_omezarr(
        tif,
        tmp_path,
        pixel_size=(0.65, 0.65),
        options=ExportOptions(chunk_shape=(1, 128, 64), max_levels=2),
        channel_labels=["DAPI", "G", "T", "A", "C"],
    )
    assert store == tmp_path / "P-1_W-A1_T-0__aligned.ome.zarr"
    info = image_info(store)
    assert info.channel_labels == ("DAPI", "G", "T", "A", "C")
    assert info.pixel_size == {"y": 0.65, "x": 0.65}
    assert info.level_chunks[0] == (1, 1, 128, 64)
    assert len(info.level_shapes) == 2


def test_masks_become_label_images(tmp_path: Path) -> None:
    image = stack((2, 100, 80))
    nuclei = np.zeros((100, 80), np.uint16)
    nuclei[10:30, 10:30] = 1
    nuclei[50:70, 40:60] = 2
    cells = np.where(nuclei > 0, nuclei, 0).astype(np.uint16)
    cells[5:35, 5:35][cells[5:35, 5:35] == 0] = 1
    for name, arr in (("img", image), ("nuclei", nuclei), ("cells", cells)):
        write_tiff(tmp_path / f"{name}.tif", arr)
    store = export_tiff_to_omezarr(
        tmp_path / "img.tif",
        tmp_path / "seg.ome.zarr",
        options=ExportOptions(chunk_shape=(1, 32, 32)),
        labels={"nuclei": tmp_path / "nuclei.tif", "cells": tmp_path / "cells.tif"},
    )
    assert validate_store(store) == []
    assert image_info(store).labels == ("nuclei", "cells")
    np.testing.assert_array_equal(read_image(store / "labels" / "nuclei")[0], nuclei)
    np.testing.assert_array_equal(read_image(store / "labels" / "cells")[0], cells)


def test_a_mask_tiff_exports_as_image_and_label(tmp_path: Path) -> None:
    mask = np.zeros((64, 64), np.int32)
    mask[5:20, 5:20] = 3
    write_tiff(tmp_path / "P-1_W-A1_T-0__nuclei.tiff", mask)
    store = export_tiff_to_omezarr(
        tmp_path / "P-1_W-A1_T-0__nuclei.tiff", tmp_path / "n.ome.zarr", label_metadata={}
    )
    assert image_info(store).labels == ("nuclei",)
    np.testing.assert_array_equal(read_image(store / "labels" / "nuclei")[0], mask)
    assert validate_store(store) == []


def test_region_reads_only_the_chunks_it_covers(tmp_path: Path) -> None:
    data = stack((2, 256, 256))
    write_tiff(tmp_path / "a.tif", data)
    store = export_tiff_to_omezarr(
        tmp_path / "a.tif",
        tmp_path / "a.ome.zarr",
        options=ExportOptions(chunk_shape=(1, 64, 64), compression="none"),
    )
    # Corrupt every level-0 chunk except the one holding channel 1, y 64:128, x 0:64.
    keep = store / "0" / "c" / "1" / "1" / "0"
    chunks = [p for p in (store / "0" / "c").rglob("*") if p.is_file()]
    assert len(chunks) == 2 * 4 * 4
    for chunk in chunks:
        if chunk != keep:
            chunk.write_bytes(b"\xff" * 7)
    region = read_image(store, region={"c": slice(1, 2), "y": slice(70, 120), "x": slice(3, 60)})
    np.testing.assert_array_equal(region, data[1:2, 70:120, 3:60])
    with pytest.raises(Exception):  # noqa: B017 - the corrupt chunks really are unreadable
        read_image(store)


def test_region_of_a_tiff_and_of_a_coarser_level(tmp_path: Path) -> None:
    data = stack((3, 200, 100))
    write_tiff(tmp_path / "a.tif", data)
    np.testing.assert_array_equal(
        read_image(tmp_path / "a.tif", region=(slice(1, 3), slice(10, 20))), data[1:3, 10:20]
    )
    store = export_tiff_to_omezarr(tmp_path / "a.tif", tmp_path / "a.ome.zarr", options=CHUNK_64)
    level1 = zarr.open_group(str(store), mode="r")["1"][...]
    np.testing.assert_array_equal(
        read_image(store, level=1, region={"x": slice(0, 5)}), level1[:, :, :5]
    )
    with pytest.raises(OpsflowError, match="level 7 does not exist"):
        read_image(store, level=7)


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_lazy_tiff_slices_equal_the_whole_file(tmp_path: Path, byteorder: str) -> None:
    """Whole rows are read straight into the output; other slices and byte orders copy."""
    from opsflow.io._tiff import open_tiff

    data = stack((3, 4, 50, 30), dtype=np.dtype(f"{byteorder}u2"))
    tifffile.imwrite(tmp_path / "a.tif", data, byteorder=byteorder, photometric="minisblack")
    lazy = open_tiff(tmp_path / "a.tif")
    assert lazy.shape == data.shape
    for key in [
        (slice(1, 2), slice(0, 4), slice(10, 20), slice(None)),
        (slice(0, 3), slice(2, 3), slice(0, 50), slice(5, 25, 2)),
        (slice(2, 3), slice(1, 3), slice(49, 50), slice(None)),
    ]:
        np.testing.assert_array_equal(lazy[key], data[key])
    np.testing.assert_array_equal(np.asarray(lazy), data)


def test_ensure_omero_channel_colors_patches_only_colours_and_labels(tmp_path: Path) -> None:
    write_tiff(tmp_path / "a.tif", stack((3, 40, 40)))
    store = export_tiff_to_omezarr(tmp_path / "a.tif", tmp_path / "a.ome.zarr")
    meta_file = store / "zarr.json"
    meta = json.loads(meta_file.read_text())
    channels = meta["attributes"]["ome"]["omero"]["channels"]
    channels[1]["color"] = channels[0]["color"]  # duplicate
    channels[2]["color"] = "not-a-colour"
    meta_file.write_text(json.dumps(meta))
    before = json.loads(meta_file.read_text())
    ensure_omero_channel_colors(store, ["DAPI", "COXIV", "WGA"])
    after = json.loads(meta_file.read_text())
    new = after["attributes"]["ome"]["omero"]["channels"]
    assert [c["label"] for c in new] == ["DAPI", "COXIV", "WGA"]
    assert new[0]["color"] == before["attributes"]["ome"]["omero"]["channels"][0]["color"]
    assert len({c["color"] for c in new}) == 3
    assert all(len(c["color"]) == 6 for c in new)
    for i in range(3):
        assert new[i]["window"] == channels[i]["window"]
    assert after["attributes"]["ome"]["multiscales"] == before["attributes"]["ome"]["multiscales"]
    assert validate_store(store) == []
    with pytest.raises(OpsflowError, match="2 channel labels given for 3 channels"):
        ensure_omero_channel_colors(store, ["a", "b"])


# --- bad input: one clear error, and the earlier store survives ----------------------


@pytest.fixture
def earlier_store(tmp_path: Path) -> Path:
    write_tiff(tmp_path / "good.tif", stack((2, 50, 50)))
    return export_tiff_to_omezarr(tmp_path / "good.tif", tmp_path / "out.ome.zarr")


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, dict, type, str, Path]]:
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00" + b"\x00" * 10)
    six = tmp_path / "six.tif"
    tifffile.imwrite(six, np.zeros((2, 2, 2, 2, 8, 8), np.uint8))
    floats = tmp_path / "float_mask.tif"
    write_tiff(floats, np.zeros((50, 50), np.float32))
    good = tmp_path / "good.tif"
    missing = tmp_path / "nope.tif"
    return {  # input, arguments, error, message, the file the message must name
        "missing": (missing, {}, InputFileNotFoundError, "found nothing", missing),
        "corrupt": (corrupt, {}, InputFileError, "readable TIFF", corrupt),
        "six-d": (six, {}, InputFileError, "2 to 5 dimensions", six),
        "labels": (good, {"channel_labels": list("abc")}, OpsflowError, "3 channel labels", good),
        "float mask": (good, {"labels": {"c": floats}}, InputFileError, "integer label", floats),
        "float as label": (floats, {"label_metadata": {}}, InputFileError, "integer label", floats),
    }


@pytest.mark.parametrize(
    "case", ["missing", "corrupt", "six-d", "labels", "float mask", "float as label"]
)
def test_bad_input_is_refused_and_the_earlier_store_survives(
    tmp_path: Path, earlier_store: Path, case: str
) -> None:
    path, kwargs, error, match, named = _bad_inputs(tmp_path)[case]
    before = read_image(earlier_store)
    with pytest.raises(error, match=match) as excinfo:
        export_tiff_to_omezarr(path, earlier_store, **kwargs)
    assert str(named) in str(excinfo.value)
    np.testing.assert_array_equal(read_image(earlier_store), before)
    assert validate_store(earlier_store) == []
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_output_directory_is_created(tmp_path: Path) -> None:
    write_tiff(tmp_path / "a.tif", stack((1, 30, 30)))
    store = export_tiff_to_omezarr(tmp_path / "a.tif", tmp_path / "deep" / "er" / "x.ome.zarr")
    assert store.is_dir() and validate_store(store) == []
    shutil.rmtree(tmp_path / "deep")
