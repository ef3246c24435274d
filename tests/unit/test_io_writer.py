"""The multiscale writer, checked against independent computations and readers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import zarr

from opsflow.errors import OpsflowError
from opsflow.io import ExportOptions, read_image, validate_store, write_multiscale_omezarr

DTYPES = [np.uint8, np.uint16, np.int32, np.float32, np.float64]
SHAPES = [("yx", (1001, 777)), ("cyx", (3, 130, 70)), ("tcyx", (2, 3, 97, 140))]
CHUNK_64 = ExportOptions(chunk_shape=(1, 64, 64))


def make_image(shape: tuple[int, ...], dtype: type, seed: int = 0) -> np.ndarray:
    """Random data spanning most of the dtype's range (so rounding and clipping matter)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.normal(100, 50, shape).astype(dt)
    info = np.iinfo(dt)
    lo, hi = max(info.min, -(2**20)), min(info.max, 2**20)
    return rng.integers(lo, hi, shape, endpoint=True).astype(dt)


def reference_block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Block mean computed differently from the writer: NaN padding and nanmean in float64."""
    *lead, h, w = a.shape
    hc, wc = math.ceil(h / f), math.ceil(w / f)
    padded = np.full((*lead, hc * f, wc * f), np.nan)
    padded[..., :h, :w] = a
    blocks = padded.reshape(*lead, hc, f, wc, f)
    mean = np.nanmean(blocks, axis=(-3, -1))
    if a.dtype.kind in "ui":
        info = np.iinfo(a.dtype)
        return np.clip(np.rint(mean), info.min, info.max).astype(a.dtype)
    return mean.astype(a.dtype)


def expected_levels(h: int, w: int, chunk: int, f: int, max_levels: int | None) -> int:
    n = 1
    while (h > chunk or w > chunk) and (max_levels is None or n < max_levels):
        h, w, n = -(-h // f), -(-w // f), n + 1
    return n


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(("axes", "shape"), SHAPES, ids=[a for a, _ in SHAPES])
def test_round_trip_levels_and_block_mean(tmp_path: Path, axes, shape, dtype) -> None:
    image = make_image(shape, dtype)
    chunk = 64
    store = write_multiscale_omezarr(
        image,
        tmp_path / "img.ome.zarr",
        axes=axes,
        options=ExportOptions(chunk_shape=(1, chunk, chunk)),
    )
    assert validate_store(store) == []
    group = zarr.open_group(str(store), mode="r")
    n = expected_levels(shape[-2], shape[-1], chunk, 2, None)
    assert sorted(group.array_keys(), key=int) == [str(i) for i in range(n)]
    np.testing.assert_array_equal(group["0"][...], image)
    assert group["0"].dtype == image.dtype
    previous = image
    for level in range(1, n):
        got = group[str(level)][...]
        want = reference_block_mean(previous, 2)
        if image.dtype.kind == "f":  # summation order may differ in the last bit
            eps = 4 * np.finfo(image.dtype).eps
            np.testing.assert_allclose(got, want, rtol=eps, atol=eps * np.abs(previous).max())
        else:
            np.testing.assert_array_equal(got, want)
        previous = got


@pytest.mark.parametrize("max_levels", [1, 2, 3])
def test_max_levels_caps_the_pyramid(tmp_path: Path, max_levels: int) -> None:
    image = make_image((1, 600, 300), np.uint16)
    store = write_multiscale_omezarr(
        image,
        tmp_path / "a.ome.zarr",
        axes="cyx",
        options=ExportOptions(chunk_shape=(1, 64, 64), max_levels=max_levels),
    )
    levels = list(zarr.open_group(str(store), mode="r").array_keys())
    assert len(levels) == min(max_levels, expected_levels(600, 300, 64, 2, None)) == max_levels


def test_coarsening_factor_three(tmp_path: Path) -> None:
    image = make_image((2, 301, 200), np.uint16)
    store = write_multiscale_omezarr(
        image,
        tmp_path / "a.ome.zarr",
        axes="cyx",
        options=ExportOptions(chunk_shape=(1, 32, 32), coarsening_factor=3),
    )
    group = zarr.open_group(str(store), mode="r")
    assert group["1"].shape == (2, 101, 67)
    np.testing.assert_array_equal(group["1"][...], reference_block_mean(image, 3))
    assert validate_store(store) == []


def test_metadata_follows_the_spec(tmp_path: Path) -> None:
    image = make_image((9, 5, 300, 260), np.uint16)
    store = write_multiscale_omezarr(
        image,
        tmp_path / "s.ome.zarr",
        axes="tcyx",
        pixel_size=(0.65, 0.5),
        options=ExportOptions(chunk_shape=(1, 128, 128)),
        channel_labels=["DAPI", "G", "T", "A", "C"],
    )
    meta = json.loads((store / "zarr.json").read_text())
    ome = meta["attributes"]["ome"]
    assert ome["version"] == "0.5"
    ms = ome["multiscales"][0]
    assert [a["name"] for a in ms["axes"]] == ["t", "c", "y", "x"]
    assert [a["type"] for a in ms["axes"]] == ["time", "channel", "space", "space"]
    assert ms["axes"][2]["unit"] == ms["axes"][3]["unit"] == "micrometer"
    for level, ds in enumerate(ms["datasets"]):
        assert ds["path"] == str(level)
        assert set(ds) == {"path", "coordinateTransformations"}
        scale = ds["coordinateTransformations"][0]
        assert scale == {"type": "scale", "scale": [1.0, 1.0, 0.65 * 2**level, 0.5 * 2**level]}
        if level:
            shift = ds["coordinateTransformations"][1]["translation"]
            assert shift == pytest.approx(
                [0, 0, 0.65 * (2**level - 1) / 2, 0.5 * (2**level - 1) / 2]
            )
    channels = ome["omero"]["channels"]
    assert [c["label"] for c in channels] == ["DAPI", "G", "T", "A", "C"]
    assert len({c["color"] for c in channels}) == 5
    for c, plane in zip(channels, np.moveaxis(image, 1, 0), strict=True):
        assert c["active"] is True
        window = c["window"]
        assert set(window) == {"min", "max", "start", "end"}
        assert window["min"] == plane.min() and window["max"] == plane.max()
        assert plane.min() <= window["start"] < window["end"] <= plane.max()
        # robust percentiles: nearly all pixels inside the window, not just min..max
        inside = np.mean((plane >= window["start"]) & (plane <= window["end"]))
        assert 0.99 < inside < 1.0
    assert "pixel_size" not in ome["omero"]
    level0 = json.loads((store / "0" / "zarr.json").read_text())
    assert level0["dimension_names"] == ["t", "c", "y", "x"]


def test_labels_keep_values_and_levels(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    image = make_image((2, 333, 250), np.uint16)
    nuclei = np.zeros((333, 250), np.int32)
    for label in range(1, 40):
        y, x = rng.integers(0, 320), rng.integers(0, 240)
        nuclei[y : y + rng.integers(2, 14), x : x + rng.integers(2, 14)] = label * 7
    cells = np.where(nuclei > 0, nuclei, 0).astype(np.uint16)
    store = write_multiscale_omezarr(
        image,
        tmp_path / "l.ome.zarr",
        axes="cyx",
        options=ExportOptions(chunk_shape=(1, 64, 64)),
        labels={"nuclei": nuclei, "cells": cells},
    )
    assert validate_store(store) == []
    group = zarr.open_group(str(store), mode="r")
    n_image = len(list(group.array_keys()))
    labels_meta = json.loads((store / "labels" / "zarr.json").read_text())["attributes"]["ome"]
    assert labels_meta == {"version": "0.5", "labels": ["nuclei", "cells"]}
    for name, mask in (("nuclei", nuclei), ("cells", cells)):
        lg = group["labels"][name]
        assert len(list(lg.array_keys())) == n_image
        level0 = lg["0"][...]
        assert level0.shape == (1, 333, 250) and level0.dtype == mask.dtype
        np.testing.assert_array_equal(level0[0], mask)
        present = set(np.unique(mask).tolist())
        for level in range(1, n_image):
            assert set(np.unique(lg[str(level)][...]).tolist()) <= present
        ome = json.loads((store / "labels" / name / "zarr.json").read_text())["attributes"]["ome"]
        assert ome["version"] == "0.5"
        assert "omero" not in ome
        assert ome["image-label"]["source"] == {"image": "../../"}
        assert {c["label-value"] for c in ome["image-label"]["colors"]} == present


def test_ngff_04_on_zarr_v2(tmp_path: Path) -> None:
    image = make_image((2, 3, 200, 150), np.uint16)
    mask = (make_image((200, 150), np.uint8) % 5).astype(np.uint8)
    store = write_multiscale_omezarr(
        image,
        tmp_path / "v4.ome.zarr",
        axes="tcyx",
        options=ExportOptions(chunk_shape=(1, 64, 64), ngff_version="0.4"),
        labels={"cells": mask},
    )
    assert validate_store(store) == []
    attrs = json.loads((store / ".zattrs").read_text())
    assert attrs["multiscales"][0]["version"] == "0.4"
    assert json.loads((store / "0" / ".zarray").read_text())["dimension_separator"] == "/"
    assert (store / "0" / "0" / "0" / "0" / "0").is_file()  # nested "/" chunk keys
    np.testing.assert_array_equal(read_image(store), image)
    np.testing.assert_array_equal(read_image(store / "labels" / "cells")[0, 0], mask)


@pytest.mark.parametrize("ngff_version", ["0.5", "0.4"])
@pytest.mark.parametrize("compression", ["zstd", "lz4", "zlib", "none"])
def test_compressions_round_trip(tmp_path: Path, compression: str, ngff_version: str) -> None:
    """Chunks are encoded by opsflow, so zarr itself must decode every codec and format.

    Two channels per chunk over three channels, big-endian input and sizes off the chunk
    grid exercise the padded edge chunks on every axis.
    """
    image = make_image((3, 100, 90), np.uint16).astype(">u2")
    store = write_multiscale_omezarr(
        image,
        tmp_path / "c.ome.zarr",
        axes="cyx",
        options=ExportOptions(
            chunk_shape=(2, 64, 64), compression=compression, ngff_version=ngff_version
        ),
    )
    root = zarr.open_group(str(store), mode="r")
    np.testing.assert_array_equal(root["0"][...], image)
    np.testing.assert_array_equal(root["1"][...], reference_block_mean(image, 2))
    assert root["0"].chunks == (2, 64, 64)
    assert root["0"].nchunks_initialized == 2 * 2 * 2


def test_chunk_writer_refuses_layouts_it_cannot_encode(tmp_path: Path) -> None:
    from numcodecs import Zstd
    from zarr.codecs import GzipCodec

    from opsflow.io._chunks import ChunkWriter

    array = zarr.create_array(
        str(tmp_path / "g.zarr"), shape=(4, 4), chunks=(2, 2), dtype="u2", compressors=GzipCodec()
    )
    with pytest.raises(OpsflowError, match="do not support the codecs"):
        ChunkWriter(array)
    v2 = {"shape": (4, 4), "chunks": (2, 2), "zarr_format": 2}
    big_endian = zarr.create_array(str(tmp_path / "be.zarr"), dtype=">u2", compressors=None, **v2)
    with pytest.raises(OpsflowError, match="little-endian"):
        ChunkWriter(big_endian)
    zstd = zarr.create_array(str(tmp_path / "z.zarr"), dtype="<u2", compressors=Zstd(), **v2)
    with pytest.raises(OpsflowError, match="compressor"):
        ChunkWriter(zstd)
    plain = zarr.create_array(str(tmp_path / "p.zarr"), dtype="<u2", compressors=None, **v2)
    with pytest.raises(ValueError, match="not on the chunk grid"):
        ChunkWriter(plain).write((1, 0), np.zeros((2, 4), np.uint16))


def test_streaming_source_is_read_in_bands(tmp_path: Path) -> None:
    """The writer asks for bands of rows, never the whole plane at once (bounded memory)."""
    image = make_image((1, 2000, 300), np.uint16)

    class Recorder:
        shape, dtype = image.shape, image.dtype

        def __init__(self) -> None:
            self.requests: list[int] = []

        def __getitem__(self, key):
            self.requests.append(key[-2].stop - key[-2].start)
            return image[key]

    import opsflow.io._stream as stream

    source = Recorder()
    old = stream._BAND_BYTES
    stream._BAND_BYTES = 64 * 300 * 2  # one chunk row of 64 rows
    try:
        store = write_multiscale_omezarr(
            source, tmp_path / "b.ome.zarr", axes="cyx", options=CHUNK_64
        )
    finally:
        stream._BAND_BYTES = old
    assert max(source.requests) == 64 and sum(source.requests) == 2000
    np.testing.assert_array_equal(read_image(store), image)
    group = zarr.open_group(str(store), mode="r")
    np.testing.assert_array_equal(
        group["3"][...],
        reference_block_mean(reference_block_mean(reference_block_mean(image, 2), 2), 2),
    )


def test_failed_write_keeps_the_earlier_store(tmp_path: Path) -> None:
    out = tmp_path / "keep.ome.zarr"
    good = make_image((1, 300, 300), np.uint16)
    write_multiscale_omezarr(good, out, axes="cyx", options=CHUNK_64)

    class Failing:
        shape, dtype = good.shape, good.dtype
        calls = 0

        def __getitem__(self, key):
            self.calls += 1
            if self.calls > 2:
                raise OSError("disk went away")
            return good[key] + 1

    import opsflow.io._stream as stream

    old = stream._BAND_BYTES
    stream._BAND_BYTES = 64 * 300 * 2
    try:
        with pytest.raises(OSError, match="disk went away"):
            write_multiscale_omezarr(Failing(), out, axes="cyx", options=CHUNK_64, workers=1)
    finally:
        stream._BAND_BYTES = old
    np.testing.assert_array_equal(read_image(out), good)
    assert validate_store(out) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.ome.zarr"]


def test_overwrite_replaces_an_existing_store(tmp_path: Path) -> None:
    out = tmp_path / "x.ome.zarr"
    write_multiscale_omezarr(make_image((1, 50, 50), np.uint8, 1), out, axes="cyx")
    new = make_image((2, 60, 40), np.uint8, 2)
    write_multiscale_omezarr(new, out, axes="cyx")
    np.testing.assert_array_equal(read_image(out), new)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.ome.zarr"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"channel_labels": ["a"]}, "1 channel labels"),
        ({"axes": "xyc"}, "axes"),
        ({"labels": {"nuclei": np.zeros((40, 40), np.float32)}}, "integer mask"),
        ({"labels": {"nuclei": np.zeros((41, 40), np.int32)}}, "expected shape"),
        ({"options": {"chunk_shape": (1, 64, 64)}}, "options must be an ExportOptions"),
        ({"pixel_size": (1.0, -1.0)}, "positive"),
        ({"colors": ["FF00FF", "12345"]}, "RRGGBB"),
    ],
)
def test_bad_arguments_are_refused_clearly(tmp_path: Path, kwargs, match) -> None:
    args = {"axes": "cyx", **kwargs}
    with pytest.raises(OpsflowError, match=match):
        write_multiscale_omezarr(np.zeros((2, 40, 40), np.uint16), tmp_path / "e.ome.zarr", **args)
    assert not any(tmp_path.iterdir())


def test_negative_labels_are_refused(tmp_path: Path) -> None:
    mask = np.zeros((40, 40), np.int16)
    mask[3, 3] = -2
    with pytest.raises(OpsflowError, match="non-negative"):
        write_multiscale_omezarr(
            np.zeros((1, 40, 40), np.uint16),
            tmp_path / "n.ome.zarr",
            axes="cyx",
            labels={"cells": mask},
        )
    assert not any(tmp_path.iterdir())


def test_independent_readers_accept_the_store(tmp_path: Path) -> None:
    """ome-zarr-models (spec model) and ome-zarr-py (reader) both read what we write."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader
    from ome_zarr_models.v05.image import Image
    from ome_zarr_models.v05.image_label import ImageLabel

    image = make_image((3, 4, 256, 200), np.uint16)
    mask = np.zeros((256, 200), np.uint32)
    mask[10:60, 20:90] = 4
    store = write_multiscale_omezarr(
        image,
        tmp_path / "r.ome.zarr",
        axes="tcyx",
        options=CHUNK_64,
        channel_labels=["DAPI", "G", "T", "A"],
        labels={"nuclei": mask},
    )
    group = zarr.open_group(str(store), mode="r")
    Image.from_zarr(group)
    ImageLabel.from_zarr(group["labels"]["nuclei"])
    nodes = list(Reader(parse_url(str(store)))())
    assert nodes[0].metadata["channel_names"] == ["DAPI", "G", "T", "A"]
    np.testing.assert_array_equal(np.asarray(nodes[0].data[0]), image)
    assert len(nodes[0].data) == len(list(group.array_keys()))
    label_nodes = [n for n in nodes if "labels/nuclei" in str(n.zarr)]
    assert label_nodes, "ome-zarr-py found no labels node"
    np.testing.assert_array_equal(np.asarray(label_nodes[0].data[0])[0, 0], mask)
