"""The one export step behind every ``export_*_omezarr`` rule."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from opsflow.config import Config
from opsflow.export import export_mosaic, export_stage, get_stage, pixel_size_from_metadata
from opsflow.io import ArrayLike, write_plate_metadata
from opsflow.steps._stores import parse_field

__all__ = ["export", "link_plate", "mosaic", "plate", "remove_stores"]

log = logging.getLogger(__name__)

Path_ = str | os.PathLike[str]


def export(
    stage_name: str,
    image: Path_ | ArrayLike,
    output: Path_,
    *,
    metadata: Path_ | pd.DataFrame,
    masks: Mapping[str, Path_ | ArrayLike],
    config: Config,
    tile: int | None = None,
    workers: int | None = None,
    name: str | None = None,
) -> None:
    """Write one stage's store (a tile store or a plate field) from files or arrays.

    Channel names come from the configuration of the stage's modality and the pixel size
    from that modality's preprocess metadata, so SBS and phenotype stores each carry
    their own physical scale. A store is named like the TIFF it comes from (or stands
    for: ``name`` is that file's stem).
    """
    stage = get_stage(stage_name)
    start = time.perf_counter()
    export_stage(
        stage,
        image,
        output,
        masks=masks,
        channel_names=_channel_names(config, stage.modality),
        base_channels=config.sbs.base_channels,
        pixel_size=pixel_size_from_metadata(metadata, tile=tile),
        options=config.export_options(stage.module),
        name=f"{name or Path(image).name.split('__')[0]}__{stage.store_what}",
        workers=workers,
    )
    # read, pyramid and write: a benchmark's share of the work that exports add
    seconds = time.perf_counter() - start
    log.info("%s: exported %s in %.2f s", stage_name, Path(output).name, seconds)


def _channel_names(config: Config, modality: str) -> tuple[str, ...]:
    return config.sbs.channel_names if modality == "sbs" else config.phenotype.channel_names


def plate(
    stage_name: str, output: Path_, fields: Mapping[str, Sequence[str]], *, config: Config
) -> None:
    """Write the plate, row and well metadata of a stage's plate (its fields are written).

    ``output`` is the plate's root metadata file, the job's declared output.
    """
    get_stage(stage_name)  # a known stage, or one sentence saying which are
    store = Path(output).parent
    write_plate_metadata(
        store,
        fields,
        name=f"{store.name.removesuffix('.ome.zarr')}",
        ngff_version=config.all.omezarr_ngff_version,
        acquisitions={
            f: int(cycle)
            for names in fields.values()
            for f in names
            if (cycle := parse_field(f).get("cycle")) is not None
        },
    )


def link_plate(
    stage_name: str,
    output: Path_,
    links: Mapping[str, Path_],
    fields: Mapping[str, Sequence[str]],
    *,
    config: Config,
) -> None:
    """A plate whose fields are relative links to tile stores, then its metadata.

    With ``compute_format: omezarr`` the steps write one store per tile; the plate shows
    them without a copy. A field left by an earlier export is replaced by its link.
    """
    for field, store in links.items():
        field = Path(field)
        field.parent.mkdir(parents=True, exist_ok=True)
        if field.is_dir() and not field.is_symlink():
            shutil.rmtree(field)
        tmp = field.with_name(f".{field.name}.link")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.path.relpath(store, field.parent), target_is_directory=True)
        os.replace(tmp, field)
    plate(stage_name, output, fields, config=config)


def mosaic(
    stage_name: str,
    images: Sequence[Path_],
    tiles: Sequence[int],
    output: Path_,
    *,
    metadata: Path_,
    masks: Mapping[str, Sequence[Path_]],
    config: Config,
    workers: int | None = None,
) -> None:
    """Stitch one well of a stage from its tile TIFFs (and masks), in ``tiles`` order."""
    stage = get_stage(stage_name)
    export_mosaic(
        stage,
        dict(zip(tiles, images, strict=True)),
        output,
        metadata=metadata,
        masks={k: dict(zip(tiles, v, strict=True)) for k, v in masks.items()},
        channel_names=_channel_names(config, stage.modality),
        base_channels=config.sbs.base_channels,
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
