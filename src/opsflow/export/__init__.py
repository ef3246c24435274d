"""The OME-Zarr export layer: the stage registry and one export function for all stages."""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_export": ["export_mosaic", "export_stage", "pixel_size_from_metadata"],
        "_mosaic": ["Mosaic", "TilePlacement", "label_offsets", "place_tiles"],
        "_paramsearch": ["parse_setting", "segmentation_grid", "segmentation_search"],
        "_stages": [
            "Channels",
            "STAGES",
            "Stage",
            "channel_labels",
            "default_stages",
            "get_stage",
            "home_stage",
            "stages_of",
        ],
    },
)

__all__ = [
    "parse_setting",
    "segmentation_grid",
    "segmentation_search",
    "STAGES",
    "Channels",
    "Mosaic",
    "Stage",
    "TilePlacement",
    "channel_labels",
    "default_stages",
    "export_mosaic",
    "export_stage",
    "get_stage",
    "home_stage",
    "label_offsets",
    "place_tiles",
    "pixel_size_from_metadata",
    "stages_of",
]
