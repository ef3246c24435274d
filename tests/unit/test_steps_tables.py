"""The outputs and steps tables: names as DESIGN.md fixes them, a graph without holes."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from opsflow.config import Config
from opsflow.errors import ConfigError
from opsflow.export import STAGES
from opsflow.steps import OUTPUTS, STEPS, Workflow, get_output, get_step


def _path(key: str, **wildcards: object) -> str:
    return str(get_output(key).pattern("out")).format(**wildcards)


def test_output_names_follow_the_design() -> None:
    assert _path("convert_sbs", plate=1, well="A1", tile=3) == (
        "out/preprocess/images/sbs/P-1_W-A1_T-3__image.tiff"
    )
    assert _path("convert_phenotype", plate=1, well="A1", tile=3) == (
        "out/preprocess/images/phenotype/P-1_W-A1_T-3__image.tiff"
    )
    assert _path("calculate_ic_sbs", plate=1, well="B2", cycle=4) == (
        "out/preprocess/ic_fields/sbs/P-1_W-B2_C-4__ic_field.tiff"
    )
    assert _path("combine_metadata_phenotype", plate=1, well="A1") == (
        "out/preprocess/metadata/phenotype/P-1_W-A1__combined_metadata.parquet"
    )
    assert (
        _path("align_sbs", plate=1, well="A1", tile=0)
        == "out/sbs/images/P-1_W-A1_T-0__aligned.tiff"
    )
    assert _path("call_cells", plate=1, well="A1", tile=0) == "out/sbs/tsvs/P-1_W-A1_T-0__cells.tsv"
    assert _path("combine_phenotype", plate=1, well="A1") == (
        "out/phenotype/parquets/P-1_W-A1__phenotype_cp.parquet"
    )
    with pytest.raises(ConfigError, match="valid outputs are"):
        get_output("aligned")
    with pytest.raises(ConfigError, match="valid steps are"):
        get_step("align")


def test_every_output_has_one_path_and_one_step_writing_it() -> None:
    paths = [str(o.pattern("root")) for o in OUTPUTS]
    assert len(set(paths)) == len(paths)
    written = [key for step in STEPS for key in step.outputs]
    assert sorted(written) == sorted(o.key for o in OUTPUTS)


def test_every_step_reads_what_an_earlier_step_writes() -> None:
    done = {"samples"}
    for step in STEPS:
        for item in step.inputs:
            assert item.key in done, f"{step.name} reads {item.key} before it is written"
        done.update(step.outputs)


def test_images_have_axes_tables_none_and_stages_name_images() -> None:
    for output in OUTPUTS:
        assert (output.axes is not None) == output.is_image, output.key
    for stage in STAGES:
        image = get_output(stage.image)
        assert image.is_image and image.axes == stage.axes, stage.name
        for _, key in stage.labels:
            assert get_output(key).axes == "yx", (stage.name, key)


def test_kernels_take_the_inputs_and_params_the_table_gives() -> None:
    workflow = Workflow.for_tile(Config(), n_cycles=3)
    wildcards = {"plate": "1", "well": "A1", "tile": "0", "cycle": "1"}
    for step in STEPS:
        args = [object()] * len(step.inputs)
        inspect.signature(step.kernel).bind(*args, **step.params(workflow, wildcards))


def test_workflow_resolves_gathered_and_picked_inputs(tmp_path) -> None:
    sbs = pd.DataFrame(
        [
            {"sample_fp": f"raw_{w}_{t}_{c}.nd2", "plate": "1", "well": w, "tile": t, "cycle": c}
            for w in ("A1", "B1")
            for t in ("10", "2")
            for c in ("3", "1", "2")
        ]
    )
    workflow = Workflow(Config(), {"sbs": sbs})
    wc = {"plate": "1", "well": "A1", "tile": "10"}
    runs = workflow.each_wildcards(get_step("convert_sbs"), wc)
    assert [r["cycle"] for r in runs] == ["1", "2", "3"]  # acquisition order, not the table's
    stack = workflow.step_inputs(get_step("align_sbs"), wc)["convert_sbs"]
    assert stack.endswith("P-1_W-A1_T-10__image.tiff")  # every cycle in one stack
    ic = get_step("calculate_ic_sbs")
    well = {"plate": "1", "well": "B1", "cycle": "3"}
    assert workflow.step_inputs(ic, well)["convert_sbs"] == [
        workflow.path("convert_sbs", {**well, "tile": t}) for t in ("2", "10")
    ]
    assert workflow.plane(ic, ic.inputs[0], well) == 2  # cycle 3 is the stacks' third plane
    field = workflow.step_inputs(get_step("apply_ic_field_sbs"), wc)["calculate_ic_sbs"]
    assert field.endswith("P-1_W-A1_C-1__ic_field.tiff")  # sbs.cyto_cycle 0: first cycle
    tiles = workflow.step_inputs(get_step("combine_reads"), {"plate": "1", "well": "B1"})
    assert list(tiles["call_reads"]) == [2, 10]
    raw = workflow.step_inputs(get_step("convert_sbs"), {**wc, "cycle": "2"})["samples"]
    assert raw == ["raw_A1_10_2.nd2"]
    assert len(workflow.targets("convert_sbs")) == 4
    assert len(workflow.targets("combine_cells")) == 2


def test_a_well_of_one_modality_is_named_and_not_merged(tmp_path, caplog) -> None:
    tile = {"plate": "1", "tile": "0", "sample_fp": "x"}
    sbs = pd.DataFrame([{**tile, "well": w, "cycle": "1"} for w in ("A1", "A2")])
    phenotype = pd.DataFrame([{**tile, "well": w} for w in ("A1", "B3")])
    config = Config()
    workflow = Workflow(config, {"sbs": sbs, "phenotype": phenotype})
    with caplog.at_level("WARNING"):
        targets = workflow.targets("merge")
    assert [t.rsplit("/", 1)[-1] for t in targets] == ["P-1_W-A1__merge.parquet"]
    assert "plate 1 well A2 has sbs images but no phenotype images" in caplog.text
    assert "plate 1 well B3 has phenotype images but no sbs images" in caplog.text
    step = get_step("merge")
    inputs = workflow.flat_inputs(step, {"plate": "1", "well": "A1"})
    assert inputs["combine_sbs_info"].endswith("sbs/parquets/P-1_W-A1__sbs_info.parquet")
    assert inputs["combine_metadata_phenotype"].endswith(
        "preprocess/metadata/phenotype/P-1_W-A1__combined_metadata.parquet"
    )


def _formats_workflow(**sections: dict) -> Workflow:
    from opsflow.config import load_config

    sbs = pd.DataFrame(
        [
            {"sample_fp": f"raw_{t}_{c}.nd2", "plate": "1", "well": "B03", "tile": t, "cycle": c}
            for t in ("0", "1")
            for c in ("1", "2")
        ]
    )
    config = load_config({"all": {"root_fp": "/out"}, **sections})
    return Workflow(config, {"sbs": sbs})


def test_inputs_come_from_the_stores_the_formats_name() -> None:
    wc = {"plate": "1", "well": "B03", "tile": "1"}
    step = get_step("extract_bases")
    tiff = _formats_workflow().step_inputs(step, wc)["segment_sbs_cells"]
    assert tiff == "/out/sbs/images/P-1_W-B03_T-1__cells.tiff"
    plate = _formats_workflow(sbs={"input_format": "omezarr"})
    # the tile's store, which its plate field links to
    store = "/out/sbs/omezarr/segmentation/P-1_W-B03_T-1__segmentation.ome.zarr"
    cells = f"{store}/labels/cells"
    assert plate.step_inputs(step, wc)["segment_sbs_cells"] == cells
    # Snakemake waits for the store (a job's output), the step reads its label image
    assert plate.flat_inputs(step, wc)["segment_sbs_cells"] == store
    # the stages exported for the jobs to read: the tile job reads the converted cycles
    # (and computes the cells mask in memory), the montage the phenotype masks
    assert {s.name for s in plate.stages_read("preprocess")} == {"convert_sbs", "calculate_ic_sbs"}
    assert plate.stages_read("sbs") == []
    computed = _formats_workflow(all={"root_fp": "/out", "compute_format": "omezarr"})
    assert computed.step_inputs(step, wc)["segment_sbs_cells"] == f"{store}/labels/cells"
    # both masks of a segmentation are one store, written with the image they were made on
    outputs = computed.step_outputs(get_step("segment_sbs"))
    assert set(outputs) == {"segment_sbs_omezarr", "segment_sbs_stats"}
    cytoplasm = computed.flat_inputs(get_step("identify_cytoplasm"), {**wc})
    assert "metadata" in cytoplasm


def test_keep_tiff_names_image_outputs_and_marks_the_others_temporary() -> None:
    keep = _formats_workflow(all={"root_fp": "/out", "keep_tiff": ["align_sbs"]})
    assert not keep.temporary("align_sbs") and keep.temporary("log_filter")
    assert not keep.temporary("call_reads")  # tables always stay

    def converted(workflow: Workflow) -> list[str]:
        return [t for t in workflow.module_targets("preprocess") if t.endswith("__image.tiff")]

    assert converted(keep) == [] and len(converted(_formats_workflow())) == 2  # one per tile
    assert not _formats_workflow().temporary("log_filter")
    with pytest.raises(ConfigError, match=r"all.keep_tiff: \['aligned'\] are not image outputs"):
        _formats_workflow(all={"root_fp": "/out", "keep_tiff": ["aligned"]})


def test_a_job_of_every_cycle_stacks_their_images_and_joins_their_tables() -> None:
    from opsflow.errors import OpsflowError
    from opsflow.steps._run import _combine

    tile = {"plate": "1", "well": "A1", "tile": "0"}
    runs = [np.full((2, 3, 4), c, dtype=np.uint16) for c in (1, 2, 3)]
    stack = _combine("convert_sbs", runs, tile)
    assert stack.shape == (3, 2, 3, 4) and [int(p.max()) for p in stack] == [1, 2, 3]
    tables = [pd.DataFrame({"cycle": [c]}) for c in (1, 2)]
    assert _combine("convert_sbs_metadata", tables, tile)["cycle"].tolist() == [1, 2]
    with pytest.raises(OpsflowError, match=r"convert_sbs of plate 1, well A1, tile 0: .*one shape"):
        _combine("convert_sbs", [runs[0], np.zeros((2, 3, 5), np.uint16)], tile)


def test_an_export_job_names_each_file_it_reads_once() -> None:
    """The SBS tile's export job: four stages, two of them on the illumination-corrected
    image; Snakemake is given each file once, and every file a stage reads is among them."""
    workflow = _formats_workflow(all={"root_fp": "/out", "omezarr_export_default": True})
    from opsflow.steps import JOBS

    group = workflow.export_group(next(j for j in JOBS if j.name == "sbs_tile"))
    assert {"apply_ic_field_sbs", "segment_sbs"} <= {s.name for s in group}
    wc = {"plate": "1", "well": "B03", "tile": "1"}
    inputs = workflow.group_inputs(group, wc)
    assert len(set(inputs.values())) == len(inputs)
    read = {p for s in group for p in workflow.export_job_inputs(s, wc).values()}
    assert set(inputs.values()) == read
    assert "/out/sbs/images/P-1_W-B03_T-1__illumination_corrected.tiff" in read
