"""Where each image checkpoint is written and read from: a TIFF, or an OME-Zarr store.

Three ways to run (the plan's format-aware pipeline):

- ``all.compute_format: tiff`` (default): steps write TIFFs and read TIFFs; one export
  job per compute job copies the exported stages of the images it computed into their
  stores (one job per tile, not one per stage and tile: planning a screen costs per
  job). A chosen stage whose module's exports are off has export jobs of its own, run
  when asked for (``all_{module}_omezarr``).
- ``sbs.input_format`` / ``phenotype.input_format: omezarr``: steps still write TIFFs,
  but read that modality's images from the exported stores, which are therefore
  exported.
- ``all.compute_format: omezarr``: steps write every image checkpoint straight into its
  stage's store instead of a TIFF, and read them from there.

Either way a stage's store is one per image at the tiles layout's path (its job's
wildcards name it, which a plate field's row and column cannot); in the plate layout
each plate's fields are links to those stores.

A mask is read as the label image of its stage's store (``.../labels/cells``); the
Snakemake dependency is the store (or field) that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opsflow.errors import ConfigError
from opsflow.export import STAGES, Stage, home_stage
from opsflow.paths import MODULES
from opsflow.steps._jobs import JOBS
from opsflow.steps._outputs import OUTPUTS, get_output
from opsflow.steps._table import Step

if TYPE_CHECKING:
    from opsflow.steps._workflow import Workflow

__all__ = ["FormatsMixin", "dependency"]

Wildcards = Mapping[str, str]
_LABEL = re.compile(r"/labels/[^/]+$")


def dependency(path: str) -> str:
    """The file or directory Snakemake tracks for a read path (a label's store)."""
    return _LABEL.sub("", path)


class FormatsMixin:
    """Compute and input formats of a :class:`Workflow`."""

    @property
    def compute_omezarr(self: Workflow) -> bool:
        """Whether steps write their images as OME-Zarr (``all.compute_format``)."""
        return self.config.all.compute_format == "omezarr"

    def written_store(self: Workflow, key: str) -> tuple[Stage, str | None] | None:
        """The stage store (and label) an image output is written into, or None (a file)."""
        return home_stage(key) if self.compute_omezarr else None

    def read_store(self: Workflow, key: str) -> tuple[Stage, str | None] | None:
        """The stage store (and label) an image output is read from, or None (a file)."""
        output = get_output(key)
        home = home_stage(key) if output.is_image else None
        if home is None or self.compute_omezarr:
            return home
        section = getattr(self.config, output.modality, None)
        return home if getattr(section, "input_format", "tiff") == "omezarr" else None

    def source(self: Workflow, key: str, wildcards: Wildcards) -> str:
        """The path a step reads an output from (a label image inside a store for a mask)."""
        home = self.read_store(key)
        if home is None:
            return self.path(key, wildcards)
        stage, label = home
        where = (
            self.path(key, wildcards) if self.compute_omezarr else self.exported(stage, wildcards)
        )
        return f"{where}/{'labels/' + label if label else ''}".rstrip("/")

    def written(self: Workflow, key: str, wildcards: Wildcards) -> str:
        """The path a step wrote an output to (a label image inside a store for a mask)."""
        home = self.written_store(key)
        if home is None or home[1] is None:
            return self.path(key, wildcards)
        return f"{self.path(key, wildcards)}/labels/{home[1]}"

    def exported(self: Workflow, stage: Stage, wildcards: Wildcards) -> str:
        """The store of one image of a stage (a plate's field links to it)."""
        image = get_output(stage.image)
        return self.store_pattern(stage).format(**{w: wildcards[w] for w in image.wildcards})

    def exported_stages(self: Workflow) -> frozenset[str]:
        """Stages whose stores the run writes: each module's enabled ones and those read."""
        if self._exported is None:
            config = self.config
            names = {n for m in MODULES for n in config.export_stages(m)}
            names |= {s.name for m in MODULES for s in self.stages_read(m)}
            self._exported = frozenset(names)
        return self._exported

    def job_stages(self: Workflow, step: Step) -> list[Stage]:
        """The exported stages whose images (or masks) a compute job computes.

        Computed as OME-Zarr, the stores the job writes instead of TIFFs (every image
        output's); else the stages its export job writes from those TIFFs afterwards.
        """
        if self.compute_omezarr:
            homes = (home_stage(k) for k in step.outputs)
            return list({h[0].name: h[0] for h in homes if h is not None}.values())
        return [
            stage
            for stage in STAGES
            if stage.name in self.exported_stages()
            and (stage.labels[0][1] if stage.labels else stage.image) in step.outputs
        ]

    def stores_written(self: Workflow, step: Step) -> list[Stage]:
        """The stages whose stores a compute job writes itself (``compute_format: omezarr``)."""
        return self.job_stages(step) if self.compute_omezarr else []

    def stages_read(self: Workflow, module: str) -> list[Stage]:
        """Stages of a module whose stores some step reads in place of its TIFFs.

        They are exported whatever the module's switch says (their plates completed),
        since the steps need them; with ``compute_format: omezarr`` there is no export.
        """
        if self.compute_omezarr:
            return []
        keys = {i.key for s in JOBS for i in s.inputs if i.key != "samples"}
        read = {home[0].name for k in keys if (home := self.read_store(k)) is not None}
        return [s for s in STAGES if s.name in read and s.module == module]

    def store_outputs(self: Workflow, step: Step) -> dict[str, str]:
        """A step's outputs as Snakemake names them: files, and the stores it writes."""
        outputs: dict[str, str] = {}
        for key in step.outputs:
            if self.written_store(key) is None:
                outputs[key] = self.pattern(key)
        for stage in self.stores_written(step):
            outputs[f"{stage.name}_omezarr"] = self.store_pattern(stage)
        return outputs

    def store_inputs(self: Workflow, step: Step, wildcards: Wildcards) -> dict[str, str]:
        """What a step writing stores reads besides its inputs.

        The pixel size (the tile's metadata; the convert step has its own) and, for a
        stage whose masks it adds, the stage's image where the step does not read it.
        """
        written = self.stores_written(step)
        if not written:
            return {}
        extra: dict[str, str] = {}
        modality = get_output(step.outputs[0]).modality
        if f"convert_{modality}_metadata" not in step.outputs:
            extra["metadata"] = self.metadata_of(modality, wildcards)
        have = {i.key for i in step.inputs} | set(step.outputs)
        for stage in written:
            if stage.image not in have:
                extra[f"{stage.name}_image"] = self.source(stage.image, wildcards)
        return extra

    def check_formats(self: Workflow) -> None:
        """``all.keep_tiff`` names image outputs, said before the first job."""
        keep = self.config.all.keep_tiff
        if keep is None:
            return
        images = [o.key for o in OUTPUTS if o.is_image]
        unknown = [k for k in keep if k not in images]
        if unknown:
            raise ConfigError(
                f"all.keep_tiff: {unknown} are not image outputs; choose among {', '.join(images)}."
            )

    def temporary(self: Workflow, key: str) -> bool:
        """Whether an output is a TIFF to delete once its readers are done (keep_tiff)."""
        keep = self.config.all.keep_tiff
        output = get_output(key)
        if keep is None or not output.is_image or self.written_store(key) is not None:
            return False
        return key not in keep and output.module != "aggregate"
