"""Render SBS tiles from a cell layout, with camera realism and ground truth.

The helpers here (illumination, noise, layout rasters) are shared with
:mod:`opsflow.synth._render_phenotype`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from opsflow.synth._cells import Layout, Raster, make_layout, rasterize, smooth_noise
from opsflow.synth._library import library_abundance, make_library, rng_for
from opsflow.synth._params import BASES, SynthParams
from opsflow.synth._well_tiles import phenotype_layout, sbs_layout

__all__ = ["SbsTile", "illumination_field", "make_sbs_tile"]

_SPOT_HALF = 4  # spots are rendered on (2 * half + 1)^2 patches: > 3 sigma for sigma <= 1.3
_LAYOUT_MARGIN = 30.0  # cells are placed up to this far (SBS px) outside the frame


@dataclass(frozen=True)
class SbsTile:
    """One synthetic SBS tile and its ground truth.

    Attributes
    ----------
    image : numpy.ndarray
        uint16 (n_cycles, 5, Y, X), channels in ``params.sbs_channels`` order: what
        ``preprocess`` outputs after any flip, with illumination, noise and cycle shifts.
    shifts : numpy.ndarray
        float (n_cycles, 2) of (dy, dx); cycle 0 is (0, 0) and
        ``image[k](y, x) ~ image[0](y - dy, x - dx)``.
    nuclei, cells : numpy.ndarray
        int32 (Y, X) true masks in the cycle-0 frame; nucleus ``i`` lies in cell ``i``.
    spots : pandas.DataFrame
        y, x (cycle-0 frame), cell (0 outside cells), barcode (true), read (emitted,
        with base errors), intensity (peak at cycle 0 before gains).
    cell_barcodes : pandas.DataFrame
        cell, barcode_0, barcode_1 ("" if none), in_library_0, gene_symbol_0 ("" if no
        barcode or outside the library), sgRNA_0, gene_symbol_1.
    crosstalk : numpy.ndarray
        (4, 4) mixing over G, T, A, C including channel gains: observed = crosstalk @ true.
    illumination : numpy.ndarray
        float (Y, X) true illumination field of the well (mean 1).
    """

    image: np.ndarray
    shifts: np.ndarray
    nuclei: np.ndarray
    cells: np.ndarray
    spots: pd.DataFrame
    cell_barcodes: pd.DataFrame
    crosstalk: np.ndarray
    illumination: np.ndarray


def illumination_field(params: SynthParams, well: str, *, modality: str) -> np.ndarray:
    """Return the true illumination (vignetting) field of a well, mean 1.

    One smooth field per well and modality, shared by all tiles and cycles: an
    off-centre radial fall-off plus a slight tilt, as a misaligned lamp gives.
    """
    if modality not in ("sbs", "phenotype"):
        raise ValueError(f"modality must be 'sbs' or 'phenotype'; got {modality!r}.")
    shape = params.sbs_tile_shape if modality == "sbs" else params.phenotype_tile_shape
    rng = rng_for(params, "illumination", well, tile=0 if modality == "sbs" else 1)
    yy = (np.arange(shape[0]) + 0.5) / shape[0] * 2 - 1
    xx = (np.arange(shape[1]) + 0.5) / shape[1] * 2 - 1
    cy, cx = rng.uniform(-0.25, 0.25, size=2)
    drop = rng.uniform(*params.vignetting)
    ty, tx = rng.uniform(-0.06, 0.06, size=2)
    r2 = ((yy[:, None] - cy) ** 2 + (xx[None, :] - cx) ** 2) / 2
    field = (1 - drop * r2) * (1 + ty * yy[:, None] + tx * xx[None, :])
    return field / field.mean()


def _noisy(
    expected_signal: np.ndarray,
    illumination: np.ndarray,
    params: SynthParams,
    rng: np.random.Generator,
) -> np.ndarray:
    """Camera model: (background + signal) x illumination, Poisson, read noise, offset."""
    photons = (params.background + np.clip(expected_signal, 0, None)) * illumination
    counts = rng.poisson(photons).astype(np.float32)
    counts += rng.normal(0.0, params.read_noise, size=counts.shape).astype(np.float32)
    counts += params.camera_offset
    return np.clip(np.rint(counts), 0, 65535).astype(np.uint16)


@lru_cache(maxsize=8)
def _cached_layout(params: SynthParams, well: str, tile: int, modality: str = "sbs") -> Layout:
    """A tile's cells: its own layout, or in the well geometry its window on the well's."""
    if params.geometry == "well":
        return (sbs_layout if modality == "sbs" else phenotype_layout)(params, well, tile)
    return make_layout(params, well, tile, margin=_LAYOUT_MARGIN)


def _label_map(params: SynthParams, well: str, tile: int, modality: str = "sbs") -> np.ndarray:
    """Map layout labels to consecutive labels of the cells visible in the tile's frame.

    In the tile geometry both modalities use the SBS tile's map, so a cell has the same
    label in both; in the well geometry each tile numbers the cells it sees.
    """
    if params.geometry != "well":
        modality = "sbs"
    layout = _cached_layout(params, well, tile, modality)
    shape, scale = (
        (params.sbs_tile_shape, 1)
        if modality == "sbs"
        else (params.phenotype_tile_shape, params.phenotype_scale)
    )
    raster = rasterize(layout, shape, scale=scale, pad=0)
    present = np.unique(raster.cells)
    present = present[present > 0]
    mapping = np.zeros(layout.n + 1, dtype=np.int32)
    mapping[present] = np.arange(1, len(present) + 1, dtype=np.int32)
    return mapping


def _crop(image: np.ndarray, pad: int) -> np.ndarray:
    if pad == 0:
        return image
    return image[..., pad:-pad, pad:-pad]


def _dome(raster: Raster) -> np.ndarray:
    """Dome-shaped nuclear profile: bright centre, dimmer (not zero) rim."""
    inside = raster.nuclei > 0
    q = np.clip(raster.nuc_q, 0, 1)
    return np.where(inside, 0.35 + 0.65 * np.sqrt(1 - q**2), 0).astype(np.float32)


def _pixels_by_label(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return flat pixel indices sorted by label and the start of each label 0..n+1."""
    flat = labels.ravel()
    order = np.argsort(flat, kind="stable")
    starts = np.searchsorted(flat[order], np.arange(n + 2))
    return order, starts


