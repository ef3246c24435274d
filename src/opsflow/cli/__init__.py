"""The ``opsflow`` command: run, check, export, validate, info, du, report, synth, demo.

Commands only read arguments, call the library and report. Every opsflow error becomes
one line on stderr and exit code 2; a store that fails validation exits 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from opsflow.cli._commands import (
    _add_export_parser,
    cmd_du,
    cmd_info,
    cmd_paramsearch,
    cmd_report,
    cmd_synth,
    cmd_validate,
)
from opsflow.cli._workflow import cmd_check, cmd_demo, cmd_run
from opsflow.errors import OpsflowError

__all__ = ["main"]

log = logging.getLogger("opsflow")


def _parser() -> argparse.ArgumentParser:
    from opsflow import __version__

    parser = argparse.ArgumentParser(
        prog="opsflow",
        description="Optical pooled screen analysis with OME-Zarr views of every checkpoint.",
    )
    parser.add_argument("--version", action="version", version=f"opsflow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_export_parser(sub)

    p = sub.add_parser(
        "run",
        help="run the workflow (snakemake); other options go to snakemake",
        description="Run the opsflow workflow. The configuration and every input are "
        "checked first (as opsflow check does). Every argument after the config file is "
        "passed to snakemake: a target (all, all_preprocess, all_sbs, all_phenotype, "
        "all_sbs_omezarr, cleanup_omezarr_sbs, ...), --cores 8, -n (dry run), "
        "--rerun-incomplete, --executor slurm --profile myprofile; Snakemake's own options: "
        "opsflow run --configfile CONFIG --help. At a terminal a progress bar replaces "
        "Snakemake's output (opsflow -v run shows it). Exit codes: 0 done, 1 a job failed, "
        "2 bad configuration or inputs, 130/143 stopped by SIGINT/SIGTERM.",
    )
    p.add_argument("--configfile", required=True, help="workflow configuration (YAML)")
    p.add_argument("snakemake_args", nargs="*", help="targets and options passed to snakemake")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "check",
        help="check the config and every raw file, table and name it points to",
        description="Read the header of every raw file in the samples tables, the tables "
        "and the library, and list every problem (one sentence each, naming the file and "
        "the config key). opsflow run does this before any job.",
    )
    p.add_argument("--configfile", required=True, help="workflow configuration (YAML)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("validate", help="validate OME-Zarr stores (exit 1 if any is invalid)")
    p.add_argument("stores", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("info", help="describe a store or TIFF")
    p.add_argument("store")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("du", help="disk use per stage, TIFF and OME-Zarr, under an output root")
    p.add_argument("root", help="the workflow's output root (all.root_fp)")
    p.set_defaults(func=cmd_du)

    p = sub.add_parser("report", help="write the QC report (one HTML file) of a run")
    p.add_argument("root", help="the workflow's output root (all.root_fp)")
    p.add_argument("-o", "--output", help="the HTML file; default ROOT/qc_report.html")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "paramsearch", help="segment one image with several settings; all masks in one store"
    )
    p.add_argument("image", help="what the segment step takes: the illumination-corrected "
                   "SBS TIFF or the aligned phenotype TIFF (or a store)")  # fmt: skip
    p.add_argument("--configfile", required=True, help="the workflow configuration")
    p.add_argument("--modality", choices=["sbs", "phenotype"], default="phenotype")
    p.add_argument("--set", action="append", required=True, metavar="KEY=V1,V2",
                   help="a segmentation setting and the values to try (repeatable)")  # fmt: skip
    p.add_argument("--pixel-size", type=float, nargs=2, default=(1.0, 1.0), metavar=("Y", "X"))
    p.add_argument("-o", "--output", help="the store (default IMAGE__segmentation_search)")
    p.set_defaults(func=cmd_paramsearch)

    p = sub.add_parser("synth", help="write the synthetic screen with ground truth")
    p.add_argument("outdir")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("demo", help="run the demo on the synthetic screen")
    p.add_argument("--outdir", default="demo_output")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)
    return parser


def _configfile_args(args: Sequence[str]) -> list[str]:
    for i, a in enumerate(args):
        if a == "--configfile" and i + 1 < len(args):
            return [a, args[i + 1]]
        if a.startswith("--configfile="):
            return [a]
    return []


def _without_configfile(args: Sequence[str]) -> list[str]:
    keep = _configfile_args(args)
    if not keep:
        return list(args)
    i = list(args).index(keep[0])
    return [*args[:i], *args[i + len(keep) :]]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``opsflow`` console script."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "run" in argv and not _configfile_args(argv) and {"-h", "--help"} & set(argv):
        parser.parse_args([*argv[: argv.index("run") + 1], "--help"])  # opsflow's own help
    if "run" in argv:
        # Everything after the config file goes to snakemake, in its order.
        at = argv.index("run")
        args, rest = parser.parse_known_args([*argv[: at + 1], *_configfile_args(argv[at + 1 :])])
        args.snakemake_args = _without_configfile(argv[at + 1 :])
        del rest
    else:
        args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except OpsflowError as exc:
        print(f"opsflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"opsflow {args.command}: interrupted", file=sys.stderr)
        return 130
