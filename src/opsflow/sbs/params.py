"""Parameters of the SBS module: one typed, documented source of truth.

Every threshold, width and name the SBS functions use has a field here with its default
and a one-line description (``metadata["help"]``); the configuration layer turns these
dataclasses into the ``sbs:`` config schema and the README table. Each nested section
belongs to one kernel and its field names are that kernel's keyword arguments
(``sbs.align`` -> :func:`opsflow.sbs.align_cycles`), so a test can check that the
kernels' own defaults agree with the ones here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from opsflow.errors import ConfigError
from opsflow.segment import CYTO_REDUCERS, SegmentParams

__all__ = [
    "CallCellsParams",
    "CallReadsParams",
    "CycleAlignParams",
    "FindPeaksParams",
    "LogFilterParams",
    "MaxFilterParams",
    "SbsParams",
]


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


def _at_least(section: str, name: str, value: float, low: float) -> None:
    if value < low:
        raise ConfigError(f"sbs.{section}.{name} must be >= {low:g}, found {value}.")


@dataclass(frozen=True)
class CycleAlignParams:
    """Registration of the cycles (:func:`opsflow.sbs.align_cycles`)."""

    method: Literal["dapi", "sbs_mean"] = _help(
        "dapi",
        "How cycles are registered to the first: 'dapi' (DAPI channel) or 'sbs_mean' "
        "(mean of base channels, for cycles that differ in channels).",
    )
    within_cycle: bool = _help(
        True,
        "Register the base channels to the first base channel (one offset per channel, "
        "pooled over cycles).",
    )
    window: float = _help(
        0.5, "Side of the central window used for registration, as a fraction of Y and X."
    )
    upsample_factor: int = _help(
        10, "Sub-pixel precision of registration: shifts are found to 1/factor px."
    )
    max_within_cycle_shift: float = _help(
        3.0,
        "Largest plausible within-cycle channel shift in px; larger estimates are taken "
        "as failed registrations and not applied.",
    )
    spot_suppression: int = _help(
        5,
        "Grey-opening size in px (wider than a spot) that removes spots before base "
        "channels are registered to each other on their shared cell background.",
    )
    order: int = _help(
        1, "Spline order used to apply sub-pixel shifts (0 = nearest, 1 = linear, 3 = cubic)."
    )

    def __post_init__(self) -> None:
        """Check the method and ranges once, so the kernel can trust them."""
        if self.method not in ("dapi", "sbs_mean"):
            raise ConfigError(
                f"sbs.align.method must be 'dapi' or 'sbs_mean', found {self.method!r}."
            )
        if not 0 < self.window <= 1:
            raise ConfigError(f"sbs.align.window must be in (0, 1], found {self.window}.")
        _at_least("align", "upsample_factor", self.upsample_factor, 1)


@dataclass(frozen=True)
class LogFilterParams:
    """The spot filter (:func:`opsflow.sbs.log_filter`)."""

    sigma: float = _help(1.0, "Sigma in px of the Laplacian-of-Gaussian spot filter.")

    def __post_init__(self) -> None:
        """A zero-width filter would pass noise through as spots."""
        if self.sigma <= 0:
            raise ConfigError(f"sbs.log_filter.sigma must be > 0, found {self.sigma}.")


@dataclass(frozen=True)
class FindPeaksParams:
    """Peaks and the candidate-read threshold (``find_peaks``, ``peak_threshold``)."""

    width: int = _help(
        3,
        "Window side in px for peak finding (3 resolves spots 2 px apart); also the "
        "zeroed border width.",
    )
    threshold: float | None = _help(
        None,
        "Peak score above which a peak is a candidate read; null derives it from the data "
        "(Otsu threshold on the log of local-maximum scores).",
    )
    noise_factor: float = _help(
        6.0,
        "With a derived threshold, candidate reads must also score this many robust "
        "standard deviations above the median peak score (guards tiles without spots).",
    )

    def __post_init__(self) -> None:
        """Check ranges once."""
        _at_least("find_peaks", "width", self.width, 1)
        _at_least("find_peaks", "noise_factor", self.noise_factor, 0)


@dataclass(frozen=True)
class MaxFilterParams:
    """The max filter applied before intensities are read (:func:`opsflow.sbs.max_filter`)."""

    width: int = _help(3, "Window side in px of the max filter applied before reading intensities.")

    def __post_init__(self) -> None:
        """Check the range once."""
        _at_least("max_filter", "width", self.width, 1)


@dataclass(frozen=True)
class CallReadsParams:
    """Base calling (:func:`opsflow.sbs.call_reads`)."""

    per_cycle: bool = _help(
        False, "Estimate channel crosstalk separately for every cycle instead of pooled."
    )


@dataclass(frozen=True)
class CallCellsParams:
    """A barcode per cell (:func:`opsflow.sbs.call_cells`)."""

    q_min: float = _help(
        0.0, "Reads whose minimum per-cycle quality is below this are not counted per cell."
    )
    mapped_first: bool = _help(
        False,
        "Rank a cell's barcodes that map to the library before unmapped ones whatever "
        "their read count; false ranks by count and uses mapping to break ties.",
    )
    prefix_column: str = _help(
        "prefix", "Library column whose first n_cycles letters a read must equal to map."
    )
    gene_symbol_column: str = _help(
        "gene_symbol", "Library column with the gene symbol of each barcode."
    )
    gene_id_column: str = _help("gene_id", "Library column with the gene id.")


@dataclass(frozen=True)
class SbsParams:
    """All settings of the SBS steps, from aligned cycles to a barcode per cell."""

    channel_names: tuple[str, ...] = _help(
        ("DAPI", "G", "T", "A", "C"),
        "Channel names of an SBS cycle, in the order of the image's channel axis.",
    )
    dapi_channel: str | None = _help(
        "DAPI", "Name of the nuclear stain channel; null if the cycles carry no DAPI."
    )
    base_channels: tuple[str, ...] = _help(
        ("G", "T", "A", "C"),
        "Channels that read a base; each name is the base letter written into barcodes.",
    )
    align: CycleAlignParams = field(
        default_factory=CycleAlignParams, metadata={"help": "Registration of the cycles."}
    )
    log_filter: LogFilterParams = field(
        default_factory=LogFilterParams, metadata={"help": "The spot filter."}
    )
    find_peaks: FindPeaksParams = field(
        default_factory=FindPeaksParams, metadata={"help": "Peaks and candidate reads."}
    )
    max_filter: MaxFilterParams = field(
        default_factory=MaxFilterParams, metadata={"help": "Max filter before reading."}
    )
    dapi_cycle: int = _help(0, "Cycle (0-based) whose DAPI channel is used for segmentation.")
    cyto_cycle: int = _help(
        0, "Cycle (0-based) whose base channels give the cytoplasm image for segmentation."
    )
    cyto_reducer: str = _help(
        "median",
        "How base channels combine into the cytoplasm image: 'median' (suppresses spots), "
        "'mean' or 'max'.",
    )
    segmentation: SegmentParams = field(
        default_factory=SegmentParams, metadata={"help": "Segmentation of the SBS tiles."}
    )
    call_reads: CallReadsParams = field(
        default_factory=CallReadsParams, metadata={"help": "Base calling."}
    )
    call_cells: CallCellsParams = field(
        default_factory=CallCellsParams, metadata={"help": "A barcode per cell."}
    )
    library_path: str | None = _help(
        None, "Path of the barcode library table (TSV/CSV/parquet) used to map reads."
    )

    def __post_init__(self) -> None:
        """Check names and the settings that depend on each other once."""
        names = list(self.channel_names)
        if len(set(names)) != len(names):
            raise ConfigError(f"sbs.channel_names has duplicates: {names}.")
        if self.dapi_channel is not None and self.dapi_channel not in names:
            raise ConfigError(
                f"sbs.dapi_channel {self.dapi_channel!r} is not one of sbs.channel_names {names}."
            )
        missing = [c for c in self.base_channels if c not in names]
        if missing:
            raise ConfigError(f"sbs.base_channels {missing} are not in sbs.channel_names {names}.")
        if len(self.base_channels) < 2:
            raise ConfigError("sbs.base_channels needs at least two channels.")
        if self.align.method == "dapi" and self.dapi_channel is None:
            raise ConfigError("sbs.align.method 'dapi' needs sbs.dapi_channel.")
        if self.cyto_reducer not in CYTO_REDUCERS:
            raise ConfigError(
                f"sbs.cyto_reducer must be one of {CYTO_REDUCERS}, found {self.cyto_reducer!r}."
            )
        if self.dapi_cycle < 0 or self.cyto_cycle < 0:
            raise ConfigError("sbs.dapi_cycle and sbs.cyto_cycle must be >= 0.")

    @property
    def dapi_index(self) -> int | None:
        """Index of the DAPI channel in ``channel_names``, or None."""
        if self.dapi_channel is None:
            return None
        return self.channel_names.index(self.dapi_channel)

    @property
    def base_indices(self) -> tuple[int, ...]:
        """Indices of the base channels in ``channel_names``, in ``base_channels`` order."""
        return tuple(self.channel_names.index(c) for c in self.base_channels)
