"""The state store's work runs off the event loop: a store another process holds locked stalls no one else."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import openai
from helpers.gateway import served, two_up

from maestro import state
from maestro.chaos.upstream import Faults
from maestro.router import Budget

BODY = {"model": "chat", "messages": [{"role": "user", "content": "hi"}], "team": "t"}


def test_a_locked_store_stalls_neither_health_checks_nor_the_request_waiting_on_it(tmp_path: Path) -> None:
    budget = Budget("team-t", 10.0, "day", "block", team="t")
    store = tmp_path / "s.db"
    with two_up(tmp_path, budgets=(budget,), state_path=store) as rig, served(rig.config) as url:
        other = state.connect(store)  # another gateway process, in the middle of a write
        other.execute("BEGIN IMMEDIATE")
        answers: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: answers.append(httpx.post(url + "/v1/chat/completions", json=BODY, timeout=30))
        )
        waiting.start()
        time.sleep(0.5)  # let the request reach its reservation, which waits for the lock
        health = httpx.get(url + "/healthz", timeout=30)  # answered while the lock is still held
        unbudgeted = httpx.post(url + "/v1/chat/completions", json={**BODY, "team": "u"}, timeout=30)  # and served
        still_waiting = waiting.is_alive()
        other.execute("COMMIT")
        waiting.join(30)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert unbudgeted.status_code == 200  # its decision read the switches and live weights without waiting
    assert still_waiting, answers[0].text
    assert answers[0].status_code == 200, answers[0].text  # served once the lock was released, within the busy timeout


def test_a_caller_that_hangs_up_mid_stream_has_its_reservation_settled(tmp_path: Path) -> None:
    budget = Budget("team-t", 10.0, "day", "block", team="t")
    store = tmp_path / "s.db"
    done = threading.Event()
    with (
        two_up(
            tmp_path,
            {"alpha": Faults(chunk_ms=300)},
            budgets=(budget,),
            state_path=store,
            record=lambda *_: done.set(),  # called after the settlement
        ) as rig,
        served(rig.config) as url,
        openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0) as client,
    ):
        stream = client.chat.completions.create(
            model="chat",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            extra_body={"team": "t"},
        )
        next(iter(stream))
        stream.close()
        assert done.wait(30)
    rows = state.connect(store).execute("SELECT settled, amount_usd FROM budget_spend").fetchall()
    assert len(rows) == 1 and rows[0][0] == 1  # settled while the stream's task was being cancelled
    assert 0 < rows[0][1] < 256 * 2 / 1e6  # at what was sent, below the reserved estimate
