# Preprocess: raw files -> (C, Y, X) TIFFs and metadata; illumination-correction fields.


def _raw_files(samples, wildcards):
    rows = samples[
        (samples.plate == wildcards.plate)
        & (samples.well == wildcards.well)
        & (samples.tile == wildcards.tile)
    ]
    if "cycle" in wildcards.keys():
        rows = rows[rows.cycle == wildcards.cycle]
    return list(rows.sample_fp)


rule convert_sbs:
    input:
        lambda wc: _raw_files(SBS_SAMPLES, wc),
    output:
        image=PREPROCESS_OUTPUTS["convert_sbs"],
        metadata=PREPROCESS_OUTPUTS["convert_sbs_metadata"],
    log:
        log_for("convert_sbs", PREPROCESS_OUTPUTS["convert_sbs"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(
            log[0], preprocess_steps.convert, input, output.image, output.metadata,
            modality="sbs", plate=wildcards.plate, well=wildcards.well,
            tile=int(wildcards.tile), cycle=int(wildcards.cycle),
            settings=CONFIG.preprocess, channel_names=CONFIG.sbs.channel_names,
        )


rule convert_phenotype:
    input:
        lambda wc: _raw_files(PHENOTYPE_SAMPLES, wc),
    output:
        image=PREPROCESS_OUTPUTS["convert_phenotype"],
        metadata=PREPROCESS_OUTPUTS["convert_phenotype_metadata"],
    log:
        log_for("convert_phenotype", PREPROCESS_OUTPUTS["convert_phenotype"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(
            log[0], preprocess_steps.convert, input, output.image, output.metadata,
            modality="phenotype", plate=wildcards.plate, well=wildcards.well,
            tile=int(wildcards.tile), cycle=None,
            settings=CONFIG.preprocess, channel_names=CONFIG.phenotype.channel_names,
        )


rule combine_metadata_sbs:
    input:
        lambda wc: targets(
            PREPROCESS_OUTPUTS["convert_sbs_metadata"],
            SBS_SAMPLES[(SBS_SAMPLES.plate == wc.plate) & (SBS_SAMPLES.well == wc.well)],
        ),
    output:
        PREPROCESS_OUTPUTS["combine_metadata_sbs"],
    log:
        log_for("combine_metadata_sbs", PREPROCESS_OUTPUTS["combine_metadata_sbs"]),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(log[0], preprocess_steps.combine_metadata_tables, input, output[0])


rule combine_metadata_phenotype:
    input:
        lambda wc: targets(
            PREPROCESS_OUTPUTS["convert_phenotype_metadata"],
            PHENOTYPE_SAMPLES[
                (PHENOTYPE_SAMPLES.plate == wc.plate) & (PHENOTYPE_SAMPLES.well == wc.well)
            ],
        ),
    output:
        PREPROCESS_OUTPUTS["combine_metadata_phenotype"],
    log:
        log_for("combine_metadata_phenotype", PREPROCESS_OUTPUTS["combine_metadata_phenotype"]),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(log[0], preprocess_steps.combine_metadata_tables, input, output[0])


rule calculate_ic_sbs:
    input:
        lambda wc: targets(
            PREPROCESS_OUTPUTS["convert_sbs"],
            SBS_SAMPLES[
                (SBS_SAMPLES.plate == wc.plate)
                & (SBS_SAMPLES.well == wc.well)
                & (SBS_SAMPLES.cycle == wc.cycle)
            ],
        ),
    output:
        PREPROCESS_OUTPUTS["calculate_ic_sbs"],
    log:
        log_for("calculate_ic_sbs", PREPROCESS_OUTPUTS["calculate_ic_sbs"]),
    threads: 1
    resources:
        mem_mb=4000,
    run:
        run_step(log[0], preprocess_steps.calculate_ic, input, output[0], settings=CONFIG.preprocess)


rule calculate_ic_phenotype:
    input:
        lambda wc: targets(
            PREPROCESS_OUTPUTS["convert_phenotype"],
            PHENOTYPE_SAMPLES[
                (PHENOTYPE_SAMPLES.plate == wc.plate) & (PHENOTYPE_SAMPLES.well == wc.well)
            ],
        ),
    output:
        PREPROCESS_OUTPUTS["calculate_ic_phenotype"],
    log:
        log_for("calculate_ic_phenotype", PREPROCESS_OUTPUTS["calculate_ic_phenotype"]),
    threads: 1
    resources:
        mem_mb=4000,
    run:
        run_step(log[0], preprocess_steps.calculate_ic, input, output[0], settings=CONFIG.preprocess)
