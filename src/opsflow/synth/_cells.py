"""Cell layout in continuous coordinates, and its rasterisation at any scale.

Cells are defined once, as shapes in SBS-pixel coordinates, and rasterised separately at
SBS and at phenotype sampling. That is what makes the SAME cells (position, outline,
label, barcode) appear in both modalities, as they do under two objectives.

Coordinates: SBS frame pixel ``i`` has its centre at coordinate ``i``; phenotype pixel
``j`` (scale ``s``) has its centre at ``(j + 0.5) / s - 0.5``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from skimage.measure import label as connected_label

from opsflow.synth._library import library_abundance, make_library, rng_for
from opsflow.synth._params import BASES, SynthParams

__all__ = ["Layout", "Raster", "make_layout", "rasterize"]

_NUC_HARMONICS = np.arange(2, 6)
_CELL_HARMONICS = np.arange(2, 7)


@dataclass(frozen=True)
class Layout:
    """Cells of one tile as continuous shapes plus their barcodes.

    Arrays have one row per cell; cell ``i`` has label ``i + 1`` before edge clipping.
    """

    center: np.ndarray  # (n, 2) nucleus centre (y, x), SBS pixels, frame coordinates
    nuc_axes: np.ndarray  # (n, 2) semi-axes (long, short)
    nuc_angle: np.ndarray  # (n,)
    nuc_harm: np.ndarray  # (n, H, 2) amplitude, phase of harmonics 2..5
    cell_center: np.ndarray  # (n, 2)
    cell_axes: np.ndarray  # (n, 2)
    cell_angle: np.ndarray  # (n,)
    cell_harm: np.ndarray  # (n, H, 2)
    dna: np.ndarray  # (n,) relative DNA content: DAPI brightness in both modalities
    barcodes: pd.DataFrame  # per cell: barcode_0, barcode_1, sgRNA_0, gene_symbol_0, ...
    ids: np.ndarray | None = None  # (n,) the cell's index in its well (well geometry)

    @property
    def n(self) -> int:
        """Number of cells."""
        return len(self.center)


def _random_outside_library(
    rng: np.random.Generator, prefixes: set[str], length: int, min_distance: int
) -> str:
    """Draw a random sequence at Hamming distance >= ``min_distance`` from every prefix."""
    pref = np.array([[BASES.index(b) for b in p] for p in prefixes])
    seq = rng.integers(0, 4, size=length)
    for _ in range(1000):
        if (pref != seq).sum(axis=1).min() >= min_distance:
            break
        seq = rng.integers(0, 4, size=length)
    else:
        raise ValueError(
            f"cannot draw a barcode of length {length} at Hamming distance >= {min_distance} "
            "from every library prefix; use more cycles or a smaller library."
        )
    return "".join(BASES[i] for i in seq)


def make_layout(
    params: SynthParams,
    well: str,
    tile: int,
    *,
    margin: float,
    shape: tuple[float, float] | None = None,
    stream: str = "layout",
) -> Layout:
    """Place cells over the frame plus ``margin`` SBS pixels and assign barcodes.

    ``shape`` is the frame (default the SBS tile; a whole well for the well geometry)
    and ``stream`` names the random stream.

    Nuclei are drawn by rejection so that they may touch but not sit on top of one another
    (centre distance >= 0.9 of the sum of radii); cell outlines are larger perturbed
    ellipses around them that overlap their neighbours' and are split between them at
    rasterisation, giving touching cells as in a confluent culture.
    """
    rng = rng_for(params, stream, well, tile)
    ny, nx = params.sbs_tile_shape if shape is None else shape
    lo = -margin
    extent = np.array([ny + 2 * margin, nx + 2 * margin])
    n_target = 0 if params.is_empty_tile(tile) else rng.poisson(params.cell_density * extent.prod())
    rmin, rmax = params.nucleus_radius
    centers: list[np.ndarray] = []
    radii: list[float] = []
    for _ in range(n_target * 30):
        if len(centers) >= n_target:
            break
        c = lo + rng.random(2) * extent
        r = rng.uniform(rmin, rmax)
        if centers:
            d = np.hypot(*(np.asarray(centers) - c).T)
            if np.any(d < 0.9 * (np.asarray(radii) + r)):
                continue
        centers.append(c)
        radii.append(r)
    n = len(centers)
    center = np.asarray(centers, dtype=float).reshape(n, 2)
    radius = np.asarray(radii, dtype=float)
    ecc = rng.uniform(*params.nucleus_eccentricity, size=n)
    nuc_axes = np.stack([radius / np.sqrt(ecc), radius * np.sqrt(ecc)], axis=1)
    nuc_angle = rng.uniform(0, np.pi, size=n)
    nuc_harm = np.stack(
        [
            rng.normal(0, 1, size=(n, len(_NUC_HARMONICS)))
            * (params.nucleus_irregularity / (_NUC_HARMONICS - 1)),
            rng.uniform(0, 2 * np.pi, size=(n, len(_NUC_HARMONICS))),
        ],
        axis=2,
    )
    cell_radius = radius * rng.uniform(*params.cell_to_nucleus, size=n)
    cell_ecc = rng.uniform(0.6, 1.0, size=n)
    cell_axes = np.stack([cell_radius / np.sqrt(cell_ecc), cell_radius * np.sqrt(cell_ecc)], axis=1)
    cell_angle = rng.uniform(0, np.pi, size=n)
    offset = rng.normal(0, 0.25, size=(n, 2)) * radius[:, None]
    cell_harm = np.stack(
        [
            rng.normal(0, 1, size=(n, len(_CELL_HARMONICS)))
            * (params.cell_irregularity / (_CELL_HARMONICS - 1) ** 0.5),
            rng.uniform(0, 2 * np.pi, size=(n, len(_CELL_HARMONICS))),
        ],
        axis=2,
    )
    dna = rng.lognormal(0.0, 0.2, size=n)
    barcodes = _assign_barcodes(params, rng, n)
    return Layout(
        center=center,
        nuc_axes=nuc_axes,
        nuc_angle=nuc_angle,
        nuc_harm=nuc_harm,
        cell_center=center + offset,
        cell_axes=cell_axes,
        cell_angle=cell_angle,
        cell_harm=cell_harm,
        dna=dna,
        barcodes=barcodes,
    )


def _assign_barcodes(params: SynthParams, rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Give each cell zero, one or two barcodes; a few carry sequences outside the library."""
    library = make_library(params)
    abundance = library_abundance(params, len(library))
    prefixes = set(library["prefix"])
    rows = []
    for _ in range(n):
        u = rng.random()
        row = {
            "barcode_0": "",
            "barcode_1": "",
            "sgRNA_0": "",
            "gene_symbol_0": "",
            "gene_symbol_1": "",
            "in_library_0": False,
        }
        if u < params.p_no_barcode:
            pass
        elif u < params.p_no_barcode + params.p_outside_library:
            row["barcode_0"] = _random_outside_library(rng, prefixes, params.n_cycles, 2)
        else:
            i = rng.choice(len(library), p=abundance)
            row.update(
                barcode_0=library["prefix"].iat[i],
                sgRNA_0=library["sgRNA"].iat[i],
                gene_symbol_0=library["gene_symbol"].iat[i],
                in_library_0=True,
            )
        if row["barcode_0"] and rng.random() < params.p_two_barcodes:
            j = rng.choice(len(library), p=abundance)
            row["barcode_1"] = library["prefix"].iat[j]
            row["gene_symbol_1"] = library["gene_symbol"].iat[j]
        rows.append(row)
    columns = ["barcode_0", "barcode_1", "sgRNA_0", "gene_symbol_0", "gene_symbol_1"]
    return pd.DataFrame(rows, columns=[*columns, "in_library_0"])


