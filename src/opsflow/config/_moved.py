"""Keys that moved into nested sections: a clear error naming the new key.

A configuration written for an earlier opsflow fails at the start with one sentence per
moved key (``sbs.align_window has moved: set sbs.align.window instead.``) rather than a
generic "unknown key", so a scientist can update it without reading the changelog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsflow.errors import ConfigError

__all__ = ["MOVED", "check_moved_keys"]

_PREPROCESS = {
    f"{modality}_{key}": f"{modality}.{key}"
    for modality in ("sbs", "phenotype")
    for key in ("samples_fp", "channel_order_flip", "n_z_planes", "pixel_size_um")
}
_SBS_ALIGN = ("method", "within_cycle", "window", "upsample_factor", "max_within_cycle_shift",
              "spot_suppression")  # fmt: skip
_PHENOTYPE_ALIGN = ("offsets", "steps", "window", "upsample_factor", "edge_sigma", "max_shift")

#: Old flat key -> new nested key, per section.
MOVED: dict[str, dict[str, str]] = {
    "preprocess": _PREPROCESS | {"ic_percentile": "ic.percentile", "ic_smooth": "ic.smooth"},
    "sbs": {f"align_{k}": f"align.{k}" for k in _SBS_ALIGN}
    | {
        "align_interpolation_order": "align.order",
        "log_sigma": "log_filter.sigma",
        "peak_width": "find_peaks.width",
        "peak_threshold": "find_peaks.threshold",
        "peak_noise_factor": "find_peaks.noise_factor",
        "max_filter_width": "max_filter.width",
        "crosstalk_per_cycle": "call_reads.per_cycle",
        "q_min": "call_cells.q_min",
        "mapped_first": "call_cells.mapped_first",
        "library_prefix_column": "call_cells.prefix_column",
        "library_gene_symbol_column": "call_cells.gene_symbol_column",
        "library_gene_id_column": "call_cells.gene_id_column",
    },
    "phenotype": {f"align_{k}": f"align.{k}" for k in _PHENOTYPE_ALIGN}
    | {"align_interpolation_order": "align.order"}
    | {f"foci_{k}": f"foci.{k}" for k in ("channel", "radius", "smooth_sigma", "noise_factor")},
}


def check_moved_keys(data: Mapping[str, Any]) -> None:
    """Raise a ``ConfigError`` naming the new key of the first moved key found."""
    for section, moved in MOVED.items():
        values = data.get(section)
        if not isinstance(values, Mapping):
            continue
        for old, new in moved.items():
            if old in values:
                raise ConfigError(f"{section}.{old} has moved: set {section}.{new} instead.")
    align = (data.get("phenotype") or {}).get("align")
    if isinstance(align, bool):
        raise ConfigError(
            "phenotype.align is a section now: set phenotype.align.enabled: "
            f"{str(align).lower()} instead."
        )
