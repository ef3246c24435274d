"""Render phenotype tiles: the SBS tile's cells at finer sampling, four stains."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage.segmentation import find_boundaries

from opsflow.synth._cells import Layout, rasterize, smooth_noise
from opsflow.synth._library import rng_for
from opsflow.synth._params import SynthParams
from opsflow.synth._render import (
    _cached_layout,
    _crop,
    _dome,
    _label_map,
    _noisy,
    _pixels_by_label,
    _render_points,
    illumination_field,
)

__all__ = ["PhenotypeTile", "make_phenotype_tile"]


@dataclass(frozen=True)
class PhenotypeTile:
    """One synthetic phenotype tile and its ground truth.

    Attributes
    ----------
    image : numpy.ndarray
        uint16 (4, Yp, Xp) in ``params.phenotype_channels`` order.
    channel_shifts : numpy.ndarray
        float (4, 2) (dy, dx) of each channel relative to DAPI (row 0 is zero), same
        convention as :attr:`SbsTile.shifts`, in phenotype pixels.
    nuclei, cells : numpy.ndarray
        int32 (Yp, Xp) masks in the DAPI frame; labels equal those of the SBS tile.
    cell_values : pandas.DataFrame
        Per cell: cell, gene_symbol, gene_symbol_1, area, nucleus_area,
        ``cell_mean_{channel}``, ``nucleus_mean_{channel}`` (noise-free signal above
        background, before illumination and channel shifts), cenpa_foci, coxiv_level.
    illumination : numpy.ndarray
        float (Yp, Xp) true illumination field of the well (mean 1).
    """

    image: np.ndarray
    channel_shifts: np.ndarray
    nuclei: np.ndarray
    cells: np.ndarray
    cell_values: pd.DataFrame
    illumination: np.ndarray


def _cenpa_foci(
    params: SynthParams, nuclei: np.ndarray, foci: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """CENPA image: ``foci[i]`` point foci at random pixels of nucleus ``i + 1``."""
    n, canvas = len(foci), nuclei.shape
    order, starts = _pixels_by_label(nuclei, n)
    focus_pix = [
        rng.choice(order[starts[i + 1] : starts[i + 2]], size=int(foci[i]))
        for i in range(n)
        if starts[i + 2] > starts[i + 1]
    ]
    flat = np.concatenate(focus_pix) if focus_pix else np.zeros(0, dtype=np.int64)
    fy = flat // canvas[1] + rng.uniform(-0.5, 0.5, size=len(flat))
    fx = flat % canvas[1] + rng.uniform(-0.5, 0.5, size=len(flat))
    amp = params.cenpa_focus_intensity * rng.lognormal(0.0, 0.3, size=(len(flat), 1))
    return _render_points(fy, fx, amp, canvas, 1.0)[0]


def make_phenotype_tile(params: SynthParams, well: str, tile: int) -> PhenotypeTile:
    """Generate one phenotype tile: the SBS tile's cells at ``phenotype_scale`` x pixels.

    Stains: DAPI (dome-shaped nuclei), COXIV (mitochondria: punctate cytoplasmic texture
    densest around the nucleus), CENPA (centromere foci in the nucleus), WGA (membrane
    rims). Knock-out of ``coxiv_gene`` multiplies COXIV by ``coxiv_fold``; knock-out of
    ``cenpa_gene`` adds ``cenpa_extra_foci`` foci (either of a cell's barcodes counts).
    Channels are shifted by small sub-pixel offsets relative to DAPI.
    """
    if tile not in params.phenotype_tiles:
        raise ValueError(f"tile must be one of {params.phenotype_tiles}; got {tile}.")
    modality = "phenotype" if params.geometry == "well" else "sbs"
    layout = _cached_layout(params, well, tile, modality)
    mapping = _label_map(params, well, tile, modality)
    s = params.phenotype_scale
    pad = math.ceil(params.max_channel_shift) + 6
    raster = rasterize(layout, params.phenotype_tile_shape, scale=s, pad=pad)
    rng = rng_for(params, "phenotype", well, tile)
    canvas = raster.cells.shape
    n = layout.n
    genes = [
        {layout.barcodes["gene_symbol_0"].iat[i], layout.barcodes["gene_symbol_1"].iat[i]}
        for i in range(n)
    ]
    coxiv_level, foci, wga_level = _cell_levels(params, layout, well, rng)
    coxiv_level *= np.array(
        [params.coxiv_fold if params.coxiv_gene in g else 1.0 for g in genes], dtype=float
    )
    foci += np.array(
        [params.cenpa_extra_foci if params.cenpa_gene in g else 0 for g in genes], dtype=np.int64
    )

    nuclei, cells = raster.nuclei, raster.cells
    clean = np.empty((4, *canvas), dtype=np.float32)
    dna = np.concatenate([[0.0], layout.dna])[nuclei].astype(np.float32)
    dapi = params.dapi_intensity * dna * _dome(raster) * (1 + 0.12 * smooth_noise(rng, canvas, 3.0))
    clean[0] = ndi.gaussian_filter(dapi, 1.2)

    cytoplasm = (cells > 0) & (nuclei == 0)
    mito = np.clip(smooth_noise(rng, canvas, 1.0), 0, None) / 0.4
    distance = ndi.distance_transform_edt(nuclei == 0).astype(np.float32)
    perinuclear = 0.3 + 0.7 * np.exp(-distance / (5.0 * s))
    level = np.concatenate([[0.0], coxiv_level])[cells].astype(np.float32)
    clean[1] = ndi.gaussian_filter(
        params.coxiv_intensity * level * cytoplasm * mito * perinuclear, 1.0
    )

    clean[2] = _cenpa_foci(params, nuclei, foci, rng)
    clean[2] += 0.05 * params.cenpa_focus_intensity * (nuclei > 0)

    rims = find_boundaries(cells, mode="inner") & (cells > 0)
    wga = np.concatenate([[0.0], wga_level])[cells].astype(np.float32)
    clean[3] = ndi.gaussian_filter(params.wga_intensity * wga * (rims + 0.15 * (cells > 0)), 1.2)

    channel_shifts = np.zeros((4, 2))
    channel_shifts[1:] = rng.uniform(-params.max_channel_shift, params.max_channel_shift, (3, 2))
    illumination = illumination_field(params, well, modality="phenotype")
    frame = np.empty((4, *params.phenotype_tile_shape), dtype=np.float32)
    for c in range(4):
        moved = ndi.shift(clean[c], channel_shifts[c], order=3, mode="nearest") if c else clean[c]
        frame[c] = _crop(moved, pad)
    image = _noisy(frame, illumination, params, rng)

    nuclei_f = mapping[_crop(nuclei, pad)]
    cells_f = mapping[_crop(cells, pad)]
    cell_values = _cell_values(
        params, layout, mapping, _crop(clean, pad), nuclei_f, cells_f, foci, coxiv_level
    )
    return PhenotypeTile(
        image=image,
        channel_shifts=channel_shifts,
        nuclei=nuclei_f,
        cells=cells_f,
        cell_values=cell_values,
        illumination=illumination,
    )


def _cell_levels(
    params: SynthParams, layout: Layout, well: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COXIV level, CENPA foci and WGA level of each cell of a layout, before gene effects.

    In the tile geometry a cell is seen once and its values come from the tile's stream.
    In the well geometry a cell can be seen by several phenotype tiles, so its values
    belong to the cell: drawn once per well, in well-cell order, each quantity from its
    own stream (so the value of well cell ``i`` is the same whatever the tile).
    """
    n = layout.n
    if layout.ids is None:
        coxiv = rng.lognormal(0.0, 0.25, size=n)
        foci = rng.integers(params.cenpa_foci[0], params.cenpa_foci[1] + 1, size=n)
        return coxiv, foci, rng.lognormal(0.0, 0.2, size=n)
    size = int(layout.ids.max()) + 1 if n else 0
    streams = [rng_for(params, "cell_phenotype", well, tile=k) for k in range(3)]
    coxiv = streams[0].lognormal(0.0, 0.25, size=size)[layout.ids]
    foci = streams[1].integers(params.cenpa_foci[0], params.cenpa_foci[1] + 1, size=size)
    return coxiv, foci[layout.ids], streams[2].lognormal(0.0, 0.2, size=size)[layout.ids]


def _cell_values(
    params: SynthParams,
    layout: Layout,
    mapping: np.ndarray,
    clean: np.ndarray,
    nuclei: np.ndarray,
    cells: np.ndarray,
    foci: np.ndarray,
    coxiv_level: np.ndarray,
) -> pd.DataFrame:
    visible = np.flatnonzero(mapping[1:])
    labels = mapping[visible + 1]
    table = pd.DataFrame(
        {
            "cell": labels,
            "gene_symbol": layout.barcodes["gene_symbol_0"].to_numpy()[visible],
            "gene_symbol_1": layout.barcodes["gene_symbol_1"].to_numpy()[visible],
            "area": ndi.sum_labels(np.ones_like(cells), cells, labels),
            "nucleus_area": ndi.sum_labels(np.ones_like(nuclei), nuclei, labels),
        }
    )
    for c, name in enumerate(params.phenotype_channels):
        with np.errstate(invalid="ignore", divide="ignore"):
            table[f"cell_mean_{name}"] = ndi.mean(clean[c], cells, labels)
            table[f"nucleus_mean_{name}"] = ndi.mean(clean[c], nuclei, labels)
    table["cenpa_foci"] = foci[visible]
    table["coxiv_level"] = coxiv_level[visible]
    if layout.ids is not None:  # the well geometry: which cell of the well it is
        table["well_cell"] = layout.ids[visible]
    return table
