"""open_image: TIFF and OME-Zarr read as the same array, only the chunks indexed are read."""

from __future__ import annotations

import numpy as np
import pytest

from opsflow.errors import InputFileError, OpsflowError
from opsflow.io import ExportOptions, open_image, write_multiscale_omezarr, write_tiff

OPTIONS = ExportOptions(chunk_shape=(1, 32, 32), max_levels=1)


@pytest.fixture
def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 4000, (3, 5, 64, 48), dtype=np.uint16)


def _store(tmp_path, image, **kw):
    return write_multiscale_omezarr(
        image, tmp_path / "img.ome.zarr", axes="tcyx", options=OPTIONS, **kw
    )


def test_tiff_and_store_give_the_same_arrays(tmp_path, image):
    tiff = open_image(write_tiff(tmp_path / "img.tiff", image, axes="tcyx"))
    store = open_image(_store(tmp_path, image))
    assert tiff.shape == store.shape == image.shape and tiff.axes == store.axes == "tcyx"
    for key in [
        ...,
        (1,),
        (1, 2),
        (slice(None), [0, 3]),
        (2, [4, 1], slice(3, 40, 2), -1),
        (-1, ..., slice(5, 9)),
    ]:
        want = _orthogonal(image, _full(key, image.ndim))
        np.testing.assert_array_equal(tiff[key], want)
        np.testing.assert_array_equal(store[key], want)
    np.testing.assert_array_equal(np.asarray(store), image)


def _full(key, ndim):
    key = key if isinstance(key, tuple) else (key,)
    if ... in key:
        at = key.index(...)
        key = key[:at] + (slice(None),) * (ndim - len(key) + 1) + key[at + 1 :]
    return key + (slice(None),) * (ndim - len(key))


def _orthogonal(array, key):
    """numpy's indexing of one axis at a time (lists pick along their own axis only)."""
    for axis in reversed(range(len(key))):
        k = key[axis]
        array = array[(slice(None),) * axis + (k,)] if isinstance(k, slice) else array.take(k, axis)
    return array


def test_only_the_indexed_chunks_are_read(tmp_path, image):
    store = _store(tmp_path, image)
    level0 = store / "0"
    chunks = [p for p in level0.rglob("*") if p.is_file() and p.name != "zarr.json"]
    wanted = "c/1/3/"  # cycle 1, channel 3
    for chunk in chunks:
        if wanted not in chunk.relative_to(level0).as_posix() + "/":
            chunk.write_bytes(b"not a chunk")
    view = open_image(store)
    np.testing.assert_array_equal(view[1, 3], image[1, 3])
    with pytest.raises(Exception):  # noqa: B017 - zarr's own decoding error
        view[1, 2]


def test_axes_are_presented_as_the_consumer_expects(tmp_path):
    mask = np.arange(12, dtype=np.uint32).reshape(1, 3, 4)
    stored = write_multiscale_omezarr(mask, tmp_path / "m.ome.zarr", axes="cyx", options=OPTIONS)
    as_yx = open_image(stored, axes="yx")
    assert as_yx.shape == (3, 4)
    np.testing.assert_array_equal(np.asarray(as_yx), mask[0])
    plane = write_tiff(tmp_path / "p.tiff", mask[0], axes="yx")
    as_cyx = open_image(plane, axes="cyx")
    assert as_cyx.shape == (1, 3, 4)
    np.testing.assert_array_equal(as_cyx[0, 1:], mask[0, 1:])
    with pytest.raises(InputFileError, match="expected an image with axes 'yx'"):
        open_image(write_tiff(tmp_path / "c2.tiff", np.zeros((2, 3, 4), np.uint8)), axes="yx")
    with pytest.raises(OpsflowError, match="outside an axis of length 3"):
        as_yx[3]
