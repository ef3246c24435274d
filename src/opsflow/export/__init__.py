"""The OME-Zarr export layer: the stage registry and one export function for all stages."""

from opsflow.export._export import export_mosaic, export_stage, pixel_size_from_metadata
from opsflow.export._mosaic import Mosaic, TilePlacement, label_offsets, place_tiles
from opsflow.export._paramsearch import parse_setting, segmentation_grid, segmentation_search
from opsflow.export._stages import (
    STAGES,
    Channels,
    Stage,
    channel_labels,
    default_stages,
    get_stage,
    home_stage,
    stages_of,
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
