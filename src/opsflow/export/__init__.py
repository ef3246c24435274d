"""The OME-Zarr export layer: the stage registry and one export function for all stages."""

from opsflow.export._export import export_stage, pixel_size_from_metadata
from opsflow.export._stages import (
    STAGES,
    Channels,
    Stage,
    channel_labels,
    default_stages,
    get_stage,
    stages_of,
)

__all__ = [
    "STAGES",
    "Channels",
    "Stage",
    "channel_labels",
    "default_stages",
    "export_stage",
    "get_stage",
    "pixel_size_from_metadata",
    "stages_of",
]
