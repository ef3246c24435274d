"""The stage registry: every image checkpoint that can be exported as OME-Zarr.

One entry per stage says which TIFF output holds the image, which ones hold masks, the
axes of the TIFF, how its channels are named and where the store goes. The workflow
generates one export rule per entry and one generic function exports them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from opsflow.errors import ConfigError
from opsflow.paths import MODULES

__all__ = [
    "STAGES",
    "Channels",
    "Stage",
    "channel_labels",
    "default_stages",
    "get_stage",
    "home_stage",
    "stages_of",
]


class Channels(StrEnum):
    """How a stage's channels are named."""

    CHANNELS = "channels"  # the modality's channel names
    BASES = "bases"  # the SBS base channels
    IC = "ic"  # "IC field" plus each channel name
    SINGLE = "single"  # one channel called by the stage's title


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One exportable checkpoint.

    Attributes
    ----------
    name
        The plan's stage name; the rule is ``export_{name}_omezarr``.
    module
        Pipeline module whose outputs it exports.
    modality
        ``sbs`` or ``phenotype``: whose pixel size and channel names apply.
    image
        Key of the TIFF output in the module's targets that becomes the store's image.
    store_dir, store_what
        The store is ``{module}/omezarr/{store_dir}/{stem}__{store_what}.ome.zarr``.
    axes
        Axes of the TIFF (cycles on ``t``).
    channels
        How channels are named: ``channels`` (the modality's channel names), ``bases``
        (SBS base channels), ``ic`` ("IC field" plus each channel name), or ``single``
        (one channel called ``title``).
    labels
        ``(label name, output key)`` of masks written under ``labels/``.
    default
        Exported when the module's ``omezarr_stages`` is not set (the plan's high-value
        stages); the others are debugging views.
    """

    name: str
    module: str
    modality: str
    image: str
    store_dir: str
    store_what: str
    axes: str
    channels: Channels
    labels: tuple[tuple[str, str], ...] = ()
    title: str = ""
    default: bool = True

    @property
    def rule(self) -> str:
        """Name of the Snakemake rule that exports this stage."""
        return f"export_{self.name}_omezarr"


STAGES: tuple[Stage, ...] = (
    Stage(
        name="convert_sbs",
        module="preprocess",
        modality="sbs",
        image="convert_sbs",
        store_dir="sbs",
        store_what="image",
        axes="tcyx",
        channels=Channels.CHANNELS,
    ),
    Stage(
        name="convert_phenotype",
        module="preprocess",
        modality="phenotype",
        image="convert_phenotype",
        store_dir="phenotype",
        store_what="image",
        axes="cyx",
        channels=Channels.CHANNELS,
    ),
    Stage(
        name="calculate_ic_sbs",
        module="preprocess",
        modality="sbs",
        image="calculate_ic_sbs",
        store_dir="ic_fields/sbs",
        store_what="ic_field",
        axes="cyx",
        channels=Channels.IC,
        default=False,
    ),
    Stage(
        name="calculate_ic_phenotype",
        module="preprocess",
        modality="phenotype",
        image="calculate_ic_phenotype",
        store_dir="ic_fields/phenotype",
        store_what="ic_field",
        axes="cyx",
        channels=Channels.IC,
        default=False,
    ),
    Stage(
        name="align_sbs",
        module="sbs",
        modality="sbs",
        image="align_sbs",
        store_dir="aligned",
        store_what="aligned",
        axes="tcyx",
        channels=Channels.CHANNELS,
    ),
    Stage(
        name="apply_ic_field_sbs",
        module="sbs",
        modality="sbs",
        image="apply_ic_field_sbs",
        store_dir="illumination_corrected",
        store_what="illumination_corrected",
        axes="cyx",
        channels=Channels.CHANNELS,
    ),
    Stage(
        name="segment_sbs",
        module="sbs",
        modality="sbs",
        image="apply_ic_field_sbs",
        store_dir="segmentation",
        store_what="segmentation",
        axes="cyx",
        channels=Channels.CHANNELS,
        labels=(("nuclei", "segment_sbs_nuclei"), ("cells", "segment_sbs_cells")),
    ),
    Stage(
        name="log_filter",
        module="sbs",
        modality="sbs",
        image="log_filter",
        store_dir="log_filtered",
        store_what="log_filtered",
        axes="tcyx",
        channels=Channels.CHANNELS,
        default=False,
    ),
    Stage(
        name="compute_standard_deviation",
        module="sbs",
        modality="sbs",
        image="compute_standard_deviation",
        store_dir="standard_deviation",
        store_what="standard_deviation",
        axes="yx",
        channels=Channels.SINGLE,
        title="standard deviation",
        default=False,
    ),
    Stage(
        name="find_peaks",
        module="sbs",
        modality="sbs",
        image="find_peaks",
        store_dir="peaks",
        store_what="peaks",
        axes="yx",
        channels=Channels.SINGLE,
        title="peaks",
        default=False,
    ),
    Stage(
        name="max_filter",
        module="sbs",
        modality="sbs",
        image="max_filter",
        store_dir="max_filtered",
        store_what="max_filtered",
        axes="tcyx",
        channels=Channels.BASES,
        default=False,
    ),
    Stage(
        name="apply_ic_field_phenotype",
        module="phenotype",
        modality="phenotype",
        image="apply_ic_field_phenotype",
        store_dir="illumination_corrected",
        store_what="illumination_corrected",
        axes="cyx",
        channels=Channels.CHANNELS,
    ),
    Stage(
        name="align_phenotype",
        module="phenotype",
        modality="phenotype",
        image="align_phenotype",
        store_dir="aligned",
        store_what="aligned",
        axes="cyx",
        channels=Channels.CHANNELS,
    ),
    Stage(
        name="segment_phenotype",
        module="phenotype",
        modality="phenotype",
        image="align_phenotype",
        store_dir="segmentation",
        store_what="segmentation",
        axes="cyx",
        channels=Channels.CHANNELS,
        labels=(("nuclei", "segment_phenotype_nuclei"), ("cells", "segment_phenotype_cells")),
    ),
    Stage(
        name="identify_cytoplasm",
        module="phenotype",
        modality="phenotype",
        image="align_phenotype",
        store_dir="cytoplasm",
        store_what="identified_cytoplasms",
        axes="cyx",
        channels=Channels.CHANNELS,
        labels=(("cytoplasm", "identify_cytoplasm"),),
    ),
)

_BY_NAME = {s.name: s for s in STAGES}


def get_stage(name: str) -> Stage:
    """The stage called ``name``, or a ``ConfigError`` listing every valid name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(
            f"unknown OME-Zarr stage {name!r}; valid stages are {', '.join(_BY_NAME)}."
        ) from None


