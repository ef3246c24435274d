"""A configured screen: the outputs and steps tables bound to an output root and samples.

Answers every question the Snakemake rules, the demo and ``opsflow du`` ask: the path of
an output for some wildcards, every file of a target, and which files a step reads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from opsflow.config import Config
from opsflow.errors import ConfigError
from opsflow.paths import MODULES
from opsflow.steps._formats import FormatsMixin, dependency
from opsflow.steps._outputs import OUTPUTS, Output, get_output
from opsflow.steps._stores import MOSAIC_SUFFIX, StoresMixin
from opsflow.steps._table import Input, Step
from opsflow.steps.samples import load_library, load_samples

__all__ = ["Workflow"]

log = logging.getLogger(__name__)

Wildcards = Mapping[str, str]


class Workflow(FormatsMixin, StoresMixin):
    """Paths and inputs of every job of a configured screen.

    Parameters
    ----------
    config
        The validated configuration (paths already resolved).
    samples
        Samples table of each modality whose module runs (``sbs``, ``phenotype``).
    """

    def __init__(
        self,
        config: Config,
        samples: Mapping[str, pd.DataFrame],
        *,
        library: pd.DataFrame | None = None,
    ) -> None:
        self.config = config
        self.root = Path(config.all.root_fp)
        self.samples = dict(samples)
        self._library = library
        #: modalities whose raw files record no stage positions (found by the preflight)
        self.positions_missing: set[str] = set()
        self._both: pd.DataFrame | None = None
        # sample rows by the values of some wildcards: one grouping per table and set of
        # wildcard names, so finding a job's rows costs the same whatever the screen size
        self._groups: dict[tuple[str, tuple[str, ...]], dict[Any, Any]] = {}
        self._records: dict[str, list[dict[str, str]]] = {}
        self._targets: dict[str, list[str]] = {}
        self._patterns: dict[Any, str] = {}
        self._exported: frozenset[str] | None = None
        self.check_formats()

    @classmethod
    def for_tile(
        cls, config: Config, *, n_cycles: int = 0, library: pd.DataFrame | None = None
    ) -> Workflow:
        """One tile (plate 1, well A1, tile 0) with ``n_cycles`` SBS cycles, for in-memory runs."""
        tile = {"plate": "1", "well": "A1", "tile": "0", "sample_fp": ""}
        sbs = pd.DataFrame([{**tile, "cycle": str(c)} for c in range(1, n_cycles + 1)])
        return cls(config, {"sbs": sbs, "phenotype": pd.DataFrame([tile])}, library=library)

    @classmethod
    def from_config(cls, config: Config, *, base_dir: str | Path) -> Workflow:
        """Load the samples of every modality whose module is in ``all.modules``."""
        samples = {}
        for modality in ("sbs", "phenotype"):
            if modality not in config.all.modules and "merge" not in config.all.modules:
                continue
            path = getattr(config.preprocess, modality).samples_fp
            if path is None:
                raise ConfigError(
                    f"preprocess.{modality}.samples_fp must name the {modality} samples TSV "
                    f"when all.modules includes {modality} or merge."
                )
            samples[modality] = load_samples(path, with_cycle=modality == "sbs", base_dir=base_dir)
        return cls(config, samples)

    # ---------------------------------------------------------------- outputs and targets
    def pattern(self, key: str) -> str:
        """Path of an output with ``{plate}``-style wildcards (its store, computed as one).

        Built once per output: the planner asks for it for every input of every job.
        """
        pattern = self._patterns.get(key)
        if pattern is None:
            home = self.written_store(key)
            if home is not None:
                pattern = self.store_pattern(home[0])
            else:
                pattern = str(get_output(key).pattern(self.root))
            self._patterns[key] = pattern
        return pattern

    def path(self, key: str, wildcards: Wildcards) -> str:
        """Path of one output file."""
        output = get_output(key)
        return self.pattern(key).format(**{w: wildcards[w] for w in output.wildcards})

    def _rows(self, modality: str, wildcards: Wildcards) -> list[dict[str, str]]:
        """The sample rows (as dicts) whose columns match the wildcards they have."""
        rows = self._wells_of_both() if modality == "both" else self.samples.get(modality)
        if rows is None:
            return []
        if modality not in self._records:  # plain dicts: a job's lookup costs no pandas call
            self._records[modality] = rows.to_dict("records")
        records = self._records[modality]
        names = tuple(sorted(n for n in wildcards if n in rows.columns))
        if not names:
            return records
        groups = self._groups.get((modality, names))
        if groups is None:
            groups = rows.groupby(list(names) if len(names) > 1 else names[0], sort=False).indices
            self._groups[(modality, names)] = groups
        values = tuple(str(wildcards[n]) for n in names)
        positions = groups.get(values if len(names) > 1 else values[0], ())
        return [records[i] for i in positions]

    def _wells_of_both(self) -> pd.DataFrame | None:
        """(plate, well) of the wells both modalities have; the others said once."""
        if self._both is None and {"sbs", "phenotype"} <= set(self.samples):
            wells = {m: self.samples[m][["plate", "well"]].drop_duplicates() for m in self.samples}
            both = wells["sbs"].merge(wells["phenotype"], on=["plate", "well"])
            for modality, other in (("sbs", "phenotype"), ("phenotype", "sbs")):
                alone = wells[modality].merge(both, how="left", indicator=True)
                for row in alone[alone["_merge"] == "left_only"].itertuples():
                    log.warning(
                        "plate %s well %s has %s images but no %s images; it is not merged.",
                        row.plate, row.well, modality, other,
                    )  # fmt: skip
            self._both = both
        return self._both

    def combos(self, output: Output, wildcards: Wildcards, over: tuple[str, ...]) -> list[dict]:
        """Values of ``over`` in the samples that match ``wildcards``, in numeric order."""
        rows = self._rows(output.modality, wildcards)
        distinct = dict.fromkeys(tuple(row[name] for name in over) for row in rows)
        numeric = [name in ("tile", "cycle") for name in over]

        def order(values: tuple[str, ...]) -> tuple[Any, ...]:
            return tuple(int(v) if n else v for v, n in zip(values, numeric, strict=True))

        return [dict(zip(over, values, strict=True)) for values in sorted(distinct, key=order)]

    def targets(self, key: str) -> list[str]:
        """Every file of an output: one per combination of its wildcards in the samples."""
        if key not in self._targets:
            output = get_output(key)
            self._targets[key] = [
                self.path(key, c) for c in self.combos(output, {}, output.wildcards)
            ]
        return list(self._targets[key])

    def _target_keys(self, module: str) -> list[str]:
        return [
            o.key
            for o in OUTPUTS
            if o.module == module
            and o.target
            and o.enabled(self.config)
            and not self.temporary(o.key)
        ]

    def module_targets(self, module: str) -> list[str]:
        """The final outputs of a module (``target`` rows of the outputs table)."""
        return [path for key in self._target_keys(module) for path in self.targets(key)]

    def tile_cycles(self, wildcards: Wildcards) -> list[str]:
        """Cycle labels of one SBS tile, in acquisition (numeric) order."""
        combos = self.combos(get_output("convert_sbs"), _tile(wildcards), ("cycle",))
        return [c["cycle"] for c in combos]

    def library(self) -> pd.DataFrame | None:
        """The barcode library (``sbs.library_path``), read once."""
        if self._library is None and self.config.sbs.library_path is not None:
            self._library = load_library(self.config.sbs.library_path)
        return self._library

    # ---------------------------------------------------------------------------- steps
    def step_outputs(self, step: Step) -> dict[str, tuple[str, str]]:
        """A step's rule outputs: name -> (output key or stage, pattern).

        Keyed by output, and by stage for the stores it writes; a step that covers every
        value of some wildcards (``each``) names one output per value (``..._c3``).
        """
        outputs = {key: (key, pattern) for key, pattern in self.store_outputs(step).items()}
        if not step.each:
            return outputs
        expanded: dict[str, tuple[str, str]] = {}
        for combo in self.combos(get_output(step.outputs[0]), {}, step.each):
            for name, (key, pattern) in outputs.items():
                if not any(f"{{{w}}}" in pattern for w in step.each):
                    expanded[name] = (key, pattern)  # one file for the whole job
                    continue
                for wildcard, value in combo.items():
                    pattern = pattern.replace(f"{{{wildcard}}}", value)
                expanded[f"{name}_{'_'.join(combo.values())}"] = (key, pattern)
        return expanded

    def each_wildcards(self, step: Step, wildcards: Wildcards) -> list[dict[str, str]]:
        """The wildcards of every run of a step's kernel in one job (one unless ``each``)."""
        if not step.each:
            return [dict(wildcards)]
        combos = self.combos(get_output(step.outputs[0]), wildcards, step.each)
        return [{**wildcards, **combo} for combo in combos]

    def log_pattern(self, step: Step) -> str:
        """Log file of a step's jobs, with the wildcards of its first output (but ``each``)."""
        first = get_output(step.outputs[0])
        kept = tuple(w for w in first.wildcards if w not in step.each)
        pattern = replace(first, wildcards=kept).pattern(self.root)
        return self.log_pattern_of(step.name, str(pattern))

    def log_pattern_of(self, rule: str, output_pattern: str) -> str:
        """Log file of a rule: ``logs/{rule}/{stem of its output}.log``."""
        stem = Path(output_pattern).name.split("__")[0]
        return str(self.root / "logs" / rule / f"{stem}.log")

    def step_inputs(self, step: Step, wildcards: Wildcards) -> dict[str, Any]:
        """What a job reads, by input: a path, a list of paths or paths by wildcard value."""
        return {i.key: self._resolve(step, i, wildcards) for i in step.inputs}

    def flat_inputs(self, step: Step, wildcards: Wildcards) -> dict[str, str | list[str]]:
        """The job's inputs as Snakemake takes them: a path or a list of paths per name."""
        flat: dict[str, str | list[str]] = {}
        for wc in self.each_wildcards(step, wildcards):
            suffix = "".join(f"_{wc[w]}" for w in step.each)
            for name, value in {
                **self.step_inputs(step, wc),
                **self.store_inputs(step, wc),
            }.items():
                paths = list(value.values()) if isinstance(value, dict) else value
                flat[name + suffix] = (
                    [dependency(p) for p in paths] if isinstance(paths, list) else dependency(paths)
                )
        return flat

    def plane(self, step: Step, item: Input, wildcards: Wildcards) -> int | None:
        """Which plane of a stack of cycles an input reads (``cycle_plane``), or None."""
        if not item.cycle_plane:
            return None
        cycles = self.combos(get_output(item.key), _well(wildcards), ("cycle",))
        return [c["cycle"] for c in cycles].index(wildcards["cycle"])

    def _resolve(self, step: Step, item: Input, wildcards: Wildcards) -> Any:
        if item.key == "samples":
            modality = get_output(step.outputs[0]).modality
            return [row["sample_fp"] for row in self._rows(modality, dict(wildcards))]
        output = get_output(item.key)
        base = {w: wildcards[w] for w in output.wildcards if w in wildcards}
        if item.cycle_index is not None:
            base["cycle"] = self.tile_cycles(wildcards)[item.cycle_index(self.config)]
        if not item.over:
            return self.source(item.key, base)
        combos = self.combos(output, base, item.over)
        paths = {_combo_key(c): self.source(item.key, {**base, **c}) for c in combos}
        return paths if item.gather in ("dict", "mapping") else list(paths.values())

    # ------------------------------------------------------------------------ targets
    def report_inputs(self) -> list[str]:
        """What the QC report waits for: the default targets but those upstream of others.

        A tile's outputs come from the job that also writes its tables, which the well's
        tables gather; a plate's tile stores are the inputs of its metadata job. Listing
        only the rest keeps the report's input list from repeating the screen's files.
        """
        modules = [m for m in MODULES if m in self.config.all.modules]
        last = [
            path
            for m in modules
            for key in self._target_keys(m)
            if "tile" not in get_output(key).wildcards
            for path in self.targets(key)
        ]
        if self.layout != "plate":
            return last + [p for m in modules for p in self.store_targets(m, enabled_only=True)]
        plate_metadata = ("/zarr.json", "/.zattrs")  # a plate: its metadata, not its stores
        stores = [p for m in modules for p in self.store_targets(m, enabled_only=True)]
        return last + [p for p in stores if p.endswith((*plate_metadata, MOSAIC_SUFFIX))]

    def all_targets(self) -> list[str]:
        """What the default target builds: final outputs and enabled stores of each module."""
        modules = [m for m in MODULES if m in self.config.all.modules]
        paths = [p for m in modules for p in self.module_targets(m)]
        return paths + [p for m in modules for p in self.store_targets(m, enabled_only=True)]


def _well(wildcards: Wildcards) -> dict[str, str]:
    return {w: wildcards[w] for w in ("plate", "well")}


def _tile(wildcards: Wildcards) -> dict[str, str]:
    return {w: wildcards[w] for w in ("plate", "well", "tile")}


def _combo_key(combo: Mapping[str, str]) -> Any:
    values = tuple(int(v) if str(v).isdigit() else str(v) for v in combo.values())
    return values[0] if len(values) == 1 else values
