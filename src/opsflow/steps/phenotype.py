"""Phenotype steps: one function per rule, each reading, calling one step, writing."""

from __future__ import annotations

import os
from collections.abc import Mapping

from opsflow.io import read_tiff, write_tiff
from opsflow.phenotype import (
    PhenotypeParams,
    align_tile,
    features_step,
    identify_cytoplasm,
    illumination_corrected_step,
    segment_step,
)
from opsflow.segment import segmentation_stats
from opsflow.steps._files import read_table, write_table
from opsflow.tables import combine_tiles

__all__ = ["align", "apply_ic_field", "combine", "cytoplasm", "features", "segment"]

Path_ = str | os.PathLike[str]


def apply_ic_field(image: Path_, field: Path_, out: Path_, *, settings: PhenotypeParams) -> None:
    """``illumination_corrected`` (C, Y, X)."""
    corrected = illumination_corrected_step(read_tiff(image), read_tiff(field), settings)
    write_tiff(out, corrected, axes="cyx")


def align(corrected: Path_, out: Path_, *, settings: PhenotypeParams) -> None:
    """``aligned`` (C, Y, X): configured offsets, then registration to the target channel."""
    aligned, _ = align_tile(read_tiff(corrected), params=settings)
    write_tiff(out, aligned, axes="cyx")


def segment(
    aligned: Path_,
    nuclei_out: Path_,
    cells_out: Path_,
    stats_out: Path_,
    *,
    settings: PhenotypeParams,
) -> None:
    """``nuclei`` and ``cells`` masks with the shared segmenter at phenotype scale."""
    nuclei, cells = segment_step(read_tiff(aligned), settings)
    write_tiff(nuclei_out, nuclei, axes="yx")
    write_tiff(cells_out, cells, axes="yx")
    write_table(stats_out, segmentation_stats(nuclei, cells))


def cytoplasm(nuclei: Path_, cells: Path_, out: Path_) -> None:
    """``identified_cytoplasms``: each cell minus its own nucleus."""
    write_tiff(out, identify_cytoplasm(read_tiff(nuclei), read_tiff(cells)), axes="yx")


def features(
    aligned: Path_,
    nuclei: Path_,
    cells: Path_,
    cytoplasms: Path_,
    features_out: Path_,
    minimal_out: Path_,
    *,
    settings: PhenotypeParams,
) -> None:
    """Per-cell features and the minimal table merged with SBS later."""
    table, minimal = features_step(
        read_tiff(aligned), read_tiff(nuclei), read_tiff(cells), read_tiff(cytoplasms), settings
    )
    write_table(features_out, table)
    write_table(minimal_out, minimal)


def combine(tables: Mapping[int, Path_], out: Path_, *, plate: str, well: str) -> None:
    """Per-well parquet of per-tile tables, with plate, well and tile columns."""
    parts = {tile: read_table(path) for tile, path in tables.items()}
    write_table(out, combine_tiles(parts, plate=plate, well=well))
