"""Time and peak memory of every per-tile step of a module, as the workflow runs them.

Run: ``.venv/bin/python benchmarks/bench_steps.py sbs [--size 1024] [--cycles 9]`` or
``.venv/bin/python benchmarks/bench_steps.py phenotype [--size 2048]``.
The steps, their order and their settings are the rows of ``opsflow.steps.STEPS``, each
called through the same ``call_kernel`` the workflow's ``run_step`` uses, so what is
timed is what a job runs minus reading and writing its files. Peak memory is what
tracemalloc sees allocated by the step (numpy buffers included) above what was held
before it. Threads are limited to 2, as on the reference machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from _harness import StepTimer
from opsflow.config import Config
from opsflow.steps import STEPS, Workflow, call_kernel, get_output
from opsflow.synth import SynthParams, make_library, make_phenotype_tile, make_sbs_tile

WILDCARDS = {"plate": "1", "well": "A1", "tile": "0"}


def _inputs(module: str, synth: SynthParams) -> dict:
    if module == "sbs":
        tile = make_sbs_tile(synth, "A1", 0)
        return {"convert_sbs": list(tile.image), "calculate_ic_sbs": tile.illumination}
    tile = make_phenotype_tile(synth, "A1", 0)
    return {"convert_phenotype": tile.image, "calculate_ic_phenotype": tile.illumination}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=("sbs", "phenotype"))
    parser.add_argument("--size", type=int, help="tile side in px (sbs 1024, phenotype 2048)")
    parser.add_argument("--cycles", type=int, default=9)
    args = parser.parse_args()

    size = args.size or (1024 if args.module == "sbs" else 2048)
    sbs_side = size if args.module == "sbs" else size // 2
    synth = SynthParams(n_cycles=args.cycles, sbs_tile_shape=(sbs_side, sbs_side))
    t0 = time.perf_counter()
    values = _inputs(args.module, synth)
    print(f"synthetic {args.module} tile made in {time.perf_counter() - t0:.1f} s")

    config = Config()
    config = dataclasses.replace(
        config, phenotype=dataclasses.replace(config.phenotype, dark_level=synth.camera_offset)
    )
    workflow = Workflow.for_tile(config, n_cycles=args.cycles, library=make_library(synth))
    timer = StepTimer()
    for step in STEPS:
        first = get_output(step.outputs[0])
        if first.module != args.module or "tile" not in first.wildcards:
            continue
        arguments = [values[item.key] for item in step.inputs]
        params = step.params(workflow, WILDCARDS)
        values.update(timer(step.name, lambda s=step, a=arguments, p=params: call_kernel(s, a, p)))
    timer.print()
    if args.module == "sbs":
        print(
            f"\n{int(values['segment_sbs_cells'].max())} cells, {len(values['call_reads'])} "
            f"candidate reads, {len(values['call_cells'])} cells with a barcode"
        )
    else:
        print(f"\n{len(values['extract_phenotype'])} cells measured")


if __name__ == "__main__":
    main()
