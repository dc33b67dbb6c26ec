"""Metavars that read as words in help: ``PATH``, ``N``, ``FORMAT``, never ``<list[Path]>`` or ``<bool>``.

typer labels every parameter with its Python type. Each parameter without a metavar of its own gets a
word from its click type here, once, when its command is built; a flag gets none (``--strict``, not
``--strict <bool>``, so ``--strict true`` is never read as taking a value).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

from typer.core import TyperArgument, TyperOption


class _WordArgument(TyperArgument):
    """An argument whose help shows its name (``PATHS``) and no Python type next to it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def name_params(command: Any, ctx: Any = None) -> None:
    """Give every parameter of ``command`` and of its subcommands a metavar in words; with the parent's
    ``ctx``, their ``-h/--help`` options too (click builds those per context, then keeps them)."""
    for param in command.params:
        name_param(param)
    if ctx is not None and (help_option := command.get_help_option(ctx)) is not None:
        name_param(help_option)
    for sub in getattr(command, "commands", {}).values():
        name_params(sub, ctx)


def name_param(param: Any) -> None:
    if isinstance(param, TyperArgument):
        if param.metavar is None:
            param.metavar = (param.name or "value").upper()
        param.__class__ = _WordArgument  # the same object; only how its help is shown changes
    elif isinstance(param, TyperOption) and param.metavar is None:
        param.metavar = "" if param.is_flag or param.count else _word(param.type_descriptor)


def _word(desc: Any) -> str:
    """A word for what typer's type descriptor says the parameter takes."""
    if desc.is_choice:
        return "|".join(str(c) for c in desc.choices)
    kind = get_args(desc.annotation)[0] if desc.is_list else desc.annotation
    if desc.is_path or kind is Path:
        return "PATH"
    return {int: "N", float: "NUMBER"}.get(kind, "TEXT")
