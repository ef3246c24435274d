"""SBS steps: one function per rule, each reading, calling one step, writing."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from opsflow.config import SbsSettings
from opsflow.errors import InputFileError
from opsflow.io import read_tiff, write_tiff
from opsflow.sbs import (
    align_step,
    call_cells_step,
    call_reads_step,
    cell_info,
    extract_bases_step,
    find_peaks_step,
    illumination_corrected_step,
    log_filter_step,
    max_filter_step,
    segment_step,
    standard_deviation_step,
)
from opsflow.segment import segmentation_stats
from opsflow.steps._files import read_table, write_table
from opsflow.tables import combine_tiles

__all__ = [
    "align",
    "apply_ic_field",
    "call_cells",
    "call_reads",
    "combine",
    "extract_bases",
    "find_peaks",
    "info",
    "log_filter",
    "max_filter",
    "segment",
    "standard_deviation",
]

Path_ = str | os.PathLike[str]


def align(cycles: Sequence[Path_], out: Path_, *, settings: SbsSettings) -> None:
    """Stack the converted cycles of a tile and register them: ``aligned`` (T, C, Y, X)."""
    frames = [read_tiff(p) for p in cycles]
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise InputFileError(
            f"{cycles[0]}: expected every cycle of a tile to have one shape, found "
            f"{sorted(shapes)}."
        )
    write_tiff(out, align_step(np.stack(frames), settings), axes="tcyx")


def log_filter(aligned: Path_, out: Path_, *, settings: SbsSettings) -> None:
    """``log_filtered`` (T, C, Y, X)."""
    write_tiff(out, log_filter_step(read_tiff(aligned), settings), axes="tcyx")


def standard_deviation(logged: Path_, out: Path_, *, settings: SbsSettings) -> None:
    """``standard_deviation`` (Y, X) float."""
    write_tiff(out, standard_deviation_step(read_tiff(logged), settings), axes="yx")


def find_peaks(std: Path_, out: Path_, *, settings: SbsSettings) -> None:
    """``peaks`` (Y, X) float."""
    write_tiff(out, find_peaks_step(read_tiff(std), settings), axes="yx")


def max_filter(logged: Path_, out: Path_, *, settings: SbsSettings) -> None:
    """``max_filtered`` (T, bases, Y, X)."""
    write_tiff(out, max_filter_step(read_tiff(logged), settings), axes="tcyx")


def apply_ic_field(
    aligned: Path_, field: Path_ | None, out: Path_, *, settings: SbsSettings
) -> None:
    """``illumination_corrected`` (C, Y, X) for segmentation."""
    corrected = illumination_corrected_step(
        read_tiff(aligned), read_tiff(field) if field is not None else None, settings
    )
    write_tiff(out, corrected, axes="cyx")


def segment(
    corrected: Path_,
    nuclei_out: Path_,
    cells_out: Path_,
    stats_out: Path_,
    *,
    settings: SbsSettings,
) -> None:
    """``nuclei`` and ``cells`` masks and the segmentation statistics."""
    nuclei, cells = segment_step(read_tiff(corrected), settings, settings.segmentation)
    write_tiff(nuclei_out, nuclei, axes="yx")
    write_tiff(cells_out, cells, axes="yx")
    write_table(stats_out, segmentation_stats(nuclei, cells))


def extract_bases(
    peaks: Path_, maxed: Path_, cells: Path_, out: Path_, *, settings: SbsSettings
) -> None:
    """``bases``: every candidate read's intensities per cycle and base."""
    bases = extract_bases_step(read_tiff(peaks), read_tiff(maxed), read_tiff(cells), settings)
    write_table(out, bases)


def call_reads(bases: Path_, out: Path_, *, settings: SbsSettings, n_cycles: int) -> None:
    """``reads``: crosstalk-corrected base calls with qualities."""
    write_table(out, call_reads_step(read_table(bases), settings, n_cycles))


def call_cells(
    reads: Path_, out: Path_, *, settings: SbsSettings, library: pd.DataFrame | None
) -> None:
    """``cells``: the top two barcodes of every cell."""
    write_table(out, call_cells_step(read_table(reads), library, settings))


def info(nuclei: Path_, cells: Path_, out: Path_) -> None:
    """``cell_info``: area, centroid and bounds of every cell."""
    write_table(out, cell_info(read_tiff(nuclei), read_tiff(cells)))


def combine(tables: Mapping[int, Path_], out: Path_, *, plate: str, well: str) -> None:
    """Per-well parquet of per-tile tables, with plate, well and tile columns."""
    parts = {tile: read_table(path) for tile, path in tables.items()}
    write_table(out, combine_tiles(parts, plate=plate, well=well))
