"""The commands that work on files: export, validate, info, du, synth."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from opsflow.cli._format import _disk_usage, _floats, _human, _ints, _positive, _progress_bar
from opsflow.errors import OpsflowError

log = logging.getLogger("opsflow")


def cmd_export(args: argparse.Namespace) -> int:
    """Export a TIFF (plus optional masks) as an OME-Zarr store."""
    from opsflow.io import ExportOptions, export_tiff_to_omezarr, image_info, open_tiff

    options = ExportOptions(
        chunk_shape=args.chunk_shape,
        coarsening_factor=args.coarsening_factor,
        max_levels=args.max_levels,
        ngff_version=args.ngff_version,
        compression=args.compression,
        compression_level=args.compression_level,
    )
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
            pixel_size=tuple(v for group in args.pixel_size for v in group),
            options=options,
            channel_labels=args.channel_labels.split(",") if args.channel_labels else None,
            label_metadata={"name": args.label_name} if args.labels else None,
            labels=labels,
            axes=args.axes,
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
    """Describe a store, plate or TIFF: levels, shapes, chunks, shards, channels, labels."""
    from opsflow.io import image_info, is_plate, plate_fields

    path = Path(args.store)
    if is_plate(path):
        fields = plate_fields(path)
        counts = sorted({len(f) for f in fields.values()})
        print(f"path:        {path}")
        print(f"plate:       {len(fields)} wells ({', '.join(fields)})")
        print(
            f"fields:      {sum(map(len, fields.values()))} ({'-'.join(map(str, counts))} per well)"
        )
        well, names = next((w, f) for w, f in fields.items() if f)
        print(f"first field: {well}/{names[0]}")
        _print_image(image_info(path / well / names[0]))
    else:
        print(f"path:        {path}")
        _print_image(image_info(path))
    size = _disk_usage(path) if path.is_dir() else path.stat().st_size
    files = sum(1 for f in path.rglob("*") if f.is_file()) if path.is_dir() else 1
    print(f"on disk:     {_human(size)} in {files} files")
    return 0


def _print_image(info: Any) -> None:
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
    levels = zip(info.level_shapes, info.level_chunks, info.level_shards, strict=True)
    for level, (shape, chunks, shards) in enumerate(levels):
        sharded = f", shards {shards}" if shards else ""
        print(f"level {level}:     shape {shape}, chunks {chunks}{sharded}")
    if info.labels:
        print(f"labels:      {', '.join(info.labels)}")


def cmd_du(args: argparse.Namespace) -> int:
    """Disk use per module, format and stage under a workflow output root."""
    from opsflow.steps import storage_report

    table = storage_report(args.root)
    if table.empty:
        print(f"{args.root}: no pipeline outputs found.")
        return 0
    print(f"{'module':<11}{'format':<10}{'stage':<34}{'stores':>7}{'files':>8}{'size':>12}")
    for r in table.itertuples():
        print(
            f"{r.module:<11}{r.format:<10}{r.stage:<34}{r.stores:>7}{r.files:>8}"
            f"{_human(r.bytes):>12}"
        )
    for fmt, size in table.groupby("format")["bytes"].sum().items():
        print(f"total {fmt}: {_human(size)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the QC report of a run (whatever outputs exist so far)."""
    from opsflow.errors import InputFileError
    from opsflow.report import write_report

    if not Path(args.root).is_dir():
        raise InputFileError(f"{args.root}: expected a workflow output root, found no folder.")
    print(f"QC report: {write_report(args.root, args.output)}")
    return 0


def cmd_paramsearch(args: argparse.Namespace) -> int:
    """Segment one image with every combination of --set values; one store of all masks."""
    import yaml

    from opsflow.config import load_config
    from opsflow.export import parse_setting, segmentation_search
    from opsflow.io import read_image

    config_path = Path(args.configfile)
    config = load_config(yaml.safe_load(config_path.read_text()), base_dir=config_path.parent)
    params = getattr(config, args.modality)
    grid = dict(parse_setting(text) for text in args.set)
    image = Path(args.image)
    output = args.output or f"{image.name.split('.')[0]}__segmentation_search.ome.zarr"
    table = segmentation_search(
        read_image(image), output, modality=args.modality, params=params, grid=grid,
        channel_names=params.channel_names, pixel_size=args.pixel_size,
    )  # fmt: skip
    print(table.to_string(index=False))
    print(f"masks of every setting: napari --plugin napari-ome-zarr {output}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Write the synthetic screen (raw inputs, config, ground truth)."""
    from opsflow.synth import SynthParams, write_screen

    params = SynthParams(seed=args.seed)
    tiles = len(params.wells) * (len(params.tiles) + len(params.phenotype_tiles))
    advance, bar = _progress_bar("synthetic tiles", tiles, unit="tiles")
    with bar:  # type: ignore[attr-defined]
        paths = write_screen(Path(args.outdir), params, progress=advance)
    print(f"synthetic screen written to {args.outdir}")
    for key, value in paths.items():
        print(f"  {key}: {value}")
    return 0


def _add_export_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand.

    Its store options take their defaults and help from ``ExportOptions``, so they are
    written once and always agree with the library and the configuration.
    """
    from dataclasses import fields

    from opsflow.io import COMPRESSIONS, NGFF_VERSIONS, ExportOptions

    defaults = ExportOptions()
    helps = {f.name: f.metadata["help"] for f in fields(ExportOptions)}
    p = sub.add_parser("export", help="export a TIFF as a multiscale OME-Zarr store")

    def option(flag: str, name: str, shown: str | None = None, **kwargs: object) -> None:
        default = getattr(defaults, name)
        text = f"{helps[name]} (default: {default if shown is None else shown})"
        p.add_argument(flag, default=default, help=text, **kwargs)

    p.add_argument("input", help="TIFF file: YX, CYX, YXC or (cycle, channel, Y, X)")
    p.add_argument("output", help="store path (*.ome.zarr) or a directory to create it in")
    p.add_argument("--channel-labels", help="comma-separated channel names, one per channel")
    p.add_argument(
        "--pixel-size",
        type=_floats,
        nargs="+",
        default=[(1.0, 1.0)],
        metavar="Y X",
        help="micrometres per pixel of y and x, e.g. --pixel-size 0.65 0.65 (default: 1 1)",
    )
    chunk = ",".join(map(str, defaults.chunk_shape))
    option("--chunk-shape", "chunk_shape", chunk, type=_ints, metavar="C,Y,X")
    option("--coarsening-factor", "coarsening_factor", type=int)
    option("--max-levels", "max_levels", "none", type=int)
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
    option("--ngff-version", "ngff_version", choices=NGFF_VERSIONS)
    option("--compression", "compression", choices=COMPRESSIONS)
    option("--compression-level", "compression_level", type=int)
    p.add_argument(
        "--workers", type=_positive, default=None, help="threads, >= 1 (default: all cores)"
    )
    p.set_defaults(func=cmd_export)
