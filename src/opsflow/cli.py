"""The ``opsflow`` command: export, validate, info, synth, demo.

Commands only read arguments, call the library and report. Every opsflow error becomes
one line on stderr and exit code 2; a store that fails validation exits 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from opsflow.errors import OpsflowError

__all__ = ["main"]

log = logging.getLogger("opsflow")


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.replace(",", " ").split())


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.replace(",", " ").split())


def _progress_bar(description: str, total: int) -> tuple[Callable[[int], None], object]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
        disable=not sys.stderr.isatty(),
    )
    task = progress.add_task(description, total=total)
    return (lambda n: progress.advance(task, n)), progress


def _human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.1f} TB"


def _disk_usage(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def cmd_export(args: argparse.Namespace) -> int:
    """Export a TIFF (plus optional masks) as an OME-Zarr store."""
    from opsflow.io import export_tiff_to_omezarr, image_info, open_tiff

    labels = {}
    for item in args.label_image or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise OpsflowError(f"--label-image expects NAME=PATH, found {item!r}.")
        labels[name] = path
    total = open_tiff(args.input).shape
    nbytes = image_info(args.input).dtype.itemsize
    for n in total:
        nbytes *= n
    advance, bar = _progress_bar(f"export {Path(args.input).name}", nbytes * (1 + len(labels)))
    with bar:  # type: ignore[attr-defined]
        out = export_tiff_to_omezarr(
            args.input,
            args.output,
            pixel_size=args.pixel_size,
            chunk_shape=args.chunk_shape,
            coarsening_factor=args.coarsening_factor,
            max_levels=args.max_levels,
            channel_labels=args.channel_labels.split(",") if args.channel_labels else None,
            label_metadata={"name": args.label_name} if args.labels else None,
            labels=labels,
            axes=args.axes,
            ngff_version=args.ngff_version,
            compression=args.compression,
            workers=args.workers,
            progress=advance,
        )
    info = image_info(out)
    print(f"{out}: {len(info.level_shapes)} levels, level 0 {info.shape} {info.dtype}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate stores; exit 0 only when every store is valid."""
    from opsflow.io import validate_store

    bad = 0
    for store in args.stores:
        try:
            problems = validate_store(store)
        except OpsflowError as exc:
            problems = [str(exc)]
        if problems:
            bad += 1
            for problem in problems:
                print(f"{store}: {problem}")
        else:
            print(f"{store}: valid")
    return 1 if bad else 0


def cmd_info(args: argparse.Namespace) -> int:
    """Describe a store or TIFF: levels, shapes, chunks, channels, pixel size, labels."""
    from opsflow.io import image_info

    info = image_info(args.store)
    print(f"path:        {info.path}")
    print(
        f"format:      {info.format}"
        + (f" (NGFF {info.ngff_version})" if info.ngff_version else "")
    )
    print(f"axes:        {info.axes}")
    print(f"dtype:       {info.dtype}")
    if info.channel_labels is not None:
        print(f"channels:    {', '.join(info.channel_labels)}")
    if info.pixel_size:
        sizes = ", ".join(f"{a}={v:g}" for a, v in info.pixel_size.items())
        print(f"pixel size:  {sizes} micrometer")
    for level, (shape, chunks) in enumerate(zip(info.level_shapes, info.level_chunks, strict=True)):
        print(f"level {level}:     shape {shape}, chunks {chunks}")
    if info.labels:
        print(f"labels:      {', '.join(info.labels)}")
    size = _disk_usage(info.path) if info.path.is_dir() else info.path.stat().st_size
    print(f"on disk:     {_human(size)}")
    return 0


