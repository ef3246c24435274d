"""Write a synthetic screen to disk: raw inputs as a microscope gives them, plus truth.

Layout under ``outdir`` (paths in tables and config are relative to ``outdir``)::

    config.yml                      workflow configuration that runs on these inputs
    library.tsv                     sgRNA, gene_symbol, gene_id, prefix
    samples/sbs_samples.tsv         sample_fp, plate, well, tile, cycle
    samples/phenotype_samples.tsv   sample_fp, plate, well, tile
    input_sbs/10X_c{k}-SBS-{k}/Well{well}_Point{well}_{tile:04d}_ChannelC,A,T,G,DAPI_Seq{n:04d}.ome.tif
    input_ph/20X_phenotype/Well{well}_Point{well}_{tile:04d}_ChannelDAPI,COXIV,CENPA,WGA_Seq{n:04d}.ome.tif
    truth/...                       see :func:`write_screen`

SBS files store channels in acquisition order C, A, T, G, DAPI (the reverse of the
canonical order; ``preprocess.sbs.channel_order_flip: true`` restores it) and record
pixel size, channel names and stage position in OME-XML. Phenotype files are in
canonical order and record channel names and stage position but no pixel size, so the
configured pixel size is used, as happens with some acquisition exports.

Config keys (``config.yml``)
----------------------------
all.root_fp
    Output root of the workflow.
preprocess.sbs.samples_fp, preprocess.phenotype.samples_fp
    Sample tables: one row per raw file.
preprocess.{sbs,phenotype}.channel_order_flip
    Reverse the stored order during conversion (gives ``{sbs,phenotype}.channel_names``).
preprocess.{sbs,phenotype}.n_z_planes
    Planes per channel to max-project, ``null`` for single-plane files.
preprocess.{sbs,phenotype}.pixel_size_um
    Pixel size used when a file records none.
preprocess.ic.percentile
    Percentile the illumination field is divided by.
sbs.library_path, sbs.channel_names, sbs.base_channels
    Barcode library, canonical channel order, base channels.
phenotype.channel_names
    Canonical phenotype channel order.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from opsflow.io import atomic_path, write_tiff
from opsflow.paths import file_name
from opsflow.synth._config import config_text as _config_text
from opsflow.synth._library import make_library, rng_for
from opsflow.synth._params import BASES, SynthParams
from opsflow.synth._render import illumination_field, make_sbs_tile
from opsflow.synth._render_phenotype import make_phenotype_tile
from opsflow.synth._well_tiles import well_stage_position

__all__ = ["phenotype_raw_name", "sbs_raw_name", "stage_position", "write_screen"]

logger = logging.getLogger(__name__)

_UUID_NAMESPACE = uuid.UUID("6f1c3c52-8a4e-4f0b-9a57-0b8c1f3e2d10")
_WELL_PITCH_UM = 39120.0  # 6-well plate


def sbs_raw_name(params: SynthParams, well: str, tile: int, cycle: int) -> str:
    """Relative path of a raw SBS file (``cycle`` counted from 1), NIS-Elements style."""
    channels = ",".join(reversed(params.sbs_channels))
    seq = params.wells.index(well) * len(params.tiles) + tile
    return (
        f"input_sbs/10X_c{cycle}-SBS-{cycle}/"
        f"Well{well}_Point{well}_{tile:04d}_Channel{channels}_Seq{seq:04d}.ome.tif"
    )


def phenotype_raw_name(params: SynthParams, well: str, tile: int) -> str:
    """Relative path of a raw phenotype file."""
    channels = ",".join(params.phenotype_channels)
    seq = params.wells.index(well) * len(params.tiles) + tile
    return (
        f"input_ph/20X_phenotype/"
        f"Well{well}_Point{well}_{tile:04d}_Channel{channels}_Seq{seq:04d}.ome.tif"
    )


def stage_position(params: SynthParams, well: str, tile: int) -> tuple[float, float, float]:
    """Nominal stage position (x, y, z) in micrometres of a tile's centre.

    Tiles lie on a grid around the well centre, 10 % of a field apart; wells follow a
    6-well plate pitch. The same nominal position is recorded for every cycle and for the
    phenotype: the real cycle-to-cycle offsets are not in the metadata, as on a real stage.
    """
    n = len(params.tiles)
    cols = int(np.ceil(np.sqrt(n)))
    row, col = divmod(tile, cols)
    fov_y = params.sbs_tile_shape[0] * params.sbs_pixel_size_um
    fov_x = params.sbs_tile_shape[1] * params.sbs_pixel_size_um
    well_row = ord(well[0].upper()) - ord("A")
    well_col = int(well[1:]) - 1 if well[1:].isdigit() else 0
    rng = rng_for(params, "stage", well, tile)
    z = 2000.0 + rng.normal(0, 2.0)
    x = well_col * _WELL_PITCH_UM + (col - (cols - 1) / 2) * fov_x * 1.1
    y = well_row * _WELL_PITCH_UM + (row - (cols - 1) / 2) * fov_y * 1.1
    return (round(x, 3), round(y, 3), round(z, 3))


def _write_raw(
    root: Path,
    relative: str,
    image: np.ndarray,
    *,
    channels: tuple[str, ...],
    position: tuple[float, float, float],
    pixel_size_um: float | None,
) -> None:
    """Write an OME-TIFF the way acquisition software does: CYX planes, OME-XML metadata.

    The OME UUID derives from the relative path, so the bytes do not depend on ``root``.
    """
    path = root / relative
    n_c = image.shape[0]
    metadata: dict[str, object] = {
        "axes": "CYX",
        "UUID": str(uuid.uuid5(_UUID_NAMESPACE, relative)),
        "Creator": "opsflow.synth",
        "Channel": {"Name": list(channels)},
        "Plane": {
            "PositionX": [position[0]] * n_c,
            "PositionXUnit": ["µm"] * n_c,
            "PositionY": [position[1]] * n_c,
            "PositionYUnit": ["µm"] * n_c,
            "PositionZ": [position[2]] * n_c,
            "PositionZUnit": ["µm"] * n_c,
        },
    }
    if pixel_size_um is not None:
        metadata.update(
            PhysicalSizeX=pixel_size_um,
            PhysicalSizeXUnit="µm",
            PhysicalSizeY=pixel_size_um,
            PhysicalSizeYUnit="µm",
        )
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, image, ome=True, photometric="minisblack", metadata=metadata)


def _position(params: SynthParams, well: str, tile: int, modality: str) -> tuple:
    if params.geometry == "well":
        return well_stage_position(params, well, tile, modality=modality)
    return stage_position(params, well, tile)


def _sbs_job(params: SynthParams, outdir: Path, well: str, tile: int) -> dict[str, pd.DataFrame]:
    """Generate and write one SBS tile: raw files and masks; return its truth tables."""
    root = outdir
    truth = root / "truth"
    ids = {"plate": params.plate, "well": well, "tile": tile}
    position = _position(params, well, tile, "sbs")

    sbs = make_sbs_tile(params, well, tile)
    acquisition = tuple(reversed(params.sbs_channels))
    for k in range(params.n_cycles):
        _write_raw(
            root,
            sbs_raw_name(params, well, tile, k + 1),
            sbs.image[k][::-1],
            channels=acquisition,
            position=position,
            pixel_size_um=params.sbs_pixel_size_um,
        )
    for what, mask in (("nuclei", sbs.nuclei), ("cells", sbs.cells)):
        name = file_name(params.plate, well, what, "tiff", tile=tile)
        write_tiff(truth / "sbs" / name, mask, compression="zlib")
    shifts = pd.DataFrame(
        {
            **ids,
            "cycle": np.arange(1, params.n_cycles + 1),
            "dy": sbs.shifts[:, 0],
            "dx": sbs.shifts[:, 1],
        }
    )
    stage = pd.DataFrame(
        [{**ids, "x_pos": position[0], "y_pos": position[1], "z_pos": position[2]}]
    )
    return {
        "cycle_shifts": shifts,
        "spots": sbs.spots.assign(**ids),
        "cell_barcodes": sbs.cell_barcodes.assign(**ids),
        "stage_positions": stage,
    }


def _phenotype_job(
    params: SynthParams, outdir: Path, well: str, tile: int
) -> dict[str, pd.DataFrame]:
    """Generate and write one phenotype tile: raw file and masks; return its truth tables."""
    root = outdir
    truth = root / "truth"
    ids = {"plate": params.plate, "well": well, "tile": tile}
    position = _position(params, well, tile, "phenotype")
    ph = make_phenotype_tile(params, well, tile)
    _write_raw(
        root,
        phenotype_raw_name(params, well, tile),
        ph.image,
        channels=params.phenotype_channels,
        position=position,
        pixel_size_um=None,
    )
    for what, mask in (("nuclei", ph.nuclei), ("cells", ph.cells)):
        name = file_name(params.plate, well, what, "tiff", tile=tile)
        write_tiff(truth / "phenotype" / name, mask, compression="zlib")
    channel_shifts = pd.DataFrame(
        {
            **ids,
            "channel": list(params.phenotype_channels),
            "dy": ph.channel_shifts[:, 0],
            "dx": ph.channel_shifts[:, 1],
        }
    )
    tables = {"channel_shifts": channel_shifts, "phenotype_cells": ph.cell_values.assign(**ids)}
    if params.geometry == "well":  # its own position; in the tile geometry the SBS tile's
        tables["phenotype_stage_positions"] = pd.DataFrame(
            [{**ids, "x_pos": position[0], "y_pos": position[1], "z_pos": position[2]}]
        )
    return tables


_JOBS = {"sbs": _sbs_job, "phenotype": _phenotype_job}


def _write_table(path: Path, table: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)


def _render_tiles(
    params: SynthParams,
    root: Path,
    jobs: list[tuple[str, str, int]],
    workers: int,
    tick: Callable[[int], None],
) -> list[dict[str, pd.DataFrame]]:
    """Every tile's raw files and truth, in processes; results in job order (deterministic).

    A job is (modality, well, tile).
    """
    if workers <= 1:
        results = []
        for m, w, t in jobs:
            results.append(_JOBS[m](params, root, w, t))
            tick(1)
        return results
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_JOBS[m], params, root, w, t) for m, w, t in jobs]
        results = []
        for future in futures:
            results.append(future.result())
            tick(1)
        return results


def write_screen(
    outdir: str | os.PathLike[str],
    params: SynthParams | None = None,
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Path]:
    """Write a synthetic screen: raw inputs, samples, library, config and ground truth.

    Parameters
    ----------
    outdir : path
        Directory to write into (created if missing; existing files are overwritten).
    params : SynthParams, optional
        Screen parameters; default ``SynthParams()``.
    workers : int
        Tiles generated in parallel processes. The output is byte-identical for any
        number of workers, since every tile has its own random stream.
    progress : callable, optional
        Called with 1 each time a tile of either modality (an SBS tile with all its
        cycles, or a phenotype tile) is done: one call per SBS and per phenotype tile.

    Returns
    -------
    dict of str to pathlib.Path
        ``root``, ``config``, ``library``, ``sbs_samples``, ``phenotype_samples``,
        ``truth`` (directory) and ``params`` (JSON of the parameters).

    Notes
    -----
    Ground truth under ``truth/``: ``{sbs,phenotype}/P-{plate}_W-{well}_T-{tile}__{nuclei,
    cells}.tiff`` (int32 masks, labels shared by both modalities), ``illumination/
    P-{plate}_W-{well}__{sbs,phenotype}_illumination.tiff`` (float fields, mean 1),
    ``crosstalk.tsv`` (observed = M @ true over G, T, A, C, gains included), and tables
    with plate, well, tile columns: ``cycle_shifts.tsv`` (cycle counted from 1, (dy, dx)
    relative to cycle 1), ``spots.tsv``, ``cell_barcodes.tsv``, ``channel_shifts.tsv``
    (phenotype, relative to DAPI), ``phenotype_cells.tsv`` and ``stage_positions.tsv``.
    In the well geometry (``params.geometry == "well"``) each tile numbers its own cells,
    ``cell_barcodes.tsv`` and ``phenotype_cells.tsv`` carry ``well_cell`` (the cell's
    index in its well: equal ``well_cell`` is the same cell in both modalities) and
    ``phenotype_stage_positions.tsv`` the phenotype tiles' own positions.
    """
    params = params if params is not None else SynthParams()
    root = Path(outdir)
    root.mkdir(parents=True, exist_ok=True)
    truth = root / "truth"
    jobs = [(well, tile) for well in params.wells for tile in params.tiles]
    ph_jobs = [(well, tile) for well in params.wells for tile in params.phenotype_tiles]
    all_jobs = [("sbs", w, t) for w, t in jobs] + [("phenotype", w, t) for w, t in ph_jobs]
    logger.info("writing synthetic screen of %d tiles to %s", len(all_jobs), root)
    results = _render_tiles(params, root, all_jobs, workers, progress or (lambda n: None))

    for key in dict.fromkeys(k for r in results for k in r):
        table = pd.concat([r[key] for r in results if key in r], ignore_index=True)
        front = ["plate", "well", "tile"]
        table = table[front + [c for c in table.columns if c not in front]]
        _write_table(truth / f"{key}.tsv", table)
    for well in params.wells:
        for modality in ("sbs", "phenotype"):
            field = illumination_field(params, well, modality=modality).astype(np.float32)
            name = file_name(params.plate, well, f"{modality}_illumination", "tiff")
            write_tiff(truth / "illumination" / name, field)
    crosstalk = pd.DataFrame(params.crosstalk_matrix(), index=list(BASES), columns=list(BASES))
    with atomic_path(truth / "crosstalk.tsv") as tmp:
        crosstalk.rename_axis("observed\\true").to_csv(tmp, sep="\t")

    _write_library_and_samples(params, root, jobs, ph_jobs)
    with atomic_path(root / "config.yml") as tmp:
        tmp.write_text(_config_text(params), encoding="utf-8")
    with atomic_path(truth / "params.json") as tmp:
        tmp.write_text(json.dumps(params.to_dict(), indent=2) + "\n", encoding="utf-8")
    return {
        "root": root,
        "config": root / "config.yml",
        "library": root / "library.tsv",
        "sbs_samples": root / "samples" / "sbs_samples.tsv",
        "phenotype_samples": root / "samples" / "phenotype_samples.tsv",
        "truth": truth,
        "params": truth / "params.json",
    }


def _write_library_and_samples(
    params: SynthParams,
    root: Path,
    jobs: list[tuple[str, int]],
    ph_jobs: list[tuple[str, int]],
) -> None:
    """The barcode library and the two samples TSVs that list every raw file."""
    library = make_library(params)
    _write_table(root / "library.tsv", library)
    sbs_rows = [
        {
            "sample_fp": sbs_raw_name(params, w, t, k),
            "plate": params.plate,
            "well": w,
            "tile": t,
            "cycle": k,
        }
        for w, t in jobs
        for k in range(1, params.n_cycles + 1)
    ]
    ph_rows = [
        {"sample_fp": phenotype_raw_name(params, w, t), "plate": params.plate, "well": w, "tile": t}
        for w, t in ph_jobs
    ]
    _write_table(root / "samples" / "sbs_samples.tsv", pd.DataFrame(sbs_rows))
    _write_table(root / "samples" / "phenotype_samples.tsv", pd.DataFrame(ph_rows))
