# OME-Zarr exports: one rule per stage of the registry, all calling the same step.
from opsflow.export import STAGES

_OUTPUTS = {"preprocess": PREPROCESS_OUTPUTS, "sbs": SBS_OUTPUTS, "phenotype": PHENOTYPE_OUTPUTS}
_SAMPLES = {"sbs": SBS_SAMPLES, "phenotype": PHENOTYPE_SAMPLES}


def _store(stage):
    image = Path(str(_OUTPUTS[stage.module][stage.image]))
    stem = image.name.split("__")[0]
    return ROOT / stage.module / "omezarr" / stage.store_dir / f"{stem}__{stage.store_what}.ome.zarr"


OMEZARR_OUTPUTS = {stage.name: _store(stage) for stage in STAGES}


def _export_inputs(stage):
    def inputs(wildcards):
        return {
            "image": str(_OUTPUTS[stage.module][stage.image]).format(**wildcards),
            "metadata": str(PREPROCESS_OUTPUTS[f"combine_metadata_{stage.modality}"]).format(
                plate=wildcards.plate, well=wildcards.well
            ),
            **{
                label: str(_OUTPUTS[stage.module][key]).format(**wildcards)
                for label, key in stage.labels
            },
        }

    return inputs


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
            update(directory(OMEZARR_OUTPUTS[_stage.name])),
        log:
            log_for(_stage.rule, OMEZARR_OUTPUTS[_stage.name]),
        params:
            stage=_stage.name,
            labels=[label for label, _ in _stage.labels],
        threads: 2
        resources:
            mem_mb=2000,
        run:
            run_step(
                log[0], export_steps.export, params.stage, input.image, output[0],
                metadata=input.metadata, masks={k: input[k] for k in params.labels},
                config=CONFIG, tile=int(wildcards.tile) if "tile" in wildcards.keys() else None,
                workers=threads,
            )


def omezarr_targets(module, *, enabled_only):
    """Stores of a module's chosen stages; with ``enabled_only``, none when exports are off."""
    from opsflow.export import get_stage

    names = CONFIG.export_stages(module) if enabled_only else CONFIG.chosen_stages(module)
    return [
        path
        for name in names
        for path in targets(OMEZARR_OUTPUTS[name], _SAMPLES[get_stage(name).modality])
    ]


ENABLED_OMEZARR = {m: omezarr_targets(m, enabled_only=True) for m in MODULES}


rule all_preprocess:
    input:
        PREPROCESS_TARGETS,
        ENABLED_OMEZARR.get("preprocess", []),


rule all_sbs:
    input:
        SBS_TARGETS,
        ENABLED_OMEZARR.get("sbs", []),


rule all_phenotype:
    input:
        PHENOTYPE_TARGETS,
        ENABLED_OMEZARR.get("phenotype", []),


# Explicitly requested: the module's chosen stages, even where its exports are switched off.
rule all_preprocess_omezarr:
    input:
        omezarr_targets("preprocess", enabled_only=False),


rule all_sbs_omezarr:
    input:
        omezarr_targets("sbs", enabled_only=False),


rule all_phenotype_omezarr:
    input:
        omezarr_targets("phenotype", enabled_only=False),


ALL_TARGETS = [
    *(PREPROCESS_TARGETS if "preprocess" in MODULES else []),
    *(SBS_TARGETS if "sbs" in MODULES else []),
    *(PHENOTYPE_TARGETS if "phenotype" in MODULES else []),
    *(path for paths in ENABLED_OMEZARR.values() for path in paths),
]


# Storage: remove the stores of a module's chosen stages (e.g. once only the final ones
# are kept). TIFFs and tables are untouched; a later run can export the stores again.
for _module in ("preprocess", "sbs", "phenotype"):

    rule:
        name:
            f"cleanup_omezarr_{_module}"
        params:
            stores=omezarr_targets(_module, enabled_only=False),
        localrule: True
        run:
            export_steps.remove_stores(params.stores)
