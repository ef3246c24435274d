"""Run one synthetic tile through a module's steps in memory, as the workflow would.

The steps come from ``opsflow.steps.STEPS`` (``run_tile``); results are given the
attribute names the tests read (``aligned``, ``nuclei``, ...), so a test states what it
checks, not which output key holds it.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from opsflow.config import Config, PhenotypeSettings, SbsSettings
from opsflow.phenotype import PhenotypeParams, align_tile
from opsflow.sbs import SbsParams
from opsflow.segment import SegmentParams
from opsflow.steps import Workflow, run_tile

WILDCARDS = {"plate": "1", "well": "A1", "tile": "0"}

SBS_NAMES = {
    "align_sbs": "aligned",
    "find_peaks": "peaks",
    "segment_sbs_nuclei": "nuclei",
    "segment_sbs_cells": "cells",
    "segment_sbs_stats": "segmentation_stats",
    "extract_bases": "bases",
    "call_reads": "reads",
    "call_cells": "cells_table",
    "extract_sbs_info": "cell_info",
}
PHENOTYPE_NAMES = {
    "apply_ic_field_phenotype": "illumination_corrected",
    "align_phenotype": "aligned",
    "segment_phenotype_nuclei": "nuclei",
    "segment_phenotype_cells": "cells",
    "segment_phenotype_stats": "segmentation_stats",
    "identify_cytoplasm": "identified_cytoplasms",
    "extract_phenotype": "features",
    "extract_phenotype_minimal": "minimal",
}


def _named(values: dict[str, Any], names: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(**{name: values[key] for key, name in names.items()})


def sbs_tile(
    image: np.ndarray,
    *,
    params: SbsParams | None = None,
    segment_params: SegmentParams | None = None,
    field: np.ndarray | None = None,
    library: pd.DataFrame | None = None,
) -> SimpleNamespace:
    """Every SBS output of one (cycle, channel, Y, X) tile, by attribute."""
    p = params if params is not None else SbsParams()
    fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(SbsParams)}
    if segment_params is not None:
        fields["segmentation"] = segment_params
    settings = SbsSettings(**fields)
    config = dataclasses.replace(Config(), sbs=settings)
    workflow = Workflow.for_tile(config, n_cycles=image.shape[0], library=library)
    known = {"convert_sbs": list(image), "calculate_ic_sbs": field}
    result = _named(run_tile(workflow, "sbs", known, WILDCARDS), SBS_NAMES)
    result.peak_threshold = result.bases.attrs["peak_threshold"]
    return result


def phenotype_tile(
    image: np.ndarray, *, params: PhenotypeParams | None = None, field: np.ndarray | None = None
) -> SimpleNamespace:
    """Every phenotype output of one (C, Y, X) tile, by attribute, with the channel shifts."""
    p = params if params is not None else PhenotypeParams()
    fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(PhenotypeParams)}
    config = dataclasses.replace(Config(), phenotype=PhenotypeSettings(**fields))
    known = {"convert_phenotype": image, "calculate_ic_phenotype": field}
    result = _named(run_tile(Workflow.for_tile(config), "phenotype", known, WILDCARDS),
                    PHENOTYPE_NAMES)  # fmt: skip
    result.channel_shifts = align_tile(result.illumination_corrected, params=p)[1]
    return result
