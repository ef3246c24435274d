"""The Snakemake process collects garbage rarely, still frees cycles, and freezes at exit.

Each check runs in a fresh interpreter: the settings are process-wide.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Counts the collections while 400,000 container objects are made and kept (as a plan's
# IOFiles are), then checks that a reference cycle is still freed once enough is
# allocated, and what an exit handler registered before the settings sees at exit.
PROBE = textwrap.dedent(
    """
    import atexit, gc, sys, weakref
    atexit.register(lambda: print("frozen at exit", gc.get_freeze_count() > 0))
    if sys.argv[1] == "rarely":
        from opsflow.steps import collect_rarely
        collect_rarely()
        collect_rarely()  # the Snakefile may be read more than once
    collections = []
    gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(1))
    kept = [[i] for i in range(400_000)]
    print("collections", len(collections))
    print("threshold", gc.get_threshold()[0])

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a
    probe = weakref.ref(a)
    del a, b
    more = [[i] for i in range(200_000)]
    print("cycle freed", probe() is None)
    """
)


def _probe(mode: str) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    ).stdout
    return {line.rsplit(" ", 1)[0]: line.rsplit(" ", 1)[1] for line in out.splitlines()}


@pytest.fixture(scope="module")
def default() -> dict[str, str]:
    return _probe("default")


@pytest.fixture(scope="module")
def rarely() -> dict[str, str]:
    return _probe("rarely")


def test_collections_are_rare_where_the_default_collects_every_few_thousand_objects(
    default: dict[str, str], rarely: dict[str, str]
) -> None:
    # CPython's default: a young collection every 700 (3.12) or 2,000 (3.13) objects
    assert int(default["threshold"]) <= 2_000
    assert int(default["collections"]) >= 400_000 // int(default["threshold"]) - 10
    assert int(rarely["threshold"]) == 50_000
    assert int(rarely["collections"]) <= 400_000 // 50_000 + 1


def test_cycles_are_still_freed(default: dict[str, str], rarely: dict[str, str]) -> None:
    assert default["cycle freed"] == rarely["cycle freed"] == "True"


def test_what_lives_at_exit_is_frozen(default: dict[str, str], rarely: dict[str, str]) -> None:
    assert default["frozen at exit"] == "False"
    assert rarely["frozen at exit"] == "True"
