"""A deterministic synthetic optical pooled screen with ground truth.

Tests and ``opsflow demo`` run on it, so the project needs no download. The generator
writes what a microscope gives (acquisition-style TIFFs, channels in acquisition order)
and, beside it, the truth every later module can be checked against.
"""

from opsflow.synth._geometry import NucleiSide, WellGeometry, well_nuclei
from opsflow.synth._library import make_library
from opsflow.synth._params import BASES, SynthParams
from opsflow.synth._render import SbsTile, illumination_field, make_sbs_tile
from opsflow.synth._render_phenotype import PhenotypeTile, make_phenotype_tile
from opsflow.synth._write import phenotype_raw_name, sbs_raw_name, stage_position, write_screen

__all__ = [
    "BASES",
    "NucleiSide",
    "PhenotypeTile",
    "SbsTile",
    "SynthParams",
    "WellGeometry",
    "illumination_field",
    "make_library",
    "make_phenotype_tile",
    "make_sbs_tile",
    "phenotype_raw_name",
    "sbs_raw_name",
    "stage_position",
    "well_nuclei",
    "write_screen",
]
