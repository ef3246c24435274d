"""Well mosaics: tiles placed by stage position, overlaps to the nearest tile centre.

The expectation is computed independently, pixel by pixel: for every mosaic pixel, the
tiles that cover it, the one whose centre is nearest (first listed on a tie), and that
tile's pixel. Label values must map back to (tile, label) through the properties.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from opsflow.errors import InputFileError
from opsflow.export import Mosaic, get_stage, label_offsets, place_tiles
from opsflow.export import export_mosaic as export_well
from opsflow.io import ExportOptions, validate_store, write_tiff

PIXEL = 0.5  # micrometres
SHAPE = (40, 50)
# x, y stage positions (µm) of four overlapping tiles, jittered as a real stage is
POSITIONS = {0: (0.0, 0.0), 1: (21.3, 0.4), 2: (-0.2, 17.1), 3: (21.0, 17.6)}


def _metadata() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"tile": t, "x_pos": x, "y_pos": y, "pixel_size_y": PIXEL, "pixel_size_x": PIXEL}
            for t, (x, y) in POSITIONS.items()
        ]
    )


def _expected(tiles: dict[int, np.ndarray], placements) -> np.ndarray:
    height = max(p.y + p.height for p in placements)
    width = max(p.x + p.width for p in placements)
    out = np.zeros((*next(iter(tiles.values())).shape[:-2], height, width), dtype=np.uint32)
    for y in range(height):
        for x in range(width):
            best, value = np.inf, None
            for p in placements:
                if p.y <= y < p.y + p.height and p.x <= x < p.x + p.width:
                    cy, cx = p.y + (p.height - 1) / 2, p.x + (p.width - 1) / 2
                    d = (y - cy) ** 2 + (x - cx) ** 2
                    if d < best:
                        best, value = d, tiles[p.tile][..., y - p.y, x - p.x]
            if value is not None:
                out[..., y, x] = value
    return out


def test_tiles_go_where_their_stage_positions_say() -> None:
    placements = place_tiles(_metadata(), dict.fromkeys(POSITIONS, SHAPE), (PIXEL, PIXEL))
    got = {p.tile: (p.y, p.x) for p in placements}
    assert got == {0: (0, 0), 1: (1, 43), 2: (34, 0), 3: (35, 42)}  # rint(µm / 0.5)


def test_overlaps_go_to_the_nearest_tile_centre_pixel_for_pixel() -> None:
    rng = np.random.default_rng(0)
    tiles = {t: rng.integers(1, 1000, (2, *SHAPE)).astype(np.uint16) for t in POSITIONS}
    placements = place_tiles(_metadata(), dict.fromkeys(POSITIONS, SHAPE), (PIXEL, PIXEL))
    mosaic = Mosaic(list(tiles.values()), placements)
    expected = _expected(tiles, placements)
    np.testing.assert_array_equal(mosaic[:, :, :], expected)
    np.testing.assert_array_equal(mosaic[1:2, 30:50, 40:70], expected[1:2, 30:50, 40:70])


def test_label_values_stay_unique_in_the_well() -> None:
    assert label_offsets([3, 0, 5, 2]) == [0, 3, 3, 8]


def test_a_tile_without_a_stage_position_is_one_sentence() -> None:
    table = _metadata()
    table.loc[2, "x_pos"] = np.nan
    with pytest.raises(InputFileError, match=r"expected a stage position for every tile.*\[2\]"):
        place_tiles(table, dict.fromkeys(POSITIONS, SHAPE), (PIXEL, PIXEL), where="m.parquet")


def test_a_segmentation_mosaic_from_tiffs(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    images, masks, tiles = {}, {}, {}
    for t in POSITIONS:
        image = rng.integers(0, 4000, (5, *SHAPE)).astype(np.uint16)
        mask = np.zeros(SHAPE, np.uint16)
        for k in range(1, 4 + t):  # a few square "cells" per tile, labels 1..n
            y, x = rng.integers(0, SHAPE[0] - 6), rng.integers(0, SHAPE[1] - 6)
            mask[y : y + 6, x : x + 6] = k
        images[t] = write_tiff(tmp_path / f"T-{t}__image.tiff", image, axes="cyx")
        masks[t] = write_tiff(tmp_path / f"T-{t}__cells.tiff", mask, axes="yx")
        tiles[t] = (image, mask)
    metadata = tmp_path / "metadata.parquet"
    _metadata().to_parquet(metadata)
    out = export_well(
        get_stage("segment_sbs"),
        images,
        tmp_path / "P-1_W-A1__segmentation_mosaic.ome.zarr",
        metadata=metadata,
        masks={"cells": masks},
        channel_names=["DAPI", "G", "T", "A", "C"],
        options=ExportOptions(chunk_shape=(1, 32, 32)),
    )
    assert validate_store(out) == []
    group = zarr.open_group(str(out), mode="r")
    placements = place_tiles(_metadata(), dict.fromkeys(POSITIONS, SHAPE), (PIXEL, PIXEL))
    np.testing.assert_array_equal(
        group["0"][...], _expected({t: i for t, (i, _) in tiles.items()}, placements)
    )
    labels = group["labels/cells/0"][0]
    properties = group["labels/cells"].attrs["ome"]["image-label"]["properties"]
    back = {p["label-value"]: (p.get("tile"), p.get("label")) for p in properties}
    assert set(back) == set(np.unique(labels).tolist())
    # every mosaic label is, pixel for pixel, the label of the tile it says it came from
    for p in placements:
        region = labels[p.y : p.y + p.height, p.x : p.x + p.width]
        mask = tiles[p.tile][1]
        for value in np.unique(region[region > 0]):
            tile, label = back[int(value)]
            if tile == p.tile:
                assert (mask[region == value] == label).all()
    scale = group.attrs["ome"]["multiscales"][0]["datasets"][0]["coordinateTransformations"]
    assert scale[0]["scale"][-2:] == [PIXEL, PIXEL]
