"""Where the OME-Zarr exports of a configured screen go, and what each export job reads.

Every image of an exported stage has a store of its own, named like its TIFF (its
job's wildcards name it). Two layouts (``all.omezarr_layout``): ``tiles``, those stores
alone, and ``plate``, one NGFF HCS plate per stage and plate beside them, whose fields
are relative links to the stores (a plate field's row and column are no wildcards of
the job that computes the tile, so no job could declare the field itself; a link costs
nothing to write and a rebuilt tile is seen by the plate at once). Well mosaics,
stitched from the stage positions, sit beside either.

The plate, row and well metadata are the output of one job per plate whose inputs are
all its tile stores; its declared output is the plate's root metadata file, so no
output is nested in another job's ``directory()``. Stores are targets too (Snakemake
rebuilds a deleted file only where something needs it), so a deleted store is rebuilt
alone and the plate metadata after it; a second run does nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsflow.errors import ConfigError
from opsflow.export import STAGES, Stage, get_stage
from opsflow.io import well_position
from opsflow.steps._outputs import TILE, get_output

if TYPE_CHECKING:
    from opsflow.steps._table import Step
    from opsflow.steps._workflow import Workflow

__all__ = ["MOSAIC_SUFFIX", "StoresMixin", "field_name", "parse_field"]

log = logging.getLogger(__name__)

Wildcards = Mapping[str, str]
#: how a well mosaic's store name ends (the other stores are a tile's)
MOSAIC_SUFFIX = "_mosaic.ome.zarr"
_FIELD = re.compile(r"^(?P<tile>\d+)?(?:c(?P<cycle>\d+))?$")


def field_name(wildcards: Wildcards) -> str:
    """A field's path in its well: the tile, ``c`` and the cycle where there is one.

    >>> field_name({"tile": "3"}), field_name({"tile": "3", "cycle": "11"}), field_name({})
    ('3', '3c11', '0')
    """
    tile, cycle = wildcards.get("tile"), wildcards.get("cycle")
    name = (tile or "") + (f"c{cycle}" if cycle is not None else "")
    return name or "0"


def parse_field(name: str) -> dict[str, str]:
    """The tile and cycle a field name stands for (the inverse of :func:`field_name`)."""
    match = _FIELD.match(name)
    if match is None:
        raise ConfigError(f"field {name!r}: expected a tile number, c and a cycle, or both.")
    return {k: v for k, v in match.groupdict().items() if v is not None}


class StoresMixin:
    """Store paths, export inputs and store targets of a :class:`Workflow`."""

    def _omezarr_dir(self: Workflow, stage: Stage) -> Path:
        return self.root / stage.module / "omezarr" / stage.store_dir

    @property
    def layout(self: Workflow) -> str:
        """``plate`` or ``tiles`` (``all.omezarr_layout``)."""
        return self.config.all.omezarr_layout

    def store_pattern(self: Workflow, stage: Stage) -> str:
        """Tile layout: a stage's store, beside the module's outputs, named like its image."""
        pattern = self._patterns.get(stage)
        if pattern is None:
            stem = get_output(stage.image).pattern(self.root).name.split("__")[0]
            pattern = str(self._omezarr_dir(stage) / f"{stem}__{stage.store_what}.ome.zarr")
            self._patterns[stage] = pattern
        return pattern

    def plate_pattern(self: Workflow, stage: Stage) -> str:
        """Plate layout: a stage's plate store, ``P-{plate}__{what}.ome.zarr``."""
        return str(self._omezarr_dir(stage) / f"P-{{plate}}__{stage.store_what}.ome.zarr")

    def field_pattern(self: Workflow, stage: Stage) -> str:
        """Plate layout: one field, ``{plate store}/{row}/{column}/{field}``."""
        return f"{self.plate_pattern(stage)}/{{row}}/{{column}}/{{field}}"

    def plate_metadata_pattern(self: Workflow, stage: Stage) -> str:
        """The file that stands for a plate's metadata job (its root group metadata)."""
        name = "zarr.json" if self.config.all.omezarr_ngff_version == "0.5" else ".zattrs"
        return f"{self.plate_pattern(stage)}/{name}"

    def mosaic_pattern(self: Workflow, stage: Stage) -> str:
        """A stage's stitched well, ``P-{plate}_W-{well}__{what}_mosaic.ome.zarr``."""
        name = f"P-{{plate}}_W-{{well}}__{stage.store_what}{MOSAIC_SUFFIX}"
        return str(self._omezarr_dir(stage) / name)

    # -------------------------------------------------------------- export jobs
    def export_each(self: Workflow, stage: Stage) -> tuple[str, ...]:
        """Wildcards whose every value one export job covers: the cycles of a tile (or well)."""
        return ("cycle",) if "cycle" in get_output(stage.image).wildcards else ()

    def export_outputs(self: Workflow, stage: Stage) -> dict[str, str]:
        """The stores one export job writes, by name (one per cycle of a tile's stage)."""
        pattern = self.store_pattern(stage)
        if not self.export_each(stage):
            return {"store": pattern}
        cycles = self.combos(get_output(stage.image), {}, ("cycle",))
        return {f"store_{c['cycle']}": pattern.replace("{cycle}", c["cycle"]) for c in cycles}

    def export_runs(self: Workflow, stage: Stage, wildcards: Wildcards) -> list[dict[str, str]]:
        """The image wildcards of every image one export job writes (one unless cycles)."""
        wc = dict(wildcards)
        if not self.export_each(stage):
            return [wc]
        return [{**wc, **c} for c in self.combos(get_output(stage.image), wc, ("cycle",))]

    def export_log(self: Workflow, stage: Stage, rule: str | None = None) -> str:
        """Log of an export job (``rule``, else the stage's), named by its outputs' wildcards."""
        image = get_output(stage.image)
        kept = tuple(w for w in image.wildcards if w not in self.export_each(stage))
        pattern = str(replace(image, wildcards=kept).pattern(""))
        return self.log_pattern_of(rule or stage.rule, pattern)

    def metadata_of(self: Workflow, modality: str, wildcards: Wildcards) -> str:
        """The metadata table that gives an image's pixel size: its tile's, else its well's.

        A tile's own table, not the well's: a job per tile that waited for the well's
        would wait for every tile's conversion, and Snakemake checks each such input
        against the thousands of files the well's table gathers.
        """
        if "tile" in wildcards:
            return self.path(f"convert_{modality}_metadata", wildcards)
        return self.path(f"combine_metadata_{modality}", wildcards)

    def export_inputs(self: Workflow, stage: Stage, wildcards: Wildcards) -> dict[str, str]:
        """Image, metadata table and label masks an export job reads (image wildcards)."""
        wc = dict(wildcards)
        metadata = self.metadata_of(stage.modality, wc)
        labels = {label: self.path(key, wc) for label, key in stage.labels}
        return {"image": self.path(stage.image, wc), "metadata": metadata, **labels}

    def export_job_inputs(self: Workflow, stage: Stage, wildcards: Wildcards) -> dict[str, str]:
        """Everything one export job reads, as Snakemake takes it (one name per file)."""
        inputs: dict[str, str] = {}
        for wc in self.export_runs(stage, wildcards):
            suffix = f"_{wc['cycle']}" if self.export_each(stage) else ""
            for name, path in self.export_inputs(stage, wc).items():
                inputs[name if name == "metadata" else name + suffix] = path
        return inputs

    # ------------------------------------------------------- export jobs of a compute job
    def export_group(self: Workflow, step: Step) -> list[Stage]:
        """The stages one export job writes after a compute job (TIFF compute format).

        Every exported stage whose image the job computes: one export job per tile (or
        well) instead of one per stage, since a job costs Snakemake as much to plan as
        an export costs to write.
        """
        return [] if self.compute_omezarr else self.job_stages(step)

    def group_outputs(self: Workflow, stages: list[Stage]) -> dict[str, str]:
        """The stores of an export group, by name (``{stage}`` or ``{stage}_{cycle}``)."""
        return {
            f"{stage.name}{name.removeprefix('store')}": path
            for stage in stages
            for name, path in self.export_outputs(stage).items()
        }

    def group_inputs(self: Workflow, stages: list[Stage], wildcards: Wildcards) -> dict[str, str]:
        """What an export group reads: each file once (its first stage names it).

        Stages of a group share images (a segmentation store holds the image another
        stage exports), and Snakemake plans each name it is given; the export reads its
        files through :meth:`export_inputs`, not these names.
        """
        inputs: dict[str, str] = {}
        for stage in stages:
            for name, path in self.export_job_inputs(stage, wildcards).items():
                if path not in inputs.values():
                    inputs[name if name == "metadata" else f"{stage.name}_{name}"] = path
        return inputs

    def group_log(self: Workflow, step: Step) -> str:
        """Log of a compute job's export job: ``logs/export_{job}_omezarr/{stem}.log``."""
        return self.export_log(self.export_group(step)[0], f"export_{step.name}_omezarr")

    # ------------------------------------------------------------------ plate jobs
    def _images(self: Workflow, stage: Stage, wildcards: Wildcards) -> list[dict[str, str]]:
        output = get_output(stage.image)
        return self.combos(output, wildcards, output.wildcards)

    def plate_fields(self: Workflow, stage: Stage, plate: str) -> dict[str, list[str]]:
        """Field names of every well of a plate, in the samples' order."""
        fields: dict[str, list[str]] = {}
        for combo in self._images(stage, {"plate": plate}):
            fields.setdefault(combo["well"], []).append(field_name(combo))
        return fields

    def field_paths(self: Workflow, stage: Stage, plate: str) -> list[str]:
        """Every field directory of a plate: the inputs of its metadata job."""
        root = self.plate_pattern(stage).format(plate=plate)
        return [
            f"{root}/{'/'.join(well_position(well))}/{name}"
            for well, names in self.plate_fields(stage, plate).items()
            for name in names
        ]

    def plate_links(self: Workflow, stage: Stage, plate: str) -> dict[str, str]:
        """Computed as OME-Zarr: each field of a plate and the tile store it links to."""
        fields = self.field_paths(stage, plate)
        stores = [
            self.store_pattern(stage).format(**c) for c in self._images(stage, {"plate": plate})
        ]
        return dict(zip(fields, stores, strict=True))

    def mosaic_inputs(self: Workflow, stage: Stage, wildcards: Wildcards) -> dict[str, Any]:
        """Every tile image of a well (and its masks), and the well's metadata table.

        Read where the steps wrote them: TIFFs, or stores and their label images.
        """
        tiles = self._images(stage, {"plate": wildcards["plate"], "well": wildcards["well"]})
        inputs: dict[str, Any] = {
            "images": [self.written(stage.image, t) for t in tiles],
            "metadata": self.path(f"combine_metadata_{stage.modality}", wildcards),
        }
        for label, key in stage.labels:
            inputs[label] = [self.written(key, t) for t in tiles]
        return inputs

    def mosaic_tiles(self: Workflow, stage: Stage, wildcards: Wildcards) -> list[int]:
        """Tile numbers of a well, in the order of :meth:`mosaic_inputs`."""
        well = {"plate": wildcards["plate"], "well": wildcards["well"]}
        return [int(t["tile"]) for t in self._images(stage, well)]

    # ------------------------------------------------------------------ targets
    def mosaic_stages(self: Workflow, module: str) -> list[Stage]:
        """Stages of a module stitched into well mosaics (tile images only)."""
        names = getattr(self.config.section(module), "omezarr_mosaic_stages", ())
        stages = [get_stage(n) for n in names]
        bad = [s.name for s in stages if get_output(s.image).wildcards != TILE]
        if bad:
            valid = [
                s.name
                for s in STAGES
                if s.module == module and get_output(s.image).wildcards == TILE
            ]
            raise ConfigError(
                f"{module}.omezarr_mosaic_stages: {', '.join(bad)} have no single image per "
                f"tile to stitch; choose among {', '.join(valid)}."
            )
        off = [s for s in stages if s.modality in self.positions_missing]
        for stage in off:
            log.warning(
                "%s: no well mosaics, the %s raw files record no stage positions.",
                stage.name,
                stage.modality,
            )
        return [s for s in stages if s not in off]

    def stage_stores(self: Workflow, stage: Stage) -> list[str]:
        """What an exported stage's run produces: its tile stores, and plate metadata.

        Every store is a target of its own: Snakemake rebuilds a missing file only where
        something needs it, and a plate whose metadata is up to date needs nothing.
        """
        images = self._images(stage, {})
        tiles = [self.store_pattern(stage).format(**c) for c in images]
        if self.layout == "tiles":
            return tiles
        plates = dict.fromkeys(c["plate"] for c in images)
        return tiles + [self.plate_metadata_pattern(stage).format(plate=p) for p in plates]

    def mosaic_targets(self: Workflow, stage: Stage) -> list[str]:
        """The well mosaics of a stage, one per (plate, well)."""
        wells = {(c["plate"], c["well"]): None for c in self._images(stage, {})}
        return [self.mosaic_pattern(stage).format(plate=p, well=w) for p, w in wells]

    def store_dirs(self: Workflow, module: str, *, enabled_only: bool) -> list[str]:
        """Store directories (tile stores, plates, mosaics) of :meth:`store_targets`."""
        stores = []
        for target in map(Path, self.store_targets(module, enabled_only=enabled_only)):
            stores.append(next(p for p in (target, *target.parents) if p.suffix == ".zarr"))
        return list(dict.fromkeys(map(str, stores)))

    def store_targets(self: Workflow, module: str, *, enabled_only: bool) -> list[str]:
        """Stores (or plate metadata files) and mosaics of a module's chosen stages.

        With ``enabled_only``, none when the module's exports are off.
        """
        key = f"{module} stores{' enabled' if enabled_only else ''}"
        if key not in self._targets:  # asked for by several rules: built once
            self._targets[key] = self._store_targets(module, enabled_only=enabled_only)
        return list(self._targets[key])

    def _store_targets(self: Workflow, module: str, *, enabled_only: bool) -> list[str]:
        config = self.config
        names = config.export_stages(module) if enabled_only else config.chosen_stages(module)
        names = list(dict.fromkeys([*names, *(s.name for s in self.stages_read(module))]))
        stores = [p for name in names for p in self.stage_stores(get_stage(name))]
        if not enabled_only or (config.exports_enabled(module) and module in config.all.modules):
            stores += [p for s in self.mosaic_stages(module) for p in self.mosaic_targets(s)]
        return stores
