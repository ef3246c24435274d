# OME-Zarr exports: one rule per stage of the registry, all calling the same step; store
# paths and inputs come from the Workflow (the outputs table), targets per module.
from opsflow.export import STAGES
from opsflow.paths import MODULES
from opsflow.steps import export as export_steps


def _export_inputs(stage):
    return lambda wildcards: WORKFLOW.export_inputs(stage, dict(wildcards.items()))


for _stage in STAGES:

    rule:
        name:
            _stage.rule
        input:
            unpack(_export_inputs(_stage)),
        output:
            # update(): Snakemake keeps (backs up) an earlier store instead of deleting it
            # before the job, and restores it if the export fails; the export itself writes
            # a temporary sibling and renames it into place.
            update(directory(WORKFLOW.store_pattern(_stage))),
        log:
            WORKFLOW.log_pattern_of(_stage.rule, WORKFLOW.store_pattern(_stage)),
        params:
            stage=_stage.name,
            labels=[label for label, _ in _stage.labels],
        threads: 2
        resources:
            mem_mb=2000,
        run:
            with step_log(log[0]):
                export_steps.export(
                    params.stage, input.image, output[0],
                    metadata=input.metadata, masks={k: input[k] for k in params.labels},
                    config=CONFIG,
                    tile=int(wildcards.tile) if "tile" in wildcards.keys() else None,
                    workers=threads,
                )


for _module in MODULES:

    rule:
        name:
            f"all_{_module}"
        input:
            WORKFLOW.module_targets(_module),
            WORKFLOW.store_targets(_module, enabled_only=True),

    # Explicitly requested: the module's chosen stages, even where its exports are off.
    rule:
        name:
            f"all_{_module}_omezarr"
        input:
            WORKFLOW.store_targets(_module, enabled_only=False),

    # Storage: remove the stores of a module's chosen stages (e.g. once only the final
    # ones are kept). TIFFs and tables are untouched; a later run can export them again.
    rule:
        name:
            f"cleanup_omezarr_{_module}"
        params:
            stores=WORKFLOW.store_targets(_module, enabled_only=False),
        localrule: True
        run:
            export_steps.remove_stores(params.stores)
