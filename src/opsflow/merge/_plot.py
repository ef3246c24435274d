"""The QC picture of a well's merge: tiles, matched cells and residual vectors."""

from __future__ import annotations

from typing import Any

import pandas as pd

from opsflow.merge._match import tile_boxes
from opsflow.merge._well import WellMerge

__all__ = ["merge_figure"]

_ARROW_SCALE = 50  # residual vectors drawn 50 x longer than they are


def _boxes(ax: Any, boxes: pd.DataFrame, color: str, label: str) -> None:
    from matplotlib.patches import Rectangle

    for i, b in enumerate(boxes.itertuples()):
        ax.add_patch(
            Rectangle((b.x0, b.y0), b.x1 - b.x0, b.y1 - b.y0, fill=False, lw=0.8,
                      ec=color, label=label if i == 0 else None)
        )  # fmt: skip


def _fractions(fig: Any, ax: Any, result: WellMerge) -> None:
    """Phenotype tiles filled by the matched fraction of their cells: a well heat map."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    q = result.quality.dropna(subset=["matched_fraction"])
    weights = q.n_phenotype_cells.clip(lower=1)
    per_tile = (q.matched_fraction * weights).groupby(q.phenotype_tile).sum()
    per_tile = per_tile / weights.groupby(q.phenotype_tile).sum()
    poor = set(q.loc[q.poor, "phenotype_tile"])
    cmap, norm = colormaps["RdYlGn"], Normalize(0.5, 1.0)
    boxes = tile_boxes(result.frames[0], result.registration.transform)
    for b in boxes.itertuples():
        face = cmap(norm(per_tile[b.tile])) if b.tile in per_tile.index else "0.9"
        edge = "red" if b.tile in poor else "0.3"
        ax.add_patch(Rectangle((b.x0, b.y0), b.x1 - b.x0, b.y1 - b.y0, fc=face, ec=edge,
                               lw=1.5 if b.tile in poor else 0.4))  # fmt: skip
    ax.set(xlim=(boxes.x0.min(), boxes.x1.max()), ylim=(boxes.y1.max(), boxes.y0.min()))
    ax.set_aspect("equal")
    fig.colorbar(ScalarMappable(norm, cmap), ax=ax, label="matched fraction", shrink=0.8)


def merge_figure(result: WellMerge, *, title: str) -> Any:
    """A matplotlib figure: tile layout, matched cells coloured by residual, vectors x50.

    Left: where cells matched and how far off they are; right: the matched fraction of
    every phenotype tile's cells, so a poor tile stands out.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 5.6), layout="constrained")
    ax, bars = fig.subplots(1, 2, width_ratios=[1.2, 1])
    reg = result.registration
    pheno_frames, sbs_frames = result.frames
    _boxes(ax, tile_boxes(sbs_frames), "0.55", "SBS tiles")
    _boxes(ax, tile_boxes(pheno_frames, reg.transform), "tab:blue", "phenotype tiles")
    m = result.matches
    if len(m):
        shown = m.iloc[:: max(1, len(m) // 5000)]  # a readable density of dots
        points = ax.scatter(shown.x_um, shown.y_um, c=shown.distance_um, s=2, vmin=0)
        fig.colorbar(points, ax=ax, label="match distance (µm)", shrink=0.8)
        step = max(1, len(m) // 400)
        sub = m.iloc[::step]
        ax.quiver(sub.x_um, sub.y_um, sub.dx_um * _ARROW_SCALE, sub.dy_um * _ARROW_SCALE,
                  angles="xy", scale_units="xy", scale=1, width=0.002, color="tab:red")  # fmt: skip
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.set(xlabel="x (µm from the well's centre, SBS stage)", ylabel="y (µm)")
    t = reg.transform
    ax.set_title(
        f"{title}: {len(m)} matches; rotation {t.rotation_deg:.3f}°, scale {t.scale:.5f}\n"
        f"residual median {reg.residual_median_um:.2f} µm, 90th percentile "
        f"{reg.residual_p90_um:.2f} µm (red vectors x{_ARROW_SCALE})",
        fontsize=9,
    )
    ax.legend(loc="upper right", fontsize=7)
    _fractions(fig, bars, result)
    bars.set_title("matched fraction per phenotype tile (red edge: a poor tile pair)", fontsize=9)
    return fig
