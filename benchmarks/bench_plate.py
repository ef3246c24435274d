"""Benchmark: exporting an NGFF HCS plate from per-tile TIFFs, against a floor.

Each case runs in its own subprocess, timed from reading the first TIFF to the last byte
of the plate written (wall, and CPU seconds of all its threads); its peak memory is the
resident high-water mark (VmHWM, reset after the imports) minus the resident size then.
Ratios are against the faster of the two floors measured in the same run, and each of the
--repeat rounds runs every case once (the best round is kept): the machines are shared
and noisy, so a burst of load falls on all cases alike.

    .venv/bin/python benchmarks/bench_plate.py [--small] [--repeat N] [--only a,c]

Input, written once to a temporary folder: a plate of 2 wells (A1, A2) x 9 fields, one
TIFF per field of 11 cycles x 5 channels x 512 x 512 uint16 (axes TCYX; smoothed noise
plus sparse bright spots, so the chunks compress as real images do); --small: 2 x 2.
Cases, each writing ``plate.ome.zarr/{row}/{column}/{field}``:
  (a) floor: tifffile.imread + level 0 alone as a bare zarr v3 array, chunks
      (1, 1, 512, 512), Blosc zstd 1 shuffle (opsflow's default), zarr-python's default
      codec pipeline
  (b) the same with the zarrs (Rust) codec pipeline
  (c) opsflow: export_tiff_to_omezarr per field (full pyramid, default ExportOptions),
      then write_plate_metadata
  (d) (c) with ExportOptions(shard_shape=(5, 1024, 1024))
  (e) iohub's HCS writer (open_ome_zarr layout="hcs", its default zarrs pipeline), 2
      levels, same chunks and codec (iohub is no project dependency: pip install iohub)
  (f) ome-zarr-py: write_plate_metadata / write_well_metadata + write_image, 1 level
A case whose API is missing (not installed, not yet written) prints a "n/a" row. After
the first run of each case, level 0 of every field is read back with zarr (default
pipeline) and compared with its TIFF.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import tifffile

WELLS = ("A1", "A2")
TILE_SHAPE = (11, 5, 512, 512)
CHANNELS = ["DAPI", "G", "T", "A", "C"]

_PRELUDE = f"""
import json, os, sys, time
from pathlib import Path
import numpy as np, tifffile, zarr
CHUNKS = (1, 1, 512, 512)
CHANNELS = {CHANNELS!r}
tiles = json.loads(Path(sys.argv[1]).read_text())  # [[well, field, tiff], ...]
plate, verify = Path(sys.argv[2]), sys.argv[3] == "1"
def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key + ":"))
def unavailable(reason):
    print(json.dumps({{"unavailable": reason}}))
    sys.exit(0)
def where(well, field):
    return plate / well[0] / well[1:] / field
"""

_START = """
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the resident high-water mark to the current size
base = status("VmRSS")
cpu0 = sum(os.times()[:2])
t0 = time.perf_counter()
"""

_EPILOGUE = """
wall = time.perf_counter() - t0
cpu = sum(os.times()[:2]) - cpu0
peak = status("VmHWM")
files = [f for f in plate.rglob("*") if f.is_file()]
out = {"wall": wall, "cpu": cpu, "peak": max(0, peak - base), "files": len(files),
       "disk": sum(f.stat().st_size for f in files)}
def level_paths(field_dir):
    if not (field_dir / "zarr.json").is_file():
        return ["0"]  # a floor: a bare array
    meta = json.loads((field_dir / "zarr.json").read_text())
    ms = meta.get("attributes", {}).get("ome", {}).get("multiscales")
    return [d["path"] for d in ms[0]["datasets"]]
if verify:
    zarr.config.set({"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"})
    out["levels"] = len(level_paths(where(*tiles[0][:2])))
    out["identical"] = all(
        np.array_equal(zarr.open_array(str(where(w, f) / level_paths(where(w, f))[0]))[...],
                       tifffile.imread(t))
        for w, f, t in tiles)
print(json.dumps(out))
"""

_FLOOR_RUN = """
for well, field, tiff in tiles:
    data = tifffile.imread(tiff)
    arr = zarr.create_array(str(where(well, field) / "0"), shape=data.shape, chunks=CHUNKS,
        dtype=data.dtype, fill_value=0, dimension_names=list("tcyx"),
        compressors=BloscCodec(cname="zstd", clevel=1, shuffle="shuffle", typesize=2),
        config={"write_empty_chunks": True})
    arr[...] = data
"""

_OPSFLOW_SETUP = """
try:
    from opsflow.io import ExportOptions, export_tiff_to_omezarr, write_plate_metadata
except ImportError as exc:
    unavailable(f"opsflow.io: {exc}")
options = None
"""

_OPSFLOW_RUN = """
fields = {}
for well, field, tiff in tiles:
    export_tiff_to_omezarr(tiff, f"{plate}/{well[0]}/{well[1:]}/{field}", axes="tcyx",
        channel_labels=CHANNELS, pixel_size=(0.65, 0.65), options=options)
    fields.setdefault(well, []).append(field)
