"""The table of steps: what each workflow job reads, which kernel it calls, what it writes.

One row per Snakemake rule. The generic rule file, the file-level runner
(:func:`opsflow.steps.run_step`) and the in-memory tile runner
(:func:`opsflow.steps.run_tile`) all read these rows, so a step's wiring is written once.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from opsflow.errors import OpsflowError, lookup
from opsflow.params import kwargs

if TYPE_CHECKING:
    from opsflow.steps._workflow import Workflow

__all__ = ["STEPS", "Input", "Kernel", "Step", "call_kernel", "get_step", "run_in_memory"]

log = logging.getLogger(__name__)

Params = Callable[["Workflow", Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class Input:
    """One argument of a step's kernel, read from an output (or the raw samples).

    Attributes
    ----------
    key
        Output key, or ``"samples"`` for the raw files of the tile (and cycle).
    over
        Wildcards gathered into one argument: every value of them that the samples list
        for the job's other wildcards, in numeric order (e.g. all cycles of a tile).
    gather
        How gathered files are passed: a ``list``, a ``dict`` by the gathered wildcard,
        ``lazy`` (an iterator that reads one file at a time, for whole wells) or
        ``mapping`` (a dict-like that reads a file when it is looked up, for steps that
        need a few tiles of many).
    cycle_index
        For a per-cycle output read by a per-tile step: which of the tile's cycles, from
        the configuration (e.g. the cycle whose field corrects the segmentation image).
    lazy
        An image the kernel indexes before it computes (a few cycles or channels of
        it): passed as an :class:`~opsflow.io.ImageView`, so only those are read.
    cycle_plane
        For a per-tile stack of cycles read by a per-cycle step: only the plane of the
        job's cycle is read (a well's illumination field of one cycle).
    """

    key: str
    over: tuple[str, ...] = ()
    gather: Literal["list", "dict", "lazy", "mapping"] = "list"
    cycle_index: Callable[[Any], int] | None = None
    lazy: bool = False
    cycle_plane: bool = False


@dataclass(frozen=True)
class Kernel:
    """A step's function by name (``sbs.align_step``: in ``opsflow.sbs``), imported late.

    Every Snakemake process (and every cluster job) reads the steps table; naming the
    kernels instead of importing them keeps scipy and scikit-image out of the processes
    that only plan or that run other steps.
    """

    path: str

    @property
    def function(self) -> Callable[..., Any]:
        module, name = self.path.rsplit(".", 1)
        return getattr(importlib.import_module(f"opsflow.{module}"), name)

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(self.function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


def _no_params(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, kw_only=True)
class Step:
    """One workflow step: ``kernel(*inputs, **params(workflow, wildcards))`` -> outputs."""

    name: str
    kernel: Callable[..., Any]
    inputs: tuple[Input, ...]
    outputs: tuple[str, ...]
    params: Params = _no_params
    threads: int = 1
    mem_mb: int = 2000
    #: wildcards whose every value in the samples one job covers, one after the other
    #: (the cycles of a tile: one convert job per tile, not per image); an output
    #: without them gathers the runs' results into one: tables concatenated (the tile's
    #: metadata), images stacked on t (the tile's cycles)
    each: tuple[str, ...] = ()


def call_kernel(step: Step, args: list[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Call a step's kernel and name its results by output key."""
    result = step.kernel(*args, **params)
    results = result if len(step.outputs) > 1 else (result,)
    if len(results) != len(step.outputs):
        raise OpsflowError(
            f"step {step.name}: expected {len(step.outputs)} results, found {len(results)}."
        )
    return dict(zip(step.outputs, results, strict=True))


def run_in_memory(
    steps: Iterable[Step], values: Mapping[str, Any], params: Callable[[Step], Mapping[str, Any]]
) -> dict[str, Any]:
    """Each step's kernel, in order, on the values so far (by output key); all the values.

    What a chained job and an in-memory tile run share; each step's time is logged.
    """
    values = dict(values)
    for step in steps:
        start = time.perf_counter()
        values.update(call_kernel(step, [values[i.key] for i in step.inputs], params(step)))
        log.info("%s done in %.2f s", step.name, time.perf_counter() - start)
    return values


def _settings(section: str) -> Params:
    return lambda w, wc: {"p": getattr(w.config, section)}


