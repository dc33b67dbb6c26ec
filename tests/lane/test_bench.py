"""The benchmark's arithmetic, a run of the lane half against the fake server, and the baseline half (the
real transformers ``generate`` script) on a tiny random model written here."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from pathlib import Path

import pytest
from helpers.lane import Lane

from maestro.lane import bench, lifecycle
from maestro.lane.errors import LaneError


def test_percentile() -> None:
    assert bench.percentile([3, 1, 2, 4], 0.5) == 2.5
    assert bench.percentile([1.0], 0.95) == 1.0
    assert math.isnan(bench.percentile([], 0.5))


def test_level_and_cost() -> None:
    level = bench.level_of("lane", 8, [1.0, 2.0], 64, 2.0, price=3.6)
    assert (level.tokens_per_s, level.p50_ms) == (32.0, 1500.0)
    assert level.cost_per_request_usd == pytest.approx(0.001)  # 3.6 USD/h = 0.001 USD/s; 2 s over 2 requests
    assert bench.level_of("lane", 1, [1.0], 8, 1.0, price=None).cost_per_request_usd is None


def test_compare_gives_the_ratio_per_level() -> None:
    job = bench.Job("m", (1, 8))
    lane = [bench.level_of("lane", c, [1.0], 100 * c, 1.0, price=None) for c in (1, 8)]
    slow = [bench.level_of("baseline", c, [1.0], 50, 1.0, price=None) for c in (1, 8)]
    assert bench.compare(job, lane, slow).ratios == {1: 2.0, 8: 16.0}
    assert bench.compare(job, lane, []).ratios == {}


def test_requests_at() -> None:
    assert [bench.requests_at(c) for c in (1, 8, 32)] == [4, 8, 32]


def test_lane_half_against_the_fake(lane: Lane) -> None:
    lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    levels = asyncio.run(bench.run_lane(lane.config.base, bench.Job("tiny", (1, 8), 16, 1.0)))
    assert [(lv.concurrency, lv.requests, lv.output_tokens) for lv in levels] == [(1, 4, 64), (8, 8, 128)]
    result = bench.measure(lane.config, lane.paths, bench.Job("tiny", (2,), 4), baseline=False)
    assert "lane         2    4     16" in bench.table(result)


def test_measure_needs_a_running_lane(lane: Lane) -> None:
    with pytest.raises(LaneError, match=r"does not answer .*/health; run `maestro lane up --wait`"):
        bench.measure(lane.config, lane.paths, bench.Job("tiny"))


def tiny_model(folder: Path) -> Path:
    """A one-layer Llama with random weights and a word-level tokenizer that knows the bench's prompts."""
    transformers = pytest.importorskip("transformers", reason="the baseline needs transformers and torch")
    torch = pytest.importorskip("torch", reason="the baseline needs transformers and torch")
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = sorted({w for p in bench.PROMPTS for w in p.replace("?", " ").replace(".", " ").split()})
    vocab = {w: i for i, w in enumerate(["<eos>", "<unk>", *words])}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<eos>", unk_token="<unk>")
    tok.chat_template = "{% for m in messages %}{{ m['content'] }} {% endfor %}"
    tok.save_pretrained(folder)
    config = transformers.LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        eos_token_id=0,
        pad_token_id=0,
    )
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def test_the_baseline_half_on_a_tiny_model(tmp_path: Path) -> None:
    model = tiny_model(tmp_path / "tiny")
    levels = bench.run_baseline(
        Path(sys.executable), str(model), bench.Job("tiny", (1, 2), max_tokens=4, price_per_hour=3.6)
    )
    # one request at a time, each exactly max_tokens long (min_new_tokens), at least four a level
    assert [(lv.system, lv.concurrency, lv.requests, lv.output_tokens) for lv in levels] == [
        ("baseline", 1, 4, 16),
        ("baseline", 2, 4, 16),
    ]
    assert all(0 < lv.p50_ms <= lv.p95_ms and lv.cost_per_request_usd is not None for lv in levels)


def test_measure_runs_the_lane_and_then_the_baseline_on_the_lane_s_model(lane: Lane) -> None:
    folder = lane.paths.models / "smollm2-135m-instruct"  # the embedded model the fake lane "serves"
    tiny_model(folder)
    lifecycle.up(lane.config, lane.paths, lane.conn, wait=True, timeout_s=30, env=lane.env, gpu=False)
    result = bench.measure(lane.config, lane.paths, bench.Job("tiny", (1,), 4))
    assert [(lv.system, lv.requests, lv.output_tokens) for lv in result.levels] == [
        ("lane", 4, 16),
        ("baseline", 4, 16),
    ]
    assert set(result.ratios) == {1} and result.ratios[1] > 0
    text = bench.table(result)
    assert "baseline     1    4     16" in text and "lane / baseline tokens/s at 1 concurrent:" in text
    assert json.loads((folder / "config.json").read_text())["num_hidden_layers"] == 1  # it was the tiny one
