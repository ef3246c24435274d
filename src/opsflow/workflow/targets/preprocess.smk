# File names of the preprocess module (under all.root_fp).
PREPROCESS = ROOT / "preprocess"

PREPROCESS_OUTPUTS = {
    "convert_sbs": PREPROCESS / "images" / "sbs" / name("image", cycle=True),
    "convert_sbs_metadata": PREPROCESS / "metadata" / "sbs" / name("metadata", "parquet", cycle=True),
    "combine_metadata_sbs": PREPROCESS / "metadata" / "sbs"
    / name("combined_metadata", "parquet", tile=False),
    "calculate_ic_sbs": PREPROCESS / "ic_fields" / "sbs" / name("ic_field", tile=False, cycle=True),
    "convert_phenotype": PREPROCESS / "images" / "phenotype" / name("image"),
    "convert_phenotype_metadata": PREPROCESS / "metadata" / "phenotype" / name("metadata", "parquet"),
    "combine_metadata_phenotype": PREPROCESS / "metadata" / "phenotype"
    / name("combined_metadata", "parquet", tile=False),
    "calculate_ic_phenotype": PREPROCESS / "ic_fields" / "phenotype" / name("ic_field", tile=False),
}

PREPROCESS_TARGETS = [
    path
    for key, samples in (
        ("convert_sbs", SBS_SAMPLES),
        ("combine_metadata_sbs", SBS_SAMPLES),
        ("calculate_ic_sbs", SBS_SAMPLES),
        ("convert_phenotype", PHENOTYPE_SAMPLES),
        ("combine_metadata_phenotype", PHENOTYPE_SAMPLES),
        ("calculate_ic_phenotype", PHENOTYPE_SAMPLES),
    )
    for path in targets(PREPROCESS_OUTPUTS[key], samples)
]
