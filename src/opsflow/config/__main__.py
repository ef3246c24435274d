"""Regenerate the workflow's config schema: ``python -m opsflow.config``."""

import json
from pathlib import Path

from opsflow.config import config_schema

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.json"

if __name__ == "__main__":
    SCHEMA.write_text(json.dumps(config_schema(), indent=2) + "\n")
