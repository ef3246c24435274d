"""Garbage-collector settings for the Snakemake process that plans (and runs) the screen.

Planning allocates millions of small objects (an IOFile for every input and output of
every job, the job objects, their wildcards) that live until the process ends. With
CPython's default thresholds ((2000, 10, 10) in 3.13) the collector runs every 2,000
allocations, and its full collections scan the growing plan again and again. At
2 x 800 tiles, 1,737 collections took 5-6 s of a 21-27 s plan, and the collection at
interpreter exit another 3-4 s (``benchmarks/bench_plan.py`` shows the times).

These objects form few cycles worth finding, so the collector runs rarely (64
collections, about 1 s, at the same size) and everything alive at exit is frozen, so
the final collection skips it. Memory stays within a few MB. The jobs run in threads
of this process: their numpy arrays are freed by reference counting either way.
"""

from __future__ import annotations

import atexit
import gc

# allocations before a young collection; young collections before a middle one; middle
# ones before a full one is considered (CPython also waits for a quarter more objects)
THRESHOLDS = (50_000, 20, 100)


def collect_rarely() -> None:
    """Collect garbage rarely in this process and skip the collection at its exit."""
    gc.set_threshold(*THRESHOLDS)
    atexit.unregister(gc.freeze)  # once, however often the Snakefile is read
    atexit.register(gc.freeze)
