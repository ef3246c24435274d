"""What a viewer shows first: colours and display windows of a freshly written store.

Found by opening every stage in napari and vizarr: a single channel was blue and a
mostly-zero image (peaks, a standard deviation) got the background's window, so it
looked black; zero padding of aligned stacks and mosaic gaps pulled every window's start
to 0. The expectations are hand-computed percentiles of the data written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from opsflow.io import write_multiscale_omezarr


def _channels(path: Path) -> list[dict]:
    return zarr.open_group(str(path), mode="r").attrs["ome"]["omero"]["channels"]


def test_a_single_channel_is_white(tmp_path: Path) -> None:
    image = np.random.default_rng(0).integers(0, 500, (64, 64)).astype(np.uint16)
    out = write_multiscale_omezarr(image, tmp_path / "one.ome.zarr", axes="yx")
    assert [c["color"] for c in _channels(out)] == ["FFFFFF"]
    several = write_multiscale_omezarr(
        np.stack([image] * 3), tmp_path / "three.ome.zarr", axes="cyx"
    )
    assert [c["color"] for c in _channels(several)] == ["0000FF", "00FF00", "FF0000"]


def test_a_sparse_image_gets_its_window_from_the_non_zero_pixels(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    image = np.zeros((256, 256), np.uint16)
    spots = rng.integers(0, 256, (2, 300))
    image[spots[0], spots[1]] = rng.integers(200, 5000, 300)  # ~0.5 % of the pixels
    out = write_multiscale_omezarr(image, tmp_path / "peaks.ome.zarr", axes="yx")
    window = _channels(out)[0]["window"]
    nonzero = image[image > 0]
    assert window["start"] >= nonzero.min() and window["start"] > 0
    assert np.isclose(window["end"], np.percentile(nonzero, 99.9))
    assert window["max"] == image.max() and window["min"] == 0


def test_zero_padding_does_not_pull_the_window_down(tmp_path: Path) -> None:
    # an aligned stack: camera offset ~100, and two rows of zeros where the shift padded
    image = np.random.default_rng(2).integers(100, 1000, (128, 128)).astype(np.uint16)
    image[:2] = 0
    out = write_multiscale_omezarr(image, tmp_path / "aligned.ome.zarr", axes="yx")
    window = _channels(out)[0]["window"]
    assert np.isclose(window["start"], np.percentile(image[2:], 0.1)) and window["start"] >= 100
    assert np.isclose(window["end"], np.percentile(image[2:], 99.9))
    assert window["min"] == 0
