"""Phenotype module: a corrected, aligned, segmented and measured phenotype tile.

Steps, each named after its output: :func:`illumination_corrected`,
:func:`align_channels` (``aligned``), :func:`segment_phenotype` (``nuclei``, ``cells``,
with the segmenter SBS uses), :func:`identify_cytoplasm` (``identified_cytoplasms``),
:func:`extract_features` (per-cell features) and :func:`extract_minimal` (the table
merged with SBS); the ``*_step`` functions apply :class:`PhenotypeParams`, which holds
every setting with its default.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "align": [
            "align_channels",
            "apply_channel_shifts",
            "estimate_channel_shifts",
            "registration_image",
        ],
        "cytoplasm": ["LabelMismatchError", "identify_cytoplasm"],
        "features": [
            "COMPARTMENTS",
            "GEOMETRY",
            "STATS",
            "extract_features",
            "extract_minimal",
            "feature_columns",
            "foci_per_cell",
            "minimal_columns",
        ],
        "illumination": ["illumination_corrected"],
        "params": [
            "ALIGN_METHODS",
            "AlignStep",
            "CYTO_REDUCERS",
            "ChannelAlignParams",
            "FociParams",
            "PhenotypeParams",
            "phenotype_segment_params",
        ],
        "pipeline": [
            "align_step",
            "align_tile",
            "features_step",
            "illumination_corrected_step",
            "segment_step",
        ],
        "segmentation": ["segment_phenotype"],
    },
)

__all__ = [
    "align_step",
    "features_step",
    "illumination_corrected_step",
    "segment_step",
    "ALIGN_METHODS",
    "COMPARTMENTS",
    "CYTO_REDUCERS",
    "GEOMETRY",
    "STATS",
    "AlignStep",
    "ChannelAlignParams",
    "FociParams",
    "LabelMismatchError",
    "PhenotypeParams",
    "align_channels",
    "align_tile",
    "apply_channel_shifts",
    "estimate_channel_shifts",
    "extract_features",
    "extract_minimal",
    "feature_columns",
    "foci_per_cell",
    "identify_cytoplasm",
    "illumination_corrected",
    "minimal_columns",
    "phenotype_segment_params",
    "registration_image",
    "segment_phenotype",
]
