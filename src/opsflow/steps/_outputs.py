"""The table of outputs: every file the workflow writes, where, and what it holds.

One row per output. Its path is ``{root}/{module}/{folder}/{stem}__{what}.{ext}`` with
the stem built from its wildcards (DESIGN.md); Snakemake targets and rules, the export
stores, ``opsflow du``, the demo and the tests all read paths from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opsflow.errors import lookup
from opsflow.paths import file_name

__all__ = ["OUTPUTS", "Output", "get_output"]

TILE = ("plate", "well", "tile")
WELL = ("plate", "well")
WELL_CYCLE = ("plate", "well", "cycle")
PLATE = ("plate",)


@dataclass(frozen=True, kw_only=True)
class Output:
    """One kind of output file.

    Attributes
    ----------
    key
        Unique name; rules and export stages refer to outputs by it.
    module, folder, what, ext
        Where it goes: ``{module}/{folder}/{stem}__{what}.{ext}``.
    modality
        ``sbs`` or ``phenotype``: whose samples give its wildcard values.
    wildcards
        Which of plate, well, tile, cycle name one file.
    axes
        Axes of an image (cycles on ``t``); None for tables.
    target
        Part of the module's ``all_{module}`` target (a final output of the module).
    switch
        A boolean configuration key (``section.key``) without which the output is no
        target (an optional export).
    """

    key: str
    module: str
    folder: str
    what: str
    modality: str
    wildcards: tuple[str, ...] = TILE
    ext: str = "tiff"
    axes: str | None = None
    target: bool = False
    switch: str | None = None

    def pattern(self, root: str | Path) -> Path:
        """Path with ``{plate}``-style wildcards, e.g. ``.../P-{plate}_W-{well}__x.tiff``."""
        name = file_name(
            "{plate}",
            "{well}" if "well" in self.wildcards else None,
            self.what,
            self.ext,
            tile="{tile}" if "tile" in self.wildcards else None,
            cycle="{cycle}" if "cycle" in self.wildcards else None,
        )
        return Path(root) / self.module / self.folder / name

    @property
    def is_image(self) -> bool:
        """Whether the output is a TIFF image (else a table)."""
        return self.ext == "tiff"

    def enabled(self, config: object) -> bool:
        """Whether the configuration asks for this output (see ``switch``)."""
        if self.switch is None:
            return True
        section, key = self.switch.split(".")
        return bool(getattr(getattr(config, section), key))


def _pre(key: str, folder: str, what: str, modality: str, **kw: object) -> Output:
    return Output(
        key=key, module="preprocess", folder=f"{folder}/{modality}", what=what,
        modality=modality, **kw,
    )  # fmt: skip


def _sbs(key: str, what: str, axes: str | None = None, **kw: object) -> Output:
    folder = "images" if axes else kw.pop("folder", "tsvs")
    return Output(key=key, module="sbs", folder=folder, what=what, modality="sbs", axes=axes, **kw)


def _ph(key: str, what: str, axes: str | None = None, **kw: object) -> Output:
    folder = "images" if axes else kw.pop("folder", "tsvs")
    return Output(
        key=key, module="phenotype", folder=folder, what=what, modality="phenotype",
        axes=axes, **kw,
    )  # fmt: skip


_TSV = {"ext": "tsv"}
_WELL_PARQUET = {"ext": "parquet", "folder": "parquets", "wildcards": WELL, "target": True}


def _merge(key: str, what: str, **kw: str) -> Output:
    # modality "both": one file per well that both the SBS and the phenotype samples have
    return Output(key=key, module="merge", what=what, modality="both", **{**_WELL_PARQUET, **kw})


def _agg(key: str, what: str, folder: str = "parquets", **kw: object) -> Output:
    # one file per plate of the wells both modalities have
    return Output(
        key=key, module="aggregate", folder=folder, what=what, modality="both",
        wildcards=PLATE, **{"ext": "parquet", "target": True, **kw},
    )  # fmt: skip


OUTPUTS: tuple[Output, ...] = (
    # preprocess: converted tiles, their metadata, illumination fields
    # one stack per SBS tile, cycles on t: the aligned stage's shape, and one file (not one
    # per cycle) for the planner to track
    _pre("convert_sbs", "images", "image", "sbs", axes="tcyx", target=True),
    _pre("convert_sbs_metadata", "metadata", "metadata", "sbs", wildcards=TILE, ext="parquet"),
    _pre(
        "combine_metadata_sbs",
        "metadata",
        "combined_metadata",
        "sbs",
        wildcards=WELL,
        ext="parquet",
        target=True,
    ),
    _pre(
        "calculate_ic_sbs",
        "ic_fields",
        "ic_field",
        "sbs",
        wildcards=WELL_CYCLE,
        axes="cyx",
        target=True,
    ),
    _pre("convert_phenotype", "images", "image", "phenotype", axes="cyx", target=True),
    _pre("convert_phenotype_metadata", "metadata", "metadata", "phenotype", ext="parquet"),
    _pre(
        "combine_metadata_phenotype",
        "metadata",
        "combined_metadata",
        "phenotype",
        wildcards=WELL,
        ext="parquet",
        target=True,
    ),
    _pre(
        "calculate_ic_phenotype",
        "ic_fields",
        "ic_field",
        "phenotype",
        wildcards=WELL,
        axes="cyx",
        target=True,
    ),
    # sbs
    _sbs("align_sbs", "aligned", "tcyx"),
    _sbs("log_filter", "log_filtered", "tcyx"),
    _sbs("compute_standard_deviation", "standard_deviation", "yx"),
    _sbs("find_peaks", "peaks", "yx"),
    _sbs("max_filter", "max_filtered", "tcyx"),
    _sbs("apply_ic_field_sbs", "illumination_corrected", "cyx"),
    _sbs("segment_sbs_nuclei", "nuclei", "yx"),
    _sbs("segment_sbs_cells", "cells", "yx"),
    _sbs("segment_sbs_stats", "segmentation_stats", **_TSV, target=True),
    _sbs("extract_bases", "bases", **_TSV),
    _sbs("call_reads", "reads", **_TSV),
    _sbs("call_cells", "cells", **_TSV),
    _sbs("extract_sbs_info", "sbs_info", **_TSV),
    _sbs("combine_reads", "reads", **_WELL_PARQUET),
    _sbs("combine_cells", "cells", **_WELL_PARQUET),
    _sbs("combine_sbs_info", "sbs_info", **_WELL_PARQUET),
    # phenotype
    _ph("apply_ic_field_phenotype", "illumination_corrected", "cyx"),
    _ph("align_phenotype", "aligned", "cyx"),
    _ph("segment_phenotype_nuclei", "nuclei", "yx"),
    _ph("segment_phenotype_cells", "cells", "yx"),
    _ph("segment_phenotype_stats", "segmentation_stats", **_TSV, target=True),
    _ph("identify_cytoplasm", "identified_cytoplasms", "yx"),
    _ph("extract_phenotype", "phenotype_cp", **_TSV),
    _ph("extract_phenotype_minimal", "phenotype_cp_min", **_TSV),
    _ph("combine_phenotype", "phenotype_cp", **_WELL_PARQUET),
    _ph("combine_phenotype_minimal", "phenotype_cp_min", **_WELL_PARQUET),
    # merge: per well of both modalities
    _merge("merge", "merge"),
    _merge("merge_transform", "merge_transform"),
    _merge("merge_tile_pairs", "merge_tile_pairs"),
    _merge("merged_cells", "merged_cells"),
    _merge("merge_qc", "merge_qc", ext="png", folder="plots"),
    # aggregate: per plate
    _agg("gene_features", "gene_features"),
    _agg("sgrna_features", "sgrna_features"),
    _agg("hits", "hits"),
    _agg("cells_anndata", "cells", folder="anndata", ext="h5ad"),
    _agg("montage_picks", "montage_cells", target=False),
    _agg("montage", "montage", folder="montages", ext="tiff", axes="tcyx"),
    _agg("montage_labels", "montage_cells", folder="montages", ext="tiff", axes="tyx"),
    _agg("montage_png", "montage", folder="plots", ext="png"),
    _agg(
        "montage_omezarr",
        "montage",
        folder="omezarr",
        ext="ome.zarr",
        switch="aggregate.omezarr_export_montages",
    ),
)

_BY_KEY = {o.key: o for o in OUTPUTS}


def get_output(key: str) -> Output:
    """The output called ``key``, or a ``ConfigError`` listing every valid key."""
    return lookup(_BY_KEY, key, "output")
