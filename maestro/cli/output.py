"""The one output convention of every command, and writing a rendered report.

kubectl's habit: ``-o/--output FORMAT`` picks what a command prints (``text`` first, then ``json``, ``yaml``
where the JSON is a document a person would read, and the command's own formats); ``--json`` is the shorthand
for ``-o json``; ``--format``/``-f`` is the old spelling, kept hidden for CI scripts that call it. A file is
written only by an option that names a file (``--out-file FILE``), never by a flag value: ``-o report.json`` is
a usage error that says so.

A command declares its formats once and takes the three options::

    FORMATS = ("text", "json", "markdown")

    def my_command(
        output: Annotated[str | None, output_option(FORMATS)] = None,
        as_json: JsonFlag = False,
        format_alias: FormatAlias = None,
    ) -> None:
        fmt = resolve_format(FORMATS, output, as_json, format_alias)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from maestro.errors import UsageError

TEXT_AND_JSON = ("text", "json")
TEXT_JSON_YAML = ("text", "json", "yaml")


def with_yaml(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` with ``yaml`` offered right after ``json``: the same data, as YAML."""
    at = list(formats).index("json") + 1
    return (*formats[:at], "yaml", *formats[at:])


def output_option(formats: Sequence[str]) -> Any:
    """The ``-o/--output FORMAT`` option of a command that prints ``formats`` (the first is the default)."""
    return typer.Option(
        "--output",
        "-o",
        metavar="FORMAT",
        help=f"Output format: {', '.join(formats)} (default: {formats[0]}).",
        show_default=False,
    )


JsonFlag = Annotated[bool, typer.Option("--json", help="Shorthand for -o json.")]
FormatAlias = Annotated[
    str | None, typer.Option("--format", "-f", hidden=True, metavar="FORMAT", help="The old spelling of -o.")
]
OutFile = Annotated[
    Path | None, typer.Option("--out-file", metavar="FILE", help="Write the report to FILE instead of printing it.")
]


def resolve_format(formats: Sequence[str], output: str | None, as_json: bool = False, alias: str | None = None) -> str:
    """The format asked for by ``-o``, ``--json`` or ``--format`` (at most one of them), checked against
    ``formats``; a bad value is a usage error (exit 2) that names the choices."""
    asked = [(name, value) for name, value in (("-o", output), ("--format", alias)) if value is not None]
    if as_json:
        asked.append(("--json", "json"))
    if len({value for _, value in asked}) > 1:
        given = ", ".join(f"{name} {value}" if name != "--json" else name for name, value in asked)
        raise typer.BadParameter(f"conflicting output formats ({given}); give one", param_hint="'-o' / '--output'")
    given, fmt = asked[0] if asked else ("-o", formats[0])
    if fmt not in formats:
        hint = ""
        if "." in fmt or "/" in fmt:
            hint = "; -o names a format, not a file: to write the report to a file, use --out-file FILE"
        raise typer.BadParameter(
            f"unknown format '{fmt}'; choose one of {', '.join(formats)}{hint}",
            param_hint="'-o' / '--output'" if given == "-o" else f"'{given}'",
        )
    return fmt


def as_json(data: Any) -> str:
    """``data`` as indented JSON with a final newline: the ``-o json`` form of a plain result."""
    return json.dumps(data, indent=2) + "\n"


def as_yaml(data: Any) -> str:
    """``data`` as YAML: exactly what ``as_json`` prints, read back and written as a YAML document."""
    return json_as("yaml", as_json(data))


def as_data(fmt: str, data: Any) -> str:
    """``data`` in ``fmt``, ``json`` or ``yaml``: the two always hold the same data."""
    return as_yaml(data) if fmt == "yaml" else as_json(data)


def json_as(fmt: str, json_text: str) -> str:
    """A reporter's JSON text as ``fmt``: unchanged for ``json``; for ``yaml``, the same data as YAML (JSON
    Lines become one YAML document per line)."""
    if fmt != "yaml":
        return json_text
    from maestro.manifests import yamlio  # loaded on use: commands that print text do not pay for it

    try:
        return yamlio.dump(json.loads(json_text))
    except json.JSONDecodeError:
        return yamlio.dump_all(json.loads(line) for line in json_text.splitlines() if line.strip())


def write_output(text: str, out_file: Path | None = None) -> None:
    """Print ``text``, or write it to ``out_file`` when one is named."""
    if out_file is None:
        typer.echo(text, nl=False)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {out_file}: {e.strerror or e}") from e


def say(fmt: str, text: str, data: Any) -> None:
    """What a step did: ``text`` as a line, or ``data`` as JSON with ``-o json`` (YAML with ``-o yaml``)."""
    write_output(text + "\n" if fmt == "text" else as_data(fmt, data))
