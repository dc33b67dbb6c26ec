"""Writing a rendered report to stdout or a file."""

from __future__ import annotations

from pathlib import Path

import typer

from maestro.errors import UsageError


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {output}: {e.strerror or e}") from e
