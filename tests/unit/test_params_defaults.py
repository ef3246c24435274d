"""Every default is stated once: the kernels' own defaults equal the settings' defaults.

Each settings section belongs to a kernel and its field names are that kernel's keyword
arguments. These tests read both signatures, so a default changed in one place and not
the other (a kernel called by hand would then behave unlike the workflow) fails here.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from opsflow.phenotype import (
    ChannelAlignParams,
    FociParams,
    PhenotypeParams,
    align_channels,
    extract_features,
    foci_per_cell,
)
from opsflow.preprocess import (
    ConvertParams,
    IcFieldParams,
    calculate_ic_field,
    convert_raw,
    tile_metadata,
)
from opsflow.sbs import (
    CallCellsParams,
    CallReadsParams,
    CycleAlignParams,
    FindPeaksParams,
    LogFilterParams,
    MaxFilterParams,
    SbsParams,
    align_cycles,
    call_cells,
    call_reads,
    find_peaks,
    log_filter,
    max_filter,
    peak_threshold,
)
from opsflow.segment import (
    SegmentParams,
    segment_cellpose,
    segment_cells,
    segment_classic,
    segment_nuclei,
)


def _defaults(kernel: Callable[..., Any]) -> dict[str, Any]:
    return {
        name: p.default
        for name, p in inspect.signature(kernel).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


# (section, kernel, {field: kernel argument} for fields named differently, fields skipped)
CASES = [
    (CycleAlignParams(), align_cycles, {}, ()),
    (SbsParams(), align_cycles, {}, "rest"),  # channel layout: the default panel
    (LogFilterParams(), log_filter, {}, ()),
    (FindPeaksParams(), find_peaks, {}, ("threshold", "noise_factor")),
    (FindPeaksParams(), peak_threshold, {}, ("threshold", "width")),
    (MaxFilterParams(), max_filter, {}, ()),
    (CallReadsParams(), call_reads, {}, ()),
    (CallCellsParams(), call_cells, {}, ()),
    # steps name channels of the default panel; the kernel has no panel, so no default steps
    (ChannelAlignParams(), align_channels, {}, ("steps",)),
    (FociParams(), foci_per_cell, {}, ("channel",)),
    (FociParams(), extract_features, {"radius": "foci_radius", "smooth_sigma": "foci_smooth_sigma",
                                      "noise_factor": "foci_noise_factor"}, ("channel",)),
    (SegmentParams(), segment_classic, {}, "rest"),
    (SegmentParams(), segment_nuclei, {f"nuclei_{k}": k for k in (
        "smooth_sigma", "threshold_method", "threshold_factor", "min_area", "max_area", "split",
        "split_min_distance", "noise_factor")}, "rest"),
    (SegmentParams(), segment_cells, {"cells_smooth_sigma": "smooth_sigma",
                                      "cells_threshold_method": "threshold_method",
                                      "cells_threshold_factor": "threshold_factor",
                                      "cells_watershed": "watershed_on"}, "rest"),
    (SegmentParams(), segment_cellpose, {f"cellpose_{k}": k for k in (
        "model", "nuclei_model", "diameter", "nuclei_diameter")}, "rest"),
    (ConvertParams(), convert_raw, {}, ("pixel_size_um",)),
    (ConvertParams(), tile_metadata, {}, ("n_z_planes",)),
    (IcFieldParams(), calculate_ic_field, {"percentile": "percentile", "smooth": "smooth"}, ()),
]  # fmt: skip


@pytest.mark.parametrize(
    ("section", "kernel", "renamed", "skipped"),
    CASES,
    ids=[f"{type(c[0]).__name__}-{c[1].__name__}" for c in CASES],
)
def test_kernel_defaults_equal_the_settings(section, kernel, renamed, skipped) -> None:
    kernel_defaults = _defaults(kernel)
    compared = 0
    for field in dataclasses.fields(section):
        if skipped != "rest" and field.name in skipped:
            continue
        name = renamed.get(field.name, field.name)
        if name not in kernel_defaults:
            # "rest": the section also holds settings of other kernels
            assert skipped == "rest", f"{kernel.__name__} has no argument {name}"
            continue
        value = getattr(section, field.name)
        assert kernel_defaults[name] == value, f"{kernel.__name__}({name}=...)"
        compared += 1
    assert compared > 0


def test_sections_nest_under_their_module() -> None:
    sbs = {f.name for f in dataclasses.fields(SbsParams)}
    assert {"align", "log_filter", "find_peaks", "max_filter", "call_reads", "call_cells"} <= sbs
    phenotype = {f.name for f in dataclasses.fields(PhenotypeParams)}
    assert {"align", "foci", "segmentation"} <= phenotype
