"""The configuration file written beside a synthetic screen."""

from __future__ import annotations

import json

from opsflow.synth._params import BASES, SynthParams

__all__ = ["config_text"]


def _yaml_list(items: list[str] | tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(str(i)) for i in items) + "]"


def config_text(params: SynthParams) -> str:
    """The workflow configuration of a synthetic screen, as YAML text."""
    sbs_order = tuple(reversed(params.sbs_channels))
    return f"""\
# opsflow workflow configuration for a synthetic screen (opsflow.synth, seed {params.seed}).
# Relative paths are relative to the directory of this file.
all:
  root_fp: analysis                 # output root: every module writes under it

preprocess:
  sbs:
    samples_fp: samples/sbs_samples.tsv  # sample_fp, plate, well, tile, cycle
    channel_order_flip: true        # files store {", ".join(sbs_order)}; reversed on conversion
    n_z_planes: null                # planes per channel to max-project; null = single plane
    pixel_size_um: {params.sbs_pixel_size_um}             # used only where a file has none
  phenotype:
    samples_fp: samples/phenotype_samples.tsv  # sample_fp, plate, well, tile
    channel_order_flip: false
    n_z_planes: null
    pixel_size_um: {params.phenotype_pixel_size_um}
  ic:
    percentile: 2                   # illumination field divided by this percentile

sbs:
  library_path: library.tsv         # barcode library: sgRNA, gene_symbol, gene_id, prefix
  channel_names: {_yaml_list(params.sbs_channels)}
  base_channels: {_yaml_list(BASES)}

phenotype:
  channel_names: {_yaml_list(params.phenotype_channels)}
"""
