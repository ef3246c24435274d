"""Typed dataclasses as the one source of truth for configuration.

From a frozen dataclass whose fields carry a default and ``metadata["help"]`` this module
derives everything else: parsing a YAML mapping into it (with one-sentence errors that
name the key and the valid choices), the JSON schema Snakemake validates against, and
the rows of the README's configuration table.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from opsflow.errors import ConfigError

__all__ = ["doc_rows", "parse_dataclass", "schema_for"]


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_optional(tp: Any) -> tuple[bool, Any]:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != len(get_args(tp)) and len(args) == 1:
            return True, args[0]
    return False, tp


def _type_name(tp: Any) -> str:
    optional, inner = _is_optional(tp)
    if optional:
        return f"{_type_name(inner)} or null"
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(tp))
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"list of {_type_name(args[0])}"
        if len(set(args)) == 1:
            return f"list of {len(args)} {_type_name(args[0])}"
        return f"list ({', '.join(_type_name(a) for a in args)})"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


def _convert(value: Any, tp: Any, key: str, default: Any = None) -> Any:
    optional, inner = _is_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key} must be a {_type_name(tp)}, found null.")
    tp = inner
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping of settings, found {value!r}.")
        return parse_dataclass(tp, value, key, base=default)
    if origin is Literal:
        if value not in get_args(tp):
            choices = ", ".join(str(a) for a in get_args(tp))
            raise ConfigError(f"{key} must be one of {choices}, found {value!r}.")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a {_type_name(tp)}, found {value!r}.")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{key} must be a {_type_name(tp)}, found {list(value)!r}.")
        return tuple(
            _convert(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, found {value!r}.")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} must be an integer, found {value!r}.")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} must be a number, found {value!r}.")
        return float(value)
    if tp is str:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ConfigError(f"{key} must be a string, found {value!r}.")
        return str(value)
    return value


def parse_dataclass(cls: type, data: Mapping[str, Any], where: str, *, base: Any = None) -> Any:
    """Build ``cls`` from a mapping; unknown keys and wrong types raise ``ConfigError``.

    Keys not given keep the values of ``base`` where given, else the field defaults; a
    nested section starts from its parent's default for it (phenotype segmentation keeps
    its phenotype-scale defaults when only one of its keys is set).
    """
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where or 'configuration'}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; valid keys are {', '.join(fields)}."
        )
    if base is None and all(
        f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        for f in fields.values()
    ):
        base = cls()
    values = {
        k: _convert(v, hints[k], f"{where}.{k}" if where else k, getattr(base, k, None))
        for k, v in data.items()
    }
    try:
        return cls(**values) if base is None else dataclasses.replace(base, **values)
    except ConfigError as exc:
        if where and not str(exc).startswith(where.split(".")[0] + "."):
            raise ConfigError(f"{where}: {exc}") from None  # a section that names no key
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where or 'configuration'}: {exc}") from exc


def _schema_type(tp: Any) -> dict[str, Any]:
    optional, inner = _is_optional(tp)
    if optional:
        return {"anyOf": [_schema_type(inner), {"type": "null"}]}
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return schema_for(tp)
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema_type(args[0])}
        return {
            "type": "array",
            "prefixItems": [_schema_type(a) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    return {
        "type": {bool: "boolean", int: "integer", float: "number", str: ["string", "integer"]}[tp]
    }


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def schema_for(cls: type, instance: Any = None) -> dict[str, Any]:
    """JSON schema (draft 2020-12) of a settings dataclass, with defaults and descriptions.

    Defaults are read off ``instance`` (the section as configured by default) where given.
    """
    hints = _hints(cls)
    properties = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        default = getattr(instance, f.name) if instance is not None else _default(f)
        if dataclasses.is_dataclass(hints[f.name]):
            prop = schema_for(hints[f.name], default)
        else:
            prop = _schema_type(hints[f.name])
            prop["default"] = _jsonable(default)
        prop["description"] = f.metadata.get("help", "") or prop.get("description", "")
        properties[f.name] = prop
    return {
        "type": "object",
        "description": (cls.__doc__ or "").strip().splitlines()[0],
        "properties": properties,
        "additionalProperties": False,
    }


def doc_rows(settings: Any, prefix: str) -> list[tuple[str, str, str, str]]:
    """(key, type, default, help) for every setting of an instance, sections flattened.

    Walks an instance rather than the class, so a section whose default differs from its
    class defaults (phenotype-scale segmentation, say) shows the values really in force.
    """
    hints = _hints(type(settings))
    rows = []
    for f in dataclasses.fields(settings):
        if not f.init:
            continue
        key = f"{prefix}.{f.name}"
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            rows += doc_rows(value, key)
            continue
        default = _jsonable(value)
        shown = "null" if default is None else str(default).replace("'", "")
        if isinstance(default, bool):
            shown = str(default).lower()
        rows.append((key, _type_name(hints[f.name]), shown, f.metadata.get("help", "")))
    return rows
