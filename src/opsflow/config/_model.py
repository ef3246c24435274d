"""The workflow configuration: one typed section per module, validated once at the start.

The algorithm parameters are the modules' own dataclasses (``SbsParams``,
``SegmentParams``, ``PhenotypeParams``); this module adds what the workflow needs around
them (inputs, output root, OME-Zarr exports) and nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from opsflow.aggregate import AggregateParams
from opsflow.config._fields import doc_rows, parse_dataclass, schema_for
from opsflow.config._moved import check_moved_keys
from opsflow.errors import ConfigError, OpsflowError
from opsflow.export import default_stages, stages_of
from opsflow.io import ExportOptions
from opsflow.merge import MergeParams
from opsflow.paths import MODULES
from opsflow.phenotype import PhenotypeParams
from opsflow.preprocess import ConvertParams, IcFieldParams
from opsflow.sbs import SbsParams

__all__ = [
    "AllSettings",
    "Config",
    "OmeZarrSettings",
    "PhenotypeSettings",
    "PreprocessSettings",
    "SbsSettings",
    "config_schema",
    "load_config",
    "reference_table",
]


def _help(default: Any, text: str) -> Any:
    return field(default=default, metadata={"help": text})


def _export_option(name: str) -> Any:
    """A setting whose default and help are those of the ``ExportOptions`` field ``name``.

    The writer's options are defined once, in :class:`opsflow.io.ExportOptions`; the
    configuration only gives them their YAML keys.
    """
    option = next(f for f in dataclasses.fields(ExportOptions) if f.name == name)
    return _help(option.default, option.metadata["help"])


# modules with image checkpoints to export (merge has none)
_EXPORTING = ("preprocess", "sbs", "phenotype")

# YAML key of a module section -> the ExportOptions field it sets
_EXPORT_KEYS = {
    "omezarr_chunk_shape": "chunk_shape",
    "omezarr_coarsening_factor": "coarsening_factor",
    "omezarr_max_levels": "max_levels",
    "omezarr_shard_shape": "shard_shape",
    "omezarr_compression": "compression",
    "omezarr_compression_level": "compression_level",
}


@dataclass(frozen=True)
class AllSettings:
    """Settings shared by every module."""

    root_fp: str = _help("analysis", "Output root; relative paths are relative to the config.")
    modules: tuple[str, ...] = _help(MODULES, "Modules the 'all' target runs.")
    omezarr_export_default: bool = _help(
        False, "Export OME-Zarr stores for modules that do not set omezarr_export."
    )
    omezarr_ngff_version: Literal["0.4", "0.5"] = _export_option("ngff_version")
    omezarr_layout: Literal["plate", "tiles"] = _help(
        "plate",
        "plate: one NGFF HCS plate store per stage and plate, a field per tile; tiles: one "
        "store per tile.",
    )
    compute_format: Literal["tiff", "omezarr"] = _help(
        "tiff",
        "Format the steps write their images in. omezarr: every image checkpoint is a "
        "store (one per tile, at the tiles layout's paths; plates link those as fields), "
        "no TIFF is written and the export jobs have nothing to do.",
    )
    keep_tiff: tuple[str, ...] | None = _help(
        None,
        "With compute_format tiff: the image outputs (e.g. align_sbs, "
        "segment_phenotype_cells) whose TIFFs stay; the others are deleted once the "
        "jobs that read them are done. null keeps every TIFF.",
    )


@dataclass(frozen=True)
class OmeZarrSettings:
    """OME-Zarr export keys, the same in every module section."""

    omezarr_export: bool | None = _help(
        None, "Export this module's stages; null follows all.omezarr_export_default."
    )
    omezarr_stages: tuple[str, ...] | None = _help(
        None, "Stages to export; null exports the module's high-value stages."
    )
    # (c, y, x) exactly, unlike the writer's any-length chunk: the schema says so
    omezarr_chunk_shape: tuple[int, int, int] = _export_option("chunk_shape")
    omezarr_coarsening_factor: int = _export_option("coarsening_factor")
    omezarr_max_levels: int | None = _export_option("max_levels")
    omezarr_shard_shape: tuple[int, int, int] | None = _export_option("shard_shape")
    omezarr_compression: Literal["zstd", "lz4", "zlib", "none"] = _export_option("compression")
    omezarr_compression_level: int = _export_option("compression_level")
    omezarr_mosaic_stages: tuple[str, ...] = _help(
        (),
        "Stages also exported as one stitched store per well, placed by the stage "
        "positions of the preprocess metadata.",
    )

    def _check_omezarr(self, module: str) -> None:
        valid = [s.name for s in stages_of(module)]
        for key in ("omezarr_stages", "omezarr_mosaic_stages"):
            for name in getattr(self, key) or ():
                if name not in valid:
                    raise ConfigError(
                        f"{module}.{key}: unknown stage {name!r}; valid stages of "
                        f"{module} are {', '.join(valid)}."
                    )
        # ExportOptions holds the rules; one key at a time, so the error names its key
        # (a shard is checked against the section's chunk, of which it is a multiple)
        for key, option in _EXPORT_KEYS.items():
            given = {option: getattr(self, key)}
            if option == "shard_shape":
                given["chunk_shape"] = self.omezarr_chunk_shape
            try:
                ExportOptions(**given)
            except OpsflowError as exc:
                raise ConfigError(f"{module}.{key}: {exc}") from None


@dataclass(frozen=True)
class ModalityInputs(ConvertParams):
    """One modality's samples table and how its raw files are converted."""

    samples_fp: str | None = _help(
        None,
        "TSV of raw files: sample_fp, plate, well, tile (and cycle for SBS); relative to "
        "the config.",
    )


