# SBS: aligned cycles -> filtered images, peaks, segmentation -> reads -> a barcode per cell.


def _sbs_cycle_images(wildcards):
    return [
        str(PREPROCESS_OUTPUTS["convert_sbs"]).format(**dict(wildcards.items(), cycle=c))
        for c in tile_cycles(wildcards)
    ]


def _sbs_ic_field(wildcards):
    # The field of the cycle the segmentation image takes its channels from.
    cycle = tile_cycles(wildcards)[CONFIG.sbs.cyto_cycle]
    return str(PREPROCESS_OUTPUTS["calculate_ic_sbs"]).format(
        plate=wildcards.plate, well=wildcards.well, cycle=cycle
    )


def _per_tile(key):
    def inputs(wildcards):
        tiles = well_tiles(SBS_SAMPLES, wildcards)
        return {
            f"tile_{t}": str(SBS_OUTPUTS[key]).format(**dict(wildcards.items(), tile=t))
            for t in tiles
        }

    return inputs


rule align_sbs:
    input:
        _sbs_cycle_images,
    output:
        SBS_OUTPUTS["align_sbs"],
    log:
        log_for("align_sbs", SBS_OUTPUTS["align_sbs"]),
    threads: 1
    resources:
        mem_mb=4000,
    run:
        run_step(log[0], sbs_steps.align, input, output[0], settings=CONFIG.sbs)


rule log_filter:
    input:
        SBS_OUTPUTS["align_sbs"],
    output:
        SBS_OUTPUTS["log_filter"],
    log:
        log_for("log_filter", SBS_OUTPUTS["log_filter"]),
    threads: 1
    resources:
        mem_mb=4000,
    run:
        run_step(log[0], sbs_steps.log_filter, input[0], output[0], settings=CONFIG.sbs)


rule compute_standard_deviation:
    input:
        SBS_OUTPUTS["log_filter"],
    output:
        SBS_OUTPUTS["compute_standard_deviation"],
    log:
        log_for("compute_standard_deviation", SBS_OUTPUTS["compute_standard_deviation"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(log[0], sbs_steps.standard_deviation, input[0], output[0], settings=CONFIG.sbs)


rule find_peaks:
    input:
        SBS_OUTPUTS["compute_standard_deviation"],
    output:
        SBS_OUTPUTS["find_peaks"],
    log:
        log_for("find_peaks", SBS_OUTPUTS["find_peaks"]),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(log[0], sbs_steps.find_peaks, input[0], output[0], settings=CONFIG.sbs)


rule max_filter:
    input:
        SBS_OUTPUTS["log_filter"],
    output:
        SBS_OUTPUTS["max_filter"],
    log:
        log_for("max_filter", SBS_OUTPUTS["max_filter"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(log[0], sbs_steps.max_filter, input[0], output[0], settings=CONFIG.sbs)


rule apply_ic_field_sbs:
    input:
        aligned=SBS_OUTPUTS["align_sbs"],
        field=_sbs_ic_field,
    output:
        SBS_OUTPUTS["apply_ic_field_sbs"],
    log:
        log_for("apply_ic_field_sbs", SBS_OUTPUTS["apply_ic_field_sbs"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(
            log[0], sbs_steps.apply_ic_field, input.aligned, input.field, output[0],
            settings=CONFIG.sbs,
        )


rule segment_sbs:
    input:
        SBS_OUTPUTS["apply_ic_field_sbs"],
    output:
        nuclei=SBS_OUTPUTS["segment_sbs_nuclei"],
        cells=SBS_OUTPUTS["segment_sbs_cells"],
        stats=SBS_OUTPUTS["segment_sbs_stats"],
    log:
        log_for("segment_sbs", SBS_OUTPUTS["segment_sbs_nuclei"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(
            log[0], sbs_steps.segment, input[0], output.nuclei, output.cells, output.stats,
            settings=CONFIG.sbs,
        )


rule extract_bases:
    input:
        peaks=SBS_OUTPUTS["find_peaks"],
        maxed=SBS_OUTPUTS["max_filter"],
        cells=SBS_OUTPUTS["segment_sbs_cells"],
    output:
        SBS_OUTPUTS["extract_bases"],
    log:
        log_for("extract_bases", SBS_OUTPUTS["extract_bases"]),
    threads: 1
    resources:
        mem_mb=2000,
    run:
        run_step(
            log[0], sbs_steps.extract_bases, input.peaks, input.maxed, input.cells, output[0],
            settings=CONFIG.sbs,
        )


rule call_reads:
    input:
        SBS_OUTPUTS["extract_bases"],
    output:
        SBS_OUTPUTS["call_reads"],
    log:
        log_for("call_reads", SBS_OUTPUTS["call_reads"]),
    params:
        n_cycles=lambda wc: len(tile_cycles(wc)),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(
            log[0], sbs_steps.call_reads, input[0], output[0], settings=CONFIG.sbs,
            n_cycles=params.n_cycles,
        )


rule call_cells:
    input:
        SBS_OUTPUTS["call_reads"],
    output:
        SBS_OUTPUTS["call_cells"],
    log:
        log_for("call_cells", SBS_OUTPUTS["call_cells"]),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(
            log[0], sbs_steps.call_cells, input[0], output[0], settings=CONFIG.sbs,
            library=load_library(CONFIG.sbs.library_path),
        )


rule extract_sbs_info:
    input:
        nuclei=SBS_OUTPUTS["segment_sbs_nuclei"],
        cells=SBS_OUTPUTS["segment_sbs_cells"],
    output:
        SBS_OUTPUTS["extract_sbs_info"],
    log:
        log_for("extract_sbs_info", SBS_OUTPUTS["extract_sbs_info"]),
    threads: 1
    resources:
        mem_mb=1000,
    run:
        run_step(log[0], sbs_steps.info, input.nuclei, input.cells, output[0])


for _table in ("reads", "cells", "sbs_info"):

    rule:
        name:
            f"combine_{_table}"
        input:
            unpack(_per_tile({"reads": "call_reads", "cells": "call_cells",
                              "sbs_info": "extract_sbs_info"}[_table])),
        output:
            SBS_OUTPUTS[f"combine_{_table}"],
        log:
            log_for(f"combine_{_table}", SBS_OUTPUTS[f"combine_{_table}"]),
        threads: 1
        resources:
            mem_mb=2000,
        run:
            run_step(
                log[0], sbs_steps.combine,
                {int(k.removeprefix("tile_")): v for k, v in input.items()}, output[0],
                plate=wildcards.plate, well=wildcards.well,
            )