def _homes() -> dict[str, tuple[Stage, str | None]]:
    homes: dict[str, tuple[Stage, str | None]] = {}
    for stage in STAGES:
        for label, key in stage.labels:
            homes.setdefault(key, (stage, label))
        if not stage.labels:
            homes.setdefault(stage.image, (stage, None))
    return homes


_HOMES = _homes()


def home_stage(key: str) -> tuple[Stage, str | None] | None:
    """The stage whose store holds an image output, and its label name for a mask.

    An image lives in the store of the stage that shows it alone (``align_phenotype``
    in ``aligned``), a mask as a label image of the stage that adds it
    (``segment_phenotype_cells`` as ``cells`` of ``segmentation``). None for images no
    stage exports (the montages).
    """
    return _HOMES.get(key)


def stages_of(module: str) -> tuple[Stage, ...]:
    """Every stage of a module, in pipeline order."""
    if module not in MODULES:
        raise ConfigError(f"unknown module {module!r}; valid modules are {', '.join(MODULES)}.")
    return tuple(s for s in STAGES if s.module == module)


def default_stages(module: str) -> tuple[str, ...]:
    """Names of the stages a module exports when its ``omezarr_stages`` is not set."""
    return tuple(s.name for s in stages_of(module) if s.default)


def channel_labels(
    stage: Stage,
    n_channels: int,
    *,
    channel_names: Sequence[str],
    base_channels: Sequence[str] = (),
) -> list[str]:
    """Channel labels of a stage's store, checked against the TIFF's channel count."""
    names: list[str]
    if stage.channels is Channels.CHANNELS:
        names = list(channel_names)
    elif stage.channels is Channels.BASES:
        names = list(base_channels)
    elif stage.channels is Channels.IC:
        names = [f"IC field {c}" for c in channel_names]
    else:
        names = [stage.title]
    if len(names) != n_channels:
        raise ConfigError(
            f"stage {stage.name}: the image has {n_channels} channels but the configuration "
            f"names {len(names)} ({', '.join(names)})."
        )
    return names
