"""Command-line options made from settings classes (:mod:`streamdl.config`), so both share defaults and checks.

An option the user does not give is left out of the namespace, and the settings class's own
default applies; every check runs in the settings class, for Python callers and the CLI alike.
"""

from __future__ import annotations

import argparse
import dataclasses

from streamdl.config import flag_of

_TYPES = {"int": int, "float": float, "str": str}


def _value_type(field: dataclasses.Field):
    """The Python type of one value of ``field`` (from its default, else its annotation's first name)."""
    if field.default not in (None, dataclasses.MISSING) and not isinstance(field.default, tuple):
        return type(field.default)
    annotation = str(field.type).replace("tuple[", "").split("|")[0].split(",")[0].strip(" ]")
    return _TYPES.get(annotation, str)


def add_options(parser: argparse.ArgumentParser, settings: type, names: tuple[str, ...] | None = None) -> None:
    """One option per field of ``settings`` that has help text (only ``names``, when given)."""
    for field in dataclasses.fields(settings):
        if "help" not in field.metadata or names is not None and field.name not in names:
            continue
        meta, default = field.metadata, field.default
        kwargs = {"dest": field.name, "default": argparse.SUPPRESS, "help": meta["help"]}
        if isinstance(default, bool):
            kwargs["action"] = "store_false" if default else "store_true"
        else:
            kwargs["type"] = _value_type(field)
            if isinstance(default, tuple):
                kwargs["nargs"] = len(default)
                kwargs["metavar"] = ("LOW", "HIGH") if len(default) == 2 else None
                kwargs["help"] += f" (default: {' '.join(map(str, default))})"
            elif default not in (None, "", 0) and "default" not in meta["help"]:
                kwargs["help"] += f" (default: {default})"
            if meta["metavar"]:
                kwargs["metavar"] = meta["metavar"]
            if meta["choices"]:
                kwargs["choices"] = meta["choices"]
            if meta["const"] is not None:
                kwargs.update(nargs="?", const=meta["const"])
        parser.add_argument(*flag_of(field).split(), **kwargs)


def settings_from(settings: type, args: argparse.Namespace, **extra):
    """An instance of ``settings`` from the options given on the command line, plus ``extra``."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(settings) if hasattr(args, f.name)}
    given = {name: tuple(value) if isinstance(value, list) else value for name, value in given.items()}
    return settings(**given, **extra)
