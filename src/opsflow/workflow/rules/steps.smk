# Every compute job, one rule per row of opsflow.steps.JOBS (the steps, each module's
# per-tile chain as one job): inputs, outputs, kernel, threads and memory all come from
# the table; the rule only wires them for Snakemake.


def _outputs(step):
    # a store is a directory; Snakemake must know to create and remove it whole; a TIFF
    # that all.keep_tiff does not keep is deleted once the jobs that read it are done
    def wrap(key, path):
        if path.endswith(".zarr"):
            return directory(path)
        return temp(path) if WORKFLOW.temporary(key) else path

    return {name: wrap(k, v) for name, (k, v) in WORKFLOW.step_outputs(step).items()}


def _inputs(step):
    return lambda wildcards: WORKFLOW.flat_inputs(step, dict(wildcards.items()))


for _step in JOBS:

    rule:
        name:
            _step.name
        input:
            unpack(_inputs(_step)),
        output:
            **_outputs(_step),
        log:
            WORKFLOW.log_pattern(_step),
        params:
            step=_step,
        threads: _step.threads
        resources:
            mem_mb=_step.mem_mb,
        run:
            # imported by the jobs that compute (the kernels with it), not by planning
            from opsflow.steps import run_step

            run_step(WORKFLOW, params.step, dict(wildcards.items()), log=log[0], threads=threads)
