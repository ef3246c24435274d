"""Run one step: read its inputs, call its kernel, write its outputs (the only wrapper).

Every rule of the workflow calls :func:`run_step`; :func:`run_tile` runs the per-tile
steps of a module in memory (tests, benchmarks) through the same kernel calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from opsflow.aggregate import quiet_anndata
from opsflow.errors import OpsflowError
from opsflow.io import (
    atomic_path,
    read_raw_image,
    read_tiff,
    write_multiscale_omezarr,
    write_tiff,
)
from opsflow.steps._files import read_table, step_log, write_table
from opsflow.steps._outputs import get_output
from opsflow.steps._table import STEPS, Step
from opsflow.steps._workflow import Workflow

__all__ = ["call_kernel", "run_step", "run_tile"]


def _read(key: str, path: str) -> Any:
    if key == "samples":
        return read_raw_image(path)
    return read_tiff(path) if get_output(key).is_image else read_table(path)


def _lazy(key: str, paths: list[str]) -> Iterator[Any]:
    for path in paths:
        yield _read(key, path)


class _Files(Mapping[Any, Any]):
    """Files by wildcard value, each read when it is looked up (``gather="mapping"``)."""

    def __init__(self, key: str, paths: Mapping[Any, str]) -> None:
        self._key, self._paths = key, dict(paths)

    def __getitem__(self, item: Any) -> Any:
        return _read(self._key, self._paths[item])

    def __iter__(self) -> Iterator[Any]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def _load(key: str, value: Any, gather: str) -> Any:
    if gather == "mapping":
        return _Files(key, value)
    if isinstance(value, dict):
        return {k: _read(key, v) for k, v in value.items()}
    if isinstance(value, list):
        return _lazy(key, value) if gather == "lazy" else [_read(key, v) for v in value]
    return _read(key, value)


def _write(key: str, path: str | os.PathLike[str], value: Any) -> None:
    output = get_output(key)
    if output.is_image:
        write_tiff(path, np.asarray(value), axes=output.axes)
    elif output.ext == "png":  # a matplotlib figure (a QC plot)
        with atomic_path(path) as tmp:
            value.savefig(tmp, format="png", dpi=110)
    elif output.ext == "h5ad":  # an AnnData of cells x features
        with atomic_path(path) as tmp, quiet_anndata():
            value.write_h5ad(tmp)
    elif output.ext == "ome.zarr":  # the writer's arguments (it writes atomically itself)
        write_multiscale_omezarr(output=path, **value)
    else:
        write_table(path, value)


def call_kernel(step: Step, args: list[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """Call a step's kernel and name its results by output key."""
    result = step.kernel(*args, **params)
    results = result if len(step.outputs) > 1 else (result,)
    if len(results) != len(step.outputs):
        raise OpsflowError(
            f"step {step.name}: expected {len(step.outputs)} results, found {len(results)}."
        )
    return dict(zip(step.outputs, results, strict=True))


def run_step(
    workflow: Workflow,
    step: Step,
    wildcards: Mapping[str, str],
    *,
    log: str | os.PathLike[str] | None = None,
) -> None:
    """Run one job of a step: every output written through a temporary sibling."""
    with step_log(log):
        inputs = workflow.step_inputs(step, wildcards)
        args = [_load(item.key, inputs[item.key], item.gather) for item in step.inputs]
        results = call_kernel(step, args, step.params(workflow, wildcards))
        for key, value in results.items():
            _write(key, workflow.path(key, wildcards), value)


def run_tile(
    workflow: Workflow, module: str, known: Mapping[str, Any], wildcards: Mapping[str, str]
) -> dict[str, Any]:
    """Run every step of a module whose inputs are known, in memory, in table order.

    ``known`` holds values by output key (e.g. ``convert_sbs`` as a list of cycles and
    ``calculate_ic_sbs``); the result adds every output computed from them.
    """
    values = dict(known)
    for step in STEPS:
        first = get_output(step.outputs[0])
        if first.module != module or "tile" not in first.wildcards or first.key in values:
            continue
        if not all(item.key in values for item in step.inputs):
            continue
        args = [values[item.key] for item in step.inputs]
        values.update(call_kernel(step, args, step.params(workflow, wildcards)))
    return values
