"""The preflight check: every raw file, table and name of a screen, before the first job.

A mistake a header read would find (a truncated file, a wrong channel order, a missing
cycle, a library without its prefix column) must not cost hours of cluster time and
surface fifty jobs later in a message that names no file. This reads the header of
every raw file (not its pixels, in parallel), the samples tables and the library, and
lists every problem as one sentence naming the file and the configuration key.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from opsflow.errors import OpsflowError
from opsflow.io import RawHeader, read_raw_header
from opsflow.preprocess import converted_channel_names, converted_shape
from opsflow.steps._header_cache import HeaderCache
from opsflow.steps._workflow import Workflow
from opsflow.steps.samples import load_library

__all__ = ["PreflightError", "check_inputs", "preflight"]

log = logging.getLogger(__name__)

_SHOWN = 3  # files named per problem; the rest are counted


class PreflightError(OpsflowError):
    """The inputs have problems; the message lists every one, a sentence per line."""


def preflight(workflow: Workflow, *, workers: int | None = None) -> list[str]:
    """Every problem with the screen's inputs, one sentence each (empty: all good).

    Also notes, on the workflow, the modalities whose files record no stage positions.
    """
    problems: list[str] = []
    cache = HeaderCache(workflow.root)
    for modality, samples in workflow.samples.items():
        problems += _samples_problems(workflow, modality, samples)
        paths = list(dict.fromkeys(samples.sample_fp))
        headers, unreadable = _headers(paths, workers, cache)
        problems += unreadable
        problems += _file_problems(workflow, modality, samples, headers)
        if headers and not all(h.stage_position_um for h in headers.values()):
            workflow.positions_missing.add(modality)  # no well mosaics: nothing to place by
    if "sbs" in workflow.samples:
        problems += _library_problems(workflow)
    if not problems:  # a refused screen writes nothing under its root
        cache.save()
    return problems


def check_inputs(workflow: Workflow, *, workers: int | None = None) -> int:
    """Raise :class:`PreflightError` listing every problem; return the files checked."""
    problems = preflight(workflow, workers=workers)
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        raise PreflightError(f"{len(problems)} input {noun} found before any job ran:\n{lines}")
    return sum(len(s.sample_fp.unique()) for s in workflow.samples.values())


def _headers(
    paths: list[str], workers: int | None, cache: HeaderCache
) -> tuple[dict[str, RawHeader], list[str]]:
    def read(path: str) -> RawHeader | str:
        try:
            return read_raw_header(path)
        except OpsflowError as exc:
            return str(exc)

    # Reading a header is mostly Python (GIL-bound) on a local disk and mostly waiting on
    # a network file system: a few threads help the second without hurting the first.
    known = cache.known(paths)
    todo = [p for p in paths if p not in known]
    n = workers or 4
    with ThreadPoolExecutor(max(1, n)) as pool:
        results = dict(zip(todo, pool.map(read, todo), strict=True))
    read_now = {p: r for p, r in results.items() if isinstance(r, RawHeader)}
    cache.add(read_now)
    headers = {
        p: known[p] if p in known else read_now[p] for p in paths if p in known or p in read_now
    }
    return headers, [r for r in results.values() if isinstance(r, str)]


def _collapse(found: Iterable[tuple[str, str]]) -> list[str]:
    """``(file, problem)`` pairs as sentences, files that share a problem named together."""
    by_text: dict[str, list[str]] = defaultdict(list)
    for path, text in found:
        by_text[text].append(path)
    out = []
    for text, paths in by_text.items():
        named = ", ".join(paths[:_SHOWN])
        more = f" and {len(paths) - _SHOWN} more files" if len(paths) > _SHOWN else ""
        out.append(f"{named}{more}: {text}")
    return out


def _samples_problems(workflow: Workflow, modality: str, samples: pd.DataFrame) -> list[str]:
    table = getattr(workflow.config.preprocess, modality).samples_fp
    problems = []
    counts = samples.sample_fp.value_counts()
    for path, n in counts[counts > 1].items():
        problems.append(
            f"{table}: {path} is listed {n} times; each raw file belongs to one tile"
            f"{' and cycle' if modality == 'sbs' else ''} (preprocess.{modality}.samples_fp)."
        )
    if modality == "sbs":
        cycles = samples.groupby(["plate", "well", "tile"]).cycle.agg(frozenset)
        every = frozenset().union(*cycles) if len(cycles) else frozenset()
        for (plate, well, tile), have in cycles.items():
            missing = sorted(every - have, key=int)
            if missing:
                problems.append(
                    f"{table}: tile {tile} of plate {plate} well {well} has no files for "
                    f"cycle {', '.join(missing)}; every tile needs every cycle "
                    f"({', '.join(sorted(every, key=int))})."
                )
    return problems


def _file_problems(
    workflow: Workflow, modality: str, samples: pd.DataFrame, headers: dict[str, RawHeader]
) -> list[str]:
    group_keys = ["plate", "well", "tile"] + (["cycle"] if modality == "sbs" else [])
    images: dict[tuple[str, ...], list[str]] = {}  # the files of each image, in table order
    columns = zip(*(samples[c].tolist() for c in group_keys), strict=True)
    for image, path in zip(columns, samples.sample_fp.tolist(), strict=True):
        images.setdefault(image, []).append(path)  # (a pandas group per image costs 20x)
    found: list[tuple[str, str]] = []
    tiles: list[tuple[Path, tuple[int, int, int], str]] = []
    verdicts: dict[tuple, tuple[tuple[int, int, int] | None, str, list[str]]] = {}
    for paths in images.values():
        files = [headers[p] for p in paths if p in headers]
        if len(files) != len(paths):
            continue  # an unreadable file is reported already
        # a screen's files mostly share their headers but for the path: check each kind once
        kind = tuple((h.shape, h.axes, h.dtype.str, h.channel_names, bool(h.pixel_size_um))
                     for h in files)  # fmt: skip
        if kind not in verdicts:
            verdicts[kind] = _image_problems(workflow, modality, files)
        shape, dtypes, problems = verdicts[kind]
        found += [(str(files[0].path), problem) for problem in problems]
        if shape is not None:
            tiles.append((files[0].path, shape, dtypes))
    return _collapse(found + _odd_ones(tiles, modality))


def _image_problems(
    workflow: Workflow, modality: str, files: list[RawHeader]
) -> tuple[tuple[int, int, int] | None, str, list[str]]:
    """The converted shape (None: none), dtypes and problems of one image's files.

    Nothing here depends on the files' paths, so one result serves every image whose
    files have the same headers (a warning it logs names the first such image only).
    """
    inputs = getattr(workflow.config.preprocess, modality)
    names = tuple(getattr(workflow.config, modality).channel_names)
    key = f"preprocess.{modality}"
    try:
        shape = converted_shape(
            [h.shape for h in files], axes=[h.axes for h in files], n_z_planes=inputs.n_z_planes
        )
    except OpsflowError as exc:
        return None, "", [f"{exc} ({key}.n_z_planes)"]
    problems = []
    if shape[0] != len(names):
        problems.append(
            f"expected {len(names)} channels ({', '.join(names)}: {modality}.channel_names)"
            f" after conversion, found {shape[0]} ({key}.n_z_planes = {inputs.n_z_planes})."
        )
    else:
        problems += _name_problems(files, names, modality, inputs.channel_order_flip)
    if inputs.pixel_size_um is None and not all(h.pixel_size_um for h in files):
        problems.append(f"records no pixel size; set {key}.pixel_size_um.")
    return shape, "/".join(sorted({h.dtype.name for h in files})), problems


def _name_problems(
    files: list[RawHeader], names: tuple[str, ...], modality: str, flip: bool
) -> list[str]:
    recorded = converted_channel_names(files, channel_order_flip=flip)
    if recorded is None or tuple(recorded) == names:
        return []
    first = str(files[0].path)
    if sorted(recorded) != sorted(names):
        log.warning("%s: records channels %s, configured %s", first, recorded, names)
        return []
    stored = ", ".join(n for h in files for n in h.channel_names or ())
    fix = (
        f"set preprocess.{modality}.channel_order_flip: {str(not flip).lower()}"
        if tuple(recorded[::-1]) == names
        else f"reorder {modality}.channel_names"
    )
    return [
        f"records channels {stored}; with preprocess.{modality}.channel_order_flip: "
        f"{str(flip).lower()} they become {', '.join(recorded)}, but {modality}.channel_names "
        f"is {', '.join(names)}; {fix}."
    ]


def _odd_ones(tiles: list[tuple[Path, tuple[int, int, int], str]], modality: str) -> list:
    """Tiles whose plane size or dtype differs from most of the modality's tiles."""
    if not tiles:
        return []
    common_yx = Counter(t[1][1:] for t in tiles).most_common(1)[0][0]
    common_dtype = Counter(t[2] for t in tiles).most_common(1)[0][0]
    found = []
    for path, shape, dtype in tiles:
        if shape[1:] != common_yx or dtype != common_dtype:
            found.append((str(path), (
                f"expected {common_yx[0]} x {common_yx[1]} {common_dtype} planes like the other "
                f"{modality} files, found {shape[1]} x {shape[2]} {dtype}."
            )))  # fmt: skip
    return found


