"""The stage registry: every image checkpoint that can be exported as OME-Zarr.

One entry per stage says which TIFF output holds the image, which ones hold masks, the
axes of the TIFF, how its channels are named and where the store goes. The workflow
generates one export rule per entry and one generic function exports them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opsflow.errors import ConfigError
from opsflow.paths import MODULES

__all__ = ["STAGES", "Stage", "channel_labels", "default_stages", "get_stage", "stages_of"]


@dataclass(frozen=True)
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
    channels: str
    labels: tuple[tuple[str, str], ...] = ()
    title: str = ""
    default: bool = True

    @property
    def rule(self) -> str:
        """Name of the Snakemake rule that exports this stage."""
        return f"export_{self.name}_omezarr"


STAGES: tuple[Stage, ...] = (
    Stage("convert_sbs", "preprocess", "sbs", "convert_sbs", "sbs", "image", "cyx", "channels"),
    Stage(
        "convert_phenotype",
        "preprocess",
        "phenotype",
        "convert_phenotype",
        "phenotype",
        "image",
        "cyx",
        "channels",
    ),
    Stage(
        "calculate_ic_sbs",
        "preprocess",
        "sbs",
        "calculate_ic_sbs",
        "ic_fields/sbs",
        "ic_field",
        "cyx",
        "ic",
        default=False,
    ),
    Stage(
        "calculate_ic_phenotype",
        "preprocess",
        "phenotype",
        "calculate_ic_phenotype",
        "ic_fields/phenotype",
        "ic_field",
        "cyx",
        "ic",
        default=False,
    ),
    Stage("align_sbs", "sbs", "sbs", "align_sbs", "aligned", "aligned", "tcyx", "channels"),
    Stage(
        "apply_ic_field_sbs",
        "sbs",
        "sbs",
        "apply_ic_field_sbs",
        "illumination_corrected",
        "illumination_corrected",
        "cyx",
        "channels",
    ),
    Stage(
        "segment_sbs",
        "sbs",
        "sbs",
        "apply_ic_field_sbs",
        "segmentation",
        "segmentation",
        "cyx",
        "channels",
        labels=(("nuclei", "segment_sbs_nuclei"), ("cells", "segment_sbs_cells")),
    ),
    Stage(
        "log_filter",
        "sbs",
        "sbs",
        "log_filter",
        "log_filtered",
        "log_filtered",
        "tcyx",
        "channels",
        default=False,
    ),
    Stage(
        "compute_standard_deviation",
        "sbs",
        "sbs",
        "compute_standard_deviation",
        "standard_deviation",
        "standard_deviation",
        "yx",
        "single",
        title="standard deviation",
        default=False,
    ),
    Stage(
        "find_peaks",
        "sbs",
        "sbs",
        "find_peaks",
        "peaks",
        "peaks",
        "yx",
        "single",
        title="peaks",
        default=False,
    ),
    Stage(
        "max_filter",
        "sbs",
        "sbs",
        "max_filter",
        "max_filtered",
        "max_filtered",
        "tcyx",
        "bases",
        default=False,
    ),
    Stage(
        "apply_ic_field_phenotype",
        "phenotype",
        "phenotype",
        "apply_ic_field_phenotype",
        "illumination_corrected",
        "illumination_corrected",
        "cyx",
        "channels",
    ),
    Stage(
        "align_phenotype",
        "phenotype",
        "phenotype",
        "align_phenotype",
        "aligned",
        "aligned",
        "cyx",
        "channels",
    ),
    Stage(
        "segment_phenotype",
        "phenotype",
        "phenotype",
        "align_phenotype",
        "segmentation",
        "segmentation",
        "cyx",
        "channels",
        labels=(("nuclei", "segment_phenotype_nuclei"), ("cells", "segment_phenotype_cells")),
    ),
    Stage(
        "identify_cytoplasm",
        "phenotype",
        "phenotype",
        "align_phenotype",
        "cytoplasm",
        "identified_cytoplasms",
        "cyx",
        "channels",
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
    if stage.channels == "channels":
        names = list(channel_names)
    elif stage.channels == "bases":
        names = list(base_channels)
    elif stage.channels == "ic":
        names = [f"IC field {c}" for c in channel_names]
    else:
        names = [stage.title]
    if len(names) != n_channels:
        raise ConfigError(
            f"stage {stage.name}: the image has {n_channels} channels but the configuration "
            f"names {len(names)} ({', '.join(names)})."
        )
    return names
