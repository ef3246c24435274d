"""Parameters of the phenotype module: one typed, documented source of truth.

Every name, size and threshold the phenotype functions use has a field here with its
default and a one-line description (``metadata["help"]``). The configuration layer builds
the ``phenotype:`` schema and the README table from this dataclass; the functions take
the same values as keyword-only arguments. Sizes are in phenotype pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from opsflow.errors import ConfigError
from opsflow.segment import CYTO_REDUCERS, SegmentParams

__all__ = [
    "ALIGN_METHODS",
    "CYTO_REDUCERS",
    "AlignStep",
    "ChannelAlignParams",
    "FociParams",
    "PhenotypeParams",
    "phenotype_segment_params",
]

ALIGN_METHODS = ("intensity", "edges")


def _help(default: object, text: str) -> object:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class AlignStep:
    """One registration: a source channel to a target channel, riders moved with it."""

    source: str = field(metadata={"help": "Channel whose shift is estimated."})
    target: str = _help(
        "DAPI",
        "Channel the source is registered to (as aligned by earlier steps).",
    )
    riders: tuple[str, ...] = _help(
        (), "Channels imaged through the same optical path as the source: moved by its shift."
    )
    method: Literal["intensity", "edges"] = _help(
        "intensity",
        "'intensity' correlates log intensities (stains of the same structure); 'edges' "
        "correlates gradient magnitudes of log intensities (stains of different but "
        "adjacent structures, such as a nuclear and a cytoplasmic stain).",
    )

    def __post_init__(self) -> None:
        """Check the method and that a channel plays one role only."""
        if self.method not in ALIGN_METHODS:
            raise ConfigError(
                f"phenotype.align.steps method must be one of {ALIGN_METHODS}, got {self.method!r}."
            )
        if self.source == self.target or self.source in self.riders:
            raise ConfigError(
                f"phenotype.align.steps: source {self.source!r} is also the target or a rider."
            )


def phenotype_segment_params() -> SegmentParams:
    """Segmentation settings scaled to phenotype images (2x the SBS pixel density).

    Lengths double and areas quadruple relative to the SBS defaults, so the same nuclei
    and cells are found at the finer sampling. The DAPI threshold is lowered to 0.8 of
    Otsu's: at phenotype resolution the nuclear rim, dimmer than the centre, is resolved,
    and Otsu's threshold alone cuts it off (nuclei about 10 % too small on the synthetic
    screen).

    Cells are grown in a membrane stain (``cyto_channels`` defaults to WGA) by the
    ``'membrane'`` watershed: touching cells meet on the membrane between them, not
    midway between their nuclei as with ``'distance'``. The membrane image is smoothed
    with sigma 1 px, about the width of a membrane in the image: enough to suppress
    pixel noise, while a wider blur moves the ridge of a thin membrane toward its
    brighter side (into the cell at the edge of a cluster) and so shrinks cells.
    """
    return SegmentParams(
        nuclei_smooth_sigma=3.0,
        nuclei_threshold_factor=0.8,
        nuclei_min_area=80,
        nuclei_max_area=20000,
        nuclei_split_min_distance=8,
        cells_smooth_sigma=1.0,
        cells_watershed="membrane",
    )


_DEFAULT_STEPS = (
    AlignStep(source="CENPA", target="DAPI", method="intensity"),
    AlignStep(source="COXIV", target="DAPI", method="edges"),
    AlignStep(source="WGA", target="COXIV", method="edges"),
)


@dataclass(frozen=True)
class ChannelAlignParams:
    """Registration of the channels (:func:`opsflow.phenotype.align_channels`)."""

    enabled: bool = _help(True, "Register the channels (fixed offsets, then steps); false: no-op.")
    offsets: tuple[tuple[str, float, float], ...] = _help(
        (),
        "Known fixed shifts [channel, dy, dx] in px (from a calibration), applied before "
        "estimation; channel(y, x) ~ reference(y - dy, x - dx).",
    )
    steps: tuple[AlignStep, ...] = _help(
        _DEFAULT_STEPS,
        "Registrations applied in order, each {source, target, riders, method}; a later "
        "step may use a channel aligned by an earlier one as its target.",
    )
    window: float = _help(
        1.0, "Side of the central window used for registration, as a fraction of Y and X."
    )
    upsample_factor: int = _help(
        10, "Sub-pixel precision of registration: shifts are found to 1/factor px."
    )
    edge_sigma: float = _help(
        1.5, "Gaussian sigma in px of the gradient used by the 'edges' method."
    )
    max_shift: float = _help(
        5.0,
        "Largest plausible estimated shift in px; larger estimates are taken as failed "
        "registrations, logged and not applied.",
    )
    order: int = _help(
        1, "Spline order used to apply sub-pixel shifts (0 = nearest, 1 = linear, 3 = cubic)."
    )

    def __post_init__(self) -> None:
        """Check ranges once (channel names are checked by :class:`PhenotypeParams`)."""
        if not 0 < self.window <= 1:
            raise ConfigError(f"phenotype.align.window must be in (0, 1], found {self.window}.")
        if self.upsample_factor < 1:
            raise ConfigError("phenotype.align.upsample_factor must be >= 1.")
        if self.edge_sigma <= 0 or self.max_shift <= 0:
            raise ConfigError("phenotype.align.edge_sigma and max_shift must be > 0.")
        if self.order not in range(6):
            raise ConfigError(f"phenotype.align.order must be 0..5, found {self.order}.")


@dataclass(frozen=True)
class FociParams:
    """Foci counted per cell (:func:`opsflow.phenotype.foci_per_cell`)."""

    channel: str | None = _help(
        "CENPA", "Channel in which foci are counted per cell; null: no foci features."
    )
    radius: int = _help(
        3,
        "Radius in px of the white top-hat disk that removes background under foci; "
        "larger than a focus, smaller than a nucleus.",
    )
    smooth_sigma: float = _help(
        0.5, "Gaussian sigma in px applied to the foci channel before the top-hat."
    )
    noise_factor: float = _help(
        5.0,
        "Foci are top-hat maxima this many robust standard deviations (1.4826 x MAD of "
        "the top-hat inside cells) above its median.",
    )

    def __post_init__(self) -> None:
        """Check ranges once."""
        if self.radius < 1 or self.smooth_sigma < 0 or self.noise_factor < 0:
            raise ConfigError(
                "phenotype.foci.radius must be >= 1, smooth_sigma and noise_factor >= 0."
            )


@dataclass(frozen=True)
class PhenotypeParams:
    """All settings of the phenotype steps, from a corrected tile to per-cell features."""

    channel_names: tuple[str, ...] = _help(
        ("DAPI", "COXIV", "CENPA", "WGA"),
        "Channel names of a phenotype tile, in the order of the image's channel axis.",
    )
    dapi_channel: str = _help("DAPI", "Nuclear stain channel, used to segment nuclei.")
    dark_level: float = _help(
        0.0,
        "Camera offset (dark level) in ADU subtracted before dividing by the illumination "
        "field; the offset is not illuminated, so dividing it too leaves a background "
        "gradient of the field's shape.",
    )
    align: ChannelAlignParams = field(
        default_factory=ChannelAlignParams,
        metadata={"help": "Registration of the channels."},
    )
    segmentation: SegmentParams = field(
        default_factory=phenotype_segment_params,
        metadata={
            "help": "Segmentation of the phenotype tiles (same methods as SBS, "
            "phenotype-scale sizes; cells by the 'membrane' watershed on cyto_channels)."
        },
    )
    cyto_channels: tuple[str, ...] = _help(
        ("WGA",),
        "Channels combined into the image that cells are grown in. With the default "
        "segmentation.cells_watershed 'membrane' this must be a membrane or cell-outline "
        "stain (WGA): a cytoplasmic stain mixed in (COXIV, densest around the nucleus) "
        "adds ridges inside cells. With 'distance' or 'intensity' a cytoplasmic stain "
        "may be combined to cover the cell body.",
    )
    cyto_reducer: Literal["mean", "median", "max"] = _help(
        "mean", "How cyto_channels combine into one image: 'mean', 'median' or 'max'."
    )
    foci: FociParams = field(
        default_factory=FociParams, metadata={"help": "Foci counted per cell."}
    )

    def __post_init__(self) -> None:
        """Check names and ranges once, so each step can trust them."""
        names = list(self.channel_names)
        if not names or len(set(names)) != len(names):
            raise ConfigError(f"phenotype.channel_names must be non-empty and unique, got {names}.")

        def known(key: str, channel: str) -> None:
            if channel not in names:
                raise ConfigError(
                    f"phenotype.{key} {channel!r} is not one of phenotype.channel_names {names}."
                )

        known("dapi_channel", self.dapi_channel)
        for channel, *_ in self.align.offsets:
            known("align.offsets channel", channel)
        for step in self.align.steps:
            for channel in (step.source, step.target, *step.riders):
                known("align.steps channel", channel)
        if not self.cyto_channels:
            raise ConfigError("phenotype.cyto_channels needs at least one channel.")
        for channel in self.cyto_channels:
            known("cyto_channels", channel)
        if self.cyto_reducer not in CYTO_REDUCERS:
            raise ConfigError(
                f"phenotype.cyto_reducer must be one of {CYTO_REDUCERS}, got {self.cyto_reducer!r}."
            )
        if self.foci.channel is not None:
            known("foci.channel", self.foci.channel)
        if self.dark_level < 0:
            raise ConfigError(f"phenotype.dark_level must be >= 0, got {self.dark_level}.")

    def index(self, channel: str) -> int:
        """Index of a channel in ``channel_names``."""
        return self.channel_names.index(channel)