def _library_problems(workflow: Workflow) -> list[str]:
    sbs = workflow.config.sbs
    if sbs.library_path is None:
        return []
    try:
        library = load_library(sbs.library_path)
    except OpsflowError as exc:
        return [str(exc)]
    assert library is not None
    where = f"{sbs.library_path} (sbs.library_path)"
    columns = {
        "sbs.call_cells.prefix_column": sbs.call_cells.prefix_column,
        "sbs.call_cells.gene_symbol_column": sbs.call_cells.gene_symbol_column,
        "sbs.call_cells.gene_id_column": sbs.call_cells.gene_id_column,
    }
    missing = [f"{c!r} ({k})" for k, c in columns.items() if c not in library.columns]
    if missing:
        found = ", ".join(map(str, library.columns))
        return [f"{where}: expected columns {', '.join(missing)}, found {found}."]
    prefixes = library[sbs.call_cells.prefix_column].astype(str).str.upper()
    samples = workflow.samples["sbs"]
    n_cycles = int(samples.groupby(["plate", "well", "tile"]).cycle.nunique().max())
    problems = []
    bad = prefixes[~prefixes.str.fullmatch(r"[ACGT]+")]
    if len(bad):
        problems.append(f"{where}: expected prefixes of A, C, G, T only, found {bad.iloc[0]!r}.")
    short = prefixes[prefixes.str.len() < n_cycles]
    if len(short):
        problems.append(
            f"{where}: expected prefixes of at least {n_cycles} letters (one per SBS cycle), "
            f"found {len(short)} shorter, e.g. {short.iloc[0]!r}."
        )
    return problems
