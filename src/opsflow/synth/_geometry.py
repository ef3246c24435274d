"""A well-level geometry of nuclei: two acquisitions on their own tile grids, with truth.

Cells are placed once per well; an SBS grid of tiles (10x: 1.3 µm pixels) and a
phenotype grid of its own (20x: 0.65 µm, about four tiles per SBS tile) each record what
they see, in their own pixels, as the pipeline's tables do. The phenotype acquisition is
rotated, scaled and shifted against the SBS one (the plate moved between the
microscopes, the objectives' pixel sizes are a little off), stage positions jitter,
centroids carry segmentation noise and either side misses some nuclei. The true cell of
every (tile, label) is kept, so a merge can be scored exactly.

This is the centroid level of the well geometry (tables, no images): what the merge
reads. The transform is applied here by hand (no import of ``opsflow.merge``), so the
generator stays independent of the algorithm it tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["NucleiSide", "WellGeometry", "well_nuclei"]


@dataclass(frozen=True)
class WellGeometry:
    """Sizes, grids and errors of a well seen by the two microscopes."""

    sbs_grid: int = 2  # SBS tiles per side of the well's square of tiles
    sbs_tile_px: int = 512
    sbs_pixel_um: float = 1.3
    phenotype_tile_px: int = 512
    phenotype_pixel_um: float = 0.65
    overlap: float = 0.1  # of a tile's field of view, both grids
    rotation_deg: float = 0.2  # phenotype -> SBS
    scale: float = 1.001  # phenotype -> SBS: the pixel sizes are 0.1 % off
    offset_um: tuple[float, float] = (35.0, -22.0)  # phenotype -> SBS (y, x)
    phenotype_grid_origin_um: float = -40.0  # the phenotype grid starts elsewhere
    stage_jitter_um: float = 1.5  # sigma, per tile and axis, each acquisition
    spacing_um: float = 16.0  # nuclei on a jittered lattice, at least ~8 µm apart
    noise_um: tuple[float, float] = (0.3, 0.4)  # centroid sigma: phenotype, SBS
    miss: tuple[float, float] = (0.0, 0.0)  # fraction of nuclei not found: phenotype, SBS

    def to_sbs(self, points: np.ndarray) -> np.ndarray:
        """Phenotype stage (y, x) µm to SBS stage µm: the true transform."""
        a = math.radians(self.rotation_deg)
        m = self.scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        return np.asarray(points, float) @ m.T + np.asarray(self.offset_um)

    def to_phenotype(self, points: np.ndarray) -> np.ndarray:
        """SBS stage µm to phenotype stage µm (the inverse of :meth:`to_sbs`)."""
        a = math.radians(self.rotation_deg)
        m = self.scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        return (np.asarray(points, float) - np.asarray(self.offset_um)) @ np.linalg.inv(m).T


@dataclass(frozen=True)
class NucleiSide:
    """What one acquisition of the well recorded, and the truth behind it."""

    cells: pd.DataFrame  # tile, label (phenotype) or cell (SBS), nucleus_centroid_y/x px
    metadata: pd.DataFrame  # tile, x_pos, y_pos, pixel_size_y/x, height, width
    truth: pd.DataFrame  # tile, label or cell, well_cell


def _grid(n: int, fov: float, overlap: float, origin: float) -> list[tuple[float, float]]:
    step = fov * (1 - overlap)
    return [(origin + r * step, origin + c * step) for r in range(n) for c in range(n)]


def _record(
    cells_um: np.ndarray,
    centres: list[tuple[float, float]],
    *,
    px: float,
    size: int,
    jitter: float,
    miss: float,
    noise: float,
    rng: np.random.Generator,
    id_col: str,
) -> NucleiSide:
    rows, meta = [], []
    for tile, (cy, cx) in enumerate(centres):
        pix = (cells_um - [cy, cx]) / px + (size - 1) / 2
        inside = np.all((pix >= 2) & (pix < size - 3), axis=1)
        seen = np.flatnonzero(inside)
        seen = seen[rng.random(len(seen)) >= miss]
        noisy = pix[seen] + rng.normal(0, noise / px, (len(seen), 2))
        for label, (cell, (y, x)) in enumerate(zip(seen, noisy, strict=True), start=1):
            rows.append((tile, label, y, x, int(cell)))
        dy, dx = rng.normal(0, jitter, 2)
        meta.append((tile, cx + dx, cy + dy, px, px, size, size))
    table = pd.DataFrame(
        rows, columns=["tile", id_col, "nucleus_centroid_y", "nucleus_centroid_x", "well_cell"]
    )
    columns = ["tile", "x_pos", "y_pos", "pixel_size_y", "pixel_size_x", "height", "width"]
    return NucleiSide(
        cells=table.drop(columns="well_cell"),
        metadata=pd.DataFrame(meta, columns=columns),
        truth=table[["tile", id_col, "well_cell"]],
    )


def well_nuclei(geometry: WellGeometry, seed: int) -> tuple[NucleiSide, NucleiSide]:
    """(phenotype, SBS) nuclei of one well; the same seed always gives the same well."""
    g = geometry
    rng = np.random.default_rng(seed)
    sbs_fov = g.sbs_tile_px * g.sbs_pixel_um
    ph_fov = g.phenotype_tile_px * g.phenotype_pixel_um
    extent = g.sbs_grid * sbs_fov * (1 - g.overlap) + sbs_fov * g.overlap + 60
    axis = np.arange(-30.0, extent, g.spacing_um)
    lattice = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    cells = lattice + rng.uniform(-g.spacing_um / 4, g.spacing_um / 4, lattice.shape)
    common = {"jitter": g.stage_jitter_um, "rng": rng}
    sbs_centres = _grid(g.sbs_grid, sbs_fov, g.overlap, sbs_fov / 2)
    sbs = _record(cells, sbs_centres, px=g.sbs_pixel_um, size=g.sbs_tile_px,
                  miss=g.miss[1], noise=g.noise_um[1], id_col="cell", **common)  # fmt: skip
    n_ph = math.ceil(extent / (ph_fov * (1 - g.overlap)))
    ph_centres = _grid(n_ph, ph_fov, g.overlap, ph_fov / 2 + g.phenotype_grid_origin_um)
    pheno = _record(g.to_phenotype(cells), ph_centres, px=g.phenotype_pixel_um,
                    size=g.phenotype_tile_px, miss=g.miss[0], noise=g.noise_um[0],
                    id_col="label", **common)  # fmt: skip
    return pheno, sbs
