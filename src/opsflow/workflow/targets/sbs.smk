# File names of the SBS module (under all.root_fp).
SBS = ROOT / "sbs"

SBS_OUTPUTS = {
    "align_sbs": SBS / "images" / name("aligned"),
    "log_filter": SBS / "images" / name("log_filtered"),
    "compute_standard_deviation": SBS / "images" / name("standard_deviation"),
    "find_peaks": SBS / "images" / name("peaks"),
    "max_filter": SBS / "images" / name("max_filtered"),
    "apply_ic_field_sbs": SBS / "images" / name("illumination_corrected"),
    "segment_sbs_nuclei": SBS / "images" / name("nuclei"),
    "segment_sbs_cells": SBS / "images" / name("cells"),
    "segment_sbs_stats": SBS / "tsvs" / name("segmentation_stats", "tsv"),
    "extract_bases": SBS / "tsvs" / name("bases", "tsv"),
    "call_reads": SBS / "tsvs" / name("reads", "tsv"),
    "call_cells": SBS / "tsvs" / name("cells", "tsv"),
    "extract_sbs_info": SBS / "tsvs" / name("sbs_info", "tsv"),
    "combine_reads": SBS / "parquets" / name("reads", "parquet", tile=False),
    "combine_cells": SBS / "parquets" / name("cells", "parquet", tile=False),
    "combine_sbs_info": SBS / "parquets" / name("sbs_info", "parquet", tile=False),
}

SBS_TARGETS = [
    path
    for key in ("combine_reads", "combine_cells", "combine_sbs_info", "segment_sbs_stats")
    for path in targets(SBS_OUTPUTS[key], SBS_SAMPLES)
]
