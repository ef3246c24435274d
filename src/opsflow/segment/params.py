"""Parameters of segmentation, shared by the SBS and phenotype modules.

Sizes are in pixels of the image being segmented; thresholds are derived from the
image's own intensity statistics, and the fields here only choose the method and
scale it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsflow.errors import ConfigError

__all__ = ["CELL_WATERSHEDS", "METHODS", "THRESHOLD_METHODS", "SegmentParams"]

METHODS = ("classic", "cellpose")
THRESHOLD_METHODS = ("otsu", "li", "triangle")
CELL_WATERSHEDS = ("distance", "intensity", "membrane")


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class SegmentParams:
    """Settings of nuclei and cell segmentation."""

    method: str = _help(
        "classic",
        "'classic' (threshold + watershed, no model weights) or 'cellpose' (needs the "
        "cellpose package and its weights on this machine).",
    )
    nuclei_smooth_sigma: float = _help(
        1.5, "Gaussian sigma in px applied to DAPI before thresholding."
    )
    nuclei_threshold_method: str = _help(
        "otsu", "How the DAPI threshold is derived from the image: 'otsu', 'li' or 'triangle'."
    )
    nuclei_threshold_factor: float = _help(
        1.0, "Multiplier on the derived DAPI threshold (below 1 keeps dimmer nuclei)."
    )
    nuclei_min_area: int = _help(20, "Nuclei smaller than this (px) are dropped as debris.")
    nuclei_max_area: int = _help(
        5000, "Nuclei larger than this (px) are dropped as clumps or artefacts."
    )
    nuclei_split: bool = _help(
        True, "Split touching nuclei by a watershed on the distance transform."
    )
    nuclei_split_min_distance: int = _help(
        4, "Minimum distance in px between two nucleus centres when splitting (about a radius)."
    )
    nuclei_noise_factor: float = _help(
        10.0,
        "The DAPI threshold is kept at least this many robust standard deviations above "
        "the image median, so a field without nuclei gives none.",
    )
    cells_smooth_sigma: float = _help(
        2.0, "Gaussian sigma in px applied to the cytoplasm image before thresholding."
    )
    cells_threshold_method: str = _help(
        "li",
        "How the cytoplasm threshold is derived from the image: 'otsu', 'li' or 'triangle'.",
    )
    cells_threshold_factor: float = _help(
        1.0, "Multiplier on the derived cytoplasm threshold (below 1 gives larger cells)."
    )
    cells_watershed: str = _help(
        "distance",
        "Landscape of the cell watershed: 'distance' from nuclei (cells split midway "
        "between nuclei), inverted cytoplasm 'intensity' (cells split along dim gaps) or "
        "'membrane' (the smoothed cytoplasm image itself: cells split along bright "
        "ridges, for a membrane or cell-outline stain such as WGA).",
    )
    remove_border: bool = _help(True, "Drop cells touching the image border, and their nuclei.")
    cellpose_model: str = _help(
        "cyto3", "Cellpose model name (weights must already be installed) or weights file path."
    )
    cellpose_nuclei_model: str = _help("nuclei", "Cellpose nuclei model name or weights file path.")
    cellpose_diameter: float | None = _help(
        None, "Expected cell diameter in px for cellpose; None lets cellpose estimate it."
    )
    cellpose_nuclei_diameter: float | None = _help(
        None, "Expected nucleus diameter in px for cellpose; None lets cellpose estimate it."
    )

    def __post_init__(self) -> None:
        """Check choices and ranges once, at configuration time."""
        if self.method not in METHODS:
            raise ConfigError(f"segment.method must be one of {METHODS}, got {self.method!r}.")
        for name in ("nuclei_threshold_method", "cells_threshold_method"):
            if getattr(self, name) not in THRESHOLD_METHODS:
                raise ConfigError(
                    f"segment.{name} must be one of {THRESHOLD_METHODS}, "
                    f"got {getattr(self, name)!r}."
                )
        if self.cells_watershed not in CELL_WATERSHEDS:
            raise ConfigError(
                f"segment.cells_watershed must be one of {CELL_WATERSHEDS}, "
                f"got {self.cells_watershed!r}."
            )
        if not 0 < self.nuclei_min_area <= self.nuclei_max_area:
            raise ConfigError("segment.nuclei_min_area must be > 0 and <= nuclei_max_area.")
        for name in ("nuclei_threshold_factor", "cells_threshold_factor"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"segment.{name} must be > 0.")
        for name in ("nuclei_smooth_sigma", "cells_smooth_sigma"):
            if getattr(self, name) < 0:
                raise ConfigError(f"segment.{name} must be >= 0.")
        if self.nuclei_noise_factor < 0:
            raise ConfigError("segment.nuclei_noise_factor must be >= 0.")
        if self.nuclei_split_min_distance < 1:
            raise ConfigError("segment.nuclei_split_min_distance must be >= 1.")
