"""The workflow's jobs: the steps, with each module's chain of per-tile steps as one job.

A job costs Snakemake about as much to plan as a tile step costs to compute, so a
screen of 1,000 tiles x 11 steps spends more time in its scheduler than in its kernels,
and every step re-reads from disk what the one before it had in memory. The per-tile
steps of a module (``sbs_tile``: align to calling cells; ``phenotype_tile``:
illumination to features) therefore run as one job, in memory, in table order; the job
still writes every output of every step (each stays addressable: a target, an export's
input, a file to look at), and a failed tile reruns alone. Steps that gather tiles
(illumination fields, tables of a well) stay jobs of their own: they are the joins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsflow.errors import OpsflowError
from opsflow.steps._outputs import get_output
from opsflow.steps._table import STEPS, Input, Step, get_step, run_in_memory

__all__ = ["JOBS", "chain"]


class _Chain:
    """The kernel of a chained job: each step's kernel on the values so far."""

    def __init__(self, steps: tuple[Step, ...], inputs: tuple[str, ...]) -> None:
        self.steps, self.inputs = steps, inputs

    def __call__(self, *args: Any, params: Mapping[str, Mapping[str, Any]]) -> tuple[Any, ...]:
        known = dict(zip(self.inputs, args, strict=True))
        values = run_in_memory(self.steps, known, lambda step: params[step.name])
        return tuple(values[key] for step in self.steps for key in step.outputs)


def chain(name: str, steps: tuple[Step, ...]) -> Step:
    """One step that runs ``steps`` in order, passing values in memory.

    Its inputs are the steps' inputs that none of them makes (each read once), its
    outputs every output of every step; memory and threads are the largest asked for.
    """
    made = {key for step in steps for key in step.outputs}
    inputs: dict[str, Input] = {}
    for step in steps:
        for item in step.inputs:
            if item.key in made:
                continue
            if inputs.setdefault(item.key, item) != item:
                raise OpsflowError(f"job {name}: steps read {item.key} in two ways.")
    wildcards = {get_output(step.outputs[0]).wildcards for step in steps}
    if len(wildcards) != 1:
        raise OpsflowError(f"job {name}: steps have different wildcards {sorted(wildcards)}.")

    def params(workflow: Any, wc: Mapping[str, str]) -> dict[str, Any]:
        return {"params": {step.name: step.params(workflow, wc) for step in steps}}

    return Step(
        name=name,
        kernel=_Chain(steps, tuple(inputs)),
        inputs=tuple(inputs.values()),
        outputs=tuple(key for step in steps for key in step.outputs),
        params=params,
        threads=max(step.threads for step in steps),
        mem_mb=max(step.mem_mb for step in steps),
    )


def _steps(*names: str) -> tuple[Step, ...]:
    return tuple(get_step(name) for name in names)


_CHAINS = {
    "sbs_tile": _steps(
        "align_sbs", "log_filter", "compute_standard_deviation", "find_peaks", "max_filter",
        "apply_ic_field_sbs", "segment_sbs", "extract_bases", "call_reads", "call_cells",
        "extract_sbs_info",
    ),
    "phenotype_tile": _steps(
        "apply_ic_field_phenotype", "align_phenotype", "segment_phenotype",
        "identify_cytoplasm", "extract_phenotype",
    ),
}  # fmt: skip
_CHAINED = {step.name for steps in _CHAINS.values() for step in steps}

#: One row per Snakemake rule of the compute steps: the steps not chained, then the chains.
JOBS: tuple[Step, ...] = (
    *(step for step in STEPS if step.name not in _CHAINED),
    *(chain(name, steps) for name, steps in _CHAINS.items()),
)
