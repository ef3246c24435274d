"""Preprocess steps: raw files to (C, Y, X) TIFFs, metadata tables, illumination fields."""

from __future__ import annotations

import os
from collections.abc import Sequence

from opsflow.config import PreprocessSettings
from opsflow.io import read_raw_image, read_tiff, write_tiff
from opsflow.preprocess import calculate_ic_field, combine_metadata, convert_raw, tile_metadata
from opsflow.steps._files import read_table, write_table

__all__ = ["calculate_ic", "combine_metadata_tables", "convert"]

Path_ = str | os.PathLike[str]


def convert(
    raw_files: Sequence[Path_],
    image_out: Path_,
    metadata_out: Path_,
    *,
    modality: str,
    plate: str,
    well: str,
    tile: int,
    cycle: int | None,
    settings: PreprocessSettings,
    channel_names: Sequence[str],
) -> None:
    """Convert one tile (and cycle) and record its acquisition metadata."""
    flip = getattr(settings, f"{modality}_channel_order_flip")
    raws = [read_raw_image(p) for p in raw_files]
    image = convert_raw(
        raws, n_z_planes=getattr(settings, f"{modality}_n_z_planes"), channel_order_flip=flip
    )
    row = tile_metadata(
        raws,
        plate=plate,
        well=well,
        tile=tile,
        cycle=cycle,
        image_shape=image.shape,
        pixel_size_um=getattr(settings, f"{modality}_pixel_size_um"),
        channel_names=channel_names,
        channel_order_flip=flip,
    )
    write_tiff(image_out, image, axes="cyx")
    write_table(metadata_out, combine_metadata([row]))


def combine_metadata_tables(tables: Sequence[Path_], out: Path_) -> None:
    """Combine the per-tile metadata tables of a well into one parquet."""
    rows = [r for t in tables for r in read_table(t).to_dict("records")]
    write_table(out, combine_metadata(rows))


def calculate_ic(images: Sequence[Path_], out: Path_, *, settings: PreprocessSettings) -> None:
    """Illumination-correction field of the tiles of one well (and cycle)."""
    field = calculate_ic_field(
        (read_tiff(p) for p in images), smooth=settings.ic_smooth, percentile=settings.ic_percentile
    )
    write_tiff(out, field, axes="cyx")