@dataclass(frozen=True)
class PreprocessSettings(OmeZarrSettings):
    """Inputs and conversion of the raw acquisitions, and illumination fields."""

    sbs: ModalityInputs = field(
        default_factory=ModalityInputs, metadata={"help": "SBS raw files and their conversion."}
    )
    phenotype: ModalityInputs = field(
        default_factory=ModalityInputs,
        metadata={"help": "Phenotype raw files and their conversion."},
    )
    ic: IcFieldParams = field(
        default_factory=IcFieldParams, metadata={"help": "Illumination-correction fields."}
    )

    def __post_init__(self) -> None:
        self._check_omezarr("preprocess")


@dataclass(frozen=True)
class InputFormat:
    """Where a module's steps read the images of its modality from."""

    input_format: Literal["tiff", "omezarr"] = _help(
        "tiff",
        "omezarr: the steps read this modality's images from the exported stores (level "
        "0, only the chunks they need), which are then exported whatever omezarr_export "
        "says.",
    )


@dataclass(frozen=True)
class SbsSettings(OmeZarrSettings, InputFormat, SbsParams):
    """SBS steps, segmentation and exports."""

    def __post_init__(self) -> None:
        SbsParams.__post_init__(self)
        self._check_omezarr("sbs")


@dataclass(frozen=True)
class PhenotypeSettings(OmeZarrSettings, InputFormat, PhenotypeParams):
    """Phenotype steps, segmentation and exports."""

    def __post_init__(self) -> None:
        PhenotypeParams.__post_init__(self)
        self._check_omezarr("phenotype")


@dataclass(frozen=True)
class MergeSettings(MergeParams):
    """Merge: phenotype cells joined to SBS cells (no image exports)."""


