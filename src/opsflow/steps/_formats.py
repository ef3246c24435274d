"""Where each image checkpoint is written and read from: a TIFF, or an OME-Zarr store.

Three ways to run (the plan's format-aware pipeline):

- ``all.compute_format: tiff`` (default): steps write TIFFs and read TIFFs; exports copy
  chosen checkpoints into stores.
- ``sbs.input_format`` / ``phenotype.input_format: omezarr``: steps still write TIFFs,
  but read that modality's images from the exported stores (plate fields or tile
  stores), which are therefore exported.
- ``all.compute_format: omezarr``: steps write every image checkpoint straight into its
  stage's store, one store per image at the tiles layout's path (its rule's wildcards
  name it, which a plate field's row and column cannot), and read them from there; in
  the plate layout each plate's fields are links to those stores.

A mask is read as the label image of its stage's store (``.../labels/cells``); the
Snakemake dependency is the store (or field) that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opsflow.errors import ConfigError
from opsflow.export import STAGES, Stage, home_stage
from opsflow.io import well_position
from opsflow.steps._jobs import JOBS
from opsflow.steps._outputs import OUTPUTS, get_output
from opsflow.steps._stores import field_name
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
        """Where an export job writes one image of a stage: its tile store or plate field."""
        image = get_output(stage.image)
        wc = {w: wildcards[w] for w in image.wildcards}
        if self.layout == "tiles":
            return self.store_pattern(stage).format(**wc)
        row, column = well_position(wc["well"])
        return self.field_pattern(stage).format(
            plate=wc["plate"], row=row, column=column, field=field_name(wc)
        )

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
        """A step's outputs as Snakemake names them: one store per stage it writes into."""
        outputs: dict[str, str] = {}
        for key in step.outputs:
            home = self.written_store(key)
            if home is None:
                outputs[key] = self.pattern(key)
            else:
                outputs.setdefault(home[0].name, self.store_pattern(home[0]))
        return outputs

    def store_inputs(self: Workflow, step: Step, wildcards: Wildcards) -> dict[str, str]:
        """What a step writing stores reads besides its inputs.

        The pixel size (the tile's metadata; the convert step has its own) and, for a
        stage whose masks it adds, the stage's image where the step does not read it.
        """
        written = {h[0].name: h[0] for k in step.outputs if (h := self.written_store(k))}
        if not written:
            return {}
        extra: dict[str, str] = {}
        modality = get_output(step.outputs[0]).modality
        if f"convert_{modality}_metadata" not in step.outputs:
            extra["metadata"] = self.metadata_of(modality, wildcards)
        have = {i.key for i in step.inputs} | set(step.outputs)
        for stage in written.values():
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
