"""The Markdown reference of every command and subcommand, rendered from the commands themselves (docs/cli.md).

Each command's examples live next to it, in its epilog, written with ``examples(...)``: ``--help`` shows
them and the reference renders them as a code block.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

_EXAMPLE = "Example: "


def examples(*commands: str) -> str:
    """An epilog of example command lines (one paragraph each, so --help keeps them apart)."""
    return "\n\n".join(_EXAMPLE + command for command in commands)


def render() -> str:
    """docs/cli.md: the top-level command, then every command and subcommand with its flags and examples."""
    import typer

    from maestro.cli.app import app

    root = typer.main.get_command(app)
    ctx = root.context_class(root, info_name="maestro", help_option_names=["-h", "--help"])
    parts = [
        "# CLI reference\n",
        "Generated from the commands themselves by `python scripts/gendocs.py`; a test checks it is current.\n",
        "Every command that prints takes `-o/--output FORMAT` (`text` first, `json`, `yaml` where the output is a "
        "document to read (the same data as `json`), and its own formats) and `--json` for `-o json`; "
        "`--format`/`-f` still works as the old spelling. Files are written only by "
        "options that name a file (`--out-file FILE`, `--junit FILE`). Exit codes: 0 clean, 1 findings, "
        "2 usage or bad input, 3 an internal error.\n",
        "Long steps (`lane install`, `lane prepare`, `lane up --wait`) show a spinner on a terminal and print a "
        "line at least every 10 s off one (`MAESTRO_HEARTBEAT_S` sets the interval).\n",
    ]
    parts.extend(_section(command, sub_ctx) for command, sub_ctx in _walk(root, ctx))
    return "\n".join(parts)


def _walk(command: Any, ctx: Any) -> Iterator[tuple[Any, Any]]:
    yield command, ctx
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, sub.context_class(sub, info_name=name, parent=ctx))


def _section(command: Any, ctx: Any) -> str:
    help_text, found = _split(inspect.cleandoc(command.help or ""), command.epilog or "")
    lines = [f"## {ctx.command_path}", ""]
    if help_text:
        lines += [help_text, ""]
    lines += ["```text", f"{ctx.command_path} {' '.join(command.collect_usage_pieces(ctx))}".rstrip(), "```", ""]
    rows = [_row(param) for param in command.get_params(ctx) if not getattr(param, "hidden", False)]
    if rows:
        lines += ["| Argument or option | Value | Description |", "| --- | --- | --- |", *rows, ""]
    if hasattr(command, "list_commands"):
        names = command.list_commands(ctx)
        lines += ["Commands: " + ", ".join(f"[`{name}`](#{_anchor(ctx.command_path, name)})" for name in names), ""]
    if found:
        lines += ["Examples:", "", "```bash", *found, "```", ""]
    return "\n".join(lines)


def _split(help_text: str, epilog: str) -> tuple[str, list[str]]:
    paragraphs = [p.strip() for p in epilog.split("\n\n") if p.strip()]
    found = [p.removeprefix(_EXAMPLE) for p in paragraphs if p.startswith(_EXAMPLE)]
    rest = [p for p in paragraphs if not p.startswith(_EXAMPLE)]
    return "\n\n".join([help_text, *rest]).strip(), found


def _row(param: Any) -> str:
    if param.param_type_name == "argument":
        names = f"`{param.metavar or param.name.upper()}`"
        value = ""
    else:
        opts = sorted([*param.opts, *param.secondary_opts], key=lambda opt: not opt.startswith("--"))
        names = ", ".join(f"`{opt}`" for opt in opts)
        value = f"`{param.metavar}`" if param.metavar else ""
    description = param.help or ""
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None or high is not None:
        description += f" From {low} to {high}." if low is not None and high is not None else ""
        description += f" At least {low}." if high is None else f" At most {high}." if low is None else ""
    default = _default(param)
    if default:
        description += f" Default: `{default}`."
    if param.required:
        description += " Required."
    cells = [names, value, " ".join(description.split())]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _default(param: Any) -> str:
    if param.param_type_name == "argument" or getattr(param, "is_flag", False) or param.show_default is False:
        return ""
    value = param.default
    if value is None or value in ((), []) or callable(value):
        return ""
    if isinstance(value, PurePath):
        return value.as_posix()
    return str(value)


def _anchor(path: str, name: str) -> str:
    return f"{path} {name}".lower().replace(" ", "-")
