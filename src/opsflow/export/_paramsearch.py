"""Segmentation parameter search: every tried setting's masks against the image, one store.

A scientist tuning segmentation wants to flick between settings over the same pixels:
the store holds the image once and, per setting ``k``, label images ``nuclei_k`` and
``cells_k`` (napari shows each as a layer); a table says what each ``k`` was and what it
found. The masks come from the module's own segment step, so what is seen is what the
workflow would compute with that setting.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opsflow import phenotype, sbs
from opsflow.errors import ConfigError
from opsflow.io import ExportOptions, write_multiscale_omezarr
from opsflow.segment import SegmentParams

__all__ = ["parse_setting", "segmentation_grid", "segmentation_search"]

log = logging.getLogger(__name__)

_STEPS = {"sbs": sbs.segment_step, "phenotype": phenotype.segment_step}
_FIELDS = {f.name: f for f in dataclasses.fields(SegmentParams)}


def parse_setting(text: str) -> tuple[str, list[Any]]:
    """``"nuclei_threshold_factor=0.8,1,1.2"`` -> the key and its values, typed by the key."""
    key, sep, values = text.partition("=")
    if not sep or key not in _FIELDS:
        raise ConfigError(
            f"--set {text!r}: expected KEY=V1,V2,... with KEY one of the segmentation "
            f"settings ({', '.join(_FIELDS)})."
        )
    default = SegmentParams().__getattribute__(key)
    kind = type(default) if default is not None else float
    parse = (lambda v: v.lower() in ("1", "true", "yes")) if kind is bool else kind
    try:
        return key, [parse(v) for v in values.split(",")]
    except ValueError:
        raise ConfigError(f"--set {text!r}: {key} takes {kind.__name__} values.") from None


def segmentation_grid(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the given values, in the order given (the cartesian product)."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def segmentation_search(
    image: np.ndarray,
    output: str | os.PathLike[str],
    *,
    modality: str,
    params: Any,
    grid: Mapping[str, Sequence[Any]],
    channel_names: Sequence[str],
    pixel_size: Sequence[float] = (1.0, 1.0),
    options: ExportOptions | None = None,
) -> pd.DataFrame:
    """Segment ``image`` with every setting of ``grid`` and write one store of all masks.

    ``image`` is what the module's segment step takes (the illumination-corrected SBS
    cycle, or the aligned phenotype tile, as (c, y, x)); ``params`` the module's settings
    (``config.sbs`` or ``config.phenotype``), of which ``grid`` varies the segmentation.
    Returns the table of settings: ``setting``, the values, nuclei, cells, median areas;
    it is also written beside the store as ``{store}.tsv``.
    """
    rows, labels = [], {}
    for k, setting in enumerate(segmentation_grid(grid)):
        tried = dataclasses.replace(
            params, segmentation=dataclasses.replace(params.segmentation, **setting)
        )
        nuclei, cells, _ = _STEPS[modality](image, tried)
        labels[f"nuclei_{k}"], labels[f"cells_{k}"] = nuclei, cells
        areas = np.bincount(nuclei.ravel())[1:]
        rows.append({"setting": k, **setting, "nuclei": int(len(np.unique(nuclei)) - 1),
                     "cells": int(len(np.unique(cells)) - 1),
                     "median_nucleus_area": float(np.median(areas[areas > 0])) if areas.any()
                     else np.nan})  # fmt: skip
        log.info("setting %d %s: %d nuclei, %d cells", k, setting, rows[-1]["nuclei"],
                 rows[-1]["cells"])  # fmt: skip
    write_multiscale_omezarr(
        image, output, axes="cyx", pixel_size=pixel_size, options=options,
        channel_labels=list(channel_names), labels=labels,
    )  # fmt: skip
    table = pd.DataFrame(rows)
    table.to_csv(Path(str(output) + ".tsv"), sep="\t", index=False)
    return table
