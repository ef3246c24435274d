"""The report's pictures: plate heat maps and thumbnails of exported stores."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from opsflow.io import image_info, is_plate, plate_fields, read_image, well_position

__all__ = ["data_uri", "plate_heatmaps", "store_thumbnail"]

log = logging.getLogger(__name__)

_THUMB = 256  # largest side of a thumbnail (pixels): the coarsest level at least this big


def data_uri(figure_or_png) -> str:
    """A matplotlib figure or PNG bytes as a ``data:`` URI (the report is one file)."""
    if isinstance(figure_or_png, bytes | bytearray):
        png = bytes(figure_or_png)
    else:
        buffer = io.BytesIO()
        figure_or_png.savefig(buffer, format="png", dpi=90)
        png = buffer.getvalue()
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def plate_heatmaps(wells: pd.DataFrame, columns: list[str]):
    """One heat map per number, wells at their plate positions, one row of panels."""
    from matplotlib.figure import Figure

    columns = [c for c in columns if c in wells]
    fig = Figure(figsize=(3.2 * max(len(columns), 1), 2.6))
    positions = [_grid_position(w) for w in wells["well"]]
    n_rows = max(r for r, _ in positions) + 1
    n_cols = max(c for _, c in positions) + 1
    for k, column in enumerate(columns):
        ax = fig.add_subplot(1, len(columns), k + 1)
        grid = np.full((n_rows, n_cols), np.nan)
        for (r, c), value in zip(positions, wells[column], strict=True):
            grid[r, c] = value
        shown = ax.imshow(grid, cmap="viridis")
        for (r, c), value in zip(positions, wells[column], strict=True):
            ax.text(c, r, f"{value:.3g}", ha="center", va="center", color="w", fontsize=8)
        ax.set_xticks(range(n_cols), [str(c + 1) for c in range(n_cols)])
        ax.set_yticks(range(n_rows), [_row_name(r) for r in range(n_rows)])
        ax.set_title(column.replace("_", " "), fontsize=9)
        fig.colorbar(shown, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def _row_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def _grid_position(well: str) -> tuple[int, int]:
    """(row, column) indices of a well: A1 is (0, 0), AF48 is (31, 47)."""
    row, column = well_position(well)
    index = 0
    for letter in row.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1, int(column) - 1


def _first_image(store: Path) -> Path:
    if is_plate(store):
        fields = plate_fields(store)
        well = next(iter(fields))
        return store / well / fields[well][0]
    return store


def store_thumbnail(store: Path) -> bytes | None:
    """PNG of a store's first image (a plate's first field) from a coarse pyramid level.

    Reads one small level (about ``_THUMB`` pixels a side), never level 0, so the cost is
    the same for a tile and a stitched well. First time point, up to 3 channels as RGB.
    """
    from matplotlib.figure import Figure

    try:
        image = _first_image(store)
        info = image_info(image)
        sides = [max(shape[-2:]) for shape in info.level_shapes]
        level = max([i for i, s in enumerate(sides) if s >= _THUMB] or [0])
        pixels = read_image(image, level=level).astype(np.float64)
    except Exception as exc:  # a store being written or damaged: the report says so
        log.warning("report: no thumbnail of %s (%s)", store, exc)
        return None
    planes = pixels.reshape(-1, *pixels.shape[-2:])
    if "c" in info.axes:
        n_c = info.level_shapes[level][info.axes.index("c")]
        planes = planes[:n_c]
    rgb = np.zeros((*planes.shape[-2:], 3))
    colours = ([1, 1, 1],) if len(planes) == 1 else ([1, 0.2, 1], [0.2, 1, 0.2], [0.3, 0.5, 1])
    for plane, colour in zip(planes, colours, strict=False):
        lo, hi = np.percentile(plane, [1, 99.5])
        rgb += np.clip((plane - lo) / max(hi - lo, 1e-9), 0, 1)[..., None] * colour
    fig = Figure(figsize=(2.4, 2.4))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(np.clip(rgb, 0, 1), interpolation="nearest")
    ax.set_axis_off()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()
