"""The README is for scientists: its commands and its configuration table must be true."""

from __future__ import annotations

import re
from pathlib import Path

from opsflow.cli import _parser
from opsflow.config import reference_table
from opsflow.export import STAGES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_the_two_commands_come_first_and_exist_in_the_makefile() -> None:
    first_block = README.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_configuration_table_is_generated_from_the_code() -> None:
    table = README.split("<!-- config-table-start -->\n")[1].split("<!-- config-table-end -->")[0]
    assert table == reference_table()


def test_every_stage_and_command_is_documented() -> None:
    for stage in STAGES:
        assert f"`{stage.name}`" in README
    commands = _parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"opsflow {name}" in README or f"`{name}`" in README, name
