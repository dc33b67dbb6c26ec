"""maestro tour's steps that name the run it started: RUN and INTERRUPT read from the runs that wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from helpers import eval_upstream, runtime_repo

from maestro.cli import tour

MAESTRO = [sys.executable, "-c", "import sys; from maestro.cli.main import main; sys.exit(main())"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with eval_upstream.serve(runtime_repo.answer) as up:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MAESTRO_REFUND_STATE", str(tmp_path / "refunds.db"))
        monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "alice.key"))
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))  # the tour's own child processes
        runtime_repo.write(tmp_path, up.url)
        (tmp_path / "in.json").write_text(json.dumps({"order_id": "A10001", "reason": "damaged"}))
        yield tmp_path


def test_the_approve_step_is_filled_with_the_run_the_tour_started_and_what_it_waits_for(repo, capsys):  # type: ignore[no-untyped-def]
    began = time.time()
    started = subprocess.run(
        [*MAESTRO, "run", "refund-flow", "--input", "in.json"], check=False, capture_output=True, text=True, timeout=300
    )
    assert started.returncode == 0, started.stderr
    run_id = started.stdout.split()[1].rstrip(":")

    values = tour.waiting_run(began)
    assert values == {"RUN": run_id, "INTERRUPT": f"{run_id}:refund:0:main"}
    approve = next(s for s in tour.STEPS if s.argv[:2] == ("runs", "approve"))
    assert approve.argv[2:4] == ("RUN", "INTERRUPT")
    assert approve.filled(values).command.startswith(f"maestro runs approve {run_id} {run_id}:refund:0:main --key ")

    with pytest.raises(typer.Exit):  # a run older than the tour is never the tour's run
        tour.waiting_run(time.time() + 1)
    assert "no run of this tour waits for an approval" in capsys.readouterr().err
