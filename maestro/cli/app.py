"""The typer application, its one error boundary, and the commands it loads on demand.

Each command lives in its own module (``COMMANDS``), imported only when that command runs or help lists
it: ``maestro validate`` in a pre-commit hook never pays for the gateway's or the diff's imports.

Exit codes: 0 clean, 1 findings, 2 usage or bad input, 3 an unexpected internal error (a short message
and the path of a log holding the traceback; never a bare traceback on the terminal).
"""

from __future__ import annotations

import importlib
import os
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import typer
from typer.core import TyperGroup

from maestro.cli.metavars import name_param, name_params
from maestro.errors import InternalError, MaestroError, UsageError

EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3

# command name -> the module whose ``register(app)`` adds it (a command or a group of that name)
COMMANDS: Mapping[str, str] = MappingProxyType(
    {
        "validate": "maestro.cli.validate",
        "explain": "maestro.cli.explain",
        "diff": "maestro.cli.diff",
        "route": "maestro.cli.route",
        "schema": "maestro.cli.schema",
        "init": "maestro.cli.init",
        "ledger": "maestro.cli.ledger",
        "keys": "maestro.cli.keys",
        "eval": "maestro.cli.eval",
        "gate": "maestro.cli.gate",
        "lane": "maestro.cli.lane",
        "gateway": "maestro.cli.gateway",
        "providers": "maestro.cli.providers",
        "chaos": "maestro.cli.chaos",
        "ask": "maestro.cli.ask",
        "tour": "maestro.cli.tour",
        "run": "maestro.cli.run",
        "runs": "maestro.cli.runs",
        "worker": "maestro.cli.runs",
        "autonomy": "maestro.cli.autonomy",
        "rollout": "maestro.cli.rollout",
        "freeze": "maestro.cli.freeze",
        "deploy": "maestro.cli.deploy",
        "ui": "maestro.cli.ui",
    }
)

# command name -> its panel in the top-level help, in the order a newcomer meets them
PANELS: Mapping[str, str] = MappingProxyType(
    {
        "tour": "Authoring",
        "init": "Authoring",
        "validate": "Authoring",
        "explain": "Authoring",
        "diff": "Authoring",
        "schema": "Authoring",
        "route": "Routing and serving",
        "providers": "Routing and serving",
        "gateway": "Routing and serving",
        "ask": "Routing and serving",
        "lane": "Routing and serving",
        "eval": "Evals",
        "gate": "Evals",
        "ledger": "Evidence",
        "keys": "Evidence",
        "chaos": "Operations",
        "rollout": "Operations",
        "freeze": "Operations",
        "deploy": "Operations",
        "run": "Agent graphs",
        "runs": "Agent graphs",
        "worker": "Agent graphs",
        "autonomy": "Agent graphs",
        "ui": "Evidence",
    }
)


def log_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "maestro" / "last-error.log"


class BoundaryGroup(TyperGroup):
    """Maps exceptions raised by any command to an exit code and a one-line message; loads commands lazily."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(dict.fromkeys([*super().list_commands(ctx), *PANELS, *COMMANDS]))

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        for param in params:
            name_param(param)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = load_command(cmd_name)
            name_params(command, ctx)
            self.add_command(command, cmd_name)
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except UsageError as e:
            typer.echo(f"maestro: error: {e}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except MaestroError as e:
            typer.echo(f"maestro: error: {e}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            typer.echo("maestro: interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as e:  # the one place that catches everything, by design
            where = _write_log()
            typer.echo(
                f"maestro: internal error: {type(e).__name__}: {e}\n"
                f"This is a bug in maestro. The traceback is in {where}; please attach it to a bug report.",
                err=True,
            )
            raise typer.Exit(EXIT_INTERNAL) from None


def load_command(name: str) -> Any:
    """The click command (or group) ``name``, built from its module's ``register``."""
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    importlib.import_module(COMMANDS[name]).register(holder)
    holder.callback()(_no_options)  # with a callback typer always builds a group, even around one command
    group = typer.main.get_command(holder)
    if not isinstance(group, TyperGroup) or name not in group.commands:
        raise InternalError(f"module {COMMANDS[name]} does not register a command named '{name}'")
    command = group.commands[name]
    command.rich_help_panel = PANELS.get(name)  # type: ignore[attr-defined]
    name_params(command)
    return command


def _no_options() -> None:
    """A placeholder callback for the holder group."""


def _write_log() -> str:
    text = traceback.format_exc()
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return str(path)
    except OSError:
        fd, name = tempfile.mkstemp(prefix="maestro-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return name


app = typer.Typer(
    cls=BoundaryGroup,
    name="maestro",
    help="The control plane around AI systems: validate, explain and diff GitOps manifests.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion and --show-completion [bash|zsh|fish|powershell]
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
