"""Raw file headers remembered between runs, so a rerun does not read 20,000 headers again.

Each header is kept with its file's size and modification time (ns): a file that
changed, or a new one, is read again; a file whose header could not be read is never
remembered (its problem is found again). The cache is ``{root}/.opsflow/raw_headers.pickle``
(pickle: headers hold paths and dtypes; the file is the run's own, beside its outputs),
written through a temporary sibling. A root that cannot be written keeps no cache.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

from opsflow.errors import OpsflowError
from opsflow.io import RawHeader, atomic_path

__all__ = ["HeaderCache"]

log = logging.getLogger(__name__)

Stamp = tuple[int, int]


def _stamp(path: str) -> Stamp | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


class HeaderCache:
    """The headers of a root's earlier preflights, by path."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / ".opsflow" / "raw_headers.pickle"
        self._entries: dict[str, tuple[Stamp, RawHeader]] = {}
        self._changed = False
        try:
            with self.path.open("rb") as f:
                self._entries = pickle.load(f)
        except FileNotFoundError:
            pass
        except Exception as exc:  # an unreadable cache is only a slower run
            log.debug("%s: ignored (%s)", self.path, exc)

    def known(self, paths: list[str]) -> dict[str, RawHeader]:
        """The headers of the files unchanged since they were read."""
        found = {}
        for path in paths:
            entry = self._entries.get(path)
            if entry is not None and entry[0] == _stamp(path):
                found[path] = entry[1]
        return found

    def add(self, headers: dict[str, RawHeader]) -> None:
        """Remember headers just read (with their files' size and time now)."""
        for path, header in headers.items():
            stamp = _stamp(path)
            if stamp is not None:
                self._entries[path] = (stamp, header)
                self._changed = True

    def save(self) -> None:
        """Write the cache if anything was added."""
        if not self._changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path) as tmp, open(tmp, "wb") as f:
                pickle.dump(self._entries, f, protocol=pickle.HIGHEST_PROTOCOL)
        except (OSError, OpsflowError) as exc:
            log.debug("%s: not written (%s)", self.path, exc)
