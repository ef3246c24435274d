"""The commands that run the workflow: run and demo."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from opsflow.cli._format import _human, _progress_bar
from opsflow.cli._snakemake import clear_stale_lock, run_snakemake
from opsflow.errors import OpsflowError
from opsflow.paths import MODULES

if TYPE_CHECKING:
    from opsflow.steps import Workflow

log = logging.getLogger("opsflow")


def load_screen(configfile: Path) -> tuple[int, int, dict[str, str]]:
    """Validate a configuration and every input it names.

    Returns the raw files and tiles checked, and the environment that tells the
    Snakemake process what the check found (so the workflow does not check again).

    Raises ``OpsflowError`` with one sentence for a bad configuration and
    ``PreflightError`` listing every input problem, before any job is started.
    """
    import yaml

    from opsflow.config import load_config
    from opsflow.steps import Workflow, check_inputs

    if not configfile.is_file():
        raise OpsflowError(f"{configfile}: expected a configuration file, found nothing there.")
    try:
        data = yaml.safe_load(configfile.read_text())
    except yaml.YAMLError as exc:
        msg = f"{configfile}: expected YAML, found {exc}.".replace("\n", " ")
        raise OpsflowError(msg) from None
    if data is not None and not isinstance(data, dict):
        raise OpsflowError(
            f"{configfile}: expected a mapping of sections (all, preprocess, sbs, "
            f"phenotype), found a {type(data).__name__}."
        )
    config = load_config(data, base_dir=configfile.parent)
    screen = Workflow.from_config(config, base_dir=configfile.parent)
    files = check_inputs(screen)
    tiles = sum(len(s.groupby(["plate", "well", "tile"])) for s in screen.samples.values())
    env = {
        "OPSFLOW_PREFLIGHT": "done",
        "OPSFLOW_NO_POSITIONS": ",".join(sorted(screen.positions_missing)),
    }
    return files, tiles, env


def _snakemake_command(configfile: Path, extra: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The snakemake call (cores default to all) and its environment, inputs checked."""
    from importlib.resources import files

    *_, env = load_screen(configfile)  # every problem listed before any job runs
    snakefile = files("opsflow") / "workflow" / "Snakefile"
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "--configfile",
        str(configfile),
        "--directory",
        str(configfile.parent),
    ]
    if not any(
        a in ("-c", "--cores", "-j", "--jobs") or a.startswith(("--cores=", "--jobs="))
        for a in extra
    ):
        command += ["--cores", "all"]
    if not {"--rerun-incomplete", "--ri"} & set(extra):
        # Every output is written to a temporary sibling and renamed, so an output marked
        # incomplete is one whose job was stopped: running it again is always safe.
        command.append("--rerun-incomplete")
    if not any(a in ("-e", "--executor") or a.startswith("--executor=") for a in extra):
        # Local jobs run in threads of one process: the steps release the GIL in numpy,
        # and a job then costs milliseconds instead of a new Python process each.
        command.append("--force-use-threads")
    return command + list(extra), {**os.environ, **env}


def cmd_run(args: argparse.Namespace) -> int:
    """Run the workflow with snakemake; extra arguments go to snakemake unchanged."""
    configfile = Path(args.configfile).resolve()
    command, env = _snakemake_command(configfile, args.snakemake_args)
    if "--unlock" not in args.snakemake_args:
        clear_stale_lock(configfile.parent)
    log.info("running %s", " ".join(command))
    return run_snakemake(command, env=env, verbose=args.verbose)


def cmd_check(args: argparse.Namespace) -> int:
    """Check a configuration and every input it names, as ``opsflow run`` does first."""
    import time

    import opsflow.steps  # noqa: F401 (imported before the clock starts)

    start = time.perf_counter()
    files, tiles, _ = load_screen(Path(args.configfile).resolve())
    seconds = time.perf_counter() - start
    print(f"{args.configfile}: {files} raw files of {tiles} tiles checked in {seconds:.1f} s, "
          "no problems.")  # fmt: skip
    return 0


def _demo_config(screen_config: Path) -> Path:
    """The synthetic screen's configuration with every OME-Zarr stage switched on.

    As plates with sharded fields, and one well mosaic per modality's segmentation.
    """
    import yaml

    from opsflow.export import stages_of

    data = yaml.safe_load(screen_config.read_text())
    data.setdefault("all", {})["omezarr_export_default"] = True
    for module in ("preprocess", "sbs", "phenotype"):  # the modules with image stages
        section = data.setdefault(module, {}) or {}
        section["omezarr_stages"] = [s.name for s in stages_of(module)]
        section.setdefault("omezarr_chunk_shape", [1, 256, 256])
        section.setdefault("omezarr_shard_shape", [5, 1024, 1024])  # a field is a few files
        data[module] = section
    # one stitched well of each modality's segmentation
    data["sbs"].setdefault("omezarr_mosaic_stages", ["segment_sbs"])
    data["phenotype"].setdefault("omezarr_mosaic_stages", ["segment_phenotype"])
    path = screen_config.with_name("config_demo.yml")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _merge_summary(screen: Workflow, n_phenotype: int) -> str:
    """The demo's line on the merge: cells joined and how well the wells were fitted."""
    import pandas as pd

    merged = pd.concat(pd.read_parquet(p) for p in screen.targets("merge"))
    fits = pd.concat(pd.read_parquet(p) for p in screen.targets("merge_transform"))
    return (
        f"phenotype cells merged:    {len(merged)} ({len(merged) / n_phenotype:.1%}) to "
        f"their SBS cells; residual median {fits.residual_median_um.median():.2f} µm, "
        f"rotation {fits.rotation_deg.abs().max():.3f}° at most"
    )


