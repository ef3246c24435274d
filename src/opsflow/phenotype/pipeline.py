"""The phenotype steps with their settings applied: one function per workflow checkpoint.

Each ``*_step`` maps :class:`PhenotypeParams` onto one algorithm; the steps table
(:data:`opsflow.steps.STEPS`) calls them, in the workflow's jobs and in memory alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from opsflow.params import kwargs
from opsflow.phenotype.align import apply_channel_shifts, estimate_channel_shifts
from opsflow.phenotype.features import extract_features, extract_minimal
from opsflow.phenotype.illumination import illumination_corrected
from opsflow.phenotype.params import PhenotypeParams
from opsflow.phenotype.segmentation import segment_phenotype
from opsflow.segment import segmentation_stats

__all__ = [
    "align_step",
    "align_tile",
    "features_step",
    "illumination_corrected_step",
    "segment_step",
]


def align_tile(
    corrected: np.ndarray, *, params: PhenotypeParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Register a corrected tile with the settings of ``params``; return (aligned, shifts).

    With ``params.align.enabled`` false the tile is returned unchanged (a copy) with zero shifts.
    """
    p = params if params is not None else PhenotypeParams()
    if not p.align.enabled:
        return corrected.copy(), np.zeros((corrected.shape[0], 2))
    estimate = kwargs(p.align, without=("enabled", "order"))
    shifts = estimate_channel_shifts(corrected, channel_names=p.channel_names, **estimate)
    return apply_channel_shifts(corrected, shifts, order=p.align.order), shifts


def align_step(corrected: np.ndarray, p: PhenotypeParams) -> np.ndarray:
    """``aligned``: the corrected tile registered with the settings of ``p``."""
    return align_tile(corrected, params=p)[0]


def illumination_corrected_step(
    image: np.ndarray, field: np.ndarray | None, p: PhenotypeParams
) -> np.ndarray:
    """``illumination_corrected``: the tile divided by its well's field."""
    return illumination_corrected(image, field, dark_level=p.dark_level)


def segment_step(
    aligned: np.ndarray, p: PhenotypeParams
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """``nuclei``, ``cells`` and their statistics, with the shared segmenter."""
    nuclei, cells = segment_phenotype(
        aligned,
        channel_names=p.channel_names,
        dapi_channel=p.dapi_channel,
        cyto_channels=p.cyto_channels,
        cyto_reducer=p.cyto_reducer,
        params=p.segmentation,
    )
    return nuclei, cells, segmentation_stats(nuclei, cells)


def features_step(
    aligned: np.ndarray,
    nuclei: np.ndarray,
    cells: np.ndarray,
    cytoplasm: np.ndarray,
    p: PhenotypeParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-cell features and the minimal table merged with SBS later."""
    features = extract_features(
        aligned,
        nuclei,
        cells,
        cytoplasm,
        channel_names=p.channel_names,
        foci_channel=p.foci.channel,
        foci_radius=p.foci.radius,
        foci_smooth_sigma=p.foci.smooth_sigma,
        foci_noise_factor=p.foci.noise_factor,
    )
    return features, extract_minimal(aligned, nuclei, cells, channel_names=p.channel_names)
