# Every compute step, one rule per row of opsflow.steps.STEPS: inputs, outputs, kernel,
# threads and memory all come from the table; the rule only wires them for Snakemake.


def _inputs(step):
    return lambda wildcards: WORKFLOW.flat_inputs(step, dict(wildcards.items()))


for _step in STEPS:

    rule:
        name:
            _step.name
        input:
            unpack(_inputs(_step)),
        output:
            **WORKFLOW.step_outputs(_step),
        log:
            WORKFLOW.log_pattern(_step),
        params:
            step=_step,
        threads: _step.threads
        resources:
            mem_mb=_step.mem_mb,
        run:
            run_step(WORKFLOW, params.step, dict(wildcards.items()), log=log[0])