@dataclass(frozen=True)
class AggregateSettings(AggregateParams):
    """Aggregate: per-gene phenotypes, hit calls and montages, per plate."""

    omezarr_export_montages: bool = _help(
        False, "Also write each plate's montage as an OME-Zarr store (cells on t)."
    )


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    all: AllSettings = field(default_factory=AllSettings, metadata={"help": "Shared settings."})
    preprocess: PreprocessSettings = field(
        default_factory=PreprocessSettings, metadata={"help": "Preprocess module."}
    )
    sbs: SbsSettings = field(default_factory=SbsSettings, metadata={"help": "SBS module."})
    phenotype: PhenotypeSettings = field(
        default_factory=PhenotypeSettings, metadata={"help": "Phenotype module."}
    )
    merge: MergeSettings = field(default_factory=MergeSettings, metadata={"help": "Merge module."})
    aggregate: AggregateSettings = field(
        default_factory=AggregateSettings, metadata={"help": "Aggregate module."}
    )

    def __post_init__(self) -> None:
        # options that are valid alone but not together (shards need NGFF 0.5)
        for module in _EXPORTING:
            try:
                self.export_options(module)
            except OpsflowError as exc:
                raise ConfigError(f"{module}.omezarr_shard_shape: {exc}") from None

    def section(self, module: str) -> OmeZarrSettings:
        """The settings section of a module."""
        return getattr(self, module)

    def export_options(self, module: str) -> ExportOptions:
        """The options a module's stores are written with: its section's and the shared."""
        section = self.section(module)
        return ExportOptions(
            ngff_version=self.all.omezarr_ngff_version,
            **{option: getattr(section, key) for key, option in _EXPORT_KEYS.items()},
        )

    def exports_enabled(self, module: str) -> bool:
        """Whether a module exports OME-Zarr stores (its switch, else the default)."""
        if module not in _EXPORTING:
            return False
        own = self.section(module).omezarr_export
        return self.all.omezarr_export_default if own is None else own

    def chosen_stages(self, module: str) -> tuple[str, ...]:
        """Stages a module's ``omezarr_stages`` selects (its high-value ones by default)."""
        if module not in _EXPORTING:
            return ()
        stages = self.section(module).omezarr_stages
        return tuple(stages) if stages is not None else default_stages(module)

    def export_stages(self, module: str) -> tuple[str, ...]:
        """Stages a module exports as part of its run (none when its exports are off)."""
        if not self.exports_enabled(module) or module not in self.all.modules:
            return ()
        return self.chosen_stages(module)


def load_config(data: Mapping[str, Any] | None, *, base_dir: str | Path | None = None) -> Config:
    """Validate a configuration mapping (e.g. Snakemake's ``config``) once, at the start.

    Unknown keys, wrong types and unknown stage names raise :class:`ConfigError` with one
    sentence naming the key and the valid choices. Relative paths are resolved against
    ``base_dir``.
    """
    check_moved_keys(data or {})
    config = parse_dataclass(Config, dict(data or {}), "")
    for module in config.all.modules:
        if module not in MODULES:
            raise ConfigError(
                f"all.modules: unknown module {module!r}; valid modules are {', '.join(MODULES)}."
            )
    shown = config.aggregate.montage_channels or ()
    missing = [c for c in shown if c not in config.phenotype.channel_names]
    if missing:
        raise ConfigError(
            f"aggregate.montage_channels: {missing} are not among phenotype.channel_names "
            f"{list(config.phenotype.channel_names)}."
        )
    if base_dir is None:
        return config
    base = Path(base_dir)

    def resolve(value: str | None) -> str | None:
        return None if value is None else str((base / value).resolve())

    return dataclasses.replace(
        config,
        all=dataclasses.replace(config.all, root_fp=resolve(config.all.root_fp)),
        preprocess=dataclasses.replace(
            config.preprocess,
            **{
                m: dataclasses.replace(s, samples_fp=resolve(s.samples_fp))
                for m, s in (
                    ("sbs", config.preprocess.sbs),
                    ("phenotype", config.preprocess.phenotype),
                )
            },
        ),
        sbs=dataclasses.replace(config.sbs, library_path=resolve(config.sbs.library_path)),
    )


def reference_table() -> str:
    """The README's configuration reference: one Markdown row per key, with its default."""
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    config = Config()
    for section in dataclasses.fields(config):
        for key, kind, default, text in doc_rows(getattr(config, section.name), section.name):
            text = text.replace("|", "\\|")
            lines.append(f"| `{key}` | {kind} | `{default}` | {text} |")
    return "\n".join(lines) + "\n"


def config_schema() -> dict[str, Any]:
    """JSON schema of the configuration, for Snakemake's ``validate`` and editors."""
    schema = schema_for(Config, Config())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
