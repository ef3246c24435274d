"""The one export step behind every ``export_*_omezarr`` rule."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from opsflow.config import Config
from opsflow.export import export_stage, get_stage, pixel_size_from_metadata

__all__ = ["export", "remove_stores"]

log = logging.getLogger(__name__)

Path_ = str | os.PathLike[str]


def export(
    stage_name: str,
    image: Path_,
    output: Path_,
    *,
    metadata: Path_,
    masks: Mapping[str, Path_],
    config: Config,
    tile: int | None = None,
    workers: int | None = None,
) -> None:
    """Export one stage's TIFF checkpoint with the module's OME-Zarr settings.

    Channel names come from the configuration of the stage's modality and the pixel size
    from that modality's preprocess metadata, so SBS and phenotype stores each carry
    their own physical scale.
    """
    stage = get_stage(stage_name)
    names = config.sbs.channel_names if stage.modality == "sbs" else config.phenotype.channel_names
    export_stage(
        stage,
        image,
        output,
        masks=masks,
        channel_names=names,
        base_channels=config.sbs.base_channels,
        pixel_size=pixel_size_from_metadata(metadata, tile=tile),
        options=config.export_options(stage.module),
        workers=workers,
    )


def remove_stores(stores: Sequence[Path_]) -> int:
    """Delete OME-Zarr stores (directories ending in ``.zarr`` only); return how many."""
    removed = 0
    for store in map(Path, stores):
        if store.suffix == ".zarr" and store.is_dir():
            shutil.rmtree(store)
            removed += 1
    log.info("removed %d OME-Zarr stores", removed)
    return removed
