# OME-Zarr exports: rules per compute job and per stage of the registry, all calling the
# same steps; store paths and inputs come from the Workflow (the outputs table), targets
# per module. Each compute job whose images are exported has one export job after it
# (every exported stage of that tile, or well, and cycle); a chosen stage whose module's
# exports are off has an export job per tile of its own, run when asked for
# (all_{module}_omezarr). With all.compute_format omezarr the steps write the stores
# themselves: no export jobs. Layout "plate": one job per plate links its fields to the
# stores and writes the plate/well metadata (see opsflow.steps._stores for why its
# output is a file). Well mosaics: one job per well.
from opsflow.export import STAGES
from opsflow.paths import MODULES


def _exports():
    # the writers (zarr and the kernels' modules) are imported by the jobs that write
    # stores, not by every Snakemake process that plans or runs another job
    from opsflow.steps import export

    return export


def _export_inputs(stage):
    return lambda wildcards: WORKFLOW.export_job_inputs(stage, dict(wildcards.items()))


def _mosaic_inputs(stage):
    def inputs(wildcards):
        found = WORKFLOW.mosaic_inputs(stage, dict(wildcards.items()))
        return {k: [dependency(p) for p in v] if isinstance(v, list) else v for k, v in found.items()}

    return inputs


def _plate_inputs(stage):
    return lambda wildcards: list(WORKFLOW.plate_links(stage, wildcards.plate).values())


def _group_inputs(stages):
    return lambda wildcards: WORKFLOW.group_inputs(stages, dict(wildcards.items()))


def _export(stage, wildcards, outputs, threads):
    # every image of the job (one, or each cycle of a tile) into its store
    for image, output in zip(WORKFLOW.export_runs(stage, dict(wildcards.items())), outputs, strict=True):
        found = WORKFLOW.export_inputs(stage, image)
        _exports().export(
            stage.name, found["image"], output, metadata=found["metadata"],
            masks={label: found[label] for label, _ in stage.labels}, config=CONFIG,
            tile=int(image["tile"]) if "tile" in image else None, workers=threads,
        )


for _job in JOBS:
    _group = WORKFLOW.export_group(_job)
    if not _group:
        continue

    rule:
        name:
            f"export_{_job.name}_omezarr"
        input:
            unpack(_group_inputs(_group)),
        output:
            # update(): Snakemake keeps (backs up) an earlier store instead of deleting
            # it before the job, and restores it if the export fails; the export itself
            # writes a temporary sibling and renames it into place.
            **{k: update(directory(p)) for k, p in WORKFLOW.group_outputs(_group).items()},
        log:
            WORKFLOW.group_log(_job),
        params:
            stages=_group,
        threads: 2
        resources:
            mem_mb=2000,
        run:
            with step_log(log[0]):
                for stage in params.stages:
                    stores = WORKFLOW.export_outputs(stage).values()
                    paths = [p.format(**dict(wildcards.items())) for p in stores]
                    _export(stage, wildcards, paths, threads)


for _stage in STAGES:
    _plate = WORKFLOW.layout == "plate"

    if not WORKFLOW.compute_omezarr and _stage.name not in WORKFLOW.exported_stages():

        rule:
            name:
                _stage.rule
            input:
                unpack(_export_inputs(_stage)),
            output:
                # update(): Snakemake keeps (backs up) an earlier store instead of deleting
                # it before the job, and restores it if the export fails; the export itself
                # writes a temporary sibling and renames it into place.
                **{k: update(directory(p)) for k, p in WORKFLOW.export_outputs(_stage).items()},
            log:
                WORKFLOW.export_log(_stage),
            params:
                stage=_stage,
            threads: 2
            resources:
                mem_mb=2000,
            run:
                with step_log(log[0]):
                    _export(params.stage, wildcards, list(output), threads)

    if _plate:

        rule:
            name:
                f"plate_{_stage.name}_omezarr"
            input:
                _plate_inputs(_stage),
            output:
                update(WORKFLOW.plate_metadata_pattern(_stage)),
            log:
                str(WORKFLOW.root / "logs" / f"plate_{_stage.name}_omezarr" / "P-{plate}.log"),
            params:
                stage=_stage,
            localrule: True
            run:
                fields = WORKFLOW.plate_fields(params.stage, wildcards.plate)
                with step_log(log[0]):
                    _exports().link_plate(
                        params.stage.name, output[0],
                        WORKFLOW.plate_links(params.stage, wildcards.plate), fields,
                        config=CONFIG,
                    )

    rule:
        name:
            f"mosaic_{_stage.name}_omezarr"
        input:
            unpack(_mosaic_inputs(_stage)),
        output:
            update(directory(WORKFLOW.mosaic_pattern(_stage))),
        log:
            str(WORKFLOW.root / "logs" / f"mosaic_{_stage.name}_omezarr" / "P-{plate}_W-{well}.log"),
        params:
            stage=_stage,
            labels=[label for label, _ in _stage.labels],
        threads: 2
        resources:
            mem_mb=4000,
        run:
            found = WORKFLOW.mosaic_inputs(params.stage, dict(wildcards.items()))
            with step_log(log[0]):
                _exports().mosaic(
                    params.stage.name, found["images"],
                    WORKFLOW.mosaic_tiles(params.stage, dict(wildcards.items())), output[0],
                    metadata=input.metadata, masks={k: found[k] for k in params.labels},
                    config=CONFIG, workers=threads,
                )


def _module_targets(module, stores_only=False):
    def targets(wildcards):
        if stores_only:  # the module's chosen stages, even where its exports are off
            return WORKFLOW.store_targets(module, enabled_only=False)
        return WORKFLOW.module_targets(module) + WORKFLOW.store_targets(module, enabled_only=True)

    return targets


def _store_dirs(module):
    return lambda wildcards: WORKFLOW.store_dirs(module, enabled_only=False)


for _module in MODULES:

    rule:
        name:
            f"all_{_module}"
        input:
            _module_targets(_module),

    # Explicitly requested: the module's chosen stages, even where its exports are off.
    rule:
        name:
            f"all_{_module}_omezarr"
        input:
            _module_targets(_module, stores_only=True),

    # Storage: remove the stores of a module's chosen stages (e.g. once only the final
    # ones are kept). TIFFs and tables are untouched; a later run can export them again.
    rule:
        name:
            f"cleanup_omezarr_{_module}"
        params:
            stores=_store_dirs(_module),
        localrule: True
        run:
            _exports().remove_stores(params.stores)
