# File names of the phenotype module (under all.root_fp).
PHENOTYPE = ROOT / "phenotype"

PHENOTYPE_OUTPUTS = {
    "apply_ic_field_phenotype": PHENOTYPE / "images" / name("illumination_corrected"),
    "align_phenotype": PHENOTYPE / "images" / name("aligned"),
    "segment_phenotype_nuclei": PHENOTYPE / "images" / name("nuclei"),
    "segment_phenotype_cells": PHENOTYPE / "images" / name("cells"),
    "segment_phenotype_stats": PHENOTYPE / "tsvs" / name("segmentation_stats", "tsv"),
    "identify_cytoplasm": PHENOTYPE / "images" / name("identified_cytoplasms"),
    "extract_phenotype": PHENOTYPE / "tsvs" / name("phenotype_cp", "tsv"),
    "extract_phenotype_minimal": PHENOTYPE / "tsvs" / name("phenotype_cp_min", "tsv"),
    "combine_phenotype": PHENOTYPE / "parquets" / name("phenotype_cp", "parquet", tile=False),
    "combine_phenotype_minimal": PHENOTYPE / "parquets"
    / name("phenotype_cp_min", "parquet", tile=False),
}

PHENOTYPE_TARGETS = [
    path
    for key in ("combine_phenotype", "combine_phenotype_minimal", "segment_phenotype_stats")
    for path in targets(PHENOTYPE_OUTPUTS[key], PHENOTYPE_SAMPLES)
]
