"""The well geometry of the image screen: one layout per well, every tile a window on it.

Frames, all in micrometres unless named ``_px``:

- the SBS frame of a well: SBS tile ``t`` (row ``r``, column ``c`` of a square grid)
  has its top-left pixel centre at ``(r, c) * step`` with ``step = (1 - overlap) * FOV``;
- the phenotype frame: ``sbs = s R(theta) phenotype + offset`` (the plate moved between
  the microscopes and the pixel sizes are a little off); phenotype tiles lie on a grid of
  their own in it, starting ``_PHENOTYPE_GRID_ORIGIN_UM`` before the SBS grid.

Cells are placed once per well in SBS pixel coordinates. A tile's layout is the cells
near its window, moved into the tile's own coordinates (SBS pixel units, which
``rasterize`` renders at the modality's scale). Shapes are not rotated or rescaled: at
0.2 degrees and 0.1 % that is far below a pixel.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np

from opsflow.synth._cells import Layout, make_layout
from opsflow.synth._library import rng_for
from opsflow.synth._params import SynthParams

__all__ = [
    "phenotype_layout",
    "sbs_layout",
    "well_stage_position",
]

_MARGIN_PX = 30.0  # cells this far (SBS px) outside a window still reach into it
_PHENOTYPE_GRID_ORIGIN_UM = -40.0
_WELL_PITCH_UM = 39_000.0  # 6-well plate pitch: wells sit far apart on the stage


def _step_px(params: SynthParams, shape_px: int, scale: float = 1.0) -> float:
    return shape_px * (1 - params.tile_overlap) / scale


def _sbs_origin_px(params: SynthParams, tile: int) -> np.ndarray:
    row, col = divmod(tile, params.sbs_grid)
    return np.array([row, col], float) * _step_px(params, params.sbs_tile_shape[0])


def _phenotype_origin_um(params: SynthParams, tile: int) -> np.ndarray:
    row, col = divmod(tile, params.phenotype_grid)
    step = _step_px(params, params.phenotype_tile_shape[0]) * params.phenotype_pixel_size_um
    return _PHENOTYPE_GRID_ORIGIN_UM + np.array([row, col], float) * step


def _matrix(params: SynthParams) -> np.ndarray:
    a = math.radians(params.phenotype_rotation_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (1 + params.phenotype_scale_error) * rot


def _to_phenotype_um(params: SynthParams, sbs_um: np.ndarray) -> np.ndarray:
    offset = np.asarray(params.phenotype_offset_um, float)
    return (sbs_um - offset) @ np.linalg.inv(_matrix(params)).T


@lru_cache(maxsize=4)
def _well_layout(params: SynthParams, well: str) -> Layout:
    step = _step_px(params, params.sbs_tile_shape[0])
    extent = step * params.sbs_grid + params.sbs_tile_shape[0] * params.tile_overlap + 60
    layout = make_layout(
        params, well, 0, margin=_MARGIN_PX, shape=(extent, extent), stream="well_layout"
    )
    return replace(layout, ids=np.arange(layout.n))


def _window(layout: Layout, centres_px: np.ndarray, shape_px: tuple[float, float]) -> Layout:
    """The cells whose centre lies within a window (plus the margin), in its coordinates.

    ``centres_px`` are the layout's nucleus centres in the window's coordinates; cell
    centres move with their nuclei.
    """
    keep = np.all(
        (centres_px >= -_MARGIN_PX) & (centres_px <= np.asarray(shape_px) + _MARGIN_PX), axis=1
    )
    shift = centres_px[keep] - layout.center[keep]
    return Layout(
        center=centres_px[keep],
        nuc_axes=layout.nuc_axes[keep],
        nuc_angle=layout.nuc_angle[keep],
        nuc_harm=layout.nuc_harm[keep],
        cell_center=layout.cell_center[keep] + shift,
        cell_axes=layout.cell_axes[keep],
        cell_angle=layout.cell_angle[keep],
        cell_harm=layout.cell_harm[keep],
        dna=layout.dna[keep],
        barcodes=layout.barcodes.iloc[np.flatnonzero(keep)].reset_index(drop=True),
        ids=layout.ids[keep],
    )


@lru_cache(maxsize=16)
def sbs_layout(params: SynthParams, well: str, tile: int) -> Layout:
    """The cells of one SBS tile, in its pixel coordinates."""
    layout = _well_layout(params, well)
    return _window(layout, layout.center - _sbs_origin_px(params, tile), params.sbs_tile_shape)


@lru_cache(maxsize=16)
def phenotype_layout(params: SynthParams, well: str, tile: int) -> Layout:
    """The cells of one phenotype tile, in SBS pixel units of its own frame."""
    layout = _well_layout(params, well)
    px = params.sbs_pixel_size_um
    ph_um = _to_phenotype_um(params, layout.center * px)
    local = (ph_um - _phenotype_origin_um(params, tile)) / px
    window = tuple(n / params.phenotype_scale for n in params.phenotype_tile_shape)
    return _window(layout, local, window)


def well_stage_position(
    params: SynthParams, well: str, tile: int, *, modality: str
) -> tuple[float, float, float]:
    """Recorded stage position (x, y, z) µm of a tile's centre: each frame's own, jittered.

    Both acquisitions place a well at the same nominal plate position; what differs is
    the frame within it (the similarity above) and the jitter of every move.
    """
    well_row = ord(well[0].upper()) - ord("A")
    well_col = int(well[1:]) - 1 if well[1:].isdigit() else 0
    plate_um = np.array([well_row, well_col], float) * _WELL_PITCH_UM
    if modality == "sbs":
        px = params.sbs_pixel_size_um
        centre = (_sbs_origin_px(params, tile) + (params.sbs_tile_shape[0] - 1) / 2) * px
        rng = rng_for(params, "stage", well, tile)
    else:
        px = params.phenotype_pixel_size_um
        half = (params.phenotype_tile_shape[0] - 1) / 2 * px
        centre = _phenotype_origin_um(params, tile) + half
        rng = rng_for(params, "phenotype_stage", well, tile)
    y, x = plate_um + centre + rng.normal(0, params.stage_jitter_um, 2)
    z = 2000.0 + rng.normal(0, 2.0)
    return (round(float(x), 3), round(float(y), 3), round(float(z), 3))
