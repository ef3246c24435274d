"""SBS module: from raw cycles to a barcode per cell, as pure functions.

Steps, each named after its output: :func:`align_cycles` (``aligned``),
:func:`log_filter` (``log_filtered``), :func:`standard_deviation`,
:func:`find_peaks` (``peaks``), :func:`max_filter` (``max_filtered``),
:func:`illumination_corrected`, segmentation (:mod:`opsflow.segment`),
:func:`extract_bases` (``bases``), :func:`call_reads` (``reads``),
:func:`call_cells` (``cells``) and :func:`cell_info`; the ``*_step`` functions apply
:class:`SbsParams`, which holds every setting with its default.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "align": ["align_cycles", "estimate_channel_shifts", "estimate_cycle_shifts"],
        "bases": ["BASES_COLUMNS", "extract_bases"],
        "cells": [
            "CELLS_COLUMNS",
            "CELL_INFO_COLUMNS",
            "call_cells",
            "cell_info",
            "library_lookup",
        ],
        "filters": ["log_filter", "max_filter", "standard_deviation"],
        "illumination": ["illumination_corrected"],
        "params": [
            "CallCellsParams",
            "CallReadsParams",
            "CycleAlignParams",
            "FindPeaksParams",
            "LogFilterParams",
            "MaxFilterParams",
            "SbsParams",
        ],
        "peaks": ["find_peaks", "peak_threshold"],
        "pipeline": [
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
        ],
        "reads": [
            "bases_to_array",
            "call_reads",
            "estimate_crosstalk",
            "quality",
            "reads_columns",
            "unmix",
        ],
    },
)

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
    "BASES_COLUMNS",
    "CELLS_COLUMNS",
    "CELL_INFO_COLUMNS",
    "CallCellsParams",
    "CallReadsParams",
    "CycleAlignParams",
    "FindPeaksParams",
    "LogFilterParams",
    "MaxFilterParams",
    "SbsParams",
    "align_cycles",
    "bases_to_array",
    "call_cells",
    "call_reads",
    "cell_info",
    "estimate_channel_shifts",
    "estimate_crosstalk",
    "estimate_cycle_shifts",
    "extract_bases",
    "find_peaks",
    "illumination_corrected",
    "library_lookup",
    "log_filter",
    "max_filter",
    "peak_threshold",
    "quality",
    "reads_columns",
    "standard_deviation",
    "unmix",
]
