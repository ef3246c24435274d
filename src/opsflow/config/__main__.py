"""Regenerate what follows from the config dataclasses: ``python -m opsflow.config``.

Writes the workflow's JSON schema and prints nothing; with ``--readme`` prints the
README's configuration reference table instead.
"""

import json
import sys
from pathlib import Path

from opsflow.config import config_schema, reference_table

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.json"

if __name__ == "__main__":
    if "--readme" in sys.argv:
        sys.stdout.write(reference_table())
    else:
        SCHEMA.write_text(json.dumps(config_schema(), indent=2) + "\n")