@dataclass(frozen=True)
class Raster:
    """A layout sampled on a pixel canvas (frame plus ``pad`` pixels on every side)."""

    nuclei: np.ndarray  # int32, labels = layout index + 1
    cells: np.ndarray  # int32
    nuc_q: np.ndarray  # float32, normalised radius inside the own nucleus, 1 elsewhere
    pad: int
    scale: int


def _shape_q(
    yy: np.ndarray,
    xx: np.ndarray,
    center: np.ndarray,
    axes: np.ndarray,
    angle: float,
    harm: np.ndarray,
    harmonics: np.ndarray,
) -> np.ndarray:
    """Return rho / r(theta): < 1 inside a perturbed ellipse, 1 on its outline."""
    dy = yy - center[0]
    dx = xx - center[1]
    rho = np.hypot(dy, dx)
    theta = np.arctan2(dy, dx)
    phi = theta - angle
    a, b = axes
    r = a * b / np.sqrt((b * np.cos(phi)) ** 2 + (a * np.sin(phi)) ** 2)
    wobble = 1 + (
        harm[:, 0, None, None] * np.cos(harmonics[:, None, None] * theta + harm[:, 1, None, None])
    ).sum(0)
    return rho / (r * np.clip(wobble, 0.5, None))


def _paint(
    canvas_shape: tuple[int, int],
    centers: np.ndarray,
    axes: np.ndarray,
    angles: np.ndarray,
    harms: np.ndarray,
    harmonics: np.ndarray,
    *,
    scale: int,
    pad: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterise shapes; a pixel inside several goes to the one it is most inside of."""
    labels = np.zeros(canvas_shape, dtype=np.int32)
    best = np.full(canvas_shape, np.inf, dtype=np.float32)
    bound = 1 + np.abs(harms[:, :, 0]).sum(axis=1)
    for i in range(len(centers)):
        # canvas pixel p has SBS coordinate (p - pad + 0.5) / scale - 0.5
        reach = axes[i, 0] * bound[i] + 1
        lo = np.floor((centers[i] - reach + 0.5) * scale - 0.5 + pad).astype(int)
        hi = np.ceil((centers[i] + reach + 0.5) * scale - 0.5 + pad).astype(int) + 1
        lo = np.maximum(lo, 0)
        hi = np.minimum(hi, canvas_shape)
        if np.any(hi <= lo):
            continue
        py = (np.arange(lo[0], hi[0]) - pad + 0.5) / scale - 0.5
        px = (np.arange(lo[1], hi[1]) - pad + 0.5) / scale - 0.5
        q = _shape_q(
            py[:, None], px[None, :], centers[i], axes[i], angles[i], harms[i], harmonics
        ).astype(np.float32)
        window = (slice(lo[0], hi[0]), slice(lo[1], hi[1]))
        take = (q <= 1) & (q < best[window])
        labels[window][take] = i + 1
        best[window][take] = q[take]
    return labels, best


def _largest_piece(labels: np.ndarray) -> np.ndarray:
    """Keep only the largest 4-connected piece of every label (painting can split a few)."""
    pieces = connected_label(labels, background=0, connectivity=1)
    n = int(pieces.max())
    if n == 0:
        return labels
    sizes = np.bincount(pieces.ravel(), minlength=n + 1)
    owner = np.zeros(n + 1, dtype=np.int64)
    flat_p = pieces.ravel()
    owner[flat_p] = labels.ravel()
    order = np.lexsort((-sizes[1:], owner[1:]))  # by owner, largest first
    keep = np.zeros(n + 1, dtype=bool)
    first = np.ones(len(order), dtype=bool)
    first[1:] = owner[1:][order][1:] != owner[1:][order][:-1]
    keep[1:][order[first]] = True
    return np.where(keep[pieces], labels, 0).astype(np.int32)


def rasterize(layout: Layout, frame_shape: tuple[int, int], *, scale: int, pad: int) -> Raster:
    """Rasterise nuclei and cells on the frame (at ``scale``) plus ``pad`` pixels around it.

    Nucleus ``i`` lies inside cell ``i``: nucleus pixels are written into the cell mask
    last, so the nucleus always belongs to its own cell.
    """
    canvas = (frame_shape[0] + 2 * pad, frame_shape[1] + 2 * pad)
    nuclei, q = _paint(
        canvas,
        layout.center,
        layout.nuc_axes,
        layout.nuc_angle,
        layout.nuc_harm,
        _NUC_HARMONICS,
        scale=scale,
        pad=pad,
    )
    nuclei = _largest_piece(nuclei)
    cells, _ = _paint(
        canvas,
        layout.cell_center,
        layout.cell_axes,
        layout.cell_angle,
        layout.cell_harm,
        _CELL_HARMONICS,
        scale=scale,
        pad=pad,
    )
    cells[nuclei > 0] = nuclei[nuclei > 0]
    cells = _largest_piece(cells)
    nuclei[cells != nuclei] = 0
    nuc_q = np.where(nuclei > 0, q, 1.0).astype(np.float32)
    return Raster(nuclei=nuclei, cells=cells, nuc_q=nuc_q, pad=pad, scale=scale)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Return Gaussian-smoothed white noise scaled to unit standard deviation (texture)."""
    noise = ndi.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    std = float(noise.std())
    return noise / std if std > 0 else noise