def _sequence_codes(seqs: list[str], length: int) -> np.ndarray:
    lookup = {b: i for i, b in enumerate(BASES)}
    codes = np.array([[lookup[c] for c in s] for s in seqs], dtype=np.int64)
    return codes.reshape(len(seqs), length)


def _place_spots(
    params: SynthParams,
    layout: Layout,
    raster: Raster,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Draw amplicon positions (canvas coordinates), true barcodes and reads."""
    order, starts = _pixels_by_label(raster.cells, layout.n)
    nuc_flat = raster.nuclei.ravel()
    width = raster.cells.shape[1]
    pix: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    barcodes: list[str] = []
    lo, hi = params.spots_per_cell
    for i in range(layout.n):
        bc0 = layout.barcodes["barcode_0"].iat[i]
        cell_pix = order[starts[i + 1] : starts[i + 2]]
        if not bc0 or len(cell_pix) == 0:
            continue
        k = int(rng.integers(lo, hi + 1))
        weight = np.where(nuc_flat[cell_pix] > 0, params.nuclear_spot_weight, 1.0)
        chosen = rng.choice(cell_pix, size=k, p=weight / weight.sum())
        bc1 = layout.barcodes["barcode_1"].iat[i]
        second = rng.random(k) < (params.second_barcode_fraction if bc1 else 0.0)
        pix.append(chosen)
        owner.append(np.full(k, i + 1))
        barcodes.extend(bc1 if s else bc0 for s in second)
    # stray amplicons outside cells (debris, lysed cells): half from the library
    library = make_library(params)
    abundance = library_abundance(params, len(library))
    area = raster.cells.size
    n_bg = int(rng.poisson(params.background_spot_density * area))
    candidates = rng.integers(0, area, size=3 * n_bg)
    candidates = candidates[raster.cells.ravel()[candidates] == 0][:n_bg]
    pix.append(candidates)
    owner.append(np.zeros(len(candidates), dtype=np.int64))
    for _ in range(len(candidates)):
        if rng.random() < 0.5:
            barcodes.append(library["prefix"].iat[int(rng.choice(len(library), p=abundance))])
        else:
            barcodes.append("".join(rng.choice(list(BASES), size=params.n_cycles)))
    flat = np.concatenate(pix) if pix else np.zeros(0, dtype=np.int64)
    n = len(flat)
    y = flat // width + rng.uniform(-0.5, 0.5, size=n)
    x = flat % width + rng.uniform(-0.5, 0.5, size=n)
    true = _sequence_codes(barcodes, params.n_cycles)
    errors = rng.random(true.shape) < params.base_error_rate
    read = np.where(errors, (true + rng.integers(1, 4, size=true.shape)) % 4, true)
    intensity = params.spot_intensity * rng.lognormal(0.0, params.spot_intensity_sigma, size=n)
    letters = np.array(BASES)
    return pd.DataFrame(
        {
            "y": y,
            "x": x,
            "cell": np.concatenate(owner) if owner else np.zeros(0, dtype=np.int64),
            "barcode": barcodes,
            "read": ["".join(letters[r]) for r in read],
            "intensity": intensity,
        }
    )


def _render_points(
    y: np.ndarray,
    x: np.ndarray,
    weights: np.ndarray,
    shape: tuple[int, int],
    sigma: float,
) -> np.ndarray:
    """Render Gaussian spots of peak ``weights[:, j]`` at (y, x); returns (J, Y, X) float32.

    Evaluated analytically at pixel centres on a small patch per spot, so sub-pixel
    positions are exact; all images share the patch geometry, one bincount each.
    """
    n_img = weights.shape[1]
    out = np.zeros((n_img, *shape), dtype=np.float32)
    if len(y) == 0:
        return out
    off = np.arange(-_SPOT_HALF, _SPOT_HALF + 1)
    iy = np.rint(y).astype(np.int64)[:, None, None] + off[None, :, None]
    ix = np.rint(x).astype(np.int64)[:, None, None] + off[None, None, :]
    iy, ix = np.broadcast_arrays(iy, ix)
    profile = np.exp(
        -((iy - y[:, None, None]) ** 2 + (ix - x[:, None, None]) ** 2) / (2 * sigma**2)
    )
    valid = (iy >= 0) & (iy < shape[0]) & (ix >= 0) & (ix < shape[1])
    index = (iy * shape[1] + ix)[valid]
    size = shape[0] * shape[1]
    for j in range(n_img):
        w = (profile * weights[:, j, None, None])[valid]
        out[j] = np.bincount(index, weights=w, minlength=size).reshape(shape)
    return out


def _spot_images(
    params: SynthParams, layout: Layout, raster: Raster, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Amplicon spots and their (cycle, base, Y, X) images on the canvas, crosstalk applied."""
    k_cycles, canvas = params.n_cycles, raster.cells.shape
    spots = _place_spots(params, layout, raster, rng)
    n = len(spots)
    codes = _sequence_codes(list(spots["read"]), k_cycles)
    onehot = np.eye(4)[codes]  # (n, K, 4)
    brightness = spots["intensity"].to_numpy()[:, None] * rng.lognormal(
        0.0, params.spot_cycle_jitter, size=(n, k_cycles)
    )
    brightness *= (1 - params.cycle_decay) ** np.arange(k_cycles)[None, :]
    crosstalk = params.crosstalk_matrix()
    observed = (onehot * brightness[..., None]) @ crosstalk.T  # (n, K, 4)
    spot_images = _render_points(
        spots["y"].to_numpy(),
        spots["x"].to_numpy(),
        observed.reshape(n, k_cycles * 4),
        canvas,
        params.spot_sigma,
    ).reshape(k_cycles, 4, *canvas)
    return spots, spot_images, crosstalk


def make_sbs_tile(params: SynthParams, well: str, tile: int) -> SbsTile:
    """Generate one SBS tile with all cycles, as ``preprocess`` would output it.

    Every cycle is rendered noise-free on a canvas larger than the frame, shifted by the
    cycle's sub-pixel stage offset (cubic spline), cropped, then passed through the camera
    model with the well's illumination field. Spot intensities per cycle follow the read
    (with base errors), brightness variation, decay and the crosstalk/gain matrix.
    """
    if tile not in params.tiles:
        raise ValueError(f"tile must be one of {params.tiles}; got {tile}.")
    layout = _cached_layout(params, well, tile)
    mapping = _label_map(params, well, tile)
    pad = math.ceil(params.max_cycle_shift) + 6
    raster = rasterize(layout, params.sbs_tile_shape, scale=1, pad=pad)
    rng = rng_for(params, "sbs", well, tile)
    canvas = raster.cells.shape
    k_cycles = params.n_cycles

    spots, spot_images, crosstalk = _spot_images(params, layout, raster, rng)

    texture = smooth_noise(rng, canvas, 1.5)
    dna = np.concatenate([[0.0], layout.dna])[raster.nuclei].astype(np.float32)
    dapi = params.dapi_intensity * dna * _dome(raster) * (1 + 0.12 * texture)
    dapi = ndi.gaussian_filter(dapi, 1.0)
    autofluorescence = (raster.cells > 0) * (1 + 0.3 * smooth_noise(rng, canvas, 3.0))
    autofluorescence = params.cytoplasm_autofluorescence * ndi.gaussian_filter(
        autofluorescence.astype(np.float32), 1.0
    )

    shifts = np.zeros((k_cycles, 2))
    shifts[1:] = rng.uniform(
        -params.max_cycle_shift, params.max_cycle_shift, size=(k_cycles - 1, 2)
    )
    illumination = illumination_field(params, well, modality="sbs")
    image = np.empty((k_cycles, 5, *params.sbs_tile_shape), dtype=np.uint16)
    gains = np.asarray(params.channel_gains, dtype=np.float32)
    for k in range(k_cycles):
        clean = np.empty((5, *canvas), dtype=np.float32)
        clean[0] = dapi * (1 - params.dapi_cycle_bleach) ** k
        clean[1:] = spot_images[k] + gains[:, None, None] * autofluorescence[None]
        frame = np.empty((5, *params.sbs_tile_shape), dtype=np.float32)
        for c in range(5):
            moved = ndi.shift(clean[c], shifts[k], order=3, mode="nearest") if k else clean[c]
            frame[c] = _crop(moved, pad)
        image[k] = _noisy(frame, illumination, params, rng)

    nuclei = mapping[_crop(raster.nuclei, pad)]
    cells = mapping[_crop(raster.cells, pad)]
    spots = spots.assign(
        y=spots["y"] - pad,
        x=spots["x"] - pad,
        cell=mapping[spots["cell"].to_numpy()],
    )
    ny, nx = params.sbs_tile_shape
    inside = (spots["y"] >= -0.5) & (spots["y"] < ny - 0.5)
    inside &= (spots["x"] >= -0.5) & (spots["x"] < nx - 0.5)
    spots = spots[inside].reset_index(drop=True)
    return SbsTile(
        image=image,
        shifts=shifts,
        nuclei=nuclei,
        cells=cells,
        spots=spots,
        cell_barcodes=_cell_barcodes(layout, mapping),
        crosstalk=crosstalk,
        illumination=illumination,
    )


def _cell_barcodes(layout: Layout, mapping: np.ndarray) -> pd.DataFrame:
    visible = np.flatnonzero(mapping[1:])
    table = layout.barcodes.iloc[visible].reset_index(drop=True)
    table.insert(0, "cell", mapping[visible + 1])
    columns = ["cell", "barcode_0", "barcode_1", "in_library_0", "gene_symbol_0", "sgRNA_0"]
    columns.append("gene_symbol_1")
    if layout.ids is not None:  # the well geometry: which cell of the well it is
        table["well_cell"] = layout.ids[visible]
        columns.append("well_cell")
    return table[columns]
