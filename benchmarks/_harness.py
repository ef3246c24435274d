"""Shared by the per-step benchmarks: time and tracemalloc peak of each step, one table."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")  # the reference machine has 2 cores

import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402


class StepTimer:
    """Run steps one by one, recording wall time and the peak memory each allocates."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        tracemalloc.start()
        tracemalloc.reset_peak()
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        self.rows.append((name, elapsed, peak / 2**20))
        return result

    def print(self) -> None:
        print(f"\n{'step':<28}{'time (s)':>10}{'peak MiB':>10}")
        print("-" * 48)
        for name, seconds, mib in self.rows:
            print(f"{name:<28}{seconds:>10.2f}{mib:>10.1f}")
        print("-" * 48)
        total, peak = sum(r[1] for r in self.rows), max(r[2] for r in self.rows)
        print(f"{'total':<28}{total:>10.2f}{peak:>10.1f}")
