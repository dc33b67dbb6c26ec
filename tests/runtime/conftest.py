"""A runtime test repository in tmp_path, with a fake model upstream running on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import eval_upstream, runtime_repo


@dataclass
class Repo:
    root: Path
    url: str
    refund_state: Path

    def write(self, **options: object) -> None:
        runtime_repo.write(self.root, self.url, **options)  # type: ignore[arg-type]

    @property
    def refunds(self) -> int:
        return runtime_repo.refunds(self.refund_state)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    with eval_upstream.serve(runtime_repo.answer) as up:
        state = tmp_path / "refunds.db"
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MAESTRO_REFUND_STATE", str(state))
        monkeypatch.setenv("MAESTRO_LEDGER_KEY", str(tmp_path / "alice.key"))
        monkeypatch.delenv("MAESTRO_RUNS_URL", raising=False)
        r = Repo(tmp_path, up.url, state)
        r.write()
        yield r
