"""Typed model options: each model declares a dataclass, ``--option KEY=VALUE`` is checked against it.

A model's options are a dataclass whose fields have a type (``int``, ``float``, ``bool``,
``str``), a default and, in the field's metadata, one line of ``help`` and optionally
``choices``, ``min`` or ``max``::

    @dataclass
    class Options:
        lr: float = option(2e-4, "Adam learning rate", min=0)
        loss: str = option("least-squares", "the loss pair", choices=("least-squares", "hinge"))

An unknown key, a pair without ``=``, or a value of the wrong type or out of range is an
:class:`OptionError` naming the key and listing the valid ones.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from ganedu.errors import GaneduError

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class OptionError(GaneduError):
    """A ``--option`` that the model does not have, or a value it cannot take."""


def option(default: Any, help: str, *, choices: tuple | None = None, min: float | None = None,
           max: float | None = None) -> Any:  # fmt: skip
    """A dataclass field for a model option: its default, one line of help, and its allowed values."""
    meta = {"help": help, "choices": choices, "min": min, "max": max}
    return dataclasses.field(default=default, metadata=meta)


def _fields(cls) -> dict[str, tuple[dataclasses.Field, type]]:
    hints = typing.get_type_hints(cls)
    return {f.name: (f, hints[f.name]) for f in dataclasses.fields(cls)}


def _base_type(hint) -> tuple[type, bool]:
    """``(type, optional)`` for a hint like ``float`` or ``float | None``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args:
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def _convert(model: str, cls, name: str, raw: Any) -> Any:
    field, hint = _fields(cls)[name]
    kind, optional = _base_type(hint)
    meta = field.metadata

    def bad(why: str) -> OptionError:
        return OptionError(f"option {name!r} of {model}: {why}; {describe_one(field, hint)}")

    if optional and (raw is None or (isinstance(raw, str) and raw.lower() == "none")):
        return None
    if kind is bool:
        text = str(raw).lower()
        if isinstance(raw, bool):
            value = raw
        elif text in _TRUE or text in _FALSE:
            value = text in _TRUE
        else:
            raise bad(f"{raw!r} is not a yes/no value (use 1/0, true/false)")
    elif kind is int:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise bad(f"{raw!r} is not a whole number")
        try:
            value = int(raw) if isinstance(raw, (int, float)) else int(str(raw).strip())
        except ValueError:
            raise bad(f"{raw!r} is not a whole number") from None
    elif kind is float:
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise bad(f"{raw!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise bad(f"{raw!r} is not a finite number")
    else:
        value = str(raw)
    if meta.get("choices") and value not in meta["choices"]:
        raise bad(f"{value!r} is not one of {', '.join(map(str, meta['choices']))}")
    if meta.get("min") is not None and value < meta["min"]:
        raise bad(f"{value!r} is below the minimum {meta['min']}")
    if meta.get("max") is not None and value > meta["max"]:
        raise bad(f"{value!r} is above the maximum {meta['max']}")
    return value


def parse_options(model: str, cls, values: dict[str, Any] | list[str]) -> Any:
    """An instance of the options dataclass ``cls`` of ``model`` from ``KEY=VALUE`` strings or a dict.

    Raises:
        OptionError: an unknown key, a missing ``=``, or a value of the wrong type or range.
    """
    if isinstance(values, list):
        pairs = {}
        for pair in values:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise OptionError(
                    f"--option {pair!r} must look like KEY=VALUE; options of {model}: {', '.join(_fields(cls))}"
                )
            pairs[key.strip()] = value.strip()
        values = pairs
    fields = _fields(cls)
    for key in values:
        if key not in fields:
            valid = ", ".join(fields) if fields else "none"
            raise OptionError(f"{model} has no option {key!r}; its options are: {valid}")
    return cls(**{key: _convert(model, cls, key, raw) for key, raw in values.items()})


def describe_one(field: dataclasses.Field, hint) -> str:
    """``name (type, default D[, one of ...]): help`` for one option."""
    kind, optional = _base_type(hint)
    meta = field.metadata
    allowed = ""
    if meta.get("choices"):
        allowed = ", one of " + "|".join(map(str, meta["choices"]))
    elif meta.get("min") is not None or meta.get("max") is not None:
        lo = "" if meta.get("min") is None else f"{meta['min']} ≤ "
        hi = "" if meta.get("max") is None else f" ≤ {meta['max']}"
        allowed = f", {lo}value{hi}"
    type_name = kind.__name__ + (" or none" if optional else "")
    return f"{field.name} ({type_name}, default {field.default}{allowed}): {meta.get('help', '')}"


def describe(cls) -> str:
    """One line per option of the dataclass ``cls``, for ``train MODEL --help``."""
    lines = [describe_one(f, hint) for f, hint in _fields(cls).values()]
    return "\n".join(lines) if lines else "(no options)"