def cmd_du(args: argparse.Namespace) -> int:
    """Disk use per module, format and stage under a workflow output root."""
    from opsflow.export import storage_report

    table = storage_report(args.root)
    if table.empty:
        print(f"{args.root}: no pipeline outputs found.")
        return 0
    print(f"{'module':<11}{'format':<10}{'stage':<30}{'files':>7}{'size':>12}")
    for row in table.itertuples():
        print(
            f"{row.module:<11}{row.format:<10}{row.stage:<30}{row.files:>7}{_human(row.bytes):>12}"
        )
    for fmt, size in table.groupby("format")["bytes"].sum().items():
        print(f"total {fmt}: {_human(size)}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Write the synthetic screen (raw inputs, config, ground truth)."""
    from opsflow.synth import SynthParams, write_screen

    params = SynthParams(seed=args.seed)
    paths = write_screen(Path(args.outdir), params)
    print(f"synthetic screen written to {args.outdir}")
    for key, value in paths.items():
        print(f"  {key}: {value}")
    return 0


def _snakemake_command(configfile: Path, extra: Sequence[str]) -> list[str]:
    """The snakemake call for a validated configuration; cores default to all."""
    from importlib.resources import files

    import yaml

    from opsflow.config import load_config

    if not configfile.is_file():
        raise OpsflowError(f"{configfile}: expected a configuration file, found nothing there.")
    try:
        data = yaml.safe_load(configfile.read_text())
    except yaml.YAMLError as exc:
        msg = f"{configfile}: expected YAML, found {exc}.".replace("\n", " ")
        raise OpsflowError(msg) from None
    load_config(data, base_dir=configfile.parent)  # one clear sentence before any job runs
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
    if not any(a in ("-e", "--executor") or a.startswith("--executor=") for a in extra):
        # Local jobs run in threads of one process: the steps release the GIL in numpy,
        # and a job then costs milliseconds instead of a new Python process each.
        command.append("--force-use-threads")
    return command + list(extra)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the workflow with snakemake; extra arguments go to snakemake unchanged."""
    import subprocess

    command = _snakemake_command(Path(args.configfile).resolve(), args.snakemake_args)
    log.info("running %s", " ".join(command))
    return subprocess.call(command)


def _demo_config(screen_config: Path) -> Path:
    """The synthetic screen's configuration with every OME-Zarr stage switched on."""
    import yaml

    from opsflow.export import stages_of

    data = yaml.safe_load(screen_config.read_text())
    data.setdefault("all", {})["omezarr_export_default"] = True
    for module in ("preprocess", "sbs", "phenotype"):
        section = data.setdefault(module, {}) or {}
        section["omezarr_stages"] = [s.name for s in stages_of(module)]
        section.setdefault("omezarr_chunk_shape", [1, 256, 256])
        data[module] = section
    path = screen_config.with_name("config_demo.yml")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cmd_demo(args: argparse.Namespace) -> int:
    """Synthetic screen -> the whole workflow with every export on -> validated stores.

    Prints what a scientist wants to see first: cells found, how many carry a barcode
    that maps to the library, the stores written and how to open them.
    """
    import subprocess

    import pandas as pd

    from opsflow.export import storage_report
    from opsflow.io import validate_store
    from opsflow.synth import SynthParams, write_screen

    out = Path(args.outdir).resolve()
    params = SynthParams(seed=args.seed)
    print(
        f"1/3 writing a synthetic screen to {out}: {len(params.wells)} wells x "
        f"{len(params.tiles)} tiles, {params.n_cycles} SBS cycles ..."
    )
    paths = write_screen(out, params, workers=max(1, min(2, os.cpu_count() or 1)))
    config = _demo_config(paths["config"])
    print(f"2/3 running the workflow (opsflow run --configfile {config}) ...")
    code = subprocess.call(_snakemake_command(config, ["--quiet", "rules", "host", "reason"]))
    if code != 0:
        print(
            f"opsflow demo: the workflow failed (exit {code}); see the logs above.", file=sys.stderr
        )
        return code
    root = out / "analysis"
    stores = sorted(p for p in root.rglob("*.ome.zarr") if p.is_dir())
    print(f"3/3 validating {len(stores)} OME-Zarr stores ...")
    invalid = {str(s): problems for s in stores if (problems := validate_store(s))}
    for store, problems in invalid.items():
        for problem in problems:
            print(f"{store}: {problem}")
    cells = pd.concat(
        pd.read_parquet(p) for p in sorted(root.glob("sbs/parquets/*__cells.parquet"))
    )
    phenotype = pd.concat(
        pd.read_parquet(p) for p in sorted(root.glob("phenotype/parquets/*__phenotype_cp.parquet"))
    )
    mapped = cells["cell_barcode_mapped_0"].fillna(False).astype(bool)
    report = storage_report(root)
    sizes = report.groupby("format")["bytes"].sum()
    print()
    print(
        f"SBS cells with a barcode:  {len(cells)} in {cells.groupby(['well', 'tile']).ngroups} "
        f"tiles; {mapped.mean():.1%} map to the library"
    )
    print(f"phenotype cells measured:  {len(phenotype)} ({phenotype.shape[1]} features each)")
    print(
        f"OME-Zarr stores:           {len(stores)} "
        f"({'all valid' if not invalid else f'{len(invalid)} INVALID'}), "
        f"{_human(sizes.get('ome-zarr', 0))}; TIFF {_human(sizes.get('tiff', 0))}"
    )
    print(f"outputs:                   {root}  (opsflow du {root})")
    example = next((s for s in stores if "segmentation" in s.parent.name), stores[0])
    print("Open a store:")
    print(f"  napari:  napari --plugin napari-ome-zarr {example}")
    print(
        f"  vizarr:  npx http-server --cors -p 8000 {root}  then open "
        "https://hms-dbmi.github.io/vizarr/?source=http://localhost:8000/"
        f"{example.relative_to(root)}"
    )
    return 1 if invalid else 0


def _parser() -> argparse.ArgumentParser:
    from opsflow import __version__
    from opsflow.io import COMPRESSIONS, NGFF_VERSIONS

    parser = argparse.ArgumentParser(
        prog="opsflow",
        description="Optical pooled screen analysis with OME-Zarr views of every checkpoint.",
    )
    parser.add_argument("--version", action="version", version=f"opsflow {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("export", help="export a TIFF as a multiscale OME-Zarr store")
    p.add_argument("input", help="TIFF file: YX, CYX, YXC or (cycle, channel, Y, X)")
    p.add_argument("output", help="store path (*.ome.zarr) or a directory to create it in")
    p.add_argument("--channel-labels", help="comma-separated channel names, one per channel")
    p.add_argument(
        "--pixel-size",
        type=_floats,
        default=(1.0, 1.0),
        metavar="'Y X'",
        help="micrometres per pixel (default: 1 1)",
    )
    p.add_argument(
        "--chunk-shape",
        type=_ints,
        default=(1, 512, 512),
        metavar="C,Y,X",
        help="chunk of the trailing axes (default: 1,512,512)",
    )
    p.add_argument("--coarsening-factor", type=int, default=2, help="pyramid step (default: 2)")
    p.add_argument(
        "--max-levels",
        type=int,
        default=None,
        help="most levels, level 0 included (default: until one chunk)",
    )
    p.add_argument(
        "--labels",
        action="store_true",
        help="the input is an integer mask: also write it as a label image",
    )
    p.add_argument("--label-name", default="labels", help="name of that label image")
    p.add_argument(
        "--label-image",
        action="append",
        metavar="NAME=PATH",
        help="attach a mask TIFF as label image NAME (repeatable)",
    )
    p.add_argument("--axes", default=None, help="axes of the TIFF, e.g. yxc (default: guessed)")
    p.add_argument(
        "--ngff-version",
        choices=NGFF_VERSIONS,
        default="0.5",
        help="0.5 on Zarr v3 (default) or 0.4 on Zarr v2",
    )
    p.add_argument(
        "--compression", choices=COMPRESSIONS, default="zstd", help="Blosc codec (default: zstd)"
    )
    p.add_argument("--workers", type=int, default=None, help="threads (default: all cores)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "run",
        help="run the workflow (snakemake); other options go to snakemake",
        description="Run the opsflow workflow. Every argument after the config file is "
        "passed to snakemake, e.g. a target (all_sbs), --cores 8, -n, or "
        "--executor slurm --profile myprofile.",
    )
    p.add_argument("--configfile", required=True, help="workflow configuration (YAML)")
    p.add_argument("snakemake_args", nargs="*", help="targets and options passed to snakemake")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="validate OME-Zarr stores (exit 1 if any is invalid)")
    p.add_argument("stores", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("info", help="describe a store or TIFF")
    p.add_argument("store")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("du", help="disk use per stage, TIFF and OME-Zarr, under an output root")
    p.add_argument("root", help="the workflow's output root (all.root_fp)")
    p.set_defaults(func=cmd_du)

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


if __name__ == "__main__":
    sys.exit(main())
