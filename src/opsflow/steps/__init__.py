"""Orchestration: the tables of outputs and steps, and the one runner of every step.

:data:`OUTPUTS` says where every file goes and what it holds; :data:`STEPS` says what each
step reads, which kernel it calls and what it writes; :data:`JOBS` groups them into the
workflow's rules. :class:`Workflow` binds both to a
configured screen (paths, targets, inputs); :func:`run_step` is the only file-level
wrapper (read, call, write atomically) and :func:`run_tile` runs a tile in memory.
"""

from opsflow.steps._files import read_table, step_log, write_table
from opsflow.steps._formats import dependency
from opsflow.steps._jobs import JOBS, chain
from opsflow.steps._outputs import OUTPUTS, Output, get_output
from opsflow.steps._preflight import PreflightError, check_inputs, preflight
from opsflow.steps._run import call_kernel, run_step, run_tile
from opsflow.steps._storage import storage_report
from opsflow.steps._table import STEPS, Input, Step, get_step
from opsflow.steps._workflow import Workflow

__all__ = [
    "JOBS",
    "OUTPUTS",
    "STEPS",
    "Input",
    "Output",
    "PreflightError",
    "Step",
    "Workflow",
    "call_kernel",
    "chain",
    "check_inputs",
    "dependency",
    "get_output",
    "get_step",
    "preflight",
    "read_table",
    "run_step",
    "run_tile",
    "step_log",
    "storage_report",
    "write_table",
]
