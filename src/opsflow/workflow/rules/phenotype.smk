# Phenotype: corrected, aligned, segmented, measured.


def _phenotype_ic_field(wildcards):
    return str(PREPROCESS_OUTPUTS["calculate_ic_phenotype"]).format(
        plate=wildcards.plate, well=wildcards.well
    )


rule apply_ic_field_phenotype:
    input:
        image=PREPROCESS_OUTPUTS["convert_phenotype"],
        field=_phenotype_ic_field,
    output:
        PHENOTYPE_OUTPUTS["apply_ic_field_phenotype"],
    log:
        log_for("apply_ic_field_phenotype", PHENOTYPE_OUTPUTS["apply_ic_field_phenotype"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(
            log[0], phenotype_steps.apply_ic_field, input.image, input.field, output[0],
            settings=CONFIG.phenotype,
        )


rule align_phenotype:
    input:
        PHENOTYPE_OUTPUTS["apply_ic_field_phenotype"],
    output:
        PHENOTYPE_OUTPUTS["align_phenotype"],
    log:
        log_for("align_phenotype", PHENOTYPE_OUTPUTS["align_phenotype"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(log[0], phenotype_steps.align, input[0], output[0], settings=CONFIG.phenotype)


rule segment_phenotype:
    input:
        PHENOTYPE_OUTPUTS["align_phenotype"],
    output:
        nuclei=PHENOTYPE_OUTPUTS["segment_phenotype_nuclei"],
        cells=PHENOTYPE_OUTPUTS["segment_phenotype_cells"],
        stats=PHENOTYPE_OUTPUTS["segment_phenotype_stats"],
    log:
        log_for("segment_phenotype", PHENOTYPE_OUTPUTS["segment_phenotype_nuclei"]),
    threads: 1
    resources:
        mem_mb=4000,
    run:
        run_step(
            log[0], phenotype_steps.segment, input[0], output.nuclei, output.cells,
            output.stats, settings=CONFIG.phenotype,
        )


rule identify_cytoplasm:
    input:
        nuclei=PHENOTYPE_OUTPUTS["segment_phenotype_nuclei"],
        cells=PHENOTYPE_OUTPUTS["segment_phenotype_cells"],
    output:
        PHENOTYPE_OUTPUTS["identify_cytoplasm"],
    log:
        log_for("identify_cytoplasm", PHENOTYPE_OUTPUTS["identify_cytoplasm"]),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(log[0], phenotype_steps.cytoplasm, input.nuclei, input.cells, output[0])


rule extract_phenotype:
    input:
        aligned=PHENOTYPE_OUTPUTS["align_phenotype"],
        nuclei=PHENOTYPE_OUTPUTS["segment_phenotype_nuclei"],
        cells=PHENOTYPE_OUTPUTS["segment_phenotype_cells"],
        cytoplasms=PHENOTYPE_OUTPUTS["identify_cytoplasm"],
    output:
        features=PHENOTYPE_OUTPUTS["extract_phenotype"],
        minimal=PHENOTYPE_OUTPUTS["extract_phenotype_minimal"],
    log:
        log_for("extract_phenotype", PHENOTYPE_OUTPUTS["extract_phenotype"]),
    threads: 1
    resources:
        mem_mb=4000,
    run:
        run_step(
            log[0], phenotype_steps.features, input.aligned, input.nuclei, input.cells,
            input.cytoplasms, output.features, output.minimal, settings=CONFIG.phenotype,
        )


def _phenotype_tiles(key):
    def inputs(wildcards):
        return {
            f"tile_{t}": str(PHENOTYPE_OUTPUTS[key]).format(**dict(wildcards.items(), tile=t))
            for t in well_tiles(PHENOTYPE_SAMPLES, wildcards)
        }

    return inputs


for _table, _key in (("phenotype", "extract_phenotype"),
                     ("phenotype_minimal", "extract_phenotype_minimal")):

    rule:
        name:
            f"combine_{_table}"
        input:
            unpack(_phenotype_tiles(_key)),
        output:
            PHENOTYPE_OUTPUTS[f"combine_{_table}"],
        log:
            log_for(f"combine_{_table}", PHENOTYPE_OUTPUTS[f"combine_{_table}"]),
        threads: 1
        resources:
            mem_mb=2000,
        run:
            run_step(
                log[0], phenotype_steps.combine,
                {int(k.removeprefix("tile_")): v for k, v in input.items()}, output[0],
                plate=wildcards.plate, well=wildcards.well,
            )