write_plate_metadata(plate, fields)
"""

# Each case: (label, setup run before the clock starts, timed body).
CASES: dict[str, tuple[str, str, str]] = {
    "a": ("(a) floor, zarr-python", "from zarr.codecs import BloscCodec", _FLOOR_RUN),
    "b": (
        "(b) floor, zarrs pipeline",
        """
        from zarr.codecs import BloscCodec
        try:
            import zarrs  # noqa
        except ImportError as exc:
            unavailable(f"zarrs: {exc}")
        zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"})
        """,
        _FLOOR_RUN,
    ),
    "c": ("(c) opsflow", _OPSFLOW_SETUP, _OPSFLOW_RUN),
    "d": (
        "(d) opsflow, sharded",
        _OPSFLOW_SETUP
        + """
try:
    options = ExportOptions(shard_shape=(5, 1024, 1024))
except Exception as exc:
    unavailable(f"ExportOptions(shard_shape=...): {exc}")
""",
        _OPSFLOW_RUN,
    ),
    "e": (
        "(e) iohub",
        """
        try:
            import iohub.core.specs as specs
            from iohub.core.config import CompressorConfig
            from iohub.ngff import open_ome_zarr
            from iohub.ngff.models import (ChannelAxisMeta, SpaceAxisMeta, TimeAxisMeta,
                TransformationMeta)
        except ImportError as exc:
            unavailable(f"iohub: {exc}")
        # iohub 0.3.11 never passes its ZarrConfig.compressor to zarr v3 arrays (its
        # default is zstd 1 bitshuffle): give that default the floor's codec instead
        specs.CompressorConfig = lambda: CompressorConfig(cname="zstd", clevel=1,
                                                          shuffle="shuffle")
        axes = [TimeAxisMeta(name="T", unit="second"), ChannelAxisMeta(name="C"),
                SpaceAxisMeta(name="Y", unit="micrometer"),
                SpaceAxisMeta(name="X", unit="micrometer")]
        scale = [TransformationMeta(type="scale", scale=[1.0, 1.0, 0.65, 0.65])]
        """,
        """
        with open_ome_zarr(str(plate), layout="hcs", mode="w", channel_names=CHANNELS,
                           axes=axes, version="0.5") as hcs:
            for well, field, tiff in tiles:
                pos = hcs.create_position(well[0], well[1:], field)
                pos.create_image("0", tifffile.imread(tiff), chunks=CHUNKS, transform=scale)
                pos.compute_pyramid(levels=2, method="mean", dims={"y", "x"})
        """,
    ),
    "f": (
        "(f) ome-zarr-py",
        """
        from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata
        from zarr.codecs import BloscCodec
        """,
        """
        root = zarr.open_group(str(plate), mode="w")
        wells = {}
        for well, field, _ in tiles:
            wells.setdefault(well, []).append(field)
        write_plate_metadata(root, sorted({w[0] for w in wells}),
                             sorted({w[1:] for w in wells}, key=int),
                             [f"{w[0]}/{w[1:]}" for w in wells])
        codec = BloscCodec(cname="zstd", clevel=1, shuffle="shuffle", typesize=2)
        for well, field, tiff in tiles:
            group = root.require_group(f"{well[0]}/{well[1:]}/{field}")
            write_image(tifffile.imread(tiff), group, scale_factors=(), axes="tcyx",
                        scale={"y": 0.65, "x": 0.65},
                        storage_options={"chunks": CHUNKS, "compressor": codec})
        for well, names in wells.items():
            write_well_metadata(root[f"{well[0]}/{well[1:]}"], [{"path": f} for f in names])
        """,
    ),
}


def _smooth(image: np.ndarray, width: int) -> np.ndarray:
    """Separable box blur (edges clamped), twice: a cheap Gaussian-like smoothing."""
    for _ in range(2):
        for axis in (0, 1):
            pad = [(width // 2, width // 2) if a == axis else (0, 0) for a in (0, 1)]
            padded = np.pad(image, pad, mode="edge")
            csum = np.cumsum(padded, axis=axis, dtype=np.float64)
            csum = np.insert(csum, 0, 0.0, axis=axis)
            hi = np.take(csum, np.arange(width, csum.shape[axis]), axis=axis)
            lo = np.take(csum, np.arange(0, csum.shape[axis] - width), axis=axis)
            image = ((hi - lo) / width).astype(np.float32)
    return image


def make_tile(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """One field: per channel a smooth background (cells), per plane noise and spots.

    The spots stay where they are across cycles (amplicons), their brightness changes.
    """
    cycles, channels, h, w = shape
    out = np.empty(shape, dtype=np.uint16)
    n_spots = 400 * h * w // 2**18
    ys, xs = rng.integers(1, h - 1, n_spots), rng.integers(1, w - 1, n_spots)
    kernel = np.array([[0.3, 0.6, 0.3], [0.6, 1.0, 0.6], [0.3, 0.6, 0.3]], dtype=np.float32)
    for c in range(channels):
        cells = _smooth(rng.normal(0, 1, (h, w)).astype(np.float32), 31)
        background = 400 + 150 * c + 800 * np.clip(cells / cells.std(), 0, None)
        for t in range(cycles):
            plane = background + rng.normal(0, 25, (h, w)).astype(np.float32)
            bright = rng.uniform(0, 6000, n_spots).astype(np.float32)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    np.add.at(plane, (ys + dy, xs + dx), bright * kernel[dy + 1, dx + 1])
            out[t, c] = np.clip(plane, 0, 65535).astype(np.uint16)
    return out


def write_tiles(folder: Path, n_fields: int) -> list[list[str]]:
    """One TCYX TIFF per field of each well; returns [well, field, path] per tile."""
    rng = np.random.default_rng(0)
    tiles = []
    for well in WELLS:
        for field in range(n_fields):
            path = folder / f"{well}_f{field}.tif"
            tifffile.imwrite(
                path,
                make_tile(rng, TILE_SHAPE),
                photometric="minisblack",
                metadata={"axes": "TCYX"},
            )
            tiles.append([well, str(field), str(path)])
    return tiles


def run_case(key: str, manifest: Path, plate: Path, verify: bool) -> dict:
    """Run one case in a fresh interpreter; its JSON result, or a failure as "unavailable"."""
    _, setup, body = CASES[key]
    code = (
        _PRELUDE
        + textwrap.dedent(setup)
        + _START
        + textwrap.dedent(body)
        + textwrap.dedent(_EPILOGUE)
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(manifest), str(plate), "1" if verify else "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no output"]
        return {"unavailable": f"failed: {lines[-1][:160]}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(keys: list[str], manifest: Path, work: Path, repeat: int) -> dict[str, dict]:
    """Best wall time and peak memory of each case over ``repeat`` rounds.

    The rounds go through every case in turn (not case after case), so a burst of load
    on a shared machine falls on all cases alike; the first round also verifies.
    """
    runs: dict[str, list[dict]] = {k: [] for k in keys}
    gone: dict[str, dict] = {}
    for i in range(repeat):
        for key in (k for k in keys if k not in gone):
            plate = work / f"{key}-{i}" / "plate.ome.zarr"
            r = run_case(key, manifest, plate, verify=i == 0)
            shutil.rmtree(plate.parent, ignore_errors=True)
            if "unavailable" in r:
                gone[key] = r
            else:
                runs[key].append(r)
            shown = r.get("unavailable") or f"{r['wall']:.2f} s"
            print(f"  round {i + 1}, {CASES[key][0]}: {shown}", flush=True)
    results = {}
    for key in keys:
        if key in gone:
            results[key] = gone[key]
            continue
        best = dict(runs[key][0])
        best["wall"] = min(r["wall"] for r in runs[key])
        best["peak"] = min(r["peak"] for r in runs[key])
        best["cpu"] = min(r["cpu"] for r in runs[key])
        results[key] = best
    return results


def print_table(results: dict[str, dict]) -> None:
    """The markdown table of every case, ratios against the faster floor."""
    floors = [results[k]["wall"] for k in ("a", "b") if k in results and "wall" in results[k]]
    floor = min(floors) if floors else float("nan")
    print(f"\nfaster floor: {floor:.2f} s\n")
    head = ["case", "wall s", "x floor", "cpu s", "peak RSS MB", "files", "disk MB", "levels"]
    print("| " + " | ".join([*head, "level 0 identical"]) + " |")
    print("|---" + "|---:" * (len(head) - 1) + "|---|")
    mb = 2**20
    for key, r in results.items():
        label = CASES[key][0]
        if "unavailable" in r:
            print(f"| {label} |" + " n/a |" * (len(head) - 1) + f" {r['unavailable']} |")
            continue
        identical = {True: "yes", False: "no"}.get(r.get("identical"), "?")
        print(
            f"| {label} | {r['wall']:.2f} | {r['wall'] / floor:.2f} | {r['cpu']:.2f} "
            f"| {r['peak'] / mb:.0f} "
            f"| {r['files']} | {r['disk'] / mb:.0f} | {r.get('levels', '?')} | {identical} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2 wells x 2 fields (a quick check)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is kept")
    parser.add_argument("--only", default=",".join(CASES), help="cases to run, e.g. a,b,c")
    args = parser.parse_args()
    keys = [k for k in args.only.split(",") if k in CASES]
    n_fields = 2 if args.small else 9
    with tempfile.TemporaryDirectory(prefix="bench_plate_") as tmp:
        work = Path(tmp)
        tiles = write_tiles(work, n_fields)
        manifest = work / "tiles.json"
        manifest.write_text(json.dumps(tiles))
        nbytes = sum(Path(t[2]).stat().st_size for t in tiles)
        print(
            f"input: {len(WELLS)} wells x {n_fields} fields of {TILE_SHAPE} uint16, "
            f"{len(tiles)} TIFFs, {nbytes / 2**20:.0f} MB; best of {args.repeat}"
        )
        print_table(measure(keys, manifest, work, args.repeat))


if __name__ == "__main__":
    main()
