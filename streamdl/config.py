"""Settings as frozen dataclasses that own their defaults, their checks and their command-line flags.

A field made with :func:`option` carries its help text (and, where it differs from the field's
name, its flag); ``streamdl.cli`` builds its options from these fields, so a Python caller and a
command-line user get the same defaults. Each settings class checks its values in
``__post_init__`` with the helpers below, which raise :class:`~streamdl.errors.StreamdlError`
naming the field and its flag.
"""

from __future__ import annotations

import dataclasses
import math

from streamdl.errors import StreamdlError


def option(default, help: str, *, flag: str = "", metavar: str = "", choices: tuple = (), const=None) -> dataclasses.Field:
    """A settings field with a command-line flag: ``flag`` defaults to ``--`` + the field's name with
    dashes; a bool field becomes a switch, a pair a two-number option; with ``const``, the flag alone
    (no value) sets the field to ``const``."""
    meta = {"help": help, "flag": flag, "metavar": metavar, "choices": choices, "const": const}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def flag_of(field: dataclasses.Field) -> str:
    """The command-line flag of a settings field."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def _named(settings, name: str) -> str:
    """``name (--flag)`` for a field of ``settings`` that has a flag, else ``name``."""
    field = {f.name: f for f in dataclasses.fields(settings)}[name]
    return f"{name} ({flag_of(field)})" if "help" in field.metadata else name


def check_between(settings, name: str, low: float, high: float, what: str) -> None:
    """``low <= settings.name <= high``, else a one-line error saying ``what`` the value is."""
    value = getattr(settings, name)
    if value is not None and not low <= value <= high:
        raise StreamdlError(f"{_named(settings, name)} is {what}, from {low:g} to {high:g}; got {value:g}")


def check_range(settings, name: str, what: str, *, above: float = -math.inf, most: float = math.inf) -> None:
    """``settings.name`` is a pair ``above < low < high <= most``, else a one-line error about ``what`` it bounds."""
    low, high = getattr(settings, name)
    if not above < low < high <= most:
        bounds = [f"above {above:g}"] * (above > -math.inf) + [f"at most {most:g}"] * (most < math.inf)
        bounds_text = f" ({', '.join(bounds)})" if bounds else ""
        raise StreamdlError(f"{_named(settings, name)} takes the lowest and the highest {what}{bounds_text}, lowest first; got {low:g} {high:g}")


def check_choice(settings, name: str, choices: tuple) -> None:
    """``settings.name`` is one of ``choices``, else a one-line error listing them."""
    value = getattr(settings, name)
    if value not in choices:
        raise StreamdlError(f"{_named(settings, name)} is {value!r}; choose one of {', '.join(map(str, choices))}")
