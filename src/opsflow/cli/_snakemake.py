"""Running Snakemake as a good citizen: signals forwarded, stale locks, readable progress.

``opsflow run`` starts Snakemake in its own session and forwards SIGINT and SIGTERM to
it, then waits, so stopping opsflow (Ctrl-C, ``kill``, a scheduler's time limit) stops
Snakemake cleanly and leaves no orphan holding the lock. At a terminal it shows one
progress bar (jobs done of total, the rule running) instead of Snakemake's fifteen lines
a job; on failure it prints the failed jobs' rule, wildcards and log, and where
Snakemake's full log is. Elsewhere (a file, CI, a cluster log) and with ``--verbose``,
Snakemake's output passes through unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from opsflow.errors import OpsflowError

__all__ = ["clear_stale_lock", "run_snakemake"]

log = logging.getLogger("opsflow")

_STEPS = re.compile(r"(\d+) of (\d+) steps")
_RULE = re.compile(r"^\s*(?:local)?rule (\w+):")
_FAILED = re.compile(r"^Error in rule (\w+):")
_LOG = re.compile(r"^Complete log\(s\): (.+)$")
_DETAIL = ("wildcards:", "log:", "output:")


def _snakemake_pids(workdir: Path) -> list[int]:
    """Live Snakemake processes working in ``workdir`` (Linux ``/proc``; [] elsewhere)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if not any(b"snakemake" in part for part in cmdline):
                continue
            if Path(os.readlink(proc / "cwd")) == workdir and int(proc.name) != os.getpid():
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def clear_stale_lock(workdir: Path) -> None:
    """Remove Snakemake's lock in ``workdir`` if no Snakemake runs there; else explain."""
    locks = sorted((workdir / ".snakemake" / "locks").glob("*"))
    if not locks:
        return
    if not Path("/proc").is_dir():
        raise OpsflowError(
            f"{workdir}: Snakemake's lock is held; if no other run is working there, clear "
            "it with: opsflow run --configfile CONFIG --unlock"
        )
    pids = _snakemake_pids(workdir.resolve())
    if pids:
        raise OpsflowError(
            f"{workdir}: another Snakemake run (pid {pids[0]}) is working in this "
            "directory; wait for it to finish or stop it first."
        )
    for lock in locks:
        lock.unlink(missing_ok=True)
    log.warning("%s: removed the lock of a Snakemake run that ended without unlocking", workdir)


_GRACE_SECONDS = 60.0  # for Snakemake to stop its jobs and unlock before it is killed


def _forward_signals(child: subprocess.Popen) -> dict[int, object]:
    """Pass SIGINT and SIGTERM on to Snakemake, as SIGINT; kill it if it does not stop.

    Snakemake's own SIGTERM handler takes a lock its scheduler may be holding, and then
    waits forever; its SIGINT path (stop the jobs, unlock, exit) does not. A Snakemake
    still running after the grace period is killed; the next run clears its lock.
    """

    def kill() -> None:
        if child.poll() is None:
            log.warning("Snakemake did not stop within %.0f s; killing it", _GRACE_SECONDS)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)
        timer = threading.Timer(_GRACE_SECONDS, kill)
        timer.daemon = True
        timer.start()

    return {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}


def run_snakemake(command: Sequence[str], *, env: dict[str, str], verbose: bool = False) -> int:
    """Run Snakemake to its end; return its exit code (128 + signal if stopped)."""
    interactive = sys.stderr.isatty() and not verbose
    child = subprocess.Popen(
        list(command), env=env, start_new_session=True, text=True, bufsize=1,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    previous = _forward_signals(child)
    try:
        report = _follow(child, interactive)
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
    if code != 0 and interactive:
        report.print_failure()
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


class _Report:
    """What the output said: progress, failed rules with their details, the log file."""

    def __init__(self) -> None:
        self.failures: list[list[str]] = []
        self.log_file: str | None = None
        self._in_failure = False

    def read(self, line: str) -> None:
        if match := _LOG.match(line):
            self.log_file = match.group(1)
        if match := _FAILED.match(line):
            self.failures.append([f"failed: rule {match.group(1)}"])
            self._in_failure = True
        elif self._in_failure:
            text = line.strip()
            if not text:
                self._in_failure = False
            elif text.startswith(_DETAIL):
                self.failures[-1].append(f"  {text}")

    def print_failure(self) -> None:
        for failure in self.failures:
            print("\n".join(failure + _last_error(failure)), file=sys.stderr)
        if self.log_file:
            print(f"Snakemake's full log: {self.log_file}", file=sys.stderr)


def _last_error(failure: list[str]) -> list[str]:
    """The last line of a failed job's log: the one-sentence error of its step."""
    for line in failure:
        if line.strip().startswith("log:"):
            path = Path(line.split("log:", 1)[1].split(" (")[0].strip())
            if path.is_file():
                lines = [s for s in path.read_text(errors="replace").splitlines() if s.strip()]
                return [f"  error: {lines[-1].strip()}"] if lines else []
    return []


def _follow(child: subprocess.Popen, interactive: bool) -> _Report:
    report = _Report()
    assert child.stdout is not None
    if not interactive:
        for line in child.stdout:
            report.read(line)
            sys.stderr.write(line)
        return report
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("jobs", total=None)
        for line in child.stdout:
            report.read(line)
            if match := _STEPS.search(line):
                done, total = map(int, match.groups())
                progress.update(task, completed=done, total=total)
            elif match := _RULE.match(line):
                progress.update(task, description=f"jobs ({match.group(1)})")
    return report
