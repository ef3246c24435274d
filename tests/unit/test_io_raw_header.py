"""Raw file headers agree with tifffile's full reading, and truncation is caught."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from opsflow.errors import InputFileError
from opsflow.io import read_raw_header, read_raw_image


@pytest.mark.parametrize(
    ("shape", "axes"),
    [((64, 48), "YX"), ((5, 64, 48), "CYX"), ((3, 2, 64, 48), "ZCYX"), ((2, 4, 64, 48), "CZYX")],
)
@pytest.mark.parametrize("ome", [True, False])
def test_header_matches_the_full_read(tmp_path: Path, shape, axes, ome) -> None:
    data = np.arange(np.prod(shape), dtype=np.uint16).reshape(shape)
    path = tmp_path / ("tile.ome.tif" if ome else "tile.tif")
    meta = {"axes": axes} if ome else None
    tifffile.imwrite(path, data, ome=ome, metadata=meta, photometric="minisblack")
    header = read_raw_header(path)
    image = read_raw_image(path)  # the pixels, through tifffile's series
    assert header.shape == image.data.shape
    assert header.axes == image.axes
    assert header.dtype == image.data.dtype


def test_truncated_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "tile.ome.tif"
    tifffile.imwrite(path, np.ones((5, 64, 64), np.uint16), ome=True, metadata={"axes": "CYX"})
    whole = path.read_bytes()
    for cut in (len(whole) // 3, len(whole) - 100):
        path.write_bytes(whole[:cut])
        with pytest.raises(InputFileError, match=r"tile\.ome\.tif: expected a complete TIFF"):
            read_raw_header(path)
