"""The cluster profile names real rules and batches every per-tile job."""

from pathlib import Path

import yaml

from opsflow.export import STAGES
from opsflow.steps import JOBS, get_output

PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "slurm" / "config.yaml"


def test_slurm_profile_groups_every_per_tile_job_and_nothing_else():
    profile = yaml.safe_load(PROFILE.read_text())
    groups = dict(item.split("=") for item in profile["groups"])
    sizes = dict(item.split("=") for item in profile["group-components"])
    assert set(groups.values()) == set(sizes) and all(int(n) > 1 for n in sizes.values())
    tile_jobs = {job.name for job in JOBS if "tile" in get_output(job.outputs[0]).wildcards}
    per_tile = (
        tile_jobs
        | {f"export_{name}_omezarr" for name in tile_jobs}  # a tile job's export job
        | {stage.rule for stage in STAGES if "tile" in get_output(stage.image).wildcards}
    )
    assert set(groups) == per_tile  # the jobs that gather tiles are not batched
    assert profile["executor"] == "slurm"
