"""Run one step: read its inputs, call its kernel, write its outputs (the only wrapper).

Every rule of the workflow calls :func:`run_step`; :func:`run_tile` runs the per-tile
steps of a module in memory (tests, benchmarks) through the same kernel calls.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opsflow.errors import OpsflowError
from opsflow.export import Stage
from opsflow.frames import limit_threads
from opsflow.io import (
    atomic_path,
    open_image,
    read_raw_image,
    write_multiscale_omezarr,
    write_tiff,
)
from opsflow.steps import export as export_steps
from opsflow.steps._files import read_table, step_log, write_table
from opsflow.steps._outputs import get_output
from opsflow.steps._table import STEPS, Input, Step, call_kernel, run_in_memory
from opsflow.steps._workflow import Workflow

__all__ = ["call_kernel", "run_step", "run_tile"]

logger = logging.getLogger(__name__)


def _read(item: Input, path: str, plane: int | None = None) -> Any:
    """A raw file, a table, or an image (TIFF or OME-Zarr) with its output's axes.

    An input marked ``lazy`` stays an :class:`~opsflow.io.ImageView`: its kernel indexes
    the cycles or channels it needs, and only those are read. ``plane``: only that
    index of the image's first axis is read (one cycle of a tile's stack).
    """
    if item.key == "samples":
        return read_raw_image(path)
    output = get_output(item.key)
    if not output.is_image:
        return read_table(path)
    view = open_image(path, axes=output.axes)
    if plane is not None:
        return view[plane]
    return view if item.lazy else np.asarray(view)


def _lazy(item: Input, paths: list[str], plane: int | None) -> Iterator[Any]:
    for path in paths:
        yield _read(item, path, plane)


class _Files(Mapping[Any, Any]):
    """Files by wildcard value, each read when it is looked up (``gather="mapping"``)."""

    def __init__(self, item: Input, paths: Mapping[Any, str]) -> None:
        self._item, self._paths = item, dict(paths)

    def __getitem__(self, item: Any) -> Any:
        return _read(self._item, self._paths[item])

    def __iter__(self) -> Iterator[Any]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _load(item: Input, value: Any, plane: int | None = None) -> Any:
    if item.gather == "mapping":
        return _Files(item, value)
    if isinstance(value, dict):
        return {k: _read(item, v, plane) for k, v in value.items()}
    if isinstance(value, list):
        if item.gather == "lazy":
            return _lazy(item, value, plane)
        return [_read(item, v, plane) for v in value]
    return _read(item, value, plane)


def _write(key: str, path: str | os.PathLike[str], value: Any) -> None:
    output = get_output(key)
    if output.is_image:
        write_tiff(path, np.asarray(value), axes=output.axes)
    elif output.ext == "png":  # a matplotlib figure (a QC plot)
        with atomic_path(path) as tmp:
            value.savefig(tmp, format="png", dpi=110)
    elif output.ext == "h5ad":  # an AnnData of cells x features
        from opsflow.aggregate import quiet_anndata  # its module imports scipy.stats

        with atomic_path(path) as tmp, quiet_anndata():
            value.write_h5ad(tmp)
    elif output.ext == "ome.zarr":  # the writer's arguments (it writes atomically itself)
        write_multiscale_omezarr(output=path, **value)
    else:
        write_table(path, value)


def run_step(
    workflow: Workflow,
    step: Step,
    wildcards: Mapping[str, str],
    *,
    log: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> None:
    """Run one job of a step: every output written through a temporary sibling.

    ``threads`` is what the scheduler gave the job: frame-wise kernels use no more.
    A job that covers several runs (``each``: the cycles of a tile) writes each output
    that lacks their wildcards once, from every run: tables concatenated, images
    stacked on ``t`` (and that image's store, where the steps write stores).
    """
    with step_log(log), limit_threads(threads):
        start, computing = time.perf_counter(), 0.0
        gathered: dict[str, list[Any]] = {}
        for wc in workflow.each_wildcards(step, wildcards):
            computing += _run_once(workflow, step, wc, gathered)
        if step.each:
            values = {key: _combine(key, runs, wildcards) for key, runs in gathered.items()}
            for key, value in values.items():
                if workflow.written_store(key) is None:
                    _write(key, workflow.path(key, wildcards), value)
            for stage in workflow.stores_written(step):
                _write_store(workflow, stage, wildcards, values, step)
        seconds = time.perf_counter() - start
        logger.info(
            "%s: read, computed and wrote in %.2f s (computed in %.2f s)",
            step.name, seconds, computing,
        )  # fmt: skip


def _combine(key: str, runs: list[Any], wildcards: Mapping[str, str]) -> Any:
    """One output of every run of a job: tables concatenated, images stacked on ``t``."""
    if not get_output(key).is_image:
        return pd.concat(runs, ignore_index=True)
    shapes = sorted({np.shape(r) for r in runs})
    if len(shapes) > 1:
        where = ", ".join(f"{k} {v}" for k, v in wildcards.items())
        raise OpsflowError(
            f"{key} of {where}: expected every cycle to convert to one shape, found {shapes}."
        )
    return np.stack(runs)


def _run_once(
    workflow: Workflow, step: Step, wildcards: Mapping[str, str], gathered: dict[str, list[Any]]
) -> float:
    """Read, compute, write; the seconds the kernel took (lazy inputs read inside it).

    Outputs without the wildcards the job covers (``each``) are kept in ``gathered``.
    """
    inputs = workflow.step_inputs(step, wildcards)
    args = [
        _load(item, inputs[item.key], workflow.plane(step, item, wildcards)) for item in step.inputs
    ]
    start = time.perf_counter()
    results = call_kernel(step, args, step.params(workflow, wildcards))
    computing = time.perf_counter() - start
    for key, value in results.items():
        if step.each and not set(step.each) & set(get_output(key).wildcards):
            gathered.setdefault(key, []).append(value)
        elif workflow.written_store(key) is None:
            _write(key, workflow.path(key, wildcards), value)
    if step.each:
        return computing  # the stores hold the runs' stacked images: written by the job
    loaded = {item.key: arg for item, arg in zip(step.inputs, args, strict=True)}
    for stage in workflow.stores_written(step):
        _write_store(workflow, stage, wildcards, {**loaded, **results}, step)
    return computing


def _write_store(
    workflow: Workflow,
    stage: Stage,
    wildcards: Mapping[str, str],
    values: Mapping[str, Any],
    step: Step,
) -> None:
    """Write a stage's store from a step's results (``compute_format: omezarr``).

    Its image is a result, an input, or read for the purpose (the image a mask is
    drawn on); its pixel size comes from the tile's metadata, or the convert step's own.
    """
    extra = workflow.store_inputs(step, wildcards)
    image = values.get(stage.image)
    if image is None:
        image = open_image(extra[f"{stage.name}_image"], axes=stage.axes)
    modality = stage.modality
    metadata = values.get(f"convert_{modality}_metadata")
    path = workflow.store_pattern(stage).format(**wildcards)
    export_steps.export(
        stage.name,
        image,
        path,
        metadata=extra["metadata"] if metadata is None else metadata,
        masks={label: values[key] for label, key in stage.labels},
        config=workflow.config,
        tile=int(wildcards["tile"]) if "tile" in wildcards else None,
        name=Path(path).name.split("__")[0],
        workers=step.threads,  # the cores the job was given
    )


def run_tile(
    workflow: Workflow, module: str, known: Mapping[str, Any], wildcards: Mapping[str, str]
) -> dict[str, Any]:
    """Run every step of a module whose inputs are known, in memory, in table order.

    ``known`` holds values by output key (e.g. ``convert_sbs`` as a stack or list of cycles and
    ``calculate_ic_sbs``); the result adds every output computed from them.
    """
    available, chosen = set(known), []
    for step in STEPS:
        first = get_output(step.outputs[0])
        if first.module != module or "tile" not in first.wildcards or first.key in available:
            continue
        if all(item.key in available for item in step.inputs):
            chosen.append(step)
            available.update(step.outputs)
    return run_in_memory(chosen, known, lambda step: step.params(workflow, wildcards))
