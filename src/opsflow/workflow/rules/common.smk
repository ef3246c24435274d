# Configuration (validated once, here), the screen's samples, and the one Workflow object
# every rule file asks for paths and inputs (opsflow.steps: the outputs and steps tables).
import os
from pathlib import Path

from snakemake.utils import validate

from opsflow.config import load_config
from opsflow.errors import OpsflowError
from opsflow.steps import JOBS, Workflow, collect_rarely, dependency, step_log

collect_rarely()  # planning thousands of jobs: see opsflow.steps._collector

BASE_DIR = Path(workflow.configfiles[0]).resolve().parent if workflow.configfiles else Path.cwd()
try:
    CONFIG = load_config(config, base_dir=BASE_DIR)
    WORKFLOW = Workflow.from_config(CONFIG, base_dir=BASE_DIR)
    if os.environ.get("OPSFLOW_PREFLIGHT") != "done":  # opsflow run checked already
        from opsflow.steps import check_inputs

        check_inputs(WORKFLOW)
    else:  # what that check found: modalities without stage positions (no mosaics)
        WORKFLOW.positions_missing.update(
            m for m in os.environ.get("OPSFLOW_NO_POSITIONS", "").split(",") if m
        )
except OpsflowError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None
validate(config, workflow.source_path("../schemas/config.schema.json"), set_default=False)

wildcard_constraints:
    plate=r"[^_/]+",
    well=r"[^_/]+",
    tile=r"\d+",
    cycle=r"\d+",
