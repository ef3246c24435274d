"""Orchestration: the tables of outputs and steps, and the one runner of every step.

:data:`OUTPUTS` says where every file goes and what it holds; :data:`STEPS` says what each
step reads, which kernel it calls and what it writes; :data:`JOBS` groups them into the
workflow's rules. :class:`Workflow` binds both to a
configured screen (paths, targets, inputs); :func:`run_step` is the only file-level
wrapper (read, call, write atomically) and :func:`run_tile` runs a tile in memory.
"""

import lazy_loader

# each name is imported from its submodule when first used: reading the configuration
# or the steps table (every Snakemake process and cluster job) imports no kernel
__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "_collector": ["collect_rarely"],
        "_files": ["read_table", "step_log", "write_table"],
        "_formats": ["dependency"],
        "_jobs": ["JOBS", "chain"],
        "_outputs": ["OUTPUTS", "Output", "get_output"],
        "_preflight": ["PreflightError", "check_inputs", "preflight"],
        "_run": ["call_kernel", "run_step", "run_tile"],
        "_storage": ["storage_report"],
        "_table": ["Input", "STEPS", "Step", "get_step"],
        "_workflow": ["Workflow"],
    },
)

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
    "collect_rarely",
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
