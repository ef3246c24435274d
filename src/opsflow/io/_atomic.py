"""Write to a temporary sibling, then rename into place.

A failed or killed writer must never leave a half-written output under the final name,
and must never destroy an earlier good output there. Siblings are named after the host
and process that write them, so the next write to the same path can tell the leftovers
of a dead writer (removed, and said so) from those of one still running (kept).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

from opsflow.errors import OutputError

__all__ = ["atomic_path", "remove_dead_siblings"]

log = logging.getLogger(__name__)

_HOST = socket.gethostname().replace("-", "_") or "host"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user holds that pid
    return True


def remove_dead_siblings(final: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary siblings of ``final`` left by writers on this host that died."""
    final = Path(final)
    removed = []
    for kind in ("tmp", "old"):
        for sibling in final.parent.glob(f".{final.name}.{kind}-*"):
            parts = sibling.name.rsplit(f".{kind}-", 1)[-1].split("-")
            if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
                continue  # another host's writer, or not ours: leave it
            if not _alive(int(parts[1])):
                _remove(sibling)
                removed.append(sibling)
    for path in removed:
        log.warning("removed %s, left by a writer that died", path)
    return removed


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling of ``final``; rename it over ``final`` on success.

    The sibling lives in the same directory (same filesystem, so the rename is atomic for
    files; for directories the old one is moved aside first and removed only after the
    new one is in place). On any exception the temporary output is removed and the
    original is untouched. A directory that cannot be written raises one
    :class:`~opsflow.errors.OutputError` sentence instead of an ``OSError`` chain.
    """
    final = Path(final)
    if final.parent.exists() and not final.parent.is_dir():
        raise OutputError(f"{final.parent}: expected a directory for {final.name}, found a file.")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{final.parent}: cannot create the output directory ({exc.strerror})."
        ) from None
    remove_dead_siblings(final)
    token = f"{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = final.with_name(f".{final.name}.tmp-{token}")
    try:
        yield tmp
    except PermissionError as exc:
        _remove(tmp)
        if exc.filename and not str(exc.filename).startswith(str(final.parent)):
            raise  # not the output's directory: an input the writer could not read
        raise OutputError(
            f"{final}: cannot write here ({exc.strerror}); choose a writable directory."
        ) from None
    except BaseException:
        _remove(tmp)
        raise
    if tmp.is_dir() and final.exists():
        old = final.with_name(f".{final.name}.old-{token}")
        os.replace(final, old)
        os.replace(tmp, final)
        _remove(old)
    else:
        os.replace(tmp, final)
