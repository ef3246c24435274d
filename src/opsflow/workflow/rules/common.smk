# Configuration (validated once, here), samples, and the helpers every rule file uses.
import re
from pathlib import Path

from snakemake.utils import validate

from opsflow.config import load_config
from opsflow.errors import OpsflowError
from opsflow.paths import file_name
from opsflow.steps import export as export_steps
from opsflow.steps import phenotype as phenotype_steps
from opsflow.steps import preprocess as preprocess_steps
from opsflow.steps import sbs as sbs_steps
from opsflow.steps._files import step_log
from opsflow.steps.samples import load_library, load_samples

BASE_DIR = Path(workflow.configfiles[0]).resolve().parent if workflow.configfiles else Path.cwd()
try:
    CONFIG = load_config(config, base_dir=BASE_DIR)
except OpsflowError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None
validate(config, workflow.source_path("../schemas/config.schema.json"), set_default=False)

ROOT = Path(CONFIG.all.root_fp)
MODULES = CONFIG.all.modules

wildcard_constraints:
    plate=r"[^_/]+",
    well=r"[^_/]+",
    tile=r"\d+",
    cycle=r"\d+",


def _samples(path, with_cycle):
    if path is None:
        raise WorkflowError(
            "invalid configuration: preprocess.sbs_samples_fp and "
            "preprocess.phenotype_samples_fp must name the samples TSVs."
        )
    try:
        return load_samples(path, with_cycle=with_cycle, base_dir=BASE_DIR)
    except OpsflowError as exc:
        raise WorkflowError(str(exc)) from None


SBS_SAMPLES = _samples(CONFIG.preprocess.sbs_samples_fp, True) if "sbs" in MODULES else None
PHENOTYPE_SAMPLES = (
    _samples(CONFIG.preprocess.phenotype_samples_fp, False) if "phenotype" in MODULES else None
)


def name(what, ext="tiff", *, tile=True, cycle=False):
    """File name with wildcards, e.g. P-{plate}_W-{well}_T-{tile}__aligned.tiff."""
    return file_name(
        "{plate}", "{well}", what, ext,
        tile="{tile}" if tile else None, cycle="{cycle}" if cycle else None,
    )


def log_for(rule_name, output_pattern):
    """Log file of a rule, with the wildcards of its output."""
    stem = Path(str(output_pattern)).name.split("__")[0]
    return ROOT / "logs" / rule_name / f"{stem}.log"


def targets(pattern, samples):
    """Every path of a pattern, one per combination of its wildcards in the samples."""
    if samples is None:
        return []
    keys = re.findall(r"{(\w+)}", str(pattern))
    combos = samples[keys].drop_duplicates()
    return [str(pattern).format(**row) for row in combos.to_dict("records")]


def tile_cycles(wildcards):
    """Cycle labels of one SBS tile, in acquisition order."""
    rows = SBS_SAMPLES[
        (SBS_SAMPLES.plate == wildcards.plate)
        & (SBS_SAMPLES.well == wildcards.well)
        & (SBS_SAMPLES.tile == wildcards.tile)
    ]
    return sorted(rows.cycle.unique(), key=int)


def well_tiles(samples, wildcards):
    """Tile numbers of one well."""
    rows = samples[(samples.plate == wildcards.plate) & (samples.well == wildcards.well)]
    return sorted(rows.tile.unique(), key=int)


def run_step(log_file, function, *args, **kwargs):
    """Call one library step with its log going to the rule's log file."""
    with step_log(log_file):
        function(*args, **kwargs)
