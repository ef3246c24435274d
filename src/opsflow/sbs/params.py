"""Parameters of the SBS module: one typed, documented source of truth.

Every threshold, width and name the SBS functions use has a field here with its
default and a one-line description (``metadata["help"]``). A later layer turns this
dataclass into the ``sbs:`` config schema and the README table; the functions
themselves take the same values as keyword-only arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opsflow.errors import ConfigError

__all__ = ["SbsParams"]


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class SbsParams:
    """All settings of the SBS steps, from aligned cycles to a barcode per cell."""

    channel_names: tuple[str, ...] = _help(
        ("DAPI", "G", "T", "A", "C"),
        "Channel names of an SBS cycle, in the order of the image's channel axis.",
    )
    dapi_channel: str | None = _help(
        "DAPI", "Name of the nuclear stain channel; None if the cycles carry no DAPI."
    )
    base_channels: tuple[str, ...] = _help(
        ("G", "T", "A", "C"),
        "Channels that read a base; each name is the base letter written into barcodes.",
    )
    align_method: str = _help(
        "dapi",
        "How cycles are registered to the first: 'dapi' (DAPI channel) or 'sbs_mean' "
        "(mean of base channels, for cycles that differ in channels).",
    )
    align_within_cycle: bool = _help(
        True,
        "Register the base channels to the first base channel (one offset per channel, "
        "pooled over cycles).",
    )
    align_window: float = _help(
        0.5, "Side of the central window used for registration, as a fraction of Y and X."
    )
    align_upsample_factor: int = _help(
        10, "Sub-pixel precision of registration: shifts are found to 1/factor px."
    )
    align_max_within_cycle_shift: float = _help(
        3.0,
        "Largest plausible within-cycle channel shift in px; larger estimates are taken "
        "as failed registrations and not applied.",
    )
    align_spot_suppression: int = _help(
        5,
        "Grey-opening size in px (wider than a spot) that removes spots before base "
        "channels are registered to each other on their shared cell background.",
    )
    align_interpolation_order: int = _help(
        1, "Spline order used to apply sub-pixel shifts (0 = nearest, 1 = linear, 3 = cubic)."
    )
    log_sigma: float = _help(1.0, "Sigma in px of the Laplacian-of-Gaussian spot filter.")
    peak_width: int = _help(
        3,
        "Window side in px for peak finding (3 resolves spots 2 px apart); also the "
        "zeroed border width.",
    )
    max_filter_width: int = _help(
        3, "Window side in px of the max filter applied before reading intensities."
    )
    peak_threshold: float | None = _help(
        None,
        "Peak score above which a peak is a candidate read; None derives it from the "
        "data (Otsu threshold on the log of local-maximum scores).",
    )
    peak_noise_factor: float = _help(
        6.0,
        "With a derived threshold, candidate reads must also score this many robust "
        "standard deviations above the median peak score (guards tiles without spots).",
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
    crosstalk_per_cycle: bool = _help(
        False, "Estimate channel crosstalk separately for every cycle instead of pooled."
    )
    q_min: float = _help(
        0.0, "Reads whose minimum per-cycle quality is below this are not counted per cell."
    )
    mapped_first: bool = _help(
        False,
        "Rank a cell's barcodes that map to the library before unmapped ones whatever "
        "their read count; False ranks by count and uses mapping to break ties.",
    )
    library_path: str | None = _help(
        None, "Path of the barcode library table (TSV/CSV/parquet) used to map reads."
    )
    library_prefix_column: str = _help(
        "prefix", "Library column whose first n_cycles letters a read must equal to map."
    )
    library_gene_symbol_column: str = _help(
        "gene_symbol", "Library column with the gene symbol of each barcode."
    )
    library_gene_id_column: str = _help("gene_id", "Library column with the gene id.")

    def __post_init__(self) -> None:
        """Check names and ranges once, so each step can trust them."""
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
        if self.align_method not in ("dapi", "sbs_mean"):
            raise ConfigError(
                f"sbs.align_method must be 'dapi' or 'sbs_mean', got {self.align_method!r}."
            )
        if self.align_method == "dapi" and self.dapi_channel is None:
            raise ConfigError("sbs.align_method 'dapi' needs sbs.dapi_channel.")
        if not 0 < self.align_window <= 1:
            raise ConfigError(f"sbs.align_window must be in (0, 1], got {self.align_window}.")
        for name in ("peak_width", "max_filter_width", "align_upsample_factor"):
            if getattr(self, name) < 1:
                raise ConfigError(f"sbs.{name} must be >= 1, got {getattr(self, name)}.")
        if self.log_sigma <= 0:
            raise ConfigError(f"sbs.log_sigma must be > 0, got {self.log_sigma}.")
        if self.cyto_reducer not in ("median", "mean", "max"):
            raise ConfigError(
                f"sbs.cyto_reducer must be 'median', 'mean' or 'max', got {self.cyto_reducer!r}."
            )
        if self.peak_noise_factor < 0:
            raise ConfigError(f"sbs.peak_noise_factor must be >= 0, got {self.peak_noise_factor}.")
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