def _aggregate_summary(screen: Workflow) -> str:
    """The demo's line on the hits: the strongest feature of every gene called."""
    import pandas as pd

    from opsflow.report import REPORT_NAME

    hits = pd.concat(pd.read_parquet(p) for p in screen.targets("hits"))
    called = hits[hits["hit"]].sort_values(["rank", "q_value"]).drop_duplicates("gene")
    shown = ", ".join(f"{r.gene} ({r.feature}, q {r.q_value:.1g})" for r in called.itertuples())
    return (
        f"hit genes (q < {screen.config.aggregate.hit_q}): {len(called)}: {shown or 'none'}\n"
        f"QC report:                 {screen.root / REPORT_NAME}"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """Synthetic screen -> the whole workflow with every export on -> validated stores.

    Prints what a scientist wants to see first: cells found, how many carry a barcode
    that maps to the library, the stores written and how to open them.
    """
    import pandas as pd
    import yaml

    from opsflow.config import load_config
    from opsflow.io import validate_store
    from opsflow.steps import Workflow, storage_report
    from opsflow.synth import SynthParams, write_screen

    out = Path(args.outdir).resolve()
    params = SynthParams(seed=args.seed)
    print(
        f"1/3 writing a synthetic screen to {out}: {len(params.wells)} wells x "
        f"{len(params.tiles)} tiles, {params.n_cycles} SBS cycles ..."
    )
    tiles = len(params.wells) * (len(params.tiles) + len(params.phenotype_tiles))
    advance, bar = _progress_bar("synthetic tiles", tiles, unit="tiles")
    with bar:  # type: ignore[attr-defined]
        workers = max(1, min(2, os.cpu_count() or 1))
        paths = write_screen(out, params, workers=workers, progress=advance)
    config = _demo_config(paths["config"])
    print(f"2/3 running the workflow (opsflow run --configfile {config}) ...")
    command, env = _snakemake_command(config, ["--quiet", "rules", "host", "reason"])
    clear_stale_lock(config.parent)
    code = run_snakemake(command, env=env, verbose=args.verbose)
    if code != 0:
        print(
            f"opsflow demo: the workflow failed (exit {code}); see the logs above.", file=sys.stderr
        )
        return code
    settings = load_config(yaml.safe_load(config.read_text()), base_dir=config.parent)
    screen = Workflow.from_config(settings, base_dir=config.parent)
    root = screen.root
    stores = sorted(Path(p) for m in MODULES for p in screen.store_dirs(m, enabled_only=True))
    print(f"3/3 validating {len(stores)} OME-Zarr stores ...")
    invalid = {str(s): problems for s in stores if (problems := validate_store(s))}
    for store, problems in invalid.items():
        for problem in problems:
            print(f"{store}: {problem}")
    cells = pd.concat(pd.read_parquet(p) for p in screen.targets("combine_cells"))
    phenotype = pd.concat(pd.read_parquet(p) for p in screen.targets("combine_phenotype"))
    mapped = cells["cell_barcode_mapped_0"].fillna(False).astype(bool)
    report = storage_report(root)
    sizes = report.groupby("format")["bytes"].sum()
    print()
    print(
        f"SBS cells with a barcode:  {len(cells)} in {cells.groupby(['well', 'tile']).ngroups} "
        f"tiles; {mapped.mean():.1%} map to the library"
    )
    print(f"phenotype cells measured:  {len(phenotype)} ({phenotype.shape[1]} features each)")
    if "merge" in settings.all.modules:
        print(_merge_summary(screen, len(phenotype)))
    if "aggregate" in settings.all.modules:
        print(_aggregate_summary(screen))
    print(
        f"OME-Zarr stores:           {len(stores)} "
        f"({'all valid' if not invalid else f'{len(invalid)} INVALID'}), "
        f"{_human(sizes.get('ome-zarr', 0))}; TIFF {_human(sizes.get('tiff', 0))}"
    )
    print(f"outputs:                   {root}  (opsflow du {root})")
    example = next(
        (s for s in stores if "segmentation" in s.parent.name and "mosaic" not in s.name),
        stores[0],
    )
    print("Open a store:")
    print(f"  napari:  napari --plugin napari-ome-zarr {example}")
    print(
        f"  vizarr:  npx http-server --cors -p 8000 {root}  then open "
        "https://hms-dbmi.github.io/vizarr/?source=http://localhost:8000/"
        f"{example.relative_to(root)}"
    )
    return 1 if invalid else 0