def _convert_params(modality: str) -> Params:
    def params(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
        inputs = getattr(w.config.preprocess, modality)
        return {
            "plate": wc["plate"],
            "well": wc["well"],
            "tile": int(wc["tile"]),
            "cycle": int(wc["cycle"]) if "cycle" in wc else None,
            **kwargs(inputs, without=("samples_fp",)),
            "channel_names": getattr(w.config, modality).channel_names,
        }

    return params


def _ic_params(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return kwargs(w.config.preprocess.ic)


def _well(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return {"plate": wc["plate"], "well": wc["well"]}


def _preprocess_steps(modality: str, per_tile: tuple[str, ...]) -> tuple[Step, ...]:
    image, metadata = f"convert_{modality}", f"convert_{modality}_metadata"
    return (
        Step(
            name=f"convert_{modality}",
            kernel=Kernel("preprocess.convert_step"),
            inputs=(Input("samples"),),
            outputs=(image, metadata),
            params=_convert_params(modality),
            each=("cycle",) if "cycle" in per_tile else (),
        ),
        Step(
            name=f"combine_metadata_{modality}",
            kernel=Kernel("preprocess.combine_metadata_tables"),
            inputs=(Input(metadata, over=("tile",)),),
            outputs=(f"combine_metadata_{modality}",),
            mem_mb=1000,
        ),
        Step(
            name=f"calculate_ic_{modality}",
            kernel=Kernel("preprocess.calculate_ic_field"),
            inputs=(Input(image, over=("tile",), gather="lazy", cycle_plane="cycle" in per_tile),),
            outputs=(f"calculate_ic_{modality}",),
            params=_ic_params,
            mem_mb=4000,
        ),
    )


def _one(name: str, kernel: str, inputs: tuple[str, ...], section: str | None,
         mem_mb: int = 2000, outputs: tuple[str, ...] | None = None) -> Step:  # fmt: skip
    return Step(
        name=name,
        kernel=Kernel(kernel),
        inputs=tuple(Input(k) for k in inputs),
        outputs=outputs or (name,),
        params=_settings(section) if section else _no_params,
        mem_mb=mem_mb,
    )


def _combine(name: str, per_tile: str) -> Step:
    return Step(
        name=name,
        kernel=Kernel("tables.combine_tiles"),
        inputs=(Input(per_tile, over=("tile",), gather="dict"),),
        outputs=(name,),
        params=_well,
    )


def _n_cycles(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return {"p": w.config.sbs, "n_cycles": len(w.tile_cycles(wc))}


def _library(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return {"p": w.config.sbs, "library": w.library()}


_SBS_SEGMENT = ("segment_sbs_nuclei", "segment_sbs_cells", "segment_sbs_stats")
_PH_SEGMENT = ("segment_phenotype_nuclei", "segment_phenotype_cells", "segment_phenotype_stats")

STEPS: tuple[Step, ...] = (
    *_preprocess_steps("sbs", ("tile", "cycle")),
    *_preprocess_steps("phenotype", ("tile",)),
    Step(
        name="align_sbs",
        kernel=Kernel("sbs.align_step"),
        inputs=(Input("convert_sbs"),),
        outputs=("align_sbs",),
        params=_settings("sbs"),
        mem_mb=4000,
    ),
    _one("log_filter", "sbs.log_filter_step", ("align_sbs",), "sbs", 4000),
    _one("compute_standard_deviation", "sbs.standard_deviation_step", ("log_filter",), "sbs"),
    _one("find_peaks", "sbs.find_peaks_step", ("compute_standard_deviation",), "sbs", 1000),
    _one("max_filter", "sbs.max_filter_step", ("log_filter",), "sbs"),
    Step(
        name="apply_ic_field_sbs",
        kernel=Kernel("sbs.illumination_corrected_step"),
        inputs=(
            Input("align_sbs", lazy=True),
            Input("calculate_ic_sbs", cycle_index=lambda config: config.sbs.cyto_cycle),
        ),
        outputs=("apply_ic_field_sbs",),
        params=_settings("sbs"),
    ),
    _one("segment_sbs", "sbs.segment_step", ("apply_ic_field_sbs",), "sbs", outputs=_SBS_SEGMENT),
    _one("extract_bases", "sbs.extract_bases_step",
         ("find_peaks", "max_filter", "segment_sbs_cells"), "sbs"),
    Step(
        name="call_reads",
        kernel=Kernel("sbs.call_reads_step"),
        inputs=(Input("extract_bases"),),
        outputs=("call_reads",),
        params=_n_cycles,
        mem_mb=1000,
    ),
    Step(
        name="call_cells",
        kernel=Kernel("sbs.call_cells_step"),
        inputs=(Input("call_reads"),),
        outputs=("call_cells",),
        params=_library,
        mem_mb=1000,
    ),
    _one("extract_sbs_info", "sbs.cell_info", ("segment_sbs_nuclei", "segment_sbs_cells"), None,
         1000),
    _combine("combine_reads", "call_reads"),
    _combine("combine_cells", "call_cells"),
    _combine("combine_sbs_info", "extract_sbs_info"),
    _one("apply_ic_field_phenotype", "phenotype.illumination_corrected_step",
         ("convert_phenotype", "calculate_ic_phenotype"), "phenotype"),
    _one("align_phenotype", "phenotype.align_step", ("apply_ic_field_phenotype",), "phenotype"),
    Step(
        name="segment_phenotype",
        kernel=Kernel("phenotype.segment_step"),
        inputs=(Input("align_phenotype", lazy=True),),
        outputs=_PH_SEGMENT,
        params=_settings("phenotype"),
        mem_mb=4000,
    ),
    _one("identify_cytoplasm", "phenotype.identify_cytoplasm",
         ("segment_phenotype_nuclei", "segment_phenotype_cells"), None, 1000),
    _one("extract_phenotype", "phenotype.features_step",
         ("align_phenotype", "segment_phenotype_nuclei", "segment_phenotype_cells",
          "identify_cytoplasm"), "phenotype", 4000,
         outputs=("extract_phenotype", "extract_phenotype_minimal")),
    _combine("combine_phenotype", "extract_phenotype"),
    _combine("combine_phenotype_minimal", "extract_phenotype_minimal"),
    Step(
        name="merge",
        kernel=Kernel("merge.merge_step"),
        inputs=tuple(Input(k) for k in (
            "combine_phenotype_minimal", "combine_phenotype", "combine_sbs_info",
            "combine_cells", "combine_metadata_phenotype", "combine_metadata_sbs")),
        outputs=("merge", "merge_transform", "merge_tile_pairs", "merged_cells", "merge_qc"),
        params=lambda w, wc: {**_well(w, wc), **kwargs(w.config.merge)},
        mem_mb=4000,
    ),
)  # fmt: skip

_PLATE_CELLS = ("well", "tile")


def _aggregate_params(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return {"plate": wc["plate"], "p": w.config.aggregate}


def _montage_params(w: Workflow, wc: Mapping[str, str]) -> dict[str, Any]:
    return {"p": w.config.aggregate, "channel_names": w.config.phenotype.channel_names}


AGGREGATE_STEPS: tuple[Step, ...] = (
    Step(
        name="aggregate",
        kernel=Kernel("aggregate.aggregate_step"),
        inputs=(Input("merged_cells", over=("well",), gather="lazy"),),
        outputs=("gene_features", "sgrna_features", "hits", "cells_anndata", "montage_picks"),
        params=_aggregate_params,
        mem_mb=8000,
    ),
    Step(
        name="montage",
        kernel=Kernel("aggregate.montage_step"),
        inputs=(
            Input("montage_picks"),
            Input("align_phenotype", over=_PLATE_CELLS, gather="mapping", lazy=True),
            Input("segment_phenotype_cells", over=_PLATE_CELLS, gather="mapping", lazy=True),
        ),
        outputs=("montage", "montage_labels", "montage_png"),
        params=_montage_params,
    ),
    Step(
        name="montage_omezarr",
        kernel=Kernel("aggregate.montage_store"),
        inputs=(
            Input("montage"),
            Input("montage_labels"),
            Input("montage_picks"),
            Input("combine_metadata_phenotype", over=("well",)),
        ),
        outputs=("montage_omezarr",),
        params=_montage_params,
    ),
)
STEPS = STEPS + AGGREGATE_STEPS

_BY_NAME = {s.name: s for s in STEPS}


def get_step(name: str) -> Step:
    """The step called ``name``, or a ``ConfigError`` listing every valid name."""
    return lookup(_BY_NAME, name, "step")
