"""The SBS steps with their settings applied: one function per workflow checkpoint.

Each ``*_step`` maps :class:`SbsParams` onto one algorithm; the steps table
(:data:`opsflow.steps.STEPS`) calls them, in the workflow's jobs and in memory alike.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from opsflow.errors import OpsflowError
from opsflow.params import kwargs
from opsflow.sbs.align import align_cycles
from opsflow.sbs.bases import extract_bases
from opsflow.sbs.cells import call_cells
from opsflow.sbs.filters import log_filter, max_filter, standard_deviation
from opsflow.sbs.illumination import illumination_corrected
from opsflow.sbs.params import SbsParams
from opsflow.sbs.peaks import find_peaks, peak_threshold
from opsflow.sbs.reads import call_reads
from opsflow.segment import cytoplasm_image, segment, segmentation_stats

__all__ = [
    "align_step",
    "call_cells_step",
    "call_reads_step",
    "extract_bases_step",
    "find_peaks_step",
    "illumination_corrected_step",
    "log_filter_step",
    "max_filter_step",
    "segment_step",
    "standard_deviation_step",
]

log = logging.getLogger(__name__)


def align_step(image: np.ndarray | Sequence[np.ndarray], p: SbsParams) -> np.ndarray:
    """``aligned``: raw cycles (cycle, channel, Y, X) registered to the first cycle.

    The cycles come as one stack or as one (channel, Y, X) image per cycle.
    """
    if not isinstance(image, np.ndarray):
        shapes = {np.shape(c) for c in image}
        if len(shapes) != 1:
            raise OpsflowError(
                f"expected every cycle of a tile to have one shape, found {sorted(shapes)}."
            )
        image = np.stack(image)
    if image.ndim != 4 or image.shape[1] != len(p.channel_names):
        raise OpsflowError(
            f"SBS tile has shape {image.shape}; expected (cycle, {len(p.channel_names)} "
            f"channels {list(p.channel_names)}, Y, X)."
        )
    if max(p.dapi_cycle, p.cyto_cycle) >= image.shape[0]:
        raise OpsflowError(
            f"sbs.dapi_cycle/cyto_cycle ({p.dapi_cycle}, {p.cyto_cycle}) exceed the "
            f"{image.shape[0]} cycles."
        )
    return align_cycles(
        image,
        channel_names=p.channel_names,
        dapi_channel=p.dapi_channel,
        base_channels=p.base_channels,
        **kwargs(p.align),
    )


def log_filter_step(aligned: np.ndarray, p: SbsParams) -> np.ndarray:
    """``log_filtered``: LoG of every frame, DAPI kept raw."""
    return log_filter(aligned, **kwargs(p.log_filter), dapi_index=p.dapi_index)


def standard_deviation_step(logged: np.ndarray, p: SbsParams) -> np.ndarray:
    """``standard_deviation``: mean over base channels of the std over cycles."""
    return standard_deviation(logged, base_indices=list(p.base_indices))


def find_peaks_step(std: np.ndarray, p: SbsParams) -> np.ndarray:
    """``peaks``: local maxima of the standard deviation scored by local contrast."""
    return find_peaks(std, width=p.find_peaks.width)


def max_filter_step(logged: np.ndarray, p: SbsParams) -> np.ndarray:
    """``max_filtered``: base channels only, in ``p.base_channels`` order."""
    dapi, bases_idx = p.dapi_index, list(p.base_indices)
    maxed = max_filter(logged, **kwargs(p.max_filter), dapi_index=dapi)
    if dapi is not None:
        # max_filter dropped DAPI; base channels keep their relative order.
        keep = [c for c in range(len(p.channel_names)) if c != dapi]
        return maxed[:, [keep.index(c) for c in bases_idx]]
    return maxed[:, bases_idx]


def illumination_corrected_step(
    aligned: np.ndarray, field: np.ndarray | None, p: SbsParams
) -> np.ndarray:
    """``illumination_corrected``: DAPI and cytoplasm cycles divided by the field."""
    return illumination_corrected(
        aligned, field, dapi_index=p.dapi_index, dapi_cycle=p.dapi_cycle, cyto_cycle=p.cyto_cycle
    )


def segment_step(
    corrected: np.ndarray, p: SbsParams
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """``nuclei``, ``cells`` and their statistics from the illumination-corrected image."""
    if p.dapi_index is None:
        raise OpsflowError("SBS segmentation needs a DAPI channel; set sbs.dapi_channel.")
    cyto = cytoplasm_image(corrected, indices=list(p.base_indices), reducer=p.cyto_reducer)
    nuclei, cells = segment(corrected[p.dapi_index], cyto, params=p.segmentation)
    return nuclei, cells, segmentation_stats(nuclei, cells)


def extract_bases_step(
    peaks: np.ndarray, maxed: np.ndarray, cells: np.ndarray, p: SbsParams
) -> pd.DataFrame:
    """``bases``: intensities of every candidate read (threshold from the data if unset)."""
    threshold = p.find_peaks.threshold
    if threshold is None:
        threshold = peak_threshold(peaks, noise_factor=p.find_peaks.noise_factor)
    log.info("peak threshold %.1f", threshold)
    bases = extract_bases(peaks, maxed, cells, threshold=threshold, base_channels=p.base_channels)
    bases.attrs["peak_threshold"] = float(threshold)
    return bases


def call_reads_step(bases: pd.DataFrame, p: SbsParams, n_cycles: int) -> pd.DataFrame:
    """``reads``: crosstalk estimated from the data and inverted, base and quality per cycle."""
    return call_reads(
        bases, base_channels=p.base_channels, **kwargs(p.call_reads), n_cycles=n_cycles
    )


def call_cells_step(
    reads: pd.DataFrame, library: pd.DataFrame | None, p: SbsParams
) -> pd.DataFrame:
    """``cells``: the top two barcodes of every cell, mapped to the library."""
    return call_cells(reads, library=library, **kwargs(p.call_cells))
