"""The workflow configuration: typed sections, validation, schema and documentation."""

from opsflow.config._fields import doc_rows, parse_dataclass, schema_for
from opsflow.config._model import (
    AllSettings,
    Config,
    OmeZarrSettings,
    PhenotypeSettings,
    PreprocessSettings,
    SbsSettings,
    config_schema,
    load_config,
    reference_table,
)

__all__ = [
    "AllSettings",
    "Config",
    "OmeZarrSettings",
    "PhenotypeSettings",
    "PreprocessSettings",
    "SbsSettings",
    "config_schema",
    "doc_rows",
    "load_config",
    "parse_dataclass",
    "reference_table",
    "schema_for",
]
