"""Running the real CLI in-process."""

from __future__ import annotations

from typer.testing import CliRunner, Result

import maestro.cli.main  # noqa: F401  (registers the commands on the app)
from maestro.cli.app import app


def run_cli(*args: str) -> Result:
    """Invoke ``maestro ARGS``; exceptions the error boundary lets through are not swallowed."""
    return CliRunner().invoke(app, list(args), catch_exceptions=False)
